package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/store"
)

// openTaskAndEscalation leaves an open escalation task on a case, as a sweep would.
func openTaskAndEscalation(t *testing.T, e *env, caseID, centre string) {
	t.Helper()
	ctx := context.Background()
	key := caseID + ":escalation:test:2"
	if _, err := e.pool.Exec(ctx, `INSERT INTO tasks (task_key, case_id, kind, title, role) VALUES ($1,$2,'escalation','Stalled (test)','team_lead')`, key, caseID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `INSERT INTO escalations (case_id, centre_id, rule, level, role, at, sweep_id, task_key)
		VALUES ($1,$2,'no_progress',2,'team_lead',now(),'test',$3)`, caseID, centre, key); err != nil {
		t.Fatal(err)
	}
}

func TestProtectedHiddenInEveryList(t *testing.T) {
	e := newEscalationEnv(t)
	coach := e.signIn(t, "coach.angered")
	prot := referral(personalNumber(), "Angered")
	prot["protected_identity"] = true
	var hidden, open cases.Started
	coach.must(coach.post("/api/v1/pathways", prot), http.StatusCreated).decode(t, &hidden)
	coach.must(coach.post("/api/v1/pathways", referral(personalNumber(), "Angered")), http.StatusCreated).decode(t, &open)
	openTaskAndEscalation(t, e, hidden.CaseID, "gbg-angered")
	openTaskAndEscalation(t, e, open.CaseID, "gbg-angered")
	coach.must(coach.get("/api/v1/pathways/"+hidden.CaseID+"/participant"), http.StatusOK) // an audited read of the protected case

	for _, who := range []string{"team.angered", "manager", "admin"} {
		c := e.signIn(t, who)
		for _, path := range []string{"/api/v1/tasks?scope=all", "/api/v1/tasks?scope=all&centre=gbg-angered", "/tasks?scope=all",
			"/api/v1/escalations", "/escalations", "/api/v1/audit?staff=coach.angered", "/api/v1/pathways"} {
			r := c.must(c.get(path), http.StatusOK)
			if contains(r.Body, hidden.CaseID) {
				t.Errorf("%s sees the protected case in %s", who, path)
			}
		}
		// The open case of the same centre is still listed: the lists are not merely empty.
		if r := c.get("/api/v1/tasks?scope=all"); !contains(r.Body, open.CaseID) {
			t.Errorf("%s does not see the open case's task: %s", who, r.Body)
		}
		if r := c.get("/api/v1/escalations"); !contains(r.Body, open.CaseID) {
			t.Errorf("%s does not see the open case's escalation: %s", who, r.Body)
		}
	}
	// Escalating it by ID is refused as not found, and nothing is escalated.
	team := e.signIn(t, "team.angered")
	p := team.must(team.post("/api/v1/escalations", map[string]any{"case_ids": []string{hidden.CaseID}, "reason": "No contact for three weeks"}), http.StatusNotFound).problem(t)
	if p.Code != "not_found" {
		t.Fatalf("escalating a hidden case: %+v", p)
	}
	admin := e.signIn(t, "admin")
	admin.must(admin.post("/api/v1/escalations", map[string]any{"case_ids": []string{hidden.CaseID}, "reason": "No contact for three weeks"}), http.StatusNotFound)
	// Escalating by filter passes over it; the open case of the same filter is escalated.
	if r := team.post("/api/v1/escalations", map[string]any{"centre_ids": []string{"gbg-angered"}, "phase": "referral", "reason": "Weekly review"}); r.Status != http.StatusOK && r.Status != http.StatusAccepted {
		t.Fatalf("escalating by filter: %d %s", r.Status, r.Body)
	}
	waitFor(t, "the open case escalated by filter", func() bool {
		var k int
		_ = e.pool.QueryRow(context.Background(), `SELECT count(*) FROM escalations WHERE case_id = $1 AND sweep_id <> 'test'`, open.CaseID).Scan(&k)
		return k > 0
	})
	var n int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM escalations WHERE case_id = $1 AND sweep_id <> 'test'`, hidden.CaseID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("escalations recorded for the hidden case: %d %v", n, err)
	}
	// Its assignee still sees all of it.
	for _, path := range []string{"/api/v1/tasks?scope=all", "/api/v1/escalations", "/api/v1/pathways"} {
		if r := coach.must(coach.get(path), http.StatusOK); !contains(r.Body, hidden.CaseID) {
			t.Errorf("the assignee does not see the protected case in %s", path)
		}
	}
}

func TestAuditScopedByCentre(t *testing.T) {
	e := newEnv(t, false)
	coach := e.signIn(t, "coach.angered")
	var started cases.Started
	coach.must(coach.post("/api/v1/pathways", referral(personalNumber(), "Angered")), http.StatusCreated).decode(t, &started)
	coach.must(coach.get("/api/v1/pathways/"+started.CaseID+"/participant"), http.StatusOK)

	other := e.signIn(t, "team.hisingen")
	other.must(other.get("/api/v1/audit?staff=coach.angered"), http.StatusForbidden)
	other.must(other.get("/api/v1/audit?case="+started.CaseID), http.StatusForbidden)
	for _, who := range []string{"team.angered", "manager"} {
		c := e.signIn(t, who)
		var got struct{ Items []store.AuditEntry }
		c.must(c.get("/api/v1/audit?staff=coach.angered"), http.StatusOK).decode(t, &got)
		reads := 0
		for _, a := range got.Items {
			if a.Action == store.AuditReadPersonalData && a.CaseID == started.CaseID {
				reads++
			}
		}
		if reads != 1 {
			t.Errorf("%s sees %d reads of the case: %+v", who, reads, got.Items)
		}
	}
}

func TestDuplicateReferralElsewhere(t *testing.T) {
	e := newEnv(t, true)
	pnr := personalNumber()
	angered := e.signIn(t, "coach.angered")
	var started cases.Started
	angered.must(angered.post("/api/v1/pathways", referral(pnr, "Angered")), http.StatusCreated).decode(t, &started)

	// Another centre's coach learns nothing: a neutral 202, no case ID, no centre, no "duplicate".
	hisingen := e.signIn(t, "coach.hisingen")
	r := hisingen.must(hisingen.post("/api/v1/pathways", referral(pnr, "Hisingen")), http.StatusAccepted)
	var got api.ReferralReceived
	r.decode(t, &got)
	if got.Status != "referral_received" {
		t.Fatalf("answer %s", r.Body)
	}
	for _, leak := range []string{started.CaseID, "gbg-angered", "Angered", "duplicate", "active"} {
		if contains(r.Body, leak) {
			t.Errorf("the answer reveals %q: %s", leak, r.Body)
		}
	}
	// No second pathway; the owning centre's team lead has a task on the case.
	num, _ := identity.Parse(pnr, time.Now())
	var n int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM pathways pw JOIN participants pa ON pa.id = pw.participant_id
		WHERE pa.personal_number_idx = $1`, store.PersonalNumberIndex(e.api.Keys, num.Canonical)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("pathways for the person: %d %v", n, err)
	}
	team := e.signIn(t, "team.angered")
	waitFor(t, "the team lead's task", func() bool {
		var page store.Page[store.TaskRow]
		team.must(team.get("/api/v1/tasks?scope=role"), http.StatusOK).decode(t, &page)
		for _, tk := range page.Items {
			if tk.CaseID == started.CaseID && tk.Role == store.RoleTeamLead && strings.Contains(tk.Title, "referral") {
				return true
			}
		}
		return false
	})
	if tasks := hisingen.get("/api/v1/tasks?scope=all"); contains(tasks.Body, started.CaseID) {
		t.Error("the referring centre sees the other centre's task")
	}
	// Whoever may see the case still hears that it is a duplicate.
	angered.must(angered.post("/api/v1/pathways", referral(pnr, "Angered")), http.StatusConflict)
}

