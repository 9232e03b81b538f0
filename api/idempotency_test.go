package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	sdkworker "go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/devenv"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/worker"
)

// stoppable is a system whose worker the test stops and starts again.
type stoppable struct {
	ts *testsystem.System
	w  sdkworker.Worker
}

func newStoppable(t *testing.T) *stoppable {
	st := &stoppable{ts: testsystem.New(t, testsystem.Options{NoWorker: true})}
	st.start(t)
	t.Cleanup(st.stop)
	return st
}

func (st *stoppable) start(t *testing.T) {
	t.Helper()
	w := sdkworker.New(st.ts.Temporal, st.ts.TaskQueue, sdkworker.Options{})
	worker.RegisterPathway(w, st.ts.Steps, st.ts.Pool, st.ts.Keys, st.ts.Deps)
	worker.RegisterSteps(w, st.ts.Steps, st.ts.Deps)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	st.w = w
}

func (st *stoppable) stop() {
	if st.w != nil {
		st.w.Stop()
		st.w = nil
	}
}

// postKey posts JSON with an Idempotency-Key.
func (c *client) postKey(path string, body any, key string) (reply, http.Header) {
	c.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(api.IdempotencyHeader, key)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Body: rb}, resp.Header
}

// toPlanning starts a pathway and records first contact and mapping.
func toPlanning(t *testing.T, c *client) string {
	t.Helper()
	var started cases.Started
	c.must(c.post("/api/v1/pathways", referral(personalNumber(), "Angered")), http.StatusCreated).decode(t, &started)
	base := "/api/v1/pathways/" + started.CaseID
	var view api.PathwayView
	waitFor(t, "live status", func() bool {
		c.must(c.get(base), http.StatusOK).decode(t, &view)
		return view.Live != nil
	})
	c.must(c.post(base+"/first-contact", map[string]any{"channel": "phone"}), http.StatusOK)
	c.must(c.post(base+"/mapping", map[string]any{"abilities": []string{"driving"}, "education_level": "3",
		"language": "sv:B1", "goals": "Work as a bus driver", "obstacles": []string{"licence"}}), http.StatusOK)
	return started.CaseID
}

