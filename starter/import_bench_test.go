package starter

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/store"
)

const emptyWorkflow = "BenchEmpty"

func benchEmpty(workflow.Context) error { return nil }

// BenchmarkImport measures, in one run against the same dev server, the
// engine's floor (empty workflows started by 64 concurrent starters and run
// by a worker), before and after an 8,000-row import through Import with
// its defaults, whose pathways a deployed worker (config's slots, pollers
// and cache) runs. Both sides are timed from the first start until the last
// workflow has run its first task: the floor until every empty workflow has
// completed, the import until every imported pathway's first task (first
// contact) is in the read model. Starts the server accepts but no worker
// has run are a queue, not speed, so the floor's bare acceptance rate is
// printed beside it but is not the goal's floor. The two floors bracket the
// import, so load from others on a shared machine weighs on both sides. It
// also prints the projection lag: how long after the import ends the last
// first task appears. It fails only when the import or the read model is
// wrong, never on speed.
func BenchmarkImport(b *testing.B) {
	const floorStarts, floorStarters, rows = 2000, 64, 8000
	pool, url := testenv.Database(b)
	ts := testsystem.New(b, testsystem.Options{Pool: pool, DeployedWorker: true, Register: func(w sdkworker.Worker, _ *testsystem.System) {
		w.RegisterWorkflowWithOptions(benchEmpty, workflow.RegisterOptions{Name: emptyWorkflow})
	}})
	ctx := context.Background()
	// The import has its own pool of the deployment's default size, as the
	// CLI and the API do; the worker keeps the test's.
	importPool, err := store.Open(ctx, url, ts.Config.Database.MaxConns)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(importPool.Close)
	svc := ts.Cases(0)
	svc.Pool = importPool
	// The deployed worker also finishes starts left pending (worker.Run).
	rctx, stopReconciler := context.WithCancel(ctx)
	b.Cleanup(stopReconciler)
	go (&cases.Service{Pool: pool, Temporal: ts.Temporal, TaskQueue: ts.TaskQueue}).RunReconciler(rctx, 30*time.Second, time.Minute, zap.NewNop())

	for n := 0; n < b.N; n++ {
		acceptedBefore, floorBefore := floorRate(b, ts, floorStarts, floorStarters, fmt.Sprint(n, "a"))
		before := firstContactTasks(b, pool)
		file := csvFile(rows, 40_000+n*rows)
		sum, err := Import(ctx, svc, strings.NewReader(file), ImportOptions{})
		ended := time.Now()
		if err != nil || sum.Started != rows || len(sum.Bad) != 0 || len(sum.Failed) != 0 {
			b.Fatalf("import: %v: started %d of %d, %d bad, %d failed", err, sum.Started, rows, len(sum.Bad), len(sum.Failed))
		}
		// The read model: every imported pathway's first-contact task.
		var lag time.Duration
		for deadline := ended.Add(15 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
			got := firstContactTasks(b, pool) - before
			if got >= rows {
				lag = time.Since(ended)
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("15 minutes after the import, %d of %d first-contact tasks in the read model", got, rows)
			}
		}
		var pending int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pathways WHERE start_pending IS NOT NULL`).Scan(&pending); err != nil {
			b.Fatal(err)
		}
		if pending != 0 {
			b.Errorf("%d imported pathways still wait for their start to be confirmed", pending)
		}
		acceptedAfter, floorAfter := floorRate(b, ts, floorStarts, floorStarters, fmt.Sprint(n, "b"))
		floor := (floorBefore + floorAfter) / 2
		running := float64(rows) / (sum.Took + lag).Seconds()
		ratio := running / floor
		b.ReportMetric(running, "rows/s")
		b.ReportMetric(floor, "floor-starts/s")
		b.ReportMetric(lag.Seconds(), "lag-s")
		fmt.Printf("import %d rows: %.0f rows/s accepted in %s, %.0f running pathways/s until the last first task; "+
			"floor (empty workflow, %d starters, %d starts): %.0f/%.0f run/s before/after (%.0f/%.0f accepted/s)\n",
			rows, sum.RatePerSecond, sum.Took.Round(time.Millisecond), running, floorStarters, floorStarts, floorBefore, floorAfter, acceptedBefore, acceptedAfter)
		fmt.Printf("ratio import_starts: %.2f (goal >= 0.8)\n", ratio)
		fmt.Printf("ratio projection_lag_%d: %.1f s (goal <= 10 s)\n", rows, lag.Seconds())
	}
}

// floorRate starts n empty workflows from the given number of goroutines
// and returns starts per second as the server accepted them and as the
// worker ran them (until the last completed); it returns once the worker
// has run them all, so the import after it starts on an idle server.
func floorRate(b *testing.B, ts *testsystem.System, n, starters int, round string) (accepted, run float64) {
	ctx := context.Background()
	var next atomic.Int64
	var failed atomic.Value
	runs := make([]client.WorkflowRun, n)
	var wg sync.WaitGroup
	t0 := time.Now()
	for g := 0; g < starters; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				run, err := ts.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
					ID: fmt.Sprintf("bench-empty-%s-%s-%d", ts.TaskQueue, round, i), TaskQueue: ts.TaskQueue}, emptyWorkflow)
				if err != nil {
					failed.Store(err)
					return
				}
				runs[i] = run
			}
		}()
	}
	wg.Wait()
	took := time.Since(t0)
	if err, _ := failed.Load().(error); err != nil {
		b.Fatalf("floor: %v", err)
	}
	next.Store(0)
	for g := 0; g < starters; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := runs[i].Get(ctx, nil); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatalf("floor: %v", err)
	}
	return float64(n) / took.Seconds(), float64(n) / time.Since(t0).Seconds()
}

func firstContactTasks(b *testing.B, pool *pgxpool.Pool) int {
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM tasks WHERE kind = 'first_contact'`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}
