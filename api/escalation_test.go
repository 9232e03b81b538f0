package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// A team lead escalates a case by hand; it shows in the API list and on the
// team-lead page with its level, and not to another centre's staff.
func TestManualEscalationAndTeamLeadView(t *testing.T) {
	e := newEnv(t, true)
	lead := e.signIn(t, "team.angered")
	var started struct {
		CaseID string `json:"case_id"`
	}
	lead.must(lead.post("/api/v1/pathways", referral(personalNumber(), "Angered")), http.StatusCreated).decode(t, &started)

	lead.must(lead.post("/api/v1/escalations", map[string]any{"reason": "no answer for weeks"}), http.StatusBadRequest)
	lead.must(lead.post("/api/v1/escalations", map[string]any{"case_ids": []string{started.CaseID}, "reason": "no answer for weeks"}), http.StatusOK)

	deadline := time.Now().Add(30 * time.Second)
	for {
		list := lead.must(lead.get("/api/v1/escalations"), http.StatusOK)
		if contains(list.Body, started.CaseID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("escalated case not listed: %s", list.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	page := lead.must(lead.get("/escalations"), http.StatusOK)
	// The chart draws from daily sweeps; a manual escalation alone has none.
	for _, want := range []string{started.CaseID, "no answer for weeks", "Stalled cases over time, by centre"} {
		if !contains(page.Body, want) {
			t.Errorf("team-lead page lacks %q", want)
		}
	}
	// Two daily sweeps give the chart its line.
	for i, day := range []string{"2026-11-20", "2026-11-21"} {
		id := "sweep-" + day
		if _, err := e.pool.Exec(context.Background(), `INSERT INTO escalation_sweeps (id, started_at, finished_at, stalled) VALUES ($1, $2::date + time '07:00', $2::date + time '07:01', $3)`, id, day, 3+i); err != nil {
			t.Fatal(err)
		}
		if _, err := e.pool.Exec(context.Background(), `INSERT INTO escalation_sweep_centres (sweep_id, centre_id, stalled, escalated) VALUES ($1, 'gbg-angered', $2, 1)`, id, 3+i); err != nil {
			t.Fatal(err)
		}
	}
	if page := lead.must(lead.get("/escalations"), http.StatusOK); !contains(page.Body, "<svg role=\"img\"") || !contains(page.Body, "gbg-angered: 4 now") {
		t.Errorf("the chart of stalled cases is missing: %s", page.Body)
	}
	other := e.signIn(t, "team.hisingen")
	if list := other.must(other.get("/api/v1/escalations"), http.StatusOK); contains(list.Body, started.CaseID) {
		t.Error("another centre's team lead sees the escalation")
	}
	coach := e.signIn(t, "coach.angered")
	coach.must(coach.get("/api/v1/escalations/stats"), http.StatusOK)
}
