package cases_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/devenv"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/programmes"
	"github.com/pathways-se/pathways/starter"
	"github.com/pathways-se/pathways/steps/catalog"
	"github.com/pathways-se/pathways/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// servers is a private PostgreSQL and a private, file-backed Temporal dev
// server that the test may kill -9 and start again with their data.
type servers struct {
	t        *testing.T
	pg       *devenv.Postgres
	pgProc   *devenv.Process
	tmp      *devenv.Temporal
	tmpProc  *devenv.Process
	url      string
	pool     *pgxpool.Pool
	temporal client.Client
}

func startServers(t *testing.T) *servers {
	t.Helper()
	if testing.Short() {
		t.Skip("starts and kills its own servers")
	}
	dir, err := os.MkdirTemp("", "pathways-kill-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755) // the cluster may run as the postgres user
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	pgPort, _ := devenv.FreePort()
	tPort, _ := devenv.FreePort()
	version := "v1.5.1"
	if cfg, err := config.Load(nil); err == nil && cfg.Dev.TemporalVersion != "" {
		version = cfg.Dev.TemporalVersion
	}
	root, _ := filepath.Abs("..")
	bin, err := devenv.EnsureTemporalCLI(context.Background(), filepath.Join(root, ".tools"), version, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	s := &servers{t: t,
		// Durable commits, as in production: with synchronous_commit off a
		// kill loses commits already acknowledged, which no design survives.
		pg:  &devenv.Postgres{DataDir: filepath.Join(dir, "pg"), Port: pgPort, Log: io.Discard},
		tmp: &devenv.Temporal{Binary: bin, Port: tPort, DBFile: filepath.Join(dir, "temporal", "db.sqlite"), Log: io.Discard}}
	s.startPostgres()
	s.startTemporal()
	t.Cleanup(func() {
		if s.temporal != nil {
			s.temporal.Close()
		}
		if s.pool != nil {
			s.pool.Close()
		}
		_ = s.tmpProc.Stop()
		_ = s.pgProc.Stop()
	})
	ctx := context.Background()
	if err := s.pg.EnsureDatabase(ctx, "pathways"); err != nil {
		t.Fatal(err)
	}
	s.url = s.pg.URL("pathways")
	if s.pool, err = store.Open(ctx, s.url, 8); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Migrate(ctx, s.pool); err != nil {
		t.Fatal(err)
	}
	if err := store.SeedDemo(ctx, s.pool); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		s.temporal, err = client.Dial(client.Options{HostPort: s.tmp.Address(), Namespace: "default",
			Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))})
		if err == nil {
			break
		}
		if i > 50 {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return s
}

func (s *servers) startPostgres() {
	s.t.Helper()
	p, err := s.pg.Start(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	s.pgProc = p
}

func (s *servers) startTemporal() {
	s.t.Helper()
	p, err := s.tmp.Start(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	s.tmpProc = p
}

// waitReady waits until both servers take work again: a query, and a start
// of a probe workflow (not a pathway, so the checks below ignore it).
func (s *servers) waitReady(n int) {
	s.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(90 * time.Second)
	for {
		_, err := s.pool.Exec(ctx, "SELECT 1")
		if err == nil {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err = s.temporal.ExecuteWorkflow(sctx, client.StartWorkflowOptions{ID: fmt.Sprintf("probe-%d", n), TaskQueue: "probe",
				WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING}, "probe")
			cancel()
		}
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("servers not ready again: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// killPostgres kill -9s the postmaster and its backends (one process group).
func (s *servers) killPostgres() {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.pg.DataDir, "postmaster.pid"))
	if err != nil {
		s.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		s.t.Fatal(err)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-s.pgProc.Done()
}

// killTemporal kill -9s the dev server, found by its port on the command line.
func (s *servers) killTemporal() {
	s.t.Helper()
	needle := []byte("start-dev\x00")
	port := []byte("--port\x00" + strconv.Itoa(s.tmp.Port) + "\x00")
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range procs {
		b, err := os.ReadFile(f)
		if err != nil || !bytes.Contains(b, needle) || !bytes.Contains(b, port) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		_ = syscall.Kill(pid, syscall.SIGKILL)
		<-s.tmpProc.Done()
		return
	}
	s.t.Fatal("the Temporal dev server's process was not found")
}

// TestStartSurvivesDatabaseKill kills PostgreSQL, and separately the
// Temporal dev server, at each point of a start (before the row, after the
// row before the workflow, after the workflow), starts it again, lets the
// reconciler run and re-runs every referral; then it kills each mid-import
// and re-runs the file. Afterwards every row has exactly one workflow, every
// workflow has a row, and each person has one case.
func TestStartSurvivesDatabaseKill(t *testing.T) {
	s := startServers(t)
	progs, err := programmes.Load("../programmes/definitions", catalog.Registry())
	if err != nil {
		t.Fatal(err)
	}
	queue := "kill-test" // no worker: the workflows only need to exist
	ctx := context.Background()

	type point struct {
		name   string
		server string
	}
	var points []point
	for _, srv := range []string{"postgres", "temporal"} {
		for _, at := range []string{"before-row", "after-row", "after-workflow"} {
			points = append(points, point{at, srv})
		}
	}
	var refs []cases.Referral
	for i, p := range points {
		ref := referral(i)
		refs = append(refs, ref)
		killed := false
		kill := func(context.Context, string) error {
			if killed {
				return nil
			}
			killed = true
			if p.server == "postgres" {
				s.killPostgres()
			} else {
				s.killTemporal()
			}
			return nil // carry on, as a start does: the next step meets the dead server
		}
		svc := &cases.Service{Pool: s.pool, Temporal: s.temporal, TaskQueue: queue, Programmes: progs, Keys: testenv.Keyring(t)}
		switch p.name {
		case "before-row":
			svc.Hooks.BeforeRow = kill
		case "after-row":
			svc.Hooks.AfterRow = kill
		case "after-workflow":
			svc.Hooks.AfterWorkflow = kill
		}
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		started, err := svc.Start(sctx, ref)
		cancel()
		t.Logf("%s killed %s: case %q pending=%v err=%v", p.server, p.name, started.CaseID, started.Pending, err)
		if !killed {
			t.Fatalf("%s %s: the hook never ran", p.server, p.name)
		}
		if p.server == "postgres" {
			s.startPostgres()
		} else {
			s.startTemporal()
		}
		s.waitReady(i)
	}
	// The reconciler, as the worker runs it, with no grace for the test.
	svc := &cases.Service{Pool: s.pool, Temporal: s.temporal, TaskQueue: queue, Programmes: progs, Keys: testenv.Keyring(t)}
	reconcile := func() (total int) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			n, err := svc.Reconcile(ctx, 0)
			total += n
			if err == nil {
				return total
			}
			if time.Now().After(deadline) {
				t.Fatalf("reconcile: %v", err)
			}
			time.Sleep(500 * time.Millisecond) // the servers may still be warming up
		}
	}
	// Four starts were left pending: PostgreSQL gone before the row was
	// confirmed (twice), Temporal gone before the workflow started (twice).
	if n := reconcile(); n != 4 {
		t.Errorf("the reconciler finished %d starts, want 4", n)
	}
	s.assertAgree(ctx, len(points)-1) // the person whose start died before its row has none yet

	// Re-running every referral (as re-running an import file would) starts
	// the one that never got a row and nothing else.
	again := 0
	for _, ref := range refs {
		_, err := svc.Start(ctx, ref)
		switch {
		case errors.Is(err, cases.ErrDuplicate):
		case err == nil:
			again++
		default:
			t.Fatalf("re-run: %v", err)
		}
	}
	if again != 1 {
		t.Errorf("the re-run started %d pathways, want 1 (the start that died before its row)", again)
	}
	reconcile()
	s.assertAgree(ctx, len(points))

	// Mid-import, as in the field: 40 rows, 8 at a time; each server is
	// killed as the 10th row's case is written, with other rows in flight.
	total := len(points)
	for round, srv := range []string{"postgres", "temporal"} {
		var csv strings.Builder
		csv.WriteString("personal_number,given_name,family_name,district,source,consent\n")
		for i := 0; i < 40; i++ {
			fmt.Fprintf(&csv, "%s,Test,Person,Angered,social_services,yes\n", referral(100+round*100+i).PersonalNumber)
		}
		var rows atomic.Int32
		imp := &cases.Service{Pool: s.pool, Temporal: s.temporal, TaskQueue: queue, Programmes: progs, Keys: testenv.Keyring(t)}
		imp.Hooks.AfterRow = func(context.Context, string) error {
			if rows.Add(1) == 10 {
				if srv == "postgres" {
					s.killPostgres()
				} else {
					s.killTemporal()
				}
			}
			return nil
		}
		ictx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		sum, err := starter.Import(ictx, imp, strings.NewReader(csv.String()), starter.ImportOptions{Concurrency: 8, StaffID: "test"})
		cancel()
		t.Logf("import with %s killed: started %d, failed %d (%v)", srv, sum.Started, len(sum.Failed), err)
		if srv == "postgres" {
			s.startPostgres()
		} else {
			s.startTemporal()
		}
		s.waitReady(100 + round)
		reconcile()
		// Re-running the file starts only what never got a row.
		sum, err = starter.Import(ctx, svc, strings.NewReader(csv.String()), starter.ImportOptions{Concurrency: 8, StaffID: "test"})
		if err != nil || len(sum.Failed) > 0 || sum.Started+sum.AlreadyStarted != 40 {
			t.Fatalf("re-run after the %s kill: %v %+v", srv, err, sum)
		}
		reconcile()
		total += 40
		s.assertAgree(ctx, total)
	}
}

// assertAgree checks the registry against Temporal: each row's workflow
// exists, each pathway workflow has a row, and there are want of each.
func (s *servers) assertAgree(ctx context.Context, want int) {
	t := s.t
	t.Helper()
	rows, err := s.pool.Query(ctx, `SELECT case_id, start_pending IS NOT NULL FROM pathways`)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{}
	for rows.Next() {
		var id string
		var pending bool
		if err := rows.Scan(&id, &pending); err != nil {
			t.Fatal(err)
		}
		cases[id] = true
		if pending {
			t.Errorf("case %s is still pending after reconciliation", id)
		}
	}
	rows.Close()
	if len(cases) != want {
		t.Errorf("%d registry rows, want %d", len(cases), want)
	}
	for id := range cases {
		if _, err := s.temporal.DescribeWorkflowExecution(ctx, pathway.WorkflowID(id), ""); err != nil {
			t.Errorf("case %s has no workflow: %v", id, err)
		}
	}
	// Every pathway workflow on the server has its row (visibility lags a little).
	var ids []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		ids = ids[:0]
		var token []byte
		for {
			resp, err := s.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: "default", Query: fmt.Sprintf("WorkflowType = '%s'", pathway.WorkflowName), NextPageToken: token})
			if err != nil {
				var unavailable *serviceerror.Unavailable
				if errors.As(err, &unavailable) && time.Now().Before(deadline) {
					time.Sleep(300 * time.Millisecond)
					continue
				}
				t.Fatal(err)
			}
			for _, e := range resp.Executions {
				ids = append(ids, e.Execution.WorkflowId)
			}
			if token = resp.NextPageToken; len(token) == 0 {
				break
			}
		}
		if len(ids) >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if len(ids) != want {
		t.Errorf("Temporal holds %d pathway workflows, want %d", len(ids), want)
	}
	for _, id := range ids {
		if !cases[strings.TrimPrefix(id, "pathway-")] {
			t.Errorf("workflow %s has no registry row", id)
		}
	}
}

// referral is the i-th of distinct valid referrals to Angered, ages 30–40.
func referral(i int) cases.Referral {
	nine := fmt.Sprintf("880305%03d", 100+i)
	return cases.Referral{PersonalNumber: "19880305-" + nine[6:] + string(identity.CheckDigit(nine)), GivenName: "Test", FamilyName: "Person",
		District: "Angered", Source: pathway.SourceSocialServices, Consent: true, Via: "test", StaffID: "test"}
}
