package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
)

// planningCase starts a pathway through the API and brings it to planning.
func planningCase(t *testing.T, c *client, district string) string {
	t.Helper()
	var started struct {
		CaseID string `json:"case_id"`
	}
	c.must(c.post("/api/v1/pathways", referral(personalNumber(), district)), http.StatusCreated).decode(t, &started)
	base := "/api/v1/pathways/" + started.CaseID
	waitFor(t, "first contact", func() bool {
		return c.post(base+"/first-contact", map[string]any{"channel": "meeting"}).Status == http.StatusOK
	})
	c.must(c.post(base+"/mapping", map[string]any{"abilities": []string{"care"}, "education_level": "3",
		"language": "sv:B1", "goals": "Work in care"}), http.StatusOK)
	return started.CaseID
}

func fieldCodes(p api.Problem) map[string]string {
	out := map[string]string{}
	for _, f := range p.Fields {
		out[f.Field] = f.Code
	}
	return out
}

// The whole plan is checked before it reaches the pathway: every problem is
// named on its field, 422 invalid_plan, and nothing is sent.
func TestPlanValidationNamesEachField(t *testing.T) {
	e := newEnv(t, true)
	coach := e.signIn(t, "coach.angered")
	id := planningCase(t, coach, "Angered")
	base := "/api/v1/pathways/" + id
	step := func(id, typ string, days int, params map[string]string) map[string]any {
		return map[string]any{"id": id, "type": typ, "duration_days": days, "params": params}
	}
	bad := map[string]any{"target_ssyk": "12", "recruitment_need_id": "need-does-not-exist", "steps": []any{
		step("sfi", "komvux", 60, map[string]string{"course_code": "1488-SFIC-01", "form": "sfi"}), // Trollhättan's course
		step("track", "jobtrack", 60, map[string]string{"course_code": "USK", "training_days": "30"}),
		step("sfi", "manual", 10, map[string]string{"description": "coaching"}),
		step("nursing", "komvux", 60, map[string]string{"course_code": "NOSUCH", "form": "yrkesvux"}),
		step("practice", "internship", 0, map[string]string{"employer": "need"}),
	}}
	p := coach.must(coach.post(base+"/plan", bad), http.StatusUnprocessableEntity).problem(t)
	got := fieldCodes(p)
	want := map[string]string{"target_ssyk": "invalid", "recruitment_need_id": "not_found", "steps[0].course": "other_municipality",
		"steps[1].type": "not_allowed", "steps[2].id": "duplicate", "steps[3].course": "not_found", "steps[4].duration_days": "invalid"}
	if p.Code != "invalid_plan" {
		t.Fatalf("code %q, want invalid_plan: %+v", p.Code, p)
	}
	for f, c := range want {
		if got[f] != c {
			t.Errorf("%s: code %q, want %q (all: %v)", f, got[f], c, got)
		}
	}
	var view api.PathwayView
	coach.must(coach.get(base), http.StatusOK).decode(t, &view)
	if view.Live == nil || view.Live.Phase != pathway.PhasePlanning || len(view.Live.Steps) != 0 {
		t.Fatalf("a refused plan reached the pathway: %+v", view.Live)
	}

	// A need elsewhere, a withdrawn one, a step that needs one without it.
	internshipStep := step("practice", "internship", 60, map[string]string{"employer": "need"})
	for _, c := range []struct {
		need, code string
	}{{"need-cook-thn", "other_municipality"}, {"", "required"}} {
		p := coach.must(coach.post(base+"/plan", map[string]any{"target_ssyk": "5321", "recruitment_need_id": c.need,
			"steps": []any{internshipStep}}), http.StatusUnprocessableEntity).problem(t)
		if fieldCodes(p)["recruitment_need_id"] != c.code {
			t.Errorf("need %q: %+v", c.need, p)
		}
	}
	broker := e.signIn(t, "broker.angered")
	var gone integrations.RecruitmentNeed
	broker.must(broker.post("/api/v1/recruitment-needs", map[string]any{"employer_id": "emp-gbg-aldreomsorg", "ssyk": "5321",
		"title": "Night staff", "positions": 1, "start_date": "2030-01-01"}), http.StatusCreated).decode(t, &gone)
	broker.must(broker.post("/api/v1/recruitment-needs/"+gone.ID+"/status", map[string]any{"status": "withdrawn"}), http.StatusOK)
	p = coach.must(coach.post(base+"/plan", map[string]any{"target_ssyk": "5321", "recruitment_need_id": gone.ID,
		"steps": []any{internshipStep}}), http.StatusUnprocessableEntity).problem(t)
	if fieldCodes(p)["recruitment_need_id"] != "not_open" {
		t.Errorf("withdrawn need: %+v", p)
	}

	// A good plan: the generic SFIC is enrolled in the participant's own
	// municipality (Göteborg), and revising without naming a need keeps it.
	var res api.ActionResult
	coach.must(coach.post(base+"/plan", map[string]any{"target_ssyk": "5321", "recruitment_need_id": "need-usk-hisingen", "steps": []any{
		step("sfi", "komvux", 60, map[string]string{"course_code": "SFIC", "form": "sfi"}), internshipStep}}), http.StatusOK).decode(t, &res)
	if res.Status.NeedID != "need-usk-hisingen" || !strings.HasPrefix(res.Status.Steps[0].Params["course_code"], "1480-SFIC-") {
		t.Fatalf("approved plan: need %q, steps %+v", res.Status.NeedID, res.Status.Steps)
	}
	coach.must(coach.post(base+"/plan", map[string]any{"target_ssyk": "5321", "steps": []any{internshipStep}}), http.StatusOK).decode(t, &res)
	if res.Status.NeedID != "need-usk-hisingen" {
		t.Fatalf("the revision dropped the need: %q", res.Status.NeedID)
	}
}

