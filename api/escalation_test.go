package api_test

import (
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
	other := e.signIn(t, "team.hisingen")
	if list := other.must(other.get("/api/v1/escalations"), http.StatusOK); contains(list.Body, started.CaseID) {
		t.Error("another centre's team lead sees the escalation")
	}
	coach := e.signIn(t, "coach.angered")
	coach.must(coach.get("/api/v1/escalations/stats"), http.StatusOK)
}
