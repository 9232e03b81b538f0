package scenarios

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"golang.org/x/sync/errgroup"

	"github.com/pathways-se/pathways/devenv"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// EnvClusterTest switches TestClusterSurvivesKills on (make test-cluster);
// `make test` leaves it out, since it builds and runs the real server.
const EnvClusterTest = "PATHWAYS_CLUSTER_TEST"

// N compressed pathways through both API instances of `pathways cluster`
// (the real Temporal server on PostgreSQL, two workers, two APIs), while the
// test kills -9 one worker during first contacts (the other carries on with
// its pathways), the Temporal server during mappings (it is started again),
// and one API during plan approvals (the client sends the same request,
// with the same Idempotency-Key, to the other). Then every pathway is closed
// as staff closed it, with 0 duplicate side effects, 0 mails delivered twice
// by the two workers' deliverers, and 0 registry/Temporal mismatches.
func TestClusterSurvivesKills(t *testing.T) {
	if os.Getenv(EnvClusterTest) == "" {
		t.Skipf("runs in make test-cluster (set %s=1; the Temporal server must be built)", EnvClusterTest)
	}
	n := 500
	if v := os.Getenv("PATHWAYS_CLUSTER_PATHWAYS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 20 {
			t.Fatalf("PATHWAYS_CLUSTER_PATHWAYS=%q: want a number of at least 20", v)
		}
	}
	begin := time.Now()
	ctx := context.Background()
	cl := startCluster(t)
	pool, err := pgxpool.New(ctx, cl.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	tc, err := client.Dial(client.Options{HostPort: cl.temporal, Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	phases := map[string]time.Duration{}
	var phaseOrder []string
	phase := func(name string, since time.Time) {
		phases[name] = time.Since(since).Round(100 * time.Millisecond)
		phaseOrder = append(phaseOrder, name)
	}

	// Half the staff work through api-1, half through api-2; each falls over
	// to the other when theirs is gone.
	coaches := []*chaosStaff{chaosSignIn(t, cl.apis[0], "coach.angered"), chaosSignIn(t, cl.apis[1], "coach.angered")}
	coaches[0].others, coaches[1].others = []string{cl.apis[1]}, []string{cl.apis[0]}
	team := chaosSignIn(t, cl.apis[1], "team.angered")

	sizesBefore := databaseSizes(t, pool)

	// 1. The starts, alternating between the APIs.
	t0 := time.Now()
	people := make([]string, n)
	for i := range people {
		nine := fmt.Sprintf("7903%02d%03d", 1+i%28, 200+i)
		people[i] = "1979" + nine[2:6] + "-" + nine[6:] + string(identity.CheckDigit(nine))
		cl.sim(t, http.MethodPut, "/employment/admin/registrations", map[string]any{
			"personal_number": people[i], "registered": true, "consent": []string{"plan", "outcome"}}, nil)
	}
	g := new(errgroup.Group)
	g.SetLimit(8)
	for i, pnr := range people {
		g.Go(func() error {
			ref := referral(pnr)
			coaches[i%2].start(t, ref)
			return nil
		})
	}
	_ = g.Wait()
	ids := waitOneCasePerPerson(t, pool, people)
	phase("starts", t0)

	// 2. Escalations of 20 cases: the mails go out through both workers'
	// deliverers, each mail exactly once.
	escalated := min(20, n)
	eb, _ := json.Marshal(map[string]any{"case_ids": ids[:escalated], "reason": "Cluster test"})
	ereq, _ := http.NewRequest(http.MethodPost, team.base+"/api/v1/escalations", bytes.NewReader(eb))
	ereq.Header.Set("Content-Type", "application/json")
	ereq.Header.Set("Idempotency-Key", "cluster-test-escalation")
	if resp, err := team.http.Do(ereq); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		t.Fatalf("escalate %d cases: %d", escalated, resp.StatusCode)
	}

	var kmu sync.Mutex
	var kills []string
	recovered := map[string]time.Duration{}
	crash := func(what, child string) int {
		pid, took := cl.kill(t, child)
		kmu.Lock()
		kills = append(kills, what)
		recovered[what] = took
		kmu.Unlock()
		return pid
	}
	var mids sync.WaitGroup // the kills, running next to the actions
	forAll := func(midway func(), do func(i int, id string)) {
		var done atomic.Int32
		var once sync.Once
		g := new(errgroup.Group)
		g.SetLimit(8)
		for i, id := range ids {
			g.Go(func() error {
				do(i, id)
				if done.Add(1) == int32(len(ids)/3) && midway != nil {
					once.Do(func() {
						mids.Add(1)
						go func() { defer mids.Done(); midway() }()
					})
				}
				return nil
			})
		}
		_ = g.Wait()
	}
	var lmu sync.Mutex
	latency := map[string][]time.Duration{} // accepted staff actions by phase
	current := ""
	act := func(i int, id, path string, body any) {
		began := time.Now()
		if coaches[i%2].act(t, "/api/v1/pathways/"+id+"/"+path, body) {
			lmu.Lock()
			latency[current] = append(latency[current], time.Since(began))
			lmu.Unlock()
		}
	}

	// 3. First contacts; worker-1 is killed a third of the way through.
	t0 = time.Now()
	current = "first contacts"
	killedAt := time.Now()
	var killedWorker atomic.Int64
	forAll(func() {
		killedAt = time.Now()
		killedWorker.Store(int64(crash("worker-1 during first contacts", "worker-1")))
	}, func(i int, id string) { act(i, id, "first-contact", map[string]any{"channel": "phone"}) })
	phase("first contacts", t0)

	// 4. Mappings; the Temporal server is killed and started again.
	t0 = time.Now()
	current = "mappings"
	forAll(func() { crash("Temporal server during mappings", "temporal") }, func(i int, id string) {
		act(i, id, "mapping", map[string]any{"abilities": []string{"driving"}, "education_level": "3", "language": "sv:B1", "goals": "Work"})
	})
	phase("mappings", t0)

	// 5. Plans; api-1 is killed while they are in flight.
	t0 = time.Now()
	current = "plans"
	forAll(func() { crash("api-1 during plan approvals", "api-1") }, func(i int, id string) {
		act(i, id, "plan", map[string]any{"target_ssyk": "8331", "steps": []map[string]any{
			{"id": "coaching", "type": "manual", "title": "Coaching", "duration_days": 2, "params": map[string]string{"description": "Weekly coaching"}}}})
	})
	phase("plans", t0)

	// 6. The step confirmed, work recorded, the case closed (no kills: the
	// latency of these is the cluster's ordinary one).
	t0 = time.Now()
	current = "steps, outcomes, closures"
	forAll(nil, func(i int, id string) {
		if !waitRowCond(t, pool, id, "step r1-coaching running", func(r store.PathwayRow) bool { return r.CurrentStep == "r1-coaching" }) {
			return
		}
		act(i, id, "steps/r1-coaching/confirm-step", map[string]any{"outcome": "completed"})
		if !waitPhase(t, pool, id, pathway.PhaseOutcome) {
			return
		}
		act(i, id, "outcome", map[string]any{"kind": pathway.OutcomeWork, "start_date": time.Now().Format(time.DateOnly), "employer": "Västtrafik", "employer_kind": "regular", "employment_form": "unsubsidised"})
		act(i, id, "close", map[string]any{"reason": pathway.CloseWork})
	})
	for _, id := range ids {
		waitStatus(t, pool, id, "closed")
	}
	phase("steps, outcomes, closures", t0)

	// Afterwards: the registry and Temporal agree, nothing happened twice.
	// A closed pathway's workflow completes once its last notices are out,
	// which on a loaded machine may lag the closure by an activity timeout.
	mids.Wait()
	t0 = time.Now()
	waitWorkflowsDone(t, tc, 3*time.Minute)
	phase("last notices", t0)
	mismatches := checkRegistryAgreesWithTemporal(t, tc, pool, "pathways", ids, true)
	dups := 0
	counts := map[string]int{}
	rows, err := pool.Query(ctx, `SELECT case_id, kind, count(*) FROM timeline
		WHERE kind IN ('first_contact', 'mapping', 'plan', 'outcome', 'closed') GROUP BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, kind string
		var c int
		if err := rows.Scan(&id, &kind, &c); err != nil {
			t.Fatal(err)
		}
		counts[id+"/"+kind] = c
	}
	rows.Close()
	for _, id := range ids {
		for _, kind := range []string{"first_contact", "mapping", "plan", "outcome", "closed"} {
			if got := counts[id+"/"+kind]; got != 1 {
				dups++
				t.Errorf("case %s: %d %q timeline lines, want 1", id, got, kind)
			}
		}
	}
	var notices struct {
		Notices []struct {
			CaseID string `json:"case_id"`
			Event  string `json:"event"`
		} `json:"notices"`
	}
	cl.sim(t, http.MethodGet, "/social/admin/notices", nil, &notices)
	perCase := map[string]int{}
	for _, no := range notices.Notices {
		perCase[no.CaseID+"/"+no.Event]++
	}
	for _, id := range ids {
		if perCase[id+"/outcome"] != 1 || perCase[id+"/closure"] != 1 {
			dups++
			t.Errorf("case %s: %d outcome and %d closure notices, want 1 each", id, perCase[id+"/outcome"], perCase[id+"/closure"])
		}
	}
	var notAsClosed int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pathways WHERE status <> 'closed' OR closure_reason <> $1`,
		pathway.CloseWork).Scan(&notAsClosed); err != nil {
		t.Fatal(err)
	}
	if notAsClosed != 0 {
		t.Errorf("%d pathways did not end closed as staff closed them (%s)", notAsClosed, pathway.CloseWork)
	}
	var openOnClosed int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM tasks t JOIN pathways p USING (case_id)
		WHERE t.status = 'open' AND p.status = 'closed'`).Scan(&openOnClosed); err != nil {
		t.Fatal(err)
	}
	if openOnClosed != 0 {
		t.Errorf("%d open tasks on closed cases", openOnClosed)
	}

	// The mails: every queued one sent once, none delivered twice.
	queued, sent := waitMailOutbox(t, pool)
	var stats struct {
		Duplicates int `json:"duplicate_side_effects"`
		Mail       struct {
			Messages   int `json:"messages"`
			Duplicates int `json:"duplicate_deliveries"`
		} `json:"mail"`
	}
	cl.sim(t, http.MethodGet, "/admin/stats", nil, &stats)
	if stats.Duplicates != 0 {
		dups += stats.Duplicates
		t.Errorf("the simulators counted %d duplicate side effects", stats.Duplicates)
	}
	if stats.Mail.Duplicates != 0 {
		t.Errorf("%d mails were delivered twice", stats.Mail.Duplicates)
	}
	if queued == 0 || sent != queued || stats.Mail.Messages != sent {
		t.Errorf("mail: %d queued, %d sent, %d received by the SMTP sink", queued, sent, stats.Mail.Messages)
	}

	// Which pathways the killed worker had run and another process went on with.
	tookOver := takenOver(t, tc, ids, int(killedWorker.Load()), killedAt)
	if tookOver == 0 {
		t.Errorf("no pathway of the killed worker (pid %d) continued on another", killedWorker.Load())
	}
	resent := coaches[0].resent.Load() + coaches[1].resent.Load()
	if resent == 0 {
		t.Errorf("no request was sent again to the other API after api-1 was killed")
	}

	// What one pathway costs: history, databases, rows, memory.
	events, historyBytes := historyCosts(t, tc, ids)
	sizesAfter := databaseSizes(t, pool)
	var rowsPer [3]float64
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM timeline)::float / $1, (SELECT count(*) FROM tasks)::float / $1,
		(SELECT count(*) FROM audit_log WHERE case_id IS NOT NULL)::float / $1`, float64(n)).Scan(&rowsPer[0], &rowsPer[1], &rowsPer[2]); err != nil {
		t.Fatal(err)
	}
	var perPhase []string
	for _, p := range phaseOrder {
		if l := latency[p]; len(l) > 0 {
			perPhase = append(perPhase, fmt.Sprintf("%s %d at %.1f/s, p50 %s p99 %s", p, len(l),
				float64(len(l))/phases[p].Seconds(), percentile(l, 50), percentile(l, 99)))
		}
	}

	kmu.Lock()
	defer kmu.Unlock()
	var ph []string
	for _, p := range phaseOrder {
		ph = append(ph, fmt.Sprintf("%s %s", p, phases[p]))
	}
	t.Logf("cluster: %d pathways through 2 APIs on 2 workers, real Temporal %s on PostgreSQL, in %s (%s); cluster up in %s",
		n, devenv.TemporalServerVersion, time.Since(begin).Round(time.Second), strings.Join(ph, ", "), cl.upIn)
	t.Logf("cluster: kills %v, back in %v; %d pathways continued after worker-1's kill on another process; "+
		"%d requests sent again to the other API with the same Idempotency-Key",
		kills, recovered, tookOver, resent)
	t.Logf("cluster: %d duplicates, %d registry mismatches, %d open tasks on closed cases; "+
		"%d escalations, %d mails queued, %d sent, %d delivered twice",
		dups, mismatches, openOnClosed, escalated, queued, sent, stats.Mail.Duplicates)
	t.Logf("cluster: staff actions (8 staff at once): %s", strings.Join(perPhase, "; "))
	t.Logf("cluster: per closed pathway: %.0f history events, %.1f KB history, %.1f KB in temporal, %.1f KB in temporal_visibility, "+
		"%.1f KB in pathways; %.1f timeline lines, %.1f tasks, %.1f audit rows; RSS worker-2 %d MB, Temporal server %d MB",
		events, historyBytes/1024, float64(sizesAfter[0]-sizesBefore[0])/float64(n)/1024, float64(sizesAfter[1]-sizesBefore[1])/float64(n)/1024,
		float64(sizesAfter[2]-sizesBefore[2])/float64(n)/1024, rowsPer[0], rowsPer[1], rowsPer[2], cl.rssMB("worker-2"), cl.rssMB("temporal"))
}

