package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	sdkworker "go.temporal.io/sdk/worker"

	"github.com/pathways-se/pathways/escalation"
	"github.com/pathways-se/pathways/internal/testsystem"
)

// newEscalationEnv is newEnv with the escalation workflows on the worker.
func newEscalationEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, testsystem.Options{Register: func(w sdkworker.Worker, ts *testsystem.System) {
		escalation.Register(w, escalation.ForDeployment(ts.Config, ts.Pool, ts.Temporal))
	}})
}

// postKeyed posts JSON with an Idempotency-Key.
func (c *client) postKeyed(path, key string, body any) reply {
	c.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Body: out}
}

type manualStarted struct {
	ID        string `json:"id"`
	StatusURL string `json:"status_url"`
}

// waitManual polls a manual escalation's status until it is done.
func waitManual(t *testing.T, c *client, url string) escalation.ManualProgress {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var p escalation.ManualProgress
		c.must(c.get(url), http.StatusOK).decode(t, &p)
		if p.State == "done" {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("manual escalation not done: %+v", p)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// A team lead escalates a case by hand; it shows in the API list and on the
// team-lead page with its level, and not to another centre's staff.
func TestManualEscalationAndTeamLeadView(t *testing.T) {
	e := newEscalationEnv(t)
	lead := e.signIn(t, "team.angered")
	var started struct {
		CaseID string `json:"case_id"`
	}
	lead.must(lead.post("/api/v1/pathways", referral(personalNumber(), "Angered")), http.StatusCreated).decode(t, &started)

	lead.must(lead.post("/api/v1/escalations", map[string]any{"reason": "no answer for weeks"}), http.StatusBadRequest)
	// The escalation runs as a workflow: 202 and a link to its status.
	body := map[string]any{"case_ids": []string{started.CaseID}, "reason": "no answer for weeks"}
	var m manualStarted
	lead.must(lead.postKeyed("/api/v1/escalations", "form-1", body), http.StatusAccepted).decode(t, &m)
	if p := waitManual(t, lead, m.StatusURL); p.Escalated != 1 || p.Matched != 1 {
		t.Fatalf("manual escalation: %+v", p)
	}
	// The same request again, with the same key: the first run's status, no
	// second climb.
	var again manualStarted
	lead.must(lead.postKeyed("/api/v1/escalations", "form-1", body), http.StatusAccepted).decode(t, &again)
	if again.ID != m.ID {
		t.Fatalf("a repeated request started %s, the first was %s", again.ID, m.ID)
	}
	if p := waitManual(t, lead, again.StatusURL); p.Escalated != 1 {
		t.Fatalf("repeated request: %+v", p)
	}
	var manual int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM escalations WHERE rule = 'manual'`).Scan(&manual); err != nil || manual != 1 {
		t.Fatalf("manual escalations recorded: %d %v, want 1", manual, err)
	}
	lead.must(lead.get("/api/v1/escalations/manual/escalation-manual-000000000000000000000000"), http.StatusNotFound)

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
	// The page's form carries a key per render: submitting it twice climbs once.
	form := lead.must(lead.get("/escalations"), http.StatusOK)
	hidden := func(name string) string {
		m := regexp.MustCompile(`name="` + name + `" value="([^"]+)"`).FindSubmatch(form.Body)
		if m == nil {
			t.Fatalf("the form lacks %s", name)
		}
		return html.UnescapeString(string(m[1]))
	}
	vals := url.Values{"csrf": {hidden("csrf")}, "idempotency_key": {hidden("idempotency_key")}, "case_ids": {started.CaseID}, "reason": {"still no answer"}}
	for i := 0; i < 2; i++ {
		resp, err := lead.http.PostForm(e.srv.URL+"/escalations", vals)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, url.QueryEscape("1 av 1 ärende eskalerades.")) {
			t.Fatalf("form post %d: %d %s", i+1, resp.StatusCode, loc)
		}
	}
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM escalations WHERE rule = 'manual'`).Scan(&manual); err != nil || manual != 2 {
		t.Fatalf("manual escalations after the form: %d %v, want 2", manual, err)
	}
	// The list joins the escalation, recorded at once, with its task, which
	// the pathway projects when the escalation signal reaches it: a moment
	// later, as in the API list above.
	var page reply
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		page = lead.must(lead.get("/escalations"), http.StatusOK)
		if contains(page.Body, "still no answer") || time.Now().After(deadline) {
			break
		}
	}
	// The chart draws from daily sweeps; a manual escalation alone has none.
	for _, want := range []string{started.CaseID, "still no answer", "Ärenden som står still över tid, per jobbcentrum"} {
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
	if page := lead.must(lead.get("/escalations"), http.StatusOK); !contains(page.Body, "<svg role=\"img\"") || !contains(page.Body, "Kompetenscenter Angered: 4 nu") {
		t.Errorf("the chart of stalled cases is missing: %s", page.Body)
	}
	other := e.signIn(t, "team.hisingen")
	if list := other.must(other.get("/api/v1/escalations"), http.StatusOK); contains(list.Body, started.CaseID) {
		t.Error("another centre's team lead sees the escalation")
	}
	coach := e.signIn(t, "coach.angered")
	coach.must(coach.get("/api/v1/escalations/stats"), http.StatusOK)
}