func TestRecruitmentNeedCentre(t *testing.T) {
	e := newEnv(t, false)
	need := map[string]any{"employer_id": "emp-vasttrafik", "ssyk": "8331", "title": "Bus drivers", "positions": 3, "start_date": "2030-01-01"}
	angered := e.signIn(t, "broker.angered")
	var got integrations.RecruitmentNeed
	angered.must(angered.post("/api/v1/recruitment-needs", need), http.StatusCreated).decode(t, &got)
	if got.CentreID != "gbg-angered" || got.Status != integrations.NeedOpen || got.Positions != 3 {
		t.Fatalf("a broker's need: %+v", got)
	}
	hisingen := e.signIn(t, "broker.hisingen")
	need["centre_id"] = "gbg-angered"
	hisingen.must(hisingen.post("/api/v1/recruitment-needs", need), http.StatusForbidden)
	// Another centre's broker may not withdraw it; its own may, and an
	// administrator may open it again.
	path := "/api/v1/recruitment-needs/" + got.ID + "/status"
	hisingen.must(hisingen.post(path, map[string]any{"status": "withdrawn"}), http.StatusForbidden)
	angered.must(angered.post(path, map[string]any{"status": "withdrawn", "reason": "budget"}), http.StatusOK).decode(t, &got)
	if got.Status != integrations.NeedWithdrawn {
		t.Fatalf("withdrawn need: %+v", got)
	}
	admin := e.signIn(t, "admin")
	admin.must(admin.post(path, map[string]any{"status": "open"}), http.StatusOK)
	admin.must(admin.get("/api/v1/recruitment-needs/"+got.ID), http.StatusOK).decode(t, &got)
	if got.Status != integrations.NeedOpen {
		t.Fatalf("reopened need: %+v", got)
	}
	admin.must(admin.get("/api/v1/recruitment-needs/no-such-need"), http.StatusNotFound)
}