// The same plan approval sent again with the same key, once after the worker
// was stopped so the first wait timed out, yields one plan revision and one
// enrolment, and the status link tells what became of it.
func TestUpdateRetryIsDeduplicated(t *testing.T) {
	st := newStoppable(t)
	s := &api.Server{Config: st.ts.Config, Pool: st.ts.Pool, Temporal: st.ts.Temporal, Log: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)), UpdateTimeout: 3 * time.Second,
		Cases: st.ts.Cases(0), Outside: api.OutsideClients{Employers: st.ts.Clients.Employers, Employment: st.ts.Clients.Employment}}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e := &env{srv: srv, pool: st.ts.Pool, api: s, sim: st.ts.Sim}
	coach := e.signIn(t, "coach.angered")
	caseID := toPlanning(t, coach)
	base := "/api/v1/pathways/" + caseID
	plan := map[string]any{"target_ssyk": "8331", "recruitment_need_id": "need-bus-angered"}
	const key = "3f0c2a7e-approve-plan-1"

	// The worker is gone (its pollers are still remembered): the wait runs out.
	st.stop()
	first, hdr := coach.postKey(base+"/plan", plan, key)
	if first.Status != http.StatusAccepted {
		t.Fatalf("first approval with the worker stopped: %d %s", first.Status, first.Body)
	}
	var pending api.ActionResult
	first.decode(t, &pending)
	if pending.State != "pending" || hdr.Get("Location") != base+"/actions/"+pending.ActionID || contains(first.Body, "not recorded") {
		t.Fatalf("202 body %s, Location %q", first.Body, hdr.Get("Location"))
	}
	coach.must(coach.get(hdr.Get("Location")), http.StatusAccepted)

	// The worker comes back; the client retries with the same key until it
	// gets an answer (the workflow's task waits out the old worker's sticky
	// queue first), then once more.
	st.start(t)
	deadline := time.Now().Add(60 * time.Second)
	for {
		again, _ := coach.postKey(base+"/plan", plan, key)
		if again.Status == http.StatusOK {
			break
		}
		if again.Status != http.StatusAccepted || time.Now().After(deadline) {
			t.Fatalf("retry: %d %s", again.Status, again.Body)
		}
	}
	coach.must(func() reply { r, _ := coach.postKey(base+"/plan", plan, key); return r }(), http.StatusOK)
	var done api.ActionResult
	coach.must(coach.get(hdr.Get("Location")), http.StatusOK).decode(t, &done)
	if done.State != "completed" || done.Status == nil || done.Status.Phase != "steps" {
		t.Fatalf("status after the retries: %+v", done)
	}
	// A different key is a different action: an unknown one is 404.
	coach.must(coach.get(base+"/actions/plan:never-sent"), http.StatusNotFound)

	enrolments := func() int {
		n := 0
		for _, en := range e.sim.Enrolments() {
			if en.CaseID == caseID {
				n++
			}
		}
		return n
	}
	waitFor(t, "the course enrolment", func() bool { return enrolments() > 0 })
	time.Sleep(2 * time.Second) // a second approval would enrol again by now
	if n := enrolments(); n != 1 {
		t.Errorf("%d enrolments, want 1", n)
	}
	tl, err := store.Timeline(context.Background(), e.pool, testenv.Keyring(t), caseID)
	if err != nil {
		t.Fatal(err)
	}
	plans := 0
	for _, ev := range tl {
		if ev.Kind == "plan" {
			plans++
		}
	}
	if plans != 1 {
		t.Errorf("%d plan revisions on the timeline, want 1", plans)
	}
	// The audit log tells the truth: pending while unanswered, then ok, never refused.
	audit, err := store.ListAudit(context.Background(), e.pool, store.AuditFilter{CaseID: caseID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	results := ""
	for i := len(audit) - 1; i >= 0; i-- {
		if a := audit[i]; a.Action == store.AuditAction && a.Detail["action"] == "plan" {
			results += fmt.Sprint(a.Detail["result"]) + " "
		}
	}
	if !regexp.MustCompile(`^pending (pending )*ok ok $`).MatchString(results) {
		t.Errorf("plan audit results %q, want pending…, then ok twice", results)
	}

	// Once the workflow has ended it knows no Update IDs: a retried close
	// still answers with the first one's result, not "the workflow is not running".
	closeKey := func() reply {
		r, _ := coach.postKey(base+"/close", map[string]any{"reason": "moved"}, "close-1")
		return r
	}
	coach.must(closeKey(), http.StatusOK)
	waitFor(t, "the workflow to end", func() bool {
		d, err := e.api.Temporal.DescribeWorkflowExecution(context.Background(), "pathway-"+caseID, "")
		return err == nil && d.WorkflowExecutionInfo.CloseTime != nil
	})
	coach.must(closeKey(), http.StatusOK)
	other, _ := coach.postKey(base+"/close", map[string]any{"reason": "moved"}, "close-2")
	if other.Status != http.StatusConflict {
		t.Errorf("a new close after the end: %d %s, want 409", other.Status, other.Body)
	}
}

// Shutting the API down while a staff action waits for its Update answers
// it (202), writes its audit row, and returns only after the handler is done,
// so the pool and the client can close after Run.
func TestShutdownKeepsAuditRows(t *testing.T) {
	st := newStoppable(t)
	port, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cfg := *st.ts.Config
	cfg.HTTP.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.HTTP.ShutdownTimeout = time.Second // shorter than the Update wait
	s := &api.Server{Config: &cfg, Pool: st.ts.Pool, Temporal: st.ts.Temporal, Log: zap.NewNop(), UpdateTimeout: 15 * time.Second,
		Cases: st.ts.Cases(0)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	base := "http://" + cfg.HTTP.Addr
	waitFor(t, "the API", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	c := (&env{srv: &httptest.Server{URL: base}}).anon(t)
	resp, err := c.http.PostForm(base+"/login", url.Values{"username": {"coach.angered"}, "password": {store.DevPassword}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %v %v", resp, err)
	}
	resp.Body.Close()
	var started cases.Started
	c.must(c.post("/api/v1/pathways", referral(personalNumber(), "Angered")), http.StatusCreated).decode(t, &started)
	waitFor(t, "the workflow", func() bool {
		var view api.PathwayView
		c.must(c.get("/api/v1/pathways/"+started.CaseID), http.StatusOK).decode(t, &view)
		return view.Live != nil
	})

	st.stop() // the action will wait
	answered := make(chan reply, 1)
	go func() {
		r, _ := c.postKey("/api/v1/pathways/"+started.CaseID+"/first-contact", map[string]any{"channel": "phone"}, "shutdown-1")
		answered <- r
	}()
	time.Sleep(1500 * time.Millisecond) // mid-wait
	t0 := time.Now()
	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	took := time.Since(t0)
	// Run has returned: the handler must have written its row already.
	audit, err := store.ListAudit(context.Background(), st.ts.Pool, store.AuditFilter{CaseID: started.CaseID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range audit {
		if a.Action == store.AuditAction && a.Detail["action"] == "first-contact" {
			found = a.Detail["result"] == "pending"
		}
	}
	if !found {
		t.Errorf("no audit row with result pending for the action cut short by the shutdown: %+v", audit)
	}
	if r := <-answered; r.Status != http.StatusAccepted {
		t.Errorf("the waiting action answered %d %s, want 202", r.Status, r.Body)
	}
	if took > 5*time.Second {
		t.Errorf("shutdown took %s", took)
	}
	t.Logf("shutdown with an action waiting took %s", took.Round(time.Millisecond))
}