// waitWorkflowsDone waits until no pathway workflow runs any more.
func waitWorkflowsDone(t *testing.T, tc client.Client, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := tc.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{Namespace: "default",
			Query: fmt.Sprintf("WorkflowType = %q AND ExecutionStatus = 'Running'", pathway.WorkflowName)})
		if err == nil && resp.Count == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Logf("%v workflows still running after %s (err %v)", resp.GetCount(), timeout, err)
			return
		}
		time.Sleep(time.Second)
	}
}

// databaseSizes are the sizes in bytes of temporal, temporal_visibility and pathways.
func databaseSizes(t *testing.T, pool *pgxpool.Pool) [3]int64 {
	t.Helper()
	var s [3]int64
	if _, err := pool.Exec(context.Background(), "CHECKPOINT"); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(context.Background(), `SELECT pg_database_size('temporal'), pg_database_size('temporal_visibility'),
		pg_database_size('pathways')`).Scan(&s[0], &s[1], &s[2]); err != nil {
		t.Fatal(err)
	}
	return s
}

// historyCosts are the mean history length and size of the pathways' last runs.
func historyCosts(t *testing.T, tc client.Client, ids []string) (events, bytes float64) {
	t.Helper()
	var mu sync.Mutex
	var n int
	g := new(errgroup.Group)
	g.SetLimit(8)
	for _, id := range ids {
		g.Go(func() error {
			d, err := tc.DescribeWorkflowExecution(context.Background(), pathway.WorkflowID(id), "")
			if err != nil {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			n++
			events += float64(d.WorkflowExecutionInfo.HistoryLength)
			bytes += float64(d.WorkflowExecutionInfo.HistorySizeBytes)
			return nil
		})
	}
	_ = g.Wait()
	if n == 0 {
		return 0, 0
	}
	return events / float64(n), bytes / float64(n)
}

func percentile(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, len(s)*p/100)].Round(time.Millisecond)
}

