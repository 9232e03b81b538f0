package simulators

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pathways-se/pathways/taxonomy"
)

type simRegistration struct {
	Registered bool     `json:"registered"`
	Programme  string   `json:"programme,omitempty"`
	Consent    []string `json:"consent"`
}

type simReport struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"` // plan or outcome
	CaseID  string    `json:"case_id"`
	At      time.Time `json:"at"`
	content string
}

type employmentState struct {
	regs    map[string]simRegistration // by personal number
	seq     int
	reports []*simReport
}

func (e *employmentState) init() { e.regs = map[string]simRegistration{} }

// registration is the person's status: set by admin, else derived from the
// number and the seed: 1 in 10 not registered, 1 in 10 consent to the plan
// only, the rest registered in the job and development guarantee with
// consent to both.
func (s *Sim) registration(pnr string) simRegistration {
	if r, ok := s.emp.regs[pnr]; ok {
		return r
	}
	h := fnv.New32a()
	fmt.Fprintf(h, "%d/%s", s.seed, pnr)
	switch h.Sum32() % 10 {
	case 0:
		return simRegistration{Registered: false, Consent: []string{}}
	case 1:
		return simRegistration{Registered: true, Programme: "jobb- och utvecklingsgarantin", Consent: []string{"plan"}}
	default:
		return simRegistration{Registered: true, Programme: "jobb- och utvecklingsgarantin", Consent: []string{"plan", "outcome"}}
	}
}

func (s *Sim) registrationLookup(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PersonalNumber string `json:"personal_number"`
	}
	if err := decodeReq(r, &in); err != nil || !pnrRe.MatchString(in.PersonalNumber) {
		writeErr(w, http.StatusBadRequest, "personal_number is missing or malformed")
		return
	}
	s.mu.Lock()
	reg := s.registration(in.PersonalNumber)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, reg)
}

// SetRegistration fixes a person's registration (tests, demos).
func (s *Sim) SetRegistration(pnr string, registered bool, programme string, consent []string) {
	if consent == nil {
		consent = []string{}
	}
	_ = s.setRegistration(pnr, simRegistration{Registered: registered, Programme: programme, Consent: consent})
}

func (s *Sim) setRegistration(pnr string, reg simRegistration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emp.regs[pnr] = reg
	s.touch(kindRegistration, pnr, 0, reg)
	return s.commitLocked(nil)
}

func (s *Sim) putRegistration(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PersonalNumber string   `json:"personal_number"`
		Registered     bool     `json:"registered"`
		Programme      string   `json:"programme"`
		Consent        []string `json:"consent"`
	}
	if err := decodeReq(r, &in); err != nil || !pnrRe.MatchString(in.PersonalNumber) {
		writeErr(w, http.StatusBadRequest, "personal_number is missing or malformed")
		return
	}
	if in.Consent == nil {
		in.Consent = []string{}
	}
	if err := s.setRegistration(in.PersonalNumber, simRegistration{Registered: in.Registered, Programme: in.Programme, Consent: in.Consent}); err != nil {
		writeErr(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Sim) report(w http.ResponseWriter, r *http.Request, kind string) {
	s.sideEffect(w, r, "employment", func(body []byte) effect {
		var in struct {
			CaseID         string `json:"case_id"`
			PersonalNumber string `json:"personal_number"`
			Kind           string `json:"kind"`
		}
		if err := decode(body, &in); err != nil {
			return fail(http.StatusBadRequest, "malformed JSON")
		}
		if in.CaseID == "" || !pnrRe.MatchString(in.PersonalNumber) {
			return fail(http.StatusBadRequest, "case_id and personal_number are required")
		}
		if kind == "outcome" && in.Kind == "" {
			return fail(http.StatusUnprocessableEntity, "kind is required")
		}
		reg := s.registration(in.PersonalNumber)
		if !reg.Registered {
			return fail(http.StatusUnprocessableEntity, "the person is not registered")
		}
		if !slices.Contains(reg.Consent, kind) {
			return fail(http.StatusForbidden, "no registered consent to receive the "+kind)
		}
		sum := sha256.Sum256(body)
		content := hex.EncodeToString(sum[:])
		dup := false
		for _, x := range s.emp.reports {
			// The same plan twice, or a second outcome for a case, is a duplicate.
			if x.Kind == kind && x.CaseID == in.CaseID && (kind == "outcome" || x.content == content) {
				dup = true
			}
		}
		s.emp.seq++
		rep := &simReport{ID: kind + "-" + strconv.Itoa(s.emp.seq), Kind: kind, CaseID: in.CaseID, At: time.Now().UTC(), content: content}
		s.emp.reports = append(s.emp.reports, rep)
		s.touch(kindReport, rep.ID, s.emp.seq, storedReport{simReport: *rep, Content: content})
		return effect{status: http.StatusAccepted, body: map[string]string{"id": rep.ID, "status": "received"}, created: rep.ID, duplicate: dup}
	})
}

func (s *Sim) reportPlan(w http.ResponseWriter, r *http.Request)    { s.report(w, r, "plan") }
func (s *Sim) reportOutcome(w http.ResponseWriter, r *http.Request) { s.report(w, r, "outcome") }

// Reports lists received plan and outcome reports (no personal data).
func (s *Sim) Reports() []simReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]simReport, 0, len(s.emp.reports))
	for _, r := range s.emp.reports {
		out = append(out, *r)
	}
	return out
}

