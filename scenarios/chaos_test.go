package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/devenv"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// N pathways run start to closure on the real dev server and a PostgreSQL
// of the test's own, with the worker as a separate process, while the test
// kills -9 PostgreSQL in the middle of the starts (an import) and again in
// the middle of projections, kills -9 the worker and starts it again, and
// freezes the worker while staff act through the API. Afterwards every
// pathway is closed as staff closed it, the simulators saw no side effect
// twice, the registry and Temporal agree case for case, no closed case has
// an open task, and every action the API accepted has its audit row.
func TestChaosWorkerAndDatabaseKills(t *testing.T) {
	n := 24
	if v := os.Getenv("PATHWAYS_CHAOS_PATHWAYS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 4 {
			t.Fatalf("PATHWAYS_CHAOS_PATHWAYS=%q: want a number of at least 4", v)
		}
	}
	ctx := context.Background()
	bin := buildPathways(t)
	db := startOwnDatabase(t)
	ts := testsystem.New(t, testsystem.Options{NoWorker: true, Pool: db.pool})
	wk := startWorkerProcess(t, bin, ts, db.url)
	const secondsPerDay = 0.5
	srv := httptest.NewServer((&api.Server{Config: ts.Config, Pool: db.pool, Temporal: ts.Temporal, Log: zap.NewNop(), Keys: ts.Keys,
		UpdateTimeout: 3 * time.Second, Cases: ts.Cases(secondsPerDay),
		Outside: api.OutsideClients{Employers: ts.Clients.Employers, Employment: ts.Clients.Employment}}).Handler())
	t.Cleanup(srv.Close)
	coach := chaosSignIn(t, srv.URL, "coach.angered")
	var kmu sync.Mutex
	var kills []string
	recovered := map[string]time.Duration{}
	crash := func(what string, kill func(), restart func() time.Duration) {
		kill()
		kmu.Lock()
		kills = append(kills, what)
		kmu.Unlock()
		time.Sleep(2 * time.Second)
		took := restart()
		kmu.Lock()
		recovered[what] = took
		kmu.Unlock()
	}

	// 1. The starts, as an import runs them, with PostgreSQL killed after a
	// third; then the rows that failed are run again, as the import advises.
	people := make([]string, n)
	for i := range people {
		nine := fmt.Sprintf("7903%02d%03d", 1+i%28, 200+i)
		people[i] = "1979" + nine[2:6] + "-" + nine[6:] + string(identity.CheckDigit(nine))
		ts.Sim.SetRegistration(people[i], true, "", []string{"plan", "outcome"})
	}
	svc := ts.Cases(secondsPerDay)
	failed := make([]bool, n)
	var started atomic.Int32
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		for started.Load() < int32(n/3) {
			time.Sleep(5 * time.Millisecond)
		}
		crash("PostgreSQL during the starts", db.kill, func() time.Duration { return db.restart(t) })
	}()
	g := new(errgroup.Group)
	g.SetLimit(6)
	for i, pnr := range people {
		g.Go(func() error {
			if _, err := svc.Start(ctx, referral(pnr)); err != nil {
				t.Logf("row %d during the outage: %v", i+1, err)
				failed[i] = true
			}
			started.Add(1)
			return nil
		})
	}
	_ = g.Wait()
	<-killed
	refused := 0
	for i, pnr := range people {
		if !failed[i] {
			continue
		}
		// Run the row again until it is in (or is reported as started already).
		deadline := time.Now().Add(60 * time.Second)
		for {
			_, err := svc.Start(ctx, referral(pnr))
			if err == nil {
				break
			}
			if isDuplicate(err) {
				refused++
				break
			}
			t.Logf("row %d again: %v", i+1, err)
			if time.Now().After(deadline) {
				t.Fatalf("re-running the start of row %d: %v", i+1, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	ids := waitOneCasePerPerson(t, db.pool, people)
	checkRegistryAgreesWithTemporal(t, ts.Temporal, db.pool, ts.TaskQueue, ids, false)

	// 2. First contact for all; the worker is killed half-way and restarted.
	accepted := map[string][]string{} // case → actions the API accepted
	var mu sync.Mutex
	act := func(id, path string, body any) {
		if !coach.act(t, "/api/v1/pathways/"+id+"/"+path, body) {
			return
		}
		mu.Lock()
		accepted[id] = append(accepted[id], path)
		mu.Unlock()
	}
	forAll := func(midway func(), do func(id string)) {
		var done atomic.Int32
		var once sync.Once
		g := new(errgroup.Group)
		g.SetLimit(6)
		for _, id := range ids {
			g.Go(func() error {
				do(id)
				if done.Add(1) == int32(len(ids)/2) && midway != nil {
					once.Do(midway)
				}
				return nil
			})
		}
		_ = g.Wait()
	}
	forAll(func() {
		crash("worker during first contacts", wk.kill, func() time.Duration { return wk.start(t) })
	}, func(id string) { act(id, "first-contact", map[string]any{"channel": "phone"}) })

	// 3. Mapping for all; PostgreSQL is killed while the worker projects.
	forAll(func() {
		go crash("PostgreSQL during projections", db.kill, func() time.Duration { return db.restart(t) })
	}, func(id string) {
		act(id, "mapping", map[string]any{"abilities": []string{"driving"}, "education_level": "3", "language": "sv:B1", "goals": "Work"})
	})

	// 4. Plans while the worker is frozen: the API's waits time out, staff
	// send again with the same idempotency key, and nothing applies twice.
	if err := wk.proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	kmu.Lock()
	kills = append(kills, "worker frozen during plan approvals")
	kmu.Unlock()
	thawed := make(chan struct{})
	go func() {
		time.Sleep(6 * time.Second)
		_ = wk.proc.Signal(syscall.SIGCONT)
		close(thawed)
	}()
	forAll(nil, func(id string) {
		act(id, "plan", map[string]any{"target_ssyk": "8331", "steps": []map[string]any{
			{"id": "coaching", "type": "manual", "title": "Coaching", "duration_days": 2, "params": map[string]string{"description": "Weekly coaching"}}}})
	})
	<-thawed

	// 5. The step is confirmed, work recorded, the case closed.
	forAll(nil, func(id string) {
		// The step's child runs once its start is projected (the phase
		// changes earlier, with the plan).
		if !waitRowCond(t, db.pool, id, "step r1-coaching running", func(r store.PathwayRow) bool { return r.CurrentStep == "r1-coaching" }) {
			return
		}
		act(id, "steps/r1-coaching/confirm-step", map[string]any{"outcome": "completed"})
		if !waitPhase(t, db.pool, id, pathway.PhaseOutcome) {
			return
		}
		act(id, "outcome", map[string]any{"kind": pathway.OutcomeWork, "start_date": time.Now().Format(time.DateOnly), "employer": "Västtrafik", "employer_kind": "regular", "employment_form": "unsubsidised"})
		act(id, "close", map[string]any{"reason": pathway.CloseWork})
	})

	// Afterwards.
	for _, id := range ids {
		waitStatus(t, db.pool, id, "closed")
	}
	mismatches := checkRegistryAgreesWithTemporal(t, ts.Temporal, db.pool, ts.TaskQueue, ids, true)
	dups := 0
	for _, id := range ids {
		for kind, want := range map[string]int{"first_contact": 1, "mapping": 1, "plan": 1, "outcome": 1, "closed": 1} {
			var got int
			if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM timeline WHERE case_id = $1 AND kind = $2`, id, kind).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				dups++
				t.Errorf("case %s: %d %q events, want %d", id, got, kind, want)
			}
		}
	}
	notices := map[string]int{}
	for _, no := range ts.Sim.Notices() {
		notices[no.CaseID+"/"+no.Event]++
	}
	for _, id := range ids {
		if notices[id+"/outcome"] != 1 || notices[id+"/closure"] != 1 {
			dups++
			t.Errorf("case %s: %d outcome and %d closure notices, want 1 each", id, notices[id+"/outcome"], notices[id+"/closure"])
		}
	}
	if d := ts.Sim.Stats().DuplicateSideEffects; d != 0 {
		dups += d
		t.Errorf("the simulators counted %d duplicate side effects", d)
	}
	var openOnClosed int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM tasks t JOIN pathways p USING (case_id)
		WHERE t.status = 'open' AND p.status = 'closed'`).Scan(&openOnClosed); err != nil {
		t.Fatal(err)
	}
	if openOnClosed != 0 {
		t.Errorf("%d open tasks on closed cases", openOnClosed)
	}
	missingAudit := 0
	for id, actions := range accepted {
		for _, a := range actions {
			action, key := a, "action"
			if a == "steps/r1-coaching/confirm-step" {
				action = "confirm-step"
			}
			var ok bool
			if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_log WHERE case_id = $1 AND detail->>$2 = $3)`,
				id, key, action).Scan(&ok); err != nil {
				t.Fatal(err)
			}
			if !ok {
				missingAudit++
				t.Errorf("case %s: no audit row for the accepted %s", id, a)
			}
		}
	}
	kmu.Lock()
	defer kmu.Unlock()
	t.Logf("chaos: %d pathways; kills: %v; %d start rows re-run (%d refused as already started); recovered in %v; "+
		"%d duplicates, %d registry mismatches, %d open tasks on closed cases, %d accepted actions without audit",
		n, kills, countTrue(failed), refused, recovered, dups, mismatches, openOnClosed, missingAudit)
}

func countTrue(bs []bool) int {
	k := 0
	for _, b := range bs {
		if b {
			k++
		}
	}
	return k
}

func isDuplicate(err error) bool {
	return err != nil && bytes.Contains([]byte(err.Error()), []byte("active pathway"))
}

// waitOneCasePerPerson waits until every person has exactly one pathway row
// (a start interrupted after its row was written may finish later) and
// returns the case IDs.
func waitOneCasePerPerson(t *testing.T, pool *pgxpool.Pool, people []string) []string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		rows, err := pool.Query(context.Background(), `SELECT case_id FROM pathways ORDER BY case_id`)
		var ids []string
		if err == nil {
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err == nil {
					ids = append(ids, id)
				}
			}
			rows.Close()
		}
		if err == nil && len(ids) == len(people) {
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pathway rows for %d people (err %v)", len(ids), len(people), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkRegistryAgreesWithTemporal compares the registry rows with the
// pathway workflows on the test's task queue: one workflow per row and one
// row per workflow; when closed, every workflow has completed.
func checkRegistryAgreesWithTemporal(t *testing.T, c client.Client, pool *pgxpool.Pool, queue string, ids []string, closed bool) int {
	t.Helper()
	ctx := context.Background()
	want := map[string]bool{}
	for _, id := range ids {
		want[pathway.WorkflowID(id)] = true
	}
	mismatches := 0
	deadline := time.Now().Add(30 * time.Second)
	for {
		seen := map[string]enumspb.WorkflowExecutionStatus{}
		var token []byte
		for {
			resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default",
				Query: fmt.Sprintf("TaskQueue = %q AND WorkflowType = %q", queue, pathway.WorkflowName), NextPageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range resp.Executions {
				// A continued run lists again under the same ID; the newest counts.
				if _, dup := seen[e.Execution.WorkflowId]; !dup || e.Status != enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
					seen[e.Execution.WorkflowId] = e.Status
				}
			}
			if token = resp.NextPageToken; len(token) == 0 {
				break
			}
		}
		mismatches = 0
		var problems []string
		for id := range want {
			st, ok := seen[id]
			switch {
			case !ok:
				problems = append(problems, id+": a registry row without a workflow")
			case closed && st != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
				problems = append(problems, fmt.Sprintf("%s: workflow %s, registry closed", id, st))
			case !closed && st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
				problems = append(problems, fmt.Sprintf("%s: workflow %s, registry active", id, st))
			}
		}
		for id := range seen {
			if !want[id] {
				problems = append(problems, id+": a workflow without a registry row")
			}
		}
		mismatches = len(problems)
		if mismatches == 0 {
			return 0
		}
		if time.Now().After(deadline) { // visibility lags a little behind
			for _, p := range problems {
				t.Error(p)
			}
			return mismatches
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func waitPhase(t *testing.T, pool *pgxpool.Pool, id, phase string) bool {
	t.Helper()
	return waitRowCond(t, pool, id, "phase "+phase, func(r store.PathwayRow) bool { return r.Phase == phase })
}

func waitStatus(t *testing.T, pool *pgxpool.Pool, id, status string) bool {
	t.Helper()
	return waitRowCond(t, pool, id, "status "+status, func(r store.PathwayRow) bool { return r.Status == status })
}

// waitRowCond polls the read model as the console would; it runs on test
// goroutines, so it reports with Errorf.
func waitRowCond(t *testing.T, pool *pgxpool.Pool, id, what string, cond func(store.PathwayRow) bool) bool {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		row, err := store.GetPathway(context.Background(), pool, id)
		if err == nil && cond(row) {
			return true
		}
		if time.Now().After(deadline) {
			t.Errorf("case %s: waiting for %s: phase %s status %s, err %v", id, what, row.Phase, row.Status, err)
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// chaosStaff is a signed-in browser-like client of the API.
type chaosStaff struct {
	base string
	http *http.Client
	seq  atomic.Int64
	// others are further API instances: a request that finds no API
	// (refused or broken connection) is sent again, with the same
	// Idempotency-Key, to the next one; resent counts those.
	others []string
	cur    atomic.Int32
	resent atomic.Int64
}

// url is the API instance requests go to now.
func (c *chaosStaff) url() string {
	if len(c.others) == 0 {
		return c.base
	}
	if i := int(c.cur.Load()) % (len(c.others) + 1); i > 0 {
		return c.others[i-1]
	}
	return c.base
}

// failOver moves on to the next API instance after a connection to from
// failed; it reports whether there is another to try.
func (c *chaosStaff) failOver(from string) bool {
	if len(c.others) == 0 {
		return false
	}
	if c.url() == from {
		c.cur.Add(1)
	}
	c.resent.Add(1)
	return true
}

func chaosSignIn(t *testing.T, base, account string) *chaosStaff {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &chaosStaff{base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	resp, err := c.http.PostForm(base+"/login", url.Values{"username": {account}, "password": {store.DevPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", account, resp.StatusCode)
	}
	return c
}

// act sends a staff action until the API accepts it, every attempt with the
// same Idempotency-Key, as a browser resubmitting one form does: 200 is
// done, 202 accepted and still running; 5xx and broken connections are
// tried again. It reports whether the action was accepted (it runs on test
// goroutines, so it fails the test with Errorf, never Fatalf).
func (c *chaosStaff) act(t *testing.T, path string, body any) bool {
	t.Helper()
	key := fmt.Sprintf("chaos-%d-%d", time.Now().UnixNano(), c.seq.Add(1))
	b, _ := json.Marshal(body)
	deadline := time.Now().Add(90 * time.Second)
	for attempt := 1; ; attempt++ {
		base := c.url()
		req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := c.http.Do(req)
		status, text, location := 0, "", ""
		if err == nil {
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			status, text, location = resp.StatusCode, string(raw), resp.Header.Get("Location")
		} else if c.failOver(base) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			continue // the same request, the same key, to another API
		}
		if status == http.StatusAccepted && location != "" {
			// Accepted, still running: follow the link until the pathway has
			// applied it, as the console does before the next step.
			switch c.follow(t, location, deadline) {
			case "completed":
				return true
			case "refused":
				t.Errorf("POST %s: accepted, then refused", path)
				return false
			}
			continue // never recorded: send it again under the same key
		}
		switch {
		case status == http.StatusOK:
			return true
		case status >= 400 && status < 500:
			t.Errorf("POST %s (attempt %d, key %s): %d %s", path, attempt, key, status, text)
			return false
		case time.Now().After(deadline):
			t.Errorf("POST %s: not accepted in time: %d %s %v", path, status, text, err)
			return false
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// follow polls an action's status link until it is no longer pending and
// returns its state ("" when it was never recorded or time ran out).
func (c *chaosStaff) follow(t *testing.T, location string, deadline time.Time) string {
	t.Helper()
	for time.Now().Before(deadline) {
		resp, err := c.http.Get(c.url() + location)
		if err == nil {
			var res api.ActionResult
			_ = json.NewDecoder(resp.Body).Decode(&res)
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusNotFound:
				return ""
			case resp.StatusCode == http.StatusOK && res.State != "pending" && res.State != "unknown":
				return res.State
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	return ""
}

// ownDatabase is a PostgreSQL cluster of the test's own, which it may kill.
type ownDatabase struct {
	pg   *devenv.Postgres
	proc *devenv.Process
	url  string
	pool *pgxpool.Pool
}

func startOwnDatabase(t *testing.T) *ownDatabase {
	t.Helper()
	dir, err := os.MkdirTemp("", "pathways-chaos-pg-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	port, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	// Durable commits: with fsync off a kill -9 loses commits already
	// acknowledged, which no production database does.
	d := &ownDatabase{pg: &devenv.Postgres{DataDir: filepath.Join(dir, "data"), Port: port, Log: io.Discard}}
	if d.proc, err = d.pg.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d.pool != nil {
			d.pool.Close()
		}
		_ = d.proc.Stop()
		_ = os.RemoveAll(dir)
	})
	ctx := context.Background()
	if err := d.pg.EnsureDatabase(ctx, "pathways"); err != nil {
		t.Fatal(err)
	}
	if err := d.pg.EnsureAppRole(ctx); err != nil {
		t.Fatal(err)
	}
	d.url = d.pg.URL("pathways")
	if d.pool, err = store.Open(ctx, d.url, 20); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Migrate(ctx, d.pool); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *ownDatabase) kill() { d.proc.Kill() }

// restart starts the cluster again (crash recovery) and reports how long
// until it answered.
func (d *ownDatabase) restart(t *testing.T) time.Duration {
	t.Helper()
	start := time.Now()
	p, err := d.pg.Start(context.Background())
	if err != nil {
		t.Errorf("restart PostgreSQL: %v", err)
		return 0
	}
	d.proc = p
	return time.Since(start).Round(10 * time.Millisecond)
}

// workerProcess is `pathways worker` as its own process, killable.
type workerProcess struct {
	cmd  func() *exec.Cmd
	proc *devenv.Process
	log  *os.File
}

func startWorkerProcess(t *testing.T, bin string, ts *testsystem.System, dbURL string) *workerProcess {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..")
	logf, err := os.CreateTemp("", "pathways-chaos-worker-*.log")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker log: %s", logf.Name())
			return
		}
		_ = os.Remove(logf.Name())
	})
	cfg := ts.Config
	w := &workerProcess{log: logf, cmd: func() *exec.Cmd {
		c := exec.Command(bin, "worker")
		c.Env = append(os.Environ(),
			"PATHWAYS_DATABASE_URL="+dbURL,
			"PATHWAYS_DATABASE_AUTO_MIGRATE=false",
			"PATHWAYS_TEMPORAL_ADDRESS="+testenv.TemporalAddress(t),
			"PATHWAYS_TEMPORAL_TASK_QUEUE="+ts.TaskQueue,
			"PATHWAYS_SYSTEMS_EDUCATION_URL="+cfg.Systems.Education,
			"PATHWAYS_SYSTEMS_EMPLOYMENT_URL="+cfg.Systems.Employment,
			"PATHWAYS_SYSTEMS_JOBSEARCH_URL="+cfg.Systems.JobSearch,
			"PATHWAYS_SYSTEMS_EMPLOYERS_URL="+cfg.Systems.Employers,
			"PATHWAYS_SYSTEMS_SOCIAL_SERVICES_URL="+cfg.Systems.SocialServices,
			"PATHWAYS_SMTP_ADDR="+cfg.SMTP.Addr,
			"PATHWAYS_PROGRAMMES_DIR="+filepath.Join(root, "programmes", "definitions"),
			"PATHWAYS_LOG_LEVEL=warn",
		)
		return c
	}}
	w.start(t)
	t.Cleanup(func() {
		_ = w.proc.Signal(syscall.SIGCONT)
		_ = w.proc.Stop()
	})
	return w
}

// start runs the worker and reports how long until it was up.
func (w *workerProcess) start(t *testing.T) time.Duration {
	t.Helper()
	begin := time.Now()
	p, err := devenv.Spawn("worker", w.cmd(), w.log, syscall.SIGTERM, 40*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	w.proc = p
	return time.Since(begin).Round(10 * time.Millisecond)
}

func (w *workerProcess) kill() { w.proc.Kill() }

// buildPathways builds the binary the processes run, from this checkout.
func buildPathways(t testing.TB) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	out := filepath.Join(t.TempDir(), "pathways")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/pathways")
	cmd.Dir = filepath.Join(filepath.Dir(here), "..")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}
