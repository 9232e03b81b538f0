package loadtest

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// progress prints a line every cfg.Progress: where the simulated day is, the
// achieved rate against the scheduled one, the lag behind schedule.
func (r *runner) progress(begin time.Time, day Schedule, stop chan struct{}) {
	t := time.NewTicker(r.cfg.Progress)
	defer t.Stop()
	last := begin
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			sim := min(time.Duration(float64(now.Sub(begin))*r.cfg.Speed), durOr(r.cfg.Duration, DayLen))
			from := time.Duration(float64(last.Sub(begin)) * r.cfg.Speed)
			due := 0
			for _, e := range day.Events {
				if e.At >= from && e.At < sim {
					due++
				}
			}
			r.mu.Lock()
			w := r.window
			r.window.sent, r.window.lags = 0, nil
			sent, errs := r.rep.Sent, r.rep.ErrorCount()
			r.mu.Unlock()
			slices.Sort(w.lags)
			secs := now.Sub(last).Seconds()
			la := loadavg()
			var l1 float64
			fmt.Sscan(la, &l1)
			r.mu.Lock()
			r.rep.LoadMax = math.Max(r.rep.LoadMax, l1)
			r.mu.Unlock()
			fmt.Fprintf(r.out, "loadtest: %s simulated, %d/%d sent, %.1f/s (scheduled %.1f/s), lag p95 %s, in flight %d, errors %d, load %s\n",
				Clock(sim), sent, len(day.Events), float64(w.sent)/secs, float64(due)/secs, pct(w.lags, 95).Round(time.Millisecond),
				r.inflight.Load(), errs, la)
			last = now
		}
	}
}

func (r *runner) summary() {
	rep, w := r.rep, r.out
	fmt.Fprintf(w, "\nloadtest: summary\n")
	fmt.Fprintf(w, "  %-14s %6s %6s %7s %7s %9s %9s %9s\n", "kind", "sent", "ok", "pending", "retried", "p50", "p95", "p99")
	writes, reads := 0, 0
	for _, k := range Kinds {
		kr := rep.Kinds[k]
		if kr.Count == 0 && rep.Skipped[k] == 0 {
			continue
		}
		slices.Sort(kr.Latency)
		fmt.Fprintf(w, "  %-14s %6d %6d %7d %7d %9s %9s %9s", k, kr.Count, kr.OK, kr.Pending, kr.Retried,
			pct(kr.Latency, 50).Round(time.Millisecond), pct(kr.Latency, 95).Round(time.Millisecond), pct(kr.Latency, 99).Round(time.Millisecond))
		if n := rep.Skipped[k]; n > 0 {
			fmt.Fprintf(w, "  (%d not sent: no pathway in that state)", n)
		}
		fmt.Fprintln(w)
		if k.Write() {
			writes += kr.Count
		} else {
			reads += kr.Count
		}
	}
	secs := rep.Elapsed.Seconds()
	fmt.Fprintf(w, "  requests: %d scheduled, %d sent (%d staff actions, %d reads) in %s; achieved %.2f/s against %.2f/s scheduled\n",
		rep.Scheduled, rep.Sent, writes, reads, rep.Elapsed.Round(time.Second), float64(rep.Sent)/secs, float64(rep.Scheduled)/rep.Wall.Seconds())
	fmt.Fprintf(w, "  lag behind schedule: p50 %s, p99 %s, max %s\n", rep.LagP50.Round(time.Millisecond), rep.LagP99.Round(time.Millisecond), rep.LagMax.Round(time.Millisecond))
	if len(rep.Errors) == 0 {
		fmt.Fprintf(w, "  errors: 0\n")
	} else {
		var es []string
		for k, n := range rep.Errors {
			es = append(es, fmt.Sprintf("%s: %d", k, n))
		}
		slices.Sort(es)
		fmt.Fprintf(w, "  errors: %d (%s)\n", rep.ErrorCount(), strings.Join(es, ", "))
	}
	fmt.Fprintf(w, "  working set: %d pathways in %s\n", rep.Prepared, rep.PrepTook.Round(time.Second))
	if rep.HaveSizes {
		names := []string{"temporal", "temporal_visibility", "pathways"}
		var parts []string
		for i, n := range names {
			grow := rep.Sizes[2][i] - rep.Sizes[1][i]
			per := ""
			if writes > 0 {
				per = fmt.Sprintf(", %.1f KB a staff action", float64(grow)/float64(writes)/1024)
			}
			parts = append(parts, fmt.Sprintf("%s %s → %s (%+.1f MB%s)", n, mb(rep.Sizes[1][i]), mb(rep.Sizes[2][i]), float64(grow)/(1<<20), per))
		}
		fmt.Fprintf(w, "  database sizes over the day: %s\n", strings.Join(parts, "; "))
		var prep []string
		for i, n := range names {
			grow := rep.Sizes[1][i] - rep.Sizes[0][i]
			if rep.Prepared > 0 {
				prep = append(prep, fmt.Sprintf("%s %.1f KB", n, float64(grow)/float64(rep.Prepared)/1024))
			}
		}
		fmt.Fprintf(w, "  growth per working-set pathway (start and up to 3 actions): %s\n", strings.Join(prep, ", "))
	}
	fmt.Fprintf(w, "  machine load (1, 5, 15 min): before %s, after %s, highest 1-min seen %.1f\n", rep.LoadBefore, rep.LoadAfter, rep.LoadMax)
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// sizes reads the three databases' sizes after a checkpoint.
func sizes(ctx context.Context, db *pgxpool.Pool) ([3]int64, error) {
	var s [3]int64
	if _, err := db.Exec(ctx, "CHECKPOINT"); err != nil {
		return s, err
	}
	err := db.QueryRow(ctx, `SELECT coalesce(pg_database_size(nullif((SELECT datname FROM pg_database WHERE datname = 'temporal'), '')), 0),
		coalesce(pg_database_size(nullif((SELECT datname FROM pg_database WHERE datname = 'temporal_visibility'), '')), 0),
		pg_database_size(current_database())`).Scan(&s[0], &s[1], &s[2])
	return s, err
}

// loadavg is the machine's load average (1, 5, 15 minutes), Linux only.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