func (s *Sim) listReports(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"reports": s.Reports()})
}

// ---- JobTech JobSearch ----

type jsHit struct {
	ID       string `json:"id"`
	Headline string `json:"headline"`
	Employer struct {
		Name string `json:"name"`
	} `json:"employer"`
	Occupation struct {
		ConceptID string `json:"concept_id"`
		Label     string `json:"label"`
	} `json:"occupation"`
	OccupationGroup struct {
		ConceptID           string `json:"concept_id"`
		Label               string `json:"label"`
		LegacyAmsTaxonomyID string `json:"legacy_ams_taxonomy_id"`
	} `json:"occupation_group"`
	WorkplaceAddress struct {
		Municipality          string `json:"municipality"`
		MunicipalityCode      string `json:"municipality_code"`
		MunicipalityConceptID string `json:"municipality_concept_id"`
	} `json:"workplace_address"`
	NumberOfVacancies   int    `json:"number_of_vacancies"`
	PublicationDate     string `json:"publication_date"`
	ApplicationDeadline string `json:"application_deadline"`
}

// jobSearch answers GET /search like JobTech: q, occupation-group and
// municipality (repeatable taxonomy concept IDs, as JobSearch takes them),
// offset (max 2000) and limit (max 100).
func (s *Sim) jobSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	offset, limit := 0, 10
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 2000 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "offset must be an integer 0-2000"})
			return
		}
		offset = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "limit must be an integer 0-100"})
			return
		}
		limit = n
	}
	groups, munis := q["occupation-group"], q["municipality"]
	words := strings.Fields(strings.ToLower(q.Get("q")))
	var match []simVacancy
	for _, v := range s.data.vacancies {
		if len(groups) > 0 && !slices.Contains(groups, taxonomy.OccupationGroup(v.SSYK)) {
			continue
		}
		if len(munis) > 0 && !slices.Contains(munis, taxonomy.Municipality(v.Municipality)) {
			continue
		}
		text := strings.ToLower(v.Headline + " " + v.Employer + " " + v.Label)
		ok := true
		for _, wd := range words {
			if !strings.Contains(text, wd) {
				ok = false
				break
			}
		}
		if ok {
			match = append(match, v)
		}
	}
	hits := []jsHit{}
	for i := offset; i < len(match) && i < offset+limit; i++ {
		v := match[i]
		var h jsHit
		h.ID, h.Headline = v.ID, v.Headline
		h.Employer.Name = v.Employer
		group := taxonomy.OccupationGroup(v.SSYK)
		// The simulator has no occupation-name concepts: the hit's occupation is its group.
		h.Occupation.ConceptID, h.Occupation.Label = group, v.Label
		h.OccupationGroup.ConceptID, h.OccupationGroup.Label, h.OccupationGroup.LegacyAmsTaxonomyID = group, v.Label, v.SSYK
		h.WorkplaceAddress.Municipality, h.WorkplaceAddress.MunicipalityCode = municipalities[v.Municipality], v.Municipality
		h.WorkplaceAddress.MunicipalityConceptID = taxonomy.Municipality(v.Municipality)
		h.NumberOfVacancies = v.Positions
		h.PublicationDate = v.Published.Format("2006-01-02T15:04:05")
		h.ApplicationDeadline = v.Deadline.Format("2006-01-02T15:04:05")
		hits = append(hits, h)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"total":                map[string]int{"value": len(match)},
		"positions":            len(match),
		"query_time_in_millis": 1,
		"hits":                 hits,
	})
}

func decodeReq(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return err
	}
	return decode(b, v)
}
