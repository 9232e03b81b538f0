package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/cases"
)

func TestPrintablePlanIsAudited(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	coach := e.signIn(t, "coach.angered")
	ref := referral(personalNumber(), "Angered")
	ref["given_name"], ref["family_name"], ref["assignee"] = "Alva", "Utskriftsdotter", "coach.angered"
	var started cases.Started
	coach.must(coach.post("/api/v1/pathways", ref), http.StatusCreated).decode(t, &started)
	base := "/api/v1/pathways/" + started.CaseID
	waitFor(t, "the workflow running", func() bool {
		var v api.PathwayView
		coach.must(coach.get(base), http.StatusOK).decode(t, &v)
		return v.Live != nil
	})
	coach.must(coach.post(base+"/first-contact", map[string]any{"channel": "phone"}), http.StatusOK)
	coach.must(coach.post(base+"/mapping", map[string]any{"abilities": []string{"driving"}, "education_level": "3", "language": "sv:B1",
		"goals": "Work as a bus driver", "obstacles": []string{"licence"}}), http.StatusOK)
	var res api.ActionResult
	coach.must(coach.post(base+"/plan", map[string]any{"target_ssyk": "8331", "recruitment_need_id": "need-bus-angered"}), http.StatusOK).decode(t, &res)
	if len(res.Status.Steps) == 0 {
		t.Fatalf("no plan: %+v", res.Status)
	}

	prints := func() int {
		var n int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1 AND case_id = $2`, api.AuditPrintPlan, started.CaseID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// The case page links to the printable plan.
	if page := coach.must(coach.get("/pathways/"+started.CaseID), http.StatusOK); !contains(page.Body, `href="/pathways/`+started.CaseID+`/handlingsplan"`) {
		t.Error("the case page does not link to the printable plan")
	}
	before := prints()
	page := coach.must(coach.get("/pathways/"+started.CaseID+"/handlingsplan"), http.StatusOK)
	// Plain Swedish by default: the plan, its dates, the contact person, what next.
	for _, want := range []string{"Din handlingsplan", "Alva Utskriftsdotter", res.Status.Steps[0].Title, "Din kontaktperson", "Det här händer sedan",
		"Slutar senast", "Pågår", `<article class="plan-print">`} {
		if !contains(page.Body, want) {
			t.Errorf("the printable plan lacks %q", want)
		}
	}
	if prints() != before+1 {
		t.Fatalf("printing was not audited: %d rows, want %d", prints(), before+1)
	}
	var staff, detail string
	if err := e.pool.QueryRow(ctx, `SELECT staff_id, detail::text FROM audit_log WHERE action = $1 AND case_id = $2 ORDER BY seq DESC LIMIT 1`,
		api.AuditPrintPlan, started.CaseID).Scan(&staff, &detail); err != nil || staff != "coach.angered" || contains([]byte(detail), "Utskriftsdotter") {
		t.Errorf("audit row: %s %s %v", staff, detail, err)
	}
	// In English on request.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/pathways/"+started.CaseID+"/handlingsplan", nil)
	req.Header.Set("Accept-Language", "en")
	resp, err := coach.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || prints() != before+2 {
		t.Errorf("English print: %d, %d audit rows", resp.StatusCode, prints())
	}
	// Refused prints are not printed and write no print row.
	manager := e.signIn(t, "manager")
	manager.must(manager.get("/pathways/"+started.CaseID+"/handlingsplan"), http.StatusForbidden)
	other := e.signIn(t, "coach.hisingen")
	other.must(other.get("/pathways/"+started.CaseID+"/handlingsplan"), http.StatusForbidden)
	if prints() != before+2 {
		t.Errorf("a refused print was audited as printed: %d", prints())
	}
	// The print stylesheet leaves the header off paper.
	if css := coach.must(coach.get("/static/style.css"), http.StatusOK); !contains(css.Body, "@media print") {
		t.Error("no print stylesheet")
	}
}