func TestProtectedAssigneeValidated(t *testing.T) {
	e := newEnv(t, false)
	coach := e.signIn(t, "coach.angered")
	admin := e.signIn(t, "admin")
	prot := func(assignee string) map[string]any {
		r := referral(personalNumber(), "Angered")
		r["protected_identity"] = true
		if assignee != "" {
			r["assignee"] = assignee
		}
		return r
	}
	for _, c := range []struct {
		who      *client
		assignee string
	}{{coach, "nobody.at.all"}, {coach, "coach.hisingen"}, {admin, "team.centrum"}, {admin, ""}} {
		p := c.who.must(c.who.post("/api/v1/pathways", prot(c.assignee)), http.StatusUnprocessableEntity).problem(t)
		if p.Field != "assignee" {
			t.Errorf("assignee %q: %+v", c.assignee, p)
		}
	}
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `UPDATE staff SET active = false WHERE id = 'officer.angered'`); err != nil {
		t.Fatal(err)
	}
	coach.must(coach.post("/api/v1/pathways", prot("officer.angered")), http.StatusUnprocessableEntity)
	page, err := store.ListPathways(ctx, e.pool, store.PathwayFilter{})
	if err != nil || page.Total != 0 {
		t.Fatalf("refused starts wrote %d pathways (%v)", page.Total, err)
	}
	// A valid assignee of the centre: started, and visible to them.
	var started cases.Started
	admin.must(admin.post("/api/v1/pathways", prot("counsellor.angered")), http.StatusCreated).decode(t, &started)
	counsellor := e.signIn(t, "counsellor.angered")
	counsellor.must(counsellor.get("/api/v1/pathways/"+started.CaseID), http.StatusOK)
}