// Courses are searched by name or code in the participant's municipality
// only: a Trollhättan participant finds Trollhättan's occasions, by the
// catalogue's own codes too, and never Göteborg's.
func TestCourseSearchByMunicipality(t *testing.T) {
	e := newEnv(t, true)
	coach := e.signIn(t, "coach.jobbcentrum")
	var started struct {
		CaseID string `json:"case_id"`
	}
	coach.must(coach.post("/api/v1/pathways", referral(personalNumber(), "Trollhättan")), http.StatusCreated).decode(t, &started)
	base := "/api/v1/pathways/" + started.CaseID + "/courses"
	type page struct {
		Municipality string                `json:"municipality_code"`
		Total        int                   `json:"total"`
		Items        []integrations.Course `json:"items"`
	}
	var pg page
	coach.must(coach.get(base+"?q=SFIC"), http.StatusOK).decode(t, &pg)
	if pg.Municipality != "1488" || pg.Total == 0 {
		t.Fatalf("SFIC in Trollhättan: %+v", pg)
	}
	for _, c := range pg.Items {
		if c.Municipality != "1488" || !strings.HasPrefix(c.Code, "1488-SFIC-") {
			t.Errorf("found %+v", c)
		}
	}
	coach.must(coach.get(base+"?q=1488-USK-01"), http.StatusOK).decode(t, &pg)
	if pg.Total != 1 || pg.Items[0].Code != "1488-USK-01" {
		t.Fatalf("by catalogue code: %+v", pg)
	}
	coach.must(coach.get(base+"?q=undersk%C3%B6terska"), http.StatusOK).decode(t, &pg)
	if pg.Total == 0 || pg.Items[0].Municipality != "1488" {
		t.Fatalf("by name: %+v", pg)
	}
	coach.must(coach.get(base+"?q=1480-SFIC-01"), http.StatusOK).decode(t, &pg)
	if pg.Total != 0 {
		t.Fatalf("Göteborg's course found from Trollhättan: %+v", pg)
	}
	coach.must(coach.get(base+"?limit=2"), http.StatusOK).decode(t, &pg)
	if len(pg.Items) != 2 || pg.Total <= 2 {
		t.Fatalf("paging: %d of %d", len(pg.Items), pg.Total)
	}
	coach.must(coach.get(base+"?limit=x"), http.StatusBadRequest)
	other := e.signIn(t, "coach.angered")
	other.must(other.get(base+"?q=SFIC"), http.StatusForbidden)
}
