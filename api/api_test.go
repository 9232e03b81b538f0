package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

func TestUnauthenticated(t *testing.T) {
	e := newEnv(t, false)
	c := e.anon(t)
	r := c.must(c.get("/api/v1/pathways"), http.StatusUnauthorized)
	if p := r.problem(t); p.Code != "unauthenticated" {
		t.Fatalf("problem %+v", p)
	}
	r = c.get("/caseload")
	if r.Status != http.StatusSeeOther {
		t.Fatalf("page without sign-in: %d", r.Status)
	}
	// A wrong password does not sign in, and is audited.
	resp, _ := c.http.PostForm(e.srv.URL+"/login", map[string][]string{"username": {"coach.hisingen"}, "password": {"nope"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad password: %d", resp.StatusCode)
	}
	c.must(c.get("/api/v1/pathways"), http.StatusUnauthorized)
	// A forged cookie is no session.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/me", nil)
	req.AddCookie(&http.Cookie{Name: "pathways_session", Value: "forged"})
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged cookie: %d", resp.StatusCode)
	}
	// The health endpoints and the OpenAPI document stay public.
	c.must(c.get("/healthz"), http.StatusOK)
	doc := c.must(c.get("/api/openapi.json"), http.StatusOK)
	for _, p := range []string{"/api/v1/pathways/{case}/mapping", "/api/v1/pathways/{case}/steps/{step}/{action}", "/api/v1/recruitment-needs", "\"openapi\":\"3.0.3\""} {
		if !contains(doc.Body, p) {
			t.Errorf("openapi lacks %s", p)
		}
	}
	for name := range api.Actions {
		if !contains(doc.Body, "/api/v1/pathways/{case}/"+name+"\"") {
			t.Errorf("openapi lacks action %s", name)
		}
	}
}

func TestStartActionsAndAudit(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	coach := e.signIn(t, "coach.angered")
	pnr := personalNumber()

	// Field errors: all of them, 422, nothing written.
	bad := referral("19851332-1234", "Angered")
	bad["consent"] = false
	bad["given_name"] = ""
	p := coach.must(coach.post("/api/v1/pathways", bad), http.StatusUnprocessableEntity).problem(t)
	fields := map[string]bool{}
	for _, f := range p.Fields {
		fields[f.Field] = true
	}
	for _, f := range []string{"personal_number", "consent", "given_name"} {
		if !fields[f] {
			t.Errorf("no field error for %s: %+v", f, p)
		}
	}
	if contains(mustJSON(p), "19851332") {
		t.Error("the error echoes the personal number")
	}

	var started cases.Started
	coach.must(coach.post("/api/v1/pathways", referral(pnr, "Angered")), http.StatusCreated).decode(t, &started)
	if started.CentreID != "gbg-angered" {
		t.Fatalf("routed to %s", started.CentreID)
	}
	dup := coach.must(coach.post("/api/v1/pathways", referral(pnr, "Angered")), http.StatusConflict).problem(t)
	if dup.Code != "duplicate_active_pathway" || dup.Field != "personal_number" {
		t.Fatalf("duplicate: %+v", dup)
	}

	var page store.Page[store.PathwayRow]
	coach.must(coach.get("/api/v1/pathways?phase=referral&sort=-started_at&limit=10"), http.StatusOK).decode(t, &page)
	if page.Total != 1 || page.Items[0].CaseID != started.CaseID {
		t.Fatalf("caseload: %+v", page)
	}
	coach.must(coach.get("/api/v1/pathways?sort=nonsense"), http.StatusBadRequest)
	coach.must(coach.get("/api/v1/pathways?limit=abc"), http.StatusBadRequest)

	base := "/api/v1/pathways/" + started.CaseID
	var view api.PathwayView
	waitFor(t, "live status", func() bool {
		coach.must(coach.get(base), http.StatusOK).decode(t, &view)
		return view.Live != nil
	})
	if view.Live.Phase != pathway.PhaseReferral || view.TemporalUI == "" {
		t.Fatalf("view %+v", view)
	}

	// A refusal by the workflow's validator is 422 with its message.
	r := coach.must(coach.post(base+"/mapping", map[string]any{"abilities": []string{"driving"}}), http.StatusUnprocessableEntity).problem(t)
	if r.Code != "refused" || !contains([]byte(r.Message), "phase") {
		t.Fatalf("refusal: %+v", r)
	}
	coach.must(coach.post(base+"/first-contact", map[string]any{"channel": "carrier pigeon"}), http.StatusUnprocessableEntity)
	coach.must(coach.post(base+"/no-such-action", map[string]any{}), http.StatusNotFound)
	coach.must(coach.post(base+"/first-contact", map[string]any{"channel": "nope", "extra": 1}), http.StatusBadRequest)

	var res api.ActionResult
	coach.must(coach.post(base+"/first-contact", map[string]any{"channel": "phone"}), http.StatusOK).decode(t, &res)
	if res.Status.Phase != pathway.PhaseMapping {
		t.Fatalf("after first contact: %+v", res.Status)
	}
	coach.must(coach.post(base+"/mapping", map[string]any{"abilities": []string{"driving", "customer service"}, "education_level": "3",
		"language": "sv:B1", "goals": "Work as a bus driver", "obstacles": []string{"licence"}}), http.StatusOK)
	coach.must(coach.post(base+"/plan", map[string]any{"target_ssyk": "83X1"}), http.StatusUnprocessableEntity)
	coach.must(coach.post(base+"/plan", map[string]any{"target_ssyk": "8331", "recruitment_need_id": "need-bus-angered"}), http.StatusOK).decode(t, &res)
	if res.Status.Phase != pathway.PhaseSteps || len(res.Status.Steps) == 0 {
		t.Fatalf("after plan: %+v", res.Status)
	}
	coach.must(coach.post(base+"/pause", map[string]any{"reason": "sick"}), http.StatusOK)
	coach.must(coach.post(base+"/pause", map[string]any{"reason": "sick"}), http.StatusUnprocessableEntity)
	coach.must(coach.post(base+"/resume", map[string]any{}), http.StatusOK)
	coach.must(coach.post(base+"/transfer", map[string]any{"to_centre": "nowhere"}), http.StatusUnprocessableEntity)
	coach.must(coach.post(base+"/steps/no-such-step/confirm-step", map[string]any{"outcome": "completed"}), http.StatusConflict)

	var tl struct{ Items []store.TimelineEntry }
	waitFor(t, "timeline", func() bool {
		coach.must(coach.get(base+"/timeline"), http.StatusOK).decode(t, &tl)
		return len(tl.Items) >= 4
	})
	coach.must(coach.get("/api/v1/tasks?scope=role"), http.StatusOK)

	// Reading personal data is audited; so is every action.
	var person api.ParticipantView
	coach.must(coach.get(base+"/participant"), http.StatusOK).decode(t, &person)
	if person.GivenName != "Test" || len(person.Consents) != 1 {
		t.Fatalf("participant %+v", person)
	}
	audit, err := store.ListAudit(ctx, e.pool, store.AuditFilter{CaseID: started.CaseID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, a := range audit {
		if a.StaffID != "coach.angered" || a.ParticipantID == nil || a.RequestID == "" {
			t.Errorf("audit row %+v", a)
		}
		if a.Detail["what"] == "timeline" {
			count["timeline"]++
		} else {
			count[a.Action]++
		}
		if contains([]byte(a.CaseID+" "+string(mustJSON(a.Detail))), pnr) {
			t.Error("audit row holds the personal number")
		}
	}
	if count[store.AuditReadPersonalData] != 1 || count["timeline"] < 1 || count[store.AuditStartPathway] != 1 || count[store.AuditAction] < 6 {
		t.Fatalf("audit counts %v", count)
	}
	// Roles decide actions: a broker may not approve plans; a unit manager may not read personal data.
	broker := e.signIn(t, "broker.angered")
	broker.must(broker.post(base+"/plan", map[string]any{"target_ssyk": "8331"}), http.StatusForbidden)
	mgr := e.signIn(t, "manager")
	mgr.must(mgr.get(base), http.StatusOK)
	mgr.must(mgr.get(base+"/participant"), http.StatusForbidden)
	mgr.must(mgr.get("/api/v1/audit?case="+started.CaseID), http.StatusOK)
	coach.must(coach.get("/api/v1/audit?case="+started.CaseID), http.StatusForbidden)
	coach.must(coach.get("/api/v1/employers"), http.StatusOK)
	coach.must(coach.get("/api/v1/recruitment-needs?ssyk=8331"), http.StatusOK)
	coach.must(coach.post("/api/v1/recruitment-needs", map[string]any{"employer_id": "emp-vasttrafik", "ssyk": "8331", "title": "x", "positions": 1, "start_date": "2030-01-01"}), http.StatusForbidden)
	broker.must(broker.post("/api/v1/recruitment-needs", map[string]any{"employer_id": "emp-vasttrafik", "ssyk": "83311", "title": "x", "positions": 0, "start_date": "soon"}), http.StatusUnprocessableEntity)
	broker.must(broker.post("/api/v1/recruitment-needs", map[string]any{"employer_id": "emp-vasttrafik", "ssyk": "8331", "title": "Tram drivers", "positions": 4, "start_date": "2030-01-01"}), http.StatusCreated)
	coach.must(coach.post(base+"/close", map[string]any{"reason": "moved"}), http.StatusOK)
	if again := coach.post(base+"/close", map[string]any{"reason": "moved"}); again.Status != http.StatusConflict && again.Status != http.StatusUnprocessableEntity {
		t.Fatalf("closing twice: %d %s", again.Status, again.Body)
	}
}

func TestCentreAndProtectedIdentity(t *testing.T) {
	e := newEnv(t, true)
	coach := e.signIn(t, "coach.angered")
	var open, hidden cases.Started
	coach.must(coach.post("/api/v1/pathways", referral(personalNumber(), "Angered")), http.StatusCreated).decode(t, &open)
	prot := referral(personalNumber(), "Angered")
	prot["protected_identity"] = true
	coach.must(coach.post("/api/v1/pathways", prot), http.StatusCreated).decode(t, &hidden)

	// Another centre: 403 on the case, on a centre filter, and on starting there.
	other := e.signIn(t, "coach.hisingen")
	other.must(other.get("/api/v1/pathways/"+open.CaseID), http.StatusForbidden)
	other.must(other.get("/api/v1/pathways/"+open.CaseID+"/participant"), http.StatusForbidden)
	other.must(other.post("/api/v1/pathways/"+open.CaseID+"/first-contact", map[string]any{"channel": "phone"}), http.StatusForbidden)
	other.must(other.get("/api/v1/pathways?centre=gbg-angered"), http.StatusForbidden)
	other.must(other.post("/api/v1/pathways", referral(personalNumber(), "Angered")), http.StatusForbidden)
	var page store.Page[store.PathwayRow]
	other.must(other.get("/api/v1/pathways"), http.StatusOK).decode(t, &page)
	if page.Total != 0 {
		t.Fatalf("hisingen sees %d", page.Total)
	}
	// The same centre sees the open case but not the protected one.
	team := e.signIn(t, "team.angered")
	team.must(team.get("/api/v1/pathways/"+open.CaseID), http.StatusOK)
	team.must(team.get("/api/v1/pathways/"+hidden.CaseID), http.StatusNotFound)
	team.must(team.get("/api/v1/pathways/"+hidden.CaseID+"/participant"), http.StatusNotFound)
	team.must(team.get("/api/v1/pathways"), http.StatusOK).decode(t, &page)
	if page.Total != 1 || page.Items[0].CaseID != open.CaseID {
		t.Fatalf("team sees %+v", page)
	}
	// Not even an administrator sees it; the assignee does.
	admin := e.signIn(t, "admin")
	admin.must(admin.get("/api/v1/pathways/"+open.CaseID), http.StatusOK)
	admin.must(admin.get("/api/v1/pathways/"+hidden.CaseID), http.StatusNotFound)
	coach.must(coach.get("/api/v1/pathways/"+hidden.CaseID+"/participant"), http.StatusOK)
	coach.must(coach.get("/api/v1/pathways"), http.StatusOK).decode(t, &page)
	if page.Total != 2 {
		t.Fatalf("assignee sees %d", page.Total)
	}
	denied, _ := store.ListAudit(context.Background(), e.pool, store.AuditFilter{StaffID: "team.angered"})
	if len(denied) == 0 || denied[0].Action != store.AuditDenied {
		t.Fatalf("denials not audited: %+v", denied)
	}
}

func TestWorkerDown(t *testing.T) {
	e := newEnv(t, false)
	coach := e.signIn(t, "coach.angered")
	var started cases.Started
	coach.must(coach.post("/api/v1/pathways", referral(personalNumber(), "Angered")), http.StatusCreated).decode(t, &started)
	t0 := time.Now()
	p := coach.must(coach.post("/api/v1/pathways/"+started.CaseID+"/first-contact", map[string]any{"channel": "phone"}), http.StatusServiceUnavailable).problem(t)
	if p.Code != "worker_unavailable" || time.Since(t0) > 10*time.Second {
		t.Fatalf("%+v after %s", p, time.Since(t0))
	}
	var view api.PathwayView
	coach.must(coach.get("/api/v1/pathways/"+started.CaseID), http.StatusOK).decode(t, &view)
	if view.Live != nil {
		t.Fatal("live status without a worker")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(150 * time.Millisecond)
	}
}