func TestLoginNextIsLocal(t *testing.T) {
	e := newEnv(t, false)
	for next, want := range map[string]string{
		"/./\\evil.example":       "/",
		"/\t/evil.example":        "/",
		"/\\evil.example":         "/",
		"//evil.example":          "/",
		"/\n/evil.example":        "/",
		"https://evil.example/":   "/",
		"/%5C%5Cevil.example":     "/",
		"/%2F%2Fevil.example":     "/",
		"javascript:alert(1)":     "/",
		"":                        "/",
		"/caseload?phase=mapping": "/caseload?phase=mapping",
		"/pathways/2026-ABC":      "/pathways/2026-ABC",
	} {
		if got := api.LocalNext(next); got != want {
			t.Errorf("LocalNext(%q) = %q, want %q", next, got, want)
		}
		c := e.anon(t)
		resp, err := c.http.PostForm(e.srv.URL+"/login", url.Values{"username": {"coach.angered"}, "password": {store.DevPassword}, "next": {next}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(e.srv.URL)
		target, err := loc.Parse(strings.ReplaceAll(resp.Header.Get("Location"), "\\", "/"))
		if resp.StatusCode != http.StatusSeeOther || err != nil || target.Host != loc.Host {
			t.Errorf("next=%q: %d, Location %q", next, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestSignInThrottled(t *testing.T) {
	e := newEnv(t, false)
	c := e.anon(t)
	login := func(user, pw string) *http.Response {
		resp, err := c.http.PostForm(e.srv.URL+"/login", url.Values{"username": {user}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	statuses := []int{}
	for range 20 {
		statuses = append(statuses, login("coach.hisingen", "wrong").StatusCode)
	}
	for i, st := range statuses {
		want := http.StatusUnauthorized
		if i >= auth.DefaultThrottle.AccountLimit {
			want = http.StatusTooManyRequests
		}
		if st != want {
			t.Fatalf("attempt %d: %d, want %d (all: %v)", i+1, st, want, statuses)
		}
	}
	resp := login("coach.hisingen", store.DevPassword)
	secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || secs < 60 || secs > int(auth.DefaultThrottle.Window.Seconds()) {
		t.Fatalf("the right password after 20 wrong: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Other accounts from the same address: locked once the address has failed too often.
	if resp := login("broker.hisingen", store.DevPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("another account before the address limit: %d", resp.StatusCode)
	}
	for i := range auth.DefaultThrottle.AddressLimit {
		login("nobody"+strconv.Itoa(i%4), "wrong")
	}
	if resp := login("team.hisingen", store.DevPassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a good sign-in from a locked address: %d", resp.StatusCode)
	}
	// Failed sign-ins are audited with the account name typed.
	rows, err := store.ListAudit(context.Background(), e.pool, store.AuditFilter{StaffID: "-", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	accounts := map[string]int{}
	for _, a := range rows {
		if a.Action == store.AuditSignInFailed {
			acc, _ := a.Detail["account"].(string)
			accounts[acc]++
		}
	}
	if accounts["coach.hisingen"] != 21 || accounts["nobody0"] == 0 {
		t.Fatalf("audited failures by account: %v", accounts)
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) csrf() string {
	c.t.Helper()
	m := csrfField.FindSubmatch(c.must(c.get("/caseload"), http.StatusOK).Body)
	if m == nil {
		c.t.Fatal("no CSRF token on the caseload page")
	}
	return string(m[1])
}

// cookie returns a client that carries only a copy of c's session cookie.
func (e *env) copyOf(t *testing.T, c *client) *client {
	u, _ := url.Parse(e.srv.URL)
	cp := e.anon(t)
	cp.http.Jar.SetCookies(u, c.http.Jar.Cookies(u))
	return cp
}

func TestSessionsServerSide(t *testing.T) {
	e := newEnv(t, false)
	coach := e.signIn(t, "coach.angered")
	stolen := e.copyOf(t, coach)
	stolen.must(stolen.get("/api/v1/me"), http.StatusOK)
	resp, err := coach.http.PostForm(e.srv.URL+"/logout", url.Values{"csrf": {coach.csrf()}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	stolen.must(stolen.get("/api/v1/me"), http.StatusUnauthorized)

	// An administrator signs someone out everywhere; nobody else may.
	a, b := e.signIn(t, "coach.angered"), e.signIn(t, "coach.angered")
	other := e.signIn(t, "team.angered")
	a.must(a.post("/api/v1/staff/coach.angered/sign-out-everywhere", map[string]any{}), http.StatusForbidden)
	other.must(other.post("/api/v1/staff/coach.angered/sign-out-everywhere", map[string]any{}), http.StatusForbidden)
	admin := e.signIn(t, "admin")
	var res struct {
		Ended int `json:"sessions_ended"`
	}
	admin.must(admin.post("/api/v1/staff/coach.angered/sign-out-everywhere", map[string]any{}), http.StatusOK).decode(t, &res)
	if res.Ended != 2 {
		t.Fatalf("ended %d sessions", res.Ended)
	}
	a.must(a.get("/api/v1/me"), http.StatusUnauthorized)
	b.must(b.get("/api/v1/me"), http.StatusUnauthorized)
	other.must(other.get("/api/v1/me"), http.StatusOK)
	admin.must(admin.post("/api/v1/staff/nobody/sign-out-everywhere", map[string]any{}), http.StatusNotFound)

	// An idle session ends; a busy one does not.
	e.api.Auth.IdleTimeout = 1500 * time.Millisecond
	idle, busy := e.signIn(t, "coach.angered"), e.signIn(t, "coach.angered")
	for range 4 {
		time.Sleep(500 * time.Millisecond)
		busy.must(busy.get("/api/v1/me"), http.StatusOK)
	}
	idle.must(idle.get("/api/v1/me"), http.StatusUnauthorized)
	if r := idle.get("/caseload"); r.Status != http.StatusSeeOther {
		t.Fatalf("an idle session's page: %d", r.Status)
	}
}

// Two API instances with the same secret share sessions through the table:
// a sign-out on one ends the session on the other.
func TestSessionsSharedByInstances(t *testing.T) {
	e := newEnv(t, false)
	cfg := *e.api.Config
	cfg.Auth.SessionSecret = strings.Repeat("k", 32)
	var urls []string
	for range 2 {
		s := &api.Server{Config: &cfg, Pool: e.pool, Temporal: e.api.Temporal, Log: zap.NewNop(), Cases: e.api.Cases}
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	one := &env{srv: &httptest.Server{URL: urls[0]}, pool: e.pool}
	c := one.signIn(t, "coach.angered")
	// The same cookie against the second instance.
	u0, _ := url.Parse(urls[0])
	u1, _ := url.Parse(urls[1])
	two := one.anon(t)
	two.base = urls[1]
	two.http.Jar.SetCookies(u1, c.http.Jar.Cookies(u0))
	two.must(two.get("/api/v1/me"), http.StatusOK)
	resp, err := c.http.PostForm(urls[0]+"/logout", url.Values{"csrf": {c.csrf()}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	two.must(two.get("/api/v1/me"), http.StatusUnauthorized)
	var live int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM staff_sessions WHERE ended_at IS NULL AND staff_id = 'coach.angered'`).Scan(&live); err != nil || live != 0 {
		t.Fatalf("live sessions after sign-out: %d %v", live, err)
	}
}

func TestNoStore(t *testing.T) {
	e := newEnv(t, false)
	coach := e.signIn(t, "coach.angered")
	var started cases.Started
	coach.must(coach.post("/api/v1/pathways", referral(personalNumber(), "Angered")), http.StatusCreated).decode(t, &started)
	for _, path := range []string{"/api/v1/me", "/api/v1/pathways", "/api/v1/pathways/" + started.CaseID + "/participant", "/api/v1/nothing-here", "/caseload", "/tasks"} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		resp, err := coach.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s (%d): Cache-Control %q", path, resp.StatusCode, cc)
		}
	}
}
