package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pathways-se/pathways/cases"
)

// /metrics answers without sign-in, counts requests by route pattern (not
// by case), and reads the registry's counts at scrape time.
func TestMetrics(t *testing.T) {
	e := newEnv(t, true)
	coach := e.signIn(t, "coach.angered")
	var started cases.Started
	coach.must(coach.post("/api/v1/pathways", referral(personalNumber(), "Angered")), http.StatusCreated).decode(t, &started)
	coach.must(coach.get("/api/v1/pathways/"+started.CaseID+"/timeline"), http.StatusOK)

	body := string(e.anon(t).must(e.anon(t).get("/metrics"), http.StatusOK).Body)
	for _, want := range []string{
		`pathways_http_requests_total{code="201",method="POST",route="/api/v1/pathways"} 1`,
		`pathways_http_requests_total{code="200",method="GET",route="/api/v1/pathways/{case}/timeline"} 1`,
		`pathways_pathways{phase="referral",status="active"} 1`,
		`pathways_mail_outbox{state="pending"} 0`,
		`pathways_registry_scrape_ok 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, started.CaseID) {
		t.Error("/metrics names a case")
	}
}
