package api_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/pathways-se/pathways/assignment"
	"github.com/pathways-se/pathways/store"
)

// A team lead assigns and reassigns the cases of their centre, a protected
// case held by a colleague included, through the API and the console page
// (the CLI calls the same assignment.Assign); each change is audited. The
// assignee must be active staff of the case's centre, and another centre's
// case or a job coach's request is refused.
func TestTeamLeadAssignsCasesWithinCentre(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	const centre = "gbg-angered"
	if err := store.UpsertStaff(ctx, e.pool, store.Staff{ID: "assign.colleague", Name: "Colleague", Email: "assign.colleague@pathways.test",
		CentreID: centre, Roles: []string{store.RoleJobCoach}, Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := store.UpsertStaff(ctx, e.pool, store.Staff{ID: "assign.gone", Name: "Gone", Email: "assign.gone@pathways.test",
		CentreID: centre, Roles: []string{store.RoleJobCoach}, Active: false}); err != nil {
		t.Fatal(err)
	}
	open := insertCase(t, e, centre, false, "")
	protected := insertCase(t, e, centre, true, "assign.colleague")
	elsewhere := insertCase(t, e, "gbg-hisingen", false, "")

	lead := e.signIn(t, "team.angered")
	assignee := func(caseID string) string {
		var a string
		if err := e.pool.QueryRow(ctx, `SELECT assignee FROM pathways WHERE case_id = $1`, caseID).Scan(&a); err != nil {
			t.Fatal(err)
		}
		return a
	}

	// API: assign, then reassign.
	var res assignment.Result
	lead.must(lead.do(http.MethodPut, "/api/v1/pathways/"+open+"/assignee", map[string]string{"assignee": "coach.angered"}), http.StatusOK).decode(t, &res)
	if !res.Changed || res.From != "" || res.To != "coach.angered" || assignee(open) != "coach.angered" {
		t.Fatalf("assign: %+v, stored %q", res, assignee(open))
	}
	lead.must(lead.do(http.MethodPut, "/api/v1/pathways/"+open+"/assignee", map[string]string{"assignee": "assign.colleague"}), http.StatusOK).decode(t, &res)
	if res.From != "coach.angered" || assignee(open) != "assign.colleague" {
		t.Fatalf("reassign: %+v", res)
	}
	// The same again changes nothing and audits nothing.
	lead.must(lead.do(http.MethodPut, "/api/v1/pathways/"+open+"/assignee", map[string]string{"assignee": "assign.colleague"}), http.StatusOK).decode(t, &res)
	if res.Changed {
		t.Fatalf("a repeated assignment changed: %+v", res)
	}

	// The protected case the team lead cannot see is handed over from the console page.
	page := lead.get("/assignments")
	lead.must(page, http.StatusOK)
	if contains(page.Body, protected) {
		t.Fatal("the assignment page lists a protected case its viewer may not see")
	}
	if !contains(page.Body, open) {
		t.Fatal("the assignment page does not list the centre's case")
	}
	r := lead.postForm("/assignments", url.Values{"csrf": {lead.csrf()}, "case_id": {protected}, "assignee": {"coach.angered"}})
	if r.Status != http.StatusSeeOther || assignee(protected) != "coach.angered" {
		t.Fatalf("console hand-over of the protected case: %d %s, stored %q", r.Status, r.Body, assignee(protected))
	}
	// Its new assignee now sees it.
	e.signIn(t, "coach.angered").must(e.signIn(t, "coach.angered").get("/api/v1/pathways/"+protected), http.StatusOK)

	// Refusals, each naming what is wrong.
	for _, c := range []struct {
		who, caseID, to string
		status          int
		field           string
	}{
		{"team.angered", elsewhere, "coach.hisingen", http.StatusForbidden, ""},              // another centre's case
		{"team.angered", open, "coach.hisingen", http.StatusUnprocessableEntity, "assignee"}, // another centre's staff
		{"team.angered", open, "assign.gone", http.StatusUnprocessableEntity, "assignee"},    // inactive
		{"team.angered", open, "nobody.here", http.StatusUnprocessableEntity, "assignee"},    // unknown
		{"team.angered", open, "", http.StatusUnprocessableEntity, "assignee"},               // missing
		{"team.hisingen", open, "coach.hisingen", http.StatusForbidden, ""},                  // a team lead of another centre
		{"coach.angered", open, "coach.angered", http.StatusForbidden, ""},                   // not a team lead
		{"team.angered", "2026-NOPE", "coach.angered", http.StatusNotFound, "case_id"},
	} {
		c2 := e.signIn(t, c.who)
		got := c2.do(http.MethodPut, "/api/v1/pathways/"+c.caseID+"/assignee", map[string]string{"assignee": c.to})
		if got.Status != c.status || got.problem(t).Field != c.field {
			t.Errorf("%s assigns %s to %q: %d %s, want %d on field %q", c.who, c.caseID, c.to, got.Status, got.Body, c.status, c.field)
		}
	}
	if assignee(open) != "assign.colleague" || assignee(elsewhere) != "" {
		t.Fatalf("a refused assignment changed something: %q %q", assignee(open), assignee(elsewhere))
	}

	// Audited: three changes, by the team lead, from and to.
	var n int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1 AND staff_id = 'team.angered'`, assignment.AuditAssign).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("assignments audited: %d, want 3", n)
	}
	var detail string
	_ = e.pool.QueryRow(ctx, `SELECT detail::text FROM audit_log WHERE action = $1 AND case_id = $2`, assignment.AuditAssign, protected).Scan(&detail)
	if !contains([]byte(detail), `"from": "assign.colleague"`) || !contains([]byte(detail), `"to": "coach.angered"`) {
		t.Fatalf("audit detail of the hand-over: %s", detail)
	}
}
