package api_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// raw sends body as it is, JSON-typed.
func (c *client) raw(method, path string, body []byte) reply {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Body: b}
}

// goNames are what a message about JSON must never show: Go's own words.
var goNames = []string{"api.", "cases.", "pathway.", "StartRequest", "Referral", "escalateBody", "Go struct", "Go value", "unmarshal", "time.Time", "2006-01-02T15"}

// Every bad request answers 400 (or 413) naming the parameter or field, in
// the API's words, and writes nothing.
func TestAPIBadInput(t *testing.T) {
	e := newEnv(t, false)
	coach := e.signIn(t, "coach.angered")
	lead := e.signIn(t, "team.angered")
	start := string(mustJSON(referral(personalNumber(), "Angered")))
	cases := []struct {
		name    string
		c       *client
		method  string
		path    string
		body    string
		status  int
		field   string
		message []string // the message contains each
	}{
		{name: "negative task offset", c: coach, method: "GET", path: "/api/v1/tasks?offset=-1", status: 400, field: "offset", message: []string{"0 to"}},
		{name: "task limit not a number", c: coach, method: "GET", path: "/api/v1/tasks?limit=ten", status: 400, field: "limit"},
		{name: "unknown phase", c: coach, method: "GET", path: "/api/v1/pathways?phase=finished", status: 400, field: "phase", message: []string{"referral", "follow_up", "closed"}},
		{name: "unknown track", c: coach, method: "GET", path: "/api/v1/pathways?track=senior", status: 400, field: "track", message: []string{"youth", "adult"}},
		{name: "not a cursor", c: coach, method: "GET", path: "/api/v1/pathways?after=page-2", status: 400, field: "after", message: []string{"cursor"}},
		{name: "not a task cursor", c: coach, method: "GET", path: "/api/v1/tasks?after=page-2", status: 400, field: "after", message: []string{"cursor"}},
		{name: "audit limit", c: lead, method: "GET", path: "/api/v1/audit?staff=coach.angered&limit=-5", status: 400, field: "limit"},
		{name: "20 MB body", c: coach, method: "POST", path: "/api/v1/pathways", body: `{"given_name":"` + strings.Repeat("a", 20<<20) + `"}`, status: 413, message: []string{"1 MiB"}},
		{name: "wrong type", c: coach, method: "POST", path: "/api/v1/pathways", body: `{"given_name": 5}`, status: 400, field: "given_name", message: []string{"given_name must be a string, not a number"}},
		{name: "wrong type in a list", c: coach, method: "POST", path: "/api/v1/pathways", body: `{"consent_scope": "programme"}`, status: 400, field: "consent_scope", message: []string{"array of strings"}},
		{name: "bad date-time", c: coach, method: "POST", path: "/api/v1/pathways", body: `{"referred_at": "yesterday"}`, status: 400, field: "referred_at", message: []string{"date-time"}},
		{name: "not an object", c: coach, method: "POST", path: "/api/v1/pathways", body: `["x"]`, status: 400, message: []string{"JSON object"}},
		{name: "not JSON", c: coach, method: "POST", path: "/api/v1/pathways", body: `{"given_name": 'x'}`, status: 400, message: []string{"not valid JSON", "byte"}},
		{name: "cut short", c: coach, method: "POST", path: "/api/v1/pathways", body: `{"given_name": "x"`, status: 400, message: []string{"not valid JSON"}},
		{name: "empty", c: coach, method: "POST", path: "/api/v1/pathways", body: ``, status: 400, message: []string{"empty"}},
		{name: "unknown field", c: coach, method: "POST", path: "/api/v1/pathways", body: `{"givenname": "x"}`, status: 400, field: "givenname", message: []string{"given_name", "personal_number"}},
		{name: "trailing garbage", c: coach, method: "POST", path: "/api/v1/pathways", body: start + `garbage`, status: 400, message: []string{"more after"}},
		{name: "two objects", c: coach, method: "POST", path: "/api/v1/pathways", body: start + start, status: 400, message: []string{"exactly one object"}},
		{name: "NUL in a name", c: coach, method: "POST", path: "/api/v1/pathways", body: strings.Replace(start, `"Test"`, `"Te\u0000st"`, 1), status: 400, field: "given_name", message: []string{"NUL"}},
		{name: "escalation with a wrong type", c: lead, method: "POST", path: "/api/v1/escalations", body: `{"limit": "all", "reason": "x"}`, status: 400, field: "limit", message: []string{"whole number"}},
		{name: "recruitment need with a wrong type", c: e.signIn(t, "broker.angered"), method: "POST", path: "/api/v1/recruitment-needs", body: `{"positions": 1.5}`, status: 400, field: "positions", message: []string{"whole number"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.c.t = t
			r := c.c.raw(c.method, c.path, []byte(c.body))
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %.300s", r.Status, c.status, r.Body)
			}
			p := r.problem(t)
			if p.Field != c.field {
				t.Errorf("field %q, want %q (%s)", p.Field, c.field, p.Message)
			}
			for _, m := range c.message {
				if !strings.Contains(p.Message, m) {
					t.Errorf("message %q lacks %q", p.Message, m)
				}
			}
			for _, g := range goNames {
				if strings.Contains(p.Message, g) {
					t.Errorf("message %q shows Go's %q", p.Message, g)
				}
			}
		})
	}
	var n int
	if err := e.pool.QueryRow(t.Context(), `SELECT count(*) FROM pathways`).Scan(&n); err != nil || n != 0 {
		t.Errorf("bad requests wrote %d pathways (%v)", n, err)
	}
	// The same body without the garbage is fine: the refusals above are the input's.
	coach.t = t
	coach.must(coach.raw("POST", "/api/v1/pathways", []byte(start)), http.StatusCreated)
}
