package simulators

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// running is one simulator process: its state in pool, served over HTTP.
type running struct {
	sim *Sim
	srv *httptest.Server
}

func start(t *testing.T, pool *pgxpool.Pool) *running {
	t.Helper()
	s := New(7, nil)
	if err := s.Persist(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	r := &running{sim: s, srv: httptest.NewServer(s.Handler())}
	t.Cleanup(r.stop)
	return r
}

func (r *running) stop() { r.srv.Close(); r.sim.Close() }

func (r *running) call(t *testing.T, method, path, key string, body any) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.srv.URL+path, rd)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func enrolment(caseID string) map[string]any {
	return map[string]any{"case_id": caseID, "course_code": "SFIC", "person": map[string]string{"personal_number": "19811218-9876"}}
}

// A simulator restarted on the same database still has what it held: the
// enrolment answers its poll under the same ID, a replayed key gets its first
// answer, a new enrolment gets a new ID, and a second enrolment of the same
// case under another key still counts as a duplicate.
func TestSimulatorsKeepStateAcrossRestart(t *testing.T) {
	pool, _ := testenv.Database(t)
	first := start(t, pool)
	st, _, b := first.call(t, "POST", "/education/enrolments", "case-1:s1:enrol", enrolment("case-1"))
	if st != http.StatusCreated {
		t.Fatalf("enrol: %d %s", st, b)
	}
	var e1 simEnrolment
	_ = json.Unmarshal(b, &e1)
	if st, _, b := first.call(t, "POST", "/employers/agreements", "case-1:s2:create", map[string]any{"case_id": "case-1", "employer_id": "emp-001",
		"kind": "internship", "start_date": time.Now().UTC().Format(time.RFC3339)}); st != http.StatusCreated {
		t.Fatalf("agreement: %d %s", st, b)
	}
	if st, _, b := first.call(t, "POST", "/social/notices", "case-1:notice:closure", map[string]any{"case_id": "case-1", "personal_number": "19811218-9876",
		"event": "closure", "at": time.Now().UTC()}); st != http.StatusAccepted {
		t.Fatalf("notice: %d %s", st, b)
	}
	first.sim.SetRegistration("19811218-9876", true, "jobb- och utvecklingsgarantin", []string{"plan", "outcome"})
	if st, _, b := first.call(t, "POST", "/employment/plans", "case-1:plan:1", map[string]any{"case_id": "case-1", "personal_number": "19811218-9876"}); st != http.StatusAccepted {
		t.Fatalf("plan report: %d %s", st, b)
	}
	first.stop()

	second := start(t, pool)
	st, _, b = second.call(t, "GET", "/education/enrolments/"+e1.ID, "", nil)
	var got simEnrolment
	_ = json.Unmarshal(b, &got)
	if st != http.StatusOK || got.CaseID != "case-1" || got.Status != "active" {
		t.Fatalf("the enrolment after a restart: %d %s", st, b)
	}
	// The same key replays the first answer and creates nothing.
	st, h, b := second.call(t, "POST", "/education/enrolments", "case-1:s1:enrol", enrolment("case-1"))
	var replay simEnrolment
	_ = json.Unmarshal(b, &replay)
	if st != http.StatusCreated || h.Get("Idempotent-Replayed") != "true" || replay.ID != e1.ID {
		t.Fatalf("replay after a restart: %d %v %s", st, h, b)
	}
	// A new enrolment gets a new ID.
	st, _, b = second.call(t, "POST", "/education/enrolments", "case-2:s1:enrol", enrolment("case-2"))
	var e2 simEnrolment
	_ = json.Unmarshal(b, &e2)
	if st != http.StatusCreated || e2.ID == e1.ID || e2.ID == "" {
		t.Fatalf("a new enrolment after a restart: %d %s (first was %s)", st, b, e1.ID)
	}
	// The same case enrolled again under another key is still a duplicate.
	second.call(t, "POST", "/education/enrolments", "another-key", enrolment("case-1"))
	if d := second.sim.Stats().Systems["education"].DuplicateSideEffects; d != 1 {
		t.Errorf("duplicate enrolments seen after a restart: %d, want 1", d)
	}
	if n := len(second.sim.Agreements()); n != 1 {
		t.Errorf("agreements after a restart: %d", n)
	}
	if n := len(second.sim.Notices()); n != 1 {
		t.Errorf("notices after a restart: %d", n)
	}
	if reps := second.sim.Reports(); len(reps) != 1 || reps[0].content == "" {
		t.Errorf("reports after a restart: %+v", reps)
	}
	if reg := second.sim.registration("19811218-9876"); reg.Programme != "jobb- och utvecklingsgarantin" {
		t.Errorf("registration after a restart: %+v", reg)
	}
	// Withdrawal and its key survive too.
	if st, _, b := second.call(t, "POST", "/education/enrolments/"+e1.ID+"/withdraw", "case-1:s1:withdraw", map[string]string{"reason": "time_limit"}); st != http.StatusOK {
		t.Fatalf("withdraw: %d %s", st, b)
	}
	second.stop()
	third := start(t, pool)
	st, _, b = third.call(t, "GET", "/education/enrolments/"+e1.ID, "", nil)
	_ = json.Unmarshal(b, &got)
	if st != http.StatusOK || got.Status != "withdrawn" {
		t.Fatalf("the withdrawal after a restart: %d %s", st, b)
	}
}

// A write that fails is answered 503 and leaves nothing behind in memory:
// a retry once storage is back creates the object once.
func TestSimulatorStorageFailureChangesNothing(t *testing.T) {
	pool, _ := testenv.Database(t)
	r := start(t, pool)
	ctx := context.Background()
	// The table goes away under the simulator: writes fail.
	if _, err := pool.Exec(ctx, `ALTER TABLE simulators.objects RENAME TO objects_gone`); err != nil {
		t.Fatal(err)
	}
	if st, _, b := r.call(t, "POST", "/education/enrolments", "case-9:s1:enrol", enrolment("case-9")); st != http.StatusServiceUnavailable {
		t.Fatalf("enrol with storage down: %d %s", st, b)
	}
	if n := len(r.sim.Enrolments()); n != 0 {
		t.Fatalf("enrolments in memory after a failed write: %d", n)
	}
	if st, _, b := r.call(t, "GET", "/education/admin/enrolments", "", nil); st != http.StatusServiceUnavailable {
		t.Fatalf("a read with storage down: %d %s", st, b)
	}
	if _, err := pool.Exec(ctx, `ALTER TABLE simulators.objects_gone RENAME TO objects`); err != nil {
		t.Fatal(err)
	}
	if st, _, b := r.call(t, "POST", "/education/enrolments", "case-9:s1:enrol", enrolment("case-9")); st != http.StatusCreated {
		t.Fatalf("enrol once storage is back: %d %s", st, b)
	}
	if n := len(r.sim.Enrolments()); n != 1 {
		t.Fatalf("enrolments: %d, want 1", n)
	}
}
