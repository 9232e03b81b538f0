package api_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/simulators"
	"github.com/pathways-se/pathways/taxonomy"
)

// Matching lists the employer system's open needs and JobSearch's vacancies
// for the target occupation in the centre's municipality; a system that does
// not answer costs its list only.
func TestMatchesForTheTargetOccupation(t *testing.T) {
	e := newEnv(t, true)
	coach := e.signIn(t, "coach.angered")
	var started cases.Started
	coach.must(coach.post("/api/v1/pathways", referral(personalNumber(), "Angered")), http.StatusCreated).decode(t, &started)
	base := "/api/v1/pathways/" + started.CaseID + "/matches"

	// No plan yet and no ?ssyk: nothing to match on.
	if p := coach.must(coach.get(base), http.StatusUnprocessableEntity).problem(t); p.Field != "ssyk" {
		t.Fatalf("no target: %+v", p)
	}
	coach.must(coach.get(base+"?ssyk=83X1"), http.StatusBadRequest)

	var m api.Matches
	coach.must(coach.get(base+"?ssyk=8331"), http.StatusOK).decode(t, &m)
	if m.MunicipalityCode != "1480" || len(m.Unavailable) != 0 {
		t.Fatalf("matches: %+v", m)
	}
	found := false
	for _, n := range m.Needs {
		if n.SSYK != "8331" {
			t.Errorf("need for another occupation: %+v", n)
		}
		found = found || n.ID == "need-bus-angered"
	}
	if !found {
		t.Errorf("the seeded bus-driver need is missing: %+v", m.Needs)
	}
	for _, v := range m.Vacancies {
		if v.SSYK != "8331" || v.MunicipalityCode != "1480" {
			t.Errorf("vacancy outside the match: %+v", v)
		}
	}
	// JobSearch was asked in taxonomy concept IDs.
	reqs := e.sim.Requests("jobsearch", "/jobsearch/search", "GET")
	if len(reqs) == 0 {
		t.Fatal("JobSearch was not asked")
	}
	q, _ := url.ParseQuery(reqs[len(reqs)-1].Query)
	if q.Get("occupation-group") != taxonomy.OccupationGroup("8331") || q.Get("municipality") != taxonomy.Municipality("1480") {
		t.Fatalf("JobSearch query %s", reqs[len(reqs)-1].Query)
	}

	// JobSearch down: the needs still come, the vacancies say why not.
	if err := e.sim.SetFaults(simulators.Faults{Systems: map[string]*simulators.FaultSpec{"jobsearch": {Errors: map[string]float64{"503": 1}}}}); err != nil {
		t.Fatal(err)
	}
	m = api.Matches{}
	coach.must(coach.get(base+"?ssyk=8331"), http.StatusOK).decode(t, &m)
	if m.Unavailable["vacancies"] == "" || len(m.Needs) == 0 || len(m.Vacancies) != 0 {
		t.Fatalf("with JobSearch down: %+v", m)
	}

	// Another centre's coach may not look.
	other := e.signIn(t, "coach.hisingen")
	other.must(other.get(base+"?ssyk=8331"), http.StatusForbidden)
}
