package scenarios

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/devenv"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/internal/testsystem"
)

// BenchmarkWorkerRSS10k runs the real worker (`pathways worker`, a process
// of its own with the configured worker.* keys; PATHWAYS_WORKER_* to try
// others) and starts PATHWAYS_BENCH_PATHWAYS (default 10,000) pathways
// through the case service, 32 at a time. Once every pathway has run its
// first workflow task (its first-contact task is in the read model), all
// are open and waiting for first contact (a programme day is an hour here);
// then it prints the worker's resident memory (goal <= 500 MB).
func BenchmarkWorkerRSS10k(b *testing.B) {
	n := 10_000
	if v := os.Getenv("PATHWAYS_BENCH_PATHWAYS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("PATHWAYS_BENCH_PATHWAYS=%q: want a positive number", v)
		}
	}
	for i := 0; i < b.N; i++ {
		workerRSS(b, n)
	}
}

func workerRSS(b *testing.B, n int) {
	ctx := context.Background()
	bin := buildPathways(b)
	pool, dbURL := testenv.Database(b)
	ts := testsystem.New(b, testsystem.Options{NoWorker: true, Pool: pool})
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..")

	cmd := exec.Command(bin, "worker", "--log-level", "warn")
	cmd.Dir = root
	env := map[string]string{
		"database.url": dbURL, "temporal.address": testenv.TemporalAddress(b), "temporal.task_queue": ts.TaskQueue,
		"programmes.dir": filepath.Join(root, "programmes", "definitions"), "smtp.addr": ts.Config.SMTP.Addr,
		"systems.education_url": ts.Config.Systems.Education, "systems.employment_url": ts.Config.Systems.Employment,
		"systems.jobsearch_url": ts.Config.Systems.JobSearch, "systems.employers_url": ts.Config.Systems.Employers,
		"systems.social_services_url": ts.Config.Systems.SocialServices,
	}
	cmd.Env = os.Environ() // the test's keys (PATHWAYS_CRYPTO_KEYS) and any PATHWAYS_WORKER_*
	for k, v := range env {
		cmd.Env = append(cmd.Env, config.EnvName(k)+"="+v)
	}
	logf, err := os.Create(filepath.Join(b.TempDir(), "worker.log"))
	if err != nil {
		b.Fatal(err)
	}
	proc, err := devenv.Spawn("worker", cmd, logf, syscall.SIGTERM, 40*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = proc.Stop(); _ = logf.Close() })
	cache := ts.Config.Worker.StickyCacheSize // the worker reads the same config and environment
	time.Sleep(2 * time.Second)
	idle := vmRSS(b, proc.Pid(), "VmRSS")

	// Ten-digit numbers born 1980–1999, unique for up to 100,000 people.
	svc := ts.Cases(3600)
	t0 := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for i := range n {
		g.Go(func() error {
			nine := fmt.Sprintf("%02d%02d%02d%03d", 80+i/5000%20, 1+i/500%10, 1+i/20%25, 100+i%20*40+i/100000)
			pnr := "19" + nine[:6] + "-" + nine[6:] + string(identity.CheckDigit(nine))
			if _, err := svc.Start(gctx, referral(pnr)); err != nil {
				return fmt.Errorf("start %d (%s): %w", i, pnr, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	startTook := time.Since(t0)
	b.Logf("%d pathways started in %s (%.0f/s)", n, startTook.Round(time.Second), float64(n)/startTook.Seconds())

	// Each pathway's first workflow task opens its first-contact task.
	projected, last, lastChange := 0, -1, time.Now()
	for {
		select {
		case <-proc.Done():
			b.Fatalf("the worker exited: %v (log %s)", proc.Err(), logf.Name())
		default:
		}
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM tasks WHERE kind = 'first_contact' AND status = 'open'`).Scan(&projected); err != nil {
			b.Fatal(err)
		}
		if projected >= n {
			break
		}
		if projected != last {
			last, lastChange = projected, time.Now()
		}
		if time.Since(lastChange) > 2*time.Minute {
			b.Fatalf("%d of %d first tasks projected; none more for 2 minutes (log %s)", projected, n, logf.Name())
		}
		time.Sleep(500 * time.Millisecond)
	}
	openTook := time.Since(t0)
	// The worker at rest with every pathway open: the largest of a few
	// readings over 10 s (the Go runtime returns freed memory slowly).
	rss := 0
	for range 5 {
		time.Sleep(2 * time.Second)
		rss = max(rss, vmRSS(b, proc.Pid(), "VmRSS"))
	}
	peak := vmRSS(b, proc.Pid(), "VmHWM")
	b.ReportMetric(float64(rss), "rss-MB")
	b.ReportMetric(float64(peak), "peak-rss-MB")
	b.Logf("worker: sticky cache %d, %d workflow slots, %d activity slots, %d workflow pollers", cache, ts.Config.Worker.WorkflowSlots,
		ts.Config.Worker.ActivitySlots, ts.Config.Worker.WorkflowPollers)
	b.Logf("worker RSS idle %d MB; with %d open pathways %d MB (%.0f KB each above idle), peak %d MB; all open after %s",
		idle, n, rss, float64(rss-idle)*1024/float64(n), peak, openTook.Round(time.Second))
	fmt.Printf("worker sticky_cache_size: %d\n", cache)
	name := "10k"
	if n != 10_000 {
		name = strconv.Itoa(n)
	}
	fmt.Printf("ratio worker_rss_%s: %d MB (goal <= 500 MB)\n", name, rss)
}

// vmRSS reads a memory figure (VmRSS, VmHWM) of a process, in MB.
func vmRSS(b *testing.B, pid int, field string) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			kb, err := strconv.Atoi(f[1])
			if err != nil {
				b.Fatalf("%s in /proc/%d/status: %v", field, pid, err)
			}
			return kb / 1024
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
