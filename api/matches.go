package api

import (
	"context"
	"net/http"
	"regexp"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

func init() { routes = append(routes, mountMatches) }

func mountMatches(s *Server, r chi.Router) {
	r.Get("/pathways/{case}/matches", s.apiMatches)
}

// Outside is what the API asks outside systems directly: the employer
// system's open recruitment needs and JobTech JobSearch.
type Outside interface {
	RecruitmentNeeds(ctx context.Context, q integrations.NeedQuery) ([]integrations.RecruitmentNeed, error)
	SearchVacancies(ctx context.Context, q integrations.VacancyQuery) (integrations.VacancyPage, error)
}

// OutsideClients joins the two adapters the matching reads.
type OutsideClients struct {
	integrations.Employers
	integrations.Employment
}

// Matches are the openings for a participant's target occupation in the
// centre's municipality: employers' open recruitment needs (which staff can
// attach to the plan) and advertised vacancies. Either list may be missing
// when its system does not answer; Unavailable says which and why.
type Matches struct {
	SSYK             string                         `json:"ssyk"`
	MunicipalityCode string                         `json:"municipality_code"`
	Needs            []integrations.RecruitmentNeed `json:"needs"`
	Vacancies        []integrations.Vacancy         `json:"vacancies"`
	VacancyTotal     int                            `json:"vacancy_total"`
	Unavailable      map[string]string              `json:"unavailable,omitempty"`
}

var ssykCode = regexp.MustCompile(`^[0-9]{4}$`)

// matchLimit is how many vacancies a case page shows; JobSearch pages the rest.
const matchLimit = 20

func (s *Server) apiMatches(w http.ResponseWriter, r *http.Request) {
	caseID := chi.URLParam(r, "case")
	row, ok := s.access(w, r, caseID)
	if !ok {
		return
	}
	ssyk := r.URL.Query().Get("ssyk")
	if ssyk == "" {
		if st := s.liveStatus(r.Context(), caseID); st != nil {
			ssyk = st.TargetSSYK
		}
	}
	if ssyk == "" {
		writeProblem(w, http.StatusUnprocessableEntity, Problem{Code: "no_target", Field: "ssyk",
			Message: "the plan has no target occupation yet: give ?ssyk= (a four-digit SSYK 2012 code)"})
		return
	}
	if !ssykCode.MatchString(ssyk) {
		badRequest(w, "ssyk", "must be a four-digit SSYK 2012 code")
		return
	}
	m, err := s.matches(r.Context(), row, ssyk)
	if err != nil {
		s.internal(w, r, "read the centre", err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// matches asks both systems at once, each for at most a few seconds, so a
// slow system costs the page one list, not the whole page.
func (s *Server) matches(ctx context.Context, row store.PathwayRow, ssyk string) (Matches, error) {
	centre, err := store.GetCentre(ctx, s.Pool, row.CentreID)
	if err != nil {
		return Matches{}, err
	}
	m := Matches{SSYK: ssyk, MunicipalityCode: centre.MunicipalityCode, Needs: []integrations.RecruitmentNeed{},
		Vacancies: []integrations.Vacancy{}, Unavailable: map[string]string{}}
	if s.Outside == nil {
		m.Unavailable["needs"] = "outside systems are not configured"
		m.Unavailable["vacancies"] = "outside systems are not configured"
		return m, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	type needsAnswer struct {
		needs []integrations.RecruitmentNeed
		err   error
	}
	nc := make(chan needsAnswer, 1)
	go func() {
		needs, err := s.Outside.RecruitmentNeeds(ctx, integrations.NeedQuery{SSYK: ssyk, Municipality: centre.MunicipalityCode})
		nc <- needsAnswer{needs, err}
	}()
	page, verr := s.Outside.SearchVacancies(ctx, integrations.VacancyQuery{OccupationGroup: ssyk, Municipality: centre.MunicipalityCode, Limit: matchLimit})
	if verr != nil {
		m.Unavailable["vacancies"] = "JobSearch: " + verr.Error()
	} else {
		m.Vacancies, m.VacancyTotal = page.Hits, page.Total
	}
	na := <-nc
	if na.err != nil {
		m.Unavailable["needs"] = "employer system: " + na.err.Error()
	} else if na.needs != nil {
		m.Needs = na.needs
	}
	if len(m.Unavailable) == 0 {
		m.Unavailable = nil
	}
	return m, nil
}

// needOption is a recruitment need offered in the plan form.
type needOption struct{ ID, Label string }

// addMatches puts the matches for ?ssyk= (default: the plan's target) on
// the case page, and offers the centre's needs plus the matched ones in the
// plan form.
func (s *Server) addMatches(r *http.Request, row store.PathwayRow, live *pathway.Status, local []integrations.RecruitmentNeed, data map[string]any) {
	ssyk, l := r.URL.Query().Get("ssyk"), lang.For(r)
	if ssyk == "" && live != nil {
		ssyk = live.TargetSSYK
	}
	data["MatchSSYK"] = ssyk
	var opts []needOption
	seen := map[string]bool{}
	for _, n := range local {
		seen[n.ID] = true
		opts = append(opts, needOption{n.ID, l.T("pathway.need_option", "Employer", n.EmployerName, "Title", n.Title, "SSYK", n.SSYK, "Count", n.Positions, "Start", l.Date(n.StartDate))})
	}
	if ssykCode.MatchString(ssyk) {
		m, err := s.matches(r.Context(), row, ssyk)
		s.partial(r.Context(), "matches", err)
		if err == nil {
			data["Matches"] = m
			for _, n := range m.Needs {
				if !seen[n.ID] {
					seen[n.ID] = true
					opts = append(opts, needOption{n.ID, l.T("pathway.need_option_matched", "Employer", n.EmployerName, "SSYK", n.SSYK, "Count", n.Positions, "Start", l.Date(n.StartDate))})
				}
			}
		}
	} else if ssyk != "" {
		data["MatchError"] = l.T("pathway.ssyk_digits")
	}
	data["NeedOptions"] = opts
}
