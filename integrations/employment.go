package integrations

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pathways-se/pathways/taxonomy"
)

// EmploymentClient is the employment service: the secure gateway for one
// jobseeker's data (a JSON API here) and the open JobTech JobSearch API.
//
//	POST {gateway}/registrations/lookup   registration status and consent (person in the body)
//	POST {gateway}/plans                  action plan report (Idempotency-Key)
//	POST {gateway}/outcomes               outcome report (Idempotency-Key)
//	GET  {jobsearch}/search               JobTech JobSearch, header api-key
type EmploymentClient struct {
	gw *httpClient
	js *httpClient
}

// NewEmploymentClient builds the client. apiKey may be empty.
func NewEmploymentClient(gatewayURL, jobSearchURL, apiKey string, timeout time.Duration) *EmploymentClient {
	js := newHTTPClient("jobsearch", jobSearchURL, timeout)
	if apiKey != "" {
		js.headers = map[string]string{"api-key": apiKey}
	}
	return &EmploymentClient{gw: newHTTPClient("employment", gatewayURL, timeout), js: js}
}

var _ Employment = (*EmploymentClient)(nil)

// Consent scopes.
const (
	ConsentPlan    = "plan"
	ConsentOutcome = "outcome"
)

// Registration looks the person up at the employment service.
func (e *EmploymentClient) Registration(ctx context.Context, person Person) (Registration, error) {
	var out Registration
	err := e.gw.do(ctx, http.MethodPost, "/registrations/lookup", nil, "",
		map[string]string{"personal_number": person.PersonalNumber}, &out)
	return out, err
}

// PlanBody is the JSON of POST /plans.
type PlanBody struct {
	CaseID         string   `json:"case_id"`
	PersonalNumber string   `json:"personal_number"`
	TargetSSYK     string   `json:"target_ssyk,omitempty"`
	Steps          []string `json:"steps"`
}

// OutcomeBody is the JSON of POST /outcomes.
type OutcomeBody struct {
	CaseID         string    `json:"case_id"`
	PersonalNumber string    `json:"personal_number"`
	Kind           string    `json:"kind"`
	StartDate      time.Time `json:"start_date"`
	SSYK           string    `json:"ssyk,omitempty"`
}

// ReportPlan sends the action plan, if the person consented to it.
func (e *EmploymentClient) ReportPlan(ctx context.Context, key string, r PlanReport) error {
	if err := requireKey("employment", key); err != nil {
		return err
	}
	if err := e.checkConsent(ctx, r.CaseID, r.Person, ConsentPlan); err != nil {
		return err
	}
	steps := r.Steps
	if steps == nil {
		steps = []string{}
	}
	return e.gw.do(ctx, http.MethodPost, "/plans", nil, key,
		PlanBody{CaseID: r.CaseID, PersonalNumber: r.Person.PersonalNumber, TargetSSYK: r.TargetSSYK, Steps: steps}, nil)
}

// ReportOutcome sends the outcome, if the person consented to it.
func (e *EmploymentClient) ReportOutcome(ctx context.Context, key string, r OutcomeReport) error {
	if err := requireKey("employment", key); err != nil {
		return err
	}
	if err := e.checkConsent(ctx, r.CaseID, r.Person, ConsentOutcome); err != nil {
		return err
	}
	return e.gw.do(ctx, http.MethodPost, "/outcomes", nil, key,
		OutcomeBody{CaseID: r.CaseID, PersonalNumber: r.Person.PersonalNumber, Kind: r.Kind, StartDate: r.StartDate, SSYK: r.SSYK}, nil)
}

func (e *EmploymentClient) checkConsent(ctx context.Context, caseID string, p Person, scope string) error {
	reg, err := e.Registration(ctx, p)
	if err != nil {
		return err
	}
	if !reg.Registered {
		return &Rejected{System: "employment", Reason: "case " + caseID + ": the person is not registered with the employment service"}
	}
	if !slices.Contains(reg.Consent, scope) {
		return &ConsentError{CaseID: caseID, Scope: scope}
	}
	return nil
}

// jobSearchAnswer is JobTech JobSearch's answer, the fields we use.
type jobSearchAnswer struct {
	Total struct {
		Value int `json:"value"`
	} `json:"total"`
	Hits []struct {
		ID       string `json:"id"`
		Headline string `json:"headline"`
		Employer struct {
			Name string `json:"name"`
		} `json:"employer"`
		Occupation struct {
			ConceptID string `json:"concept_id"`
		} `json:"occupation"`
		OccupationGroup struct {
			ConceptID string `json:"concept_id"`
			Legacy    string `json:"legacy_ams_taxonomy_id"`
		} `json:"occupation_group"`
		WorkplaceAddress struct {
			MunicipalityCode      string `json:"municipality_code"`
			MunicipalityConceptID string `json:"municipality_concept_id"`
		} `json:"workplace_address"`
		ApplicationDeadline jobTime `json:"application_deadline"`
	} `json:"hits"`
}

// jobTime accepts RFC 3339 and JobTech's zone-less "2006-01-02T15:04:05"
// (Swedish local time).
type jobTime struct{ time.Time }

func (t *jobTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil || s == "" {
		return nil // null or absent: no deadline
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if layout == time.RFC3339Nano {
			if v, err := time.Parse(layout, s); err == nil {
				t.Time = v
				return nil
			}
			continue
		}
		if v, err := time.ParseInLocation(layout, s, stockholm()); err == nil {
			t.Time = v
			return nil
		}
	}
	return nil // an odd deadline format must not lose the whole page
}

func stockholm() *time.Location {
	if loc, err := time.LoadLocation("Europe/Stockholm"); err == nil {
		return loc
	}
	return time.UTC
}

// SearchVacancies is JobSearch's GET /search. JobSearch filters by taxonomy
// concept IDs: SSYK and municipality codes in q are translated first.
func (e *EmploymentClient) SearchVacancies(ctx context.Context, q VacancyQuery) (VacancyPage, error) {
	v := url.Values{}
	set(v, "q", q.Q)
	if q.OccupationGroup != "" {
		set(v, "occupation-group", taxonomy.OccupationGroup(q.OccupationGroup))
	}
	if q.Municipality != "" {
		set(v, "municipality", taxonomy.Municipality(q.Municipality))
	}
	if q.Offset > 0 {
		v.Set("offset", strconv.Itoa(q.Offset))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var a jobSearchAnswer
	if err := e.js.do(ctx, http.MethodGet, "/search", v, "", nil, &a); err != nil {
		return VacancyPage{}, err
	}
	page := VacancyPage{Total: a.Total.Value, Hits: make([]Vacancy, 0, len(a.Hits))}
	for _, h := range a.Hits {
		ssyk := h.OccupationGroup.Legacy
		if ssyk == "" {
			ssyk = taxonomy.SSYK(h.OccupationGroup.ConceptID)
		}
		muni := h.WorkplaceAddress.MunicipalityCode
		if muni == "" {
			muni = taxonomy.MunicipalityCode(h.WorkplaceAddress.MunicipalityConceptID)
		}
		page.Hits = append(page.Hits, Vacancy{
			SSYK:                ssyk,
			OccupationGroupID:   h.OccupationGroup.ConceptID,
			ID:                  h.ID,
			Headline:            strings.TrimSpace(h.Headline),
			Employer:            h.Employer.Name,
			OccupationConceptID: h.Occupation.ConceptID,
			MunicipalityCode:    muni,
			ApplicationDeadline: h.ApplicationDeadline.Time,
		})
	}
	return page, nil
}