// rssMB is a child's resident memory, from /proc.
func (cl *runningCluster) rssMB(child string) int {
	cl.mu.Lock()
	pid := cl.pids[child]
	cl.mu.Unlock()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return kb / 1024
		}
	}
	return 0
}

// start sends one referral until the API has it: 201, or 409 when an
// earlier attempt went through before its answer was lost.
func (c *chaosStaff) start(t *testing.T, ref any) {
	t.Helper()
	b, _ := json.Marshal(ref)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		base := c.url()
		resp, err := c.http.Post(base+"/api/v1/pathways", "application/json", bytes.NewReader(b))
		if err != nil {
			c.failOver(base)
		} else {
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusConflict:
				return
			case resp.StatusCode >= 400 && resp.StatusCode < 500:
				t.Errorf("start: %d %s", resp.StatusCode, raw)
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("start: not accepted in time: %d %s", resp.StatusCode, raw)
				return
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// waitMailOutbox waits until the outbox has nothing left to send and
// reports how many mails were queued and sent.
func waitMailOutbox(t *testing.T, pool *pgxpool.Pool) (queued, sent int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var pending int
		err := pool.QueryRow(context.Background(), `SELECT count(*), count(sent_at),
			count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL) FROM mail_outbox`).Scan(&queued, &sent, &pending)
		if err != nil {
			t.Fatal(err)
		}
		if queued > 0 && pending == 0 || time.Now().After(deadline) {
			return queued, sent
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// takenOver counts the pathways whose workflow tasks the killed worker
// (by its SDK identity, "<pid>@<host>@") completed before the kill and
// another process completed after it.
func takenOver(t *testing.T, tc client.Client, ids []string, pid int, at time.Time) int {
	t.Helper()
	prefix := strconv.Itoa(pid) + "@"
	var count atomic.Int32
	g := new(errgroup.Group)
	g.SetLimit(8)
	for _, id := range ids {
		g.Go(func() error {
			it := tc.GetWorkflowHistory(context.Background(), pathway.WorkflowID(id), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			ran, other := false, false
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					return nil
				}
				a := ev.GetWorkflowTaskCompletedEventAttributes()
				if a == nil {
					continue
				}
				if strings.HasPrefix(a.Identity, prefix) {
					ran = true
				} else if ran && ev.EventTime.AsTime().After(at) {
					other = true
					break
				}
			}
			if ran && other {
				count.Add(1)
			}
			return nil
		})
	}
	_ = g.Wait()
	return int(count.Load())
}

// runningCluster is `pathways cluster` as the test's child, its output
// read for the children's process IDs.
type runningCluster struct {
	proc     *devenv.Process
	apis     []string
	temporal string
	dbURL    string
	simBase  string
	upIn     time.Duration

	mu        sync.Mutex
	pids      map[string]int
	restarted chan string
	log       *os.File
}

// clusterSecondsPerDay compresses the programme clock: a step of two days
// takes seconds, and the adult programme's 548-day limit (18 minutes) stays
// beyond the test even on a loaded machine.
const clusterSecondsPerDay = 2

var childLine = regexp.MustCompile(`cluster: (started|restarted) (\S+) \(pid (\d+)\)`)

func startCluster(t *testing.T) *runningCluster {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..")
	bin := buildPathways(t)
	dir, err := os.MkdirTemp("", "pathways-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := 0
	for b := 20000; b < 32000; b += 100 {
		if devenv.PlanClusterPorts(b, 2).Check(true) == nil {
			base = b
			break
		}
	}
	if base == 0 {
		t.Fatal("no free block of ports below 32768")
	}
	logf, err := os.Create(filepath.Join(dir, "cluster.log"))
	if err != nil {
		t.Fatal(err)
	}
	cl := &runningCluster{pids: map[string]int{}, restarted: make(chan string, 16), log: logf}
	ports := devenv.PlanClusterPorts(base, 2)
	for _, p := range ports.APIs {
		cl.apis = append(cl.apis, "http://127.0.0.1:"+strconv.Itoa(p))
	}
	cl.temporal = "127.0.0.1:" + strconv.Itoa(ports.Frontend)
	cl.dbURL = fmt.Sprintf("postgres://pathways@127.0.0.1:%d/pathways?sslmode=disable", ports.Postgres)
	cl.simBase = "http://127.0.0.1:" + strconv.Itoa(ports.Simulators)

	pr, pw := io.Pipe()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			if m := childLine.FindStringSubmatch(line); m != nil {
				pid, _ := strconv.Atoi(m[3])
				cl.mu.Lock()
				cl.pids[m[2]] = pid
				cl.mu.Unlock()
				if m[1] == "restarted" {
					select {
					case cl.restarted <- m[2]:
					default:
					}
				}
			}
			if strings.Contains(line, "pathways cluster is ready") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	cmd := exec.Command(bin, "cluster", "--base-port", strconv.Itoa(base), "--dev-data-dir", dir,
		"--dev-tools-dir", filepath.Join(root, ".tools"), "--programmes-dir", filepath.Join(root, "programmes", "definitions"),
		"--demo-seconds-per-day", strconv.FormatFloat(clusterSecondsPerDay, 'f', -1, 64), "--log-level", "warn")
	cmd.Dir = root
	start := time.Now()
	if cl.proc, err = devenv.Spawn("cluster", cmd, pw, syscall.SIGINT, 90*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cl.proc.Stop()
		_ = pw.Close()
		_ = logf.Close()
		if t.Failed() {
			t.Logf("the cluster's data and log are kept in %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	select {
	case <-ready:
	case <-cl.proc.Done():
		t.Fatalf("pathways cluster exited: %v (log %s)", cl.proc.Err(), logf.Name())
	case <-time.After(10 * time.Minute):
		t.Fatalf("pathways cluster not ready after 10 minutes (log %s)", logf.Name())
	}
	cl.upIn = time.Since(start).Round(100 * time.Millisecond)
	return cl
}

// kill sends SIGKILL to a child of the cluster, waits until the cluster has
// started it again and returns the killed process ID and how long that took.
func (cl *runningCluster) kill(t *testing.T, child string) (int, time.Duration) {
	cl.mu.Lock()
	pid := cl.pids[child]
	cl.mu.Unlock()
	if pid == 0 {
		t.Errorf("no process ID for %s", child)
		return 0, 0
	}
	for len(cl.restarted) > 0 {
		<-cl.restarted
	}
	start := time.Now()
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Errorf("kill %s: %v", child, err)
		return pid, 0
	}
	deadline := time.After(3 * time.Minute)
	for {
		select {
		case name := <-cl.restarted:
			if name == child {
				return pid, time.Since(start).Round(10 * time.Millisecond)
			}
		case <-deadline:
			t.Errorf("%s was not restarted in 3 minutes", child)
			return pid, 0
		}
	}
}

// sim calls the simulators' admin API.
func (cl *runningCluster) sim(t *testing.T, method, path string, body, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, cl.simBase+path, r)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		raw, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}
