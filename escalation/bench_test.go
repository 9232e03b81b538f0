package escalation_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/escalation"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/store"
)

const benchPathways = 100_000

// BenchmarkSweepFind100k times the sweep's stall query (every default rule,
// with each stall's current escalation) and the whole find step (query,
// ladder decision, COPY of the stall list) over 100,000 open pathways.
func BenchmarkSweepFind100k(b *testing.B) {
	ctx := context.Background()
	pool, _ := testenv.Database(b)
	now := time.Now()
	loadPathways(b, ctx, pool, benchPathways, now)

	acts := &escalation.Activities{Store: escalation.PG{Pool: pool}}
	rules := escalation.DefaultRules()
	var qs []store.StallQuery
	for _, r := range rules {
		qs = append(qs, store.StallQuery{Rule: r.Name, Cutoff: r.Cutoff(now)})
	}
	if testing.Verbose() {
		explain(b, ctx, pool, qs)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		rows := 0
		if err := store.FindStalls(ctx, pool, qs, store.StallScope{}, func(store.StallRow) error { rows++; return nil }); err != nil {
			b.Fatal(err)
		}
		query := time.Since(start)

		id := fmt.Sprintf("bench-%d", i)
		if err := acts.BeginSweep(ctx, escalation.BeginInput{SweepID: id, Kind: "scheduled", Now: now}); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		res, err := acts.FindStalled(ctx, escalation.FindInput{SweepID: id, Now: now, Rules: rules})
		if err != nil {
			b.Fatal(err)
		}
		find := time.Since(start)
		b.ReportMetric(float64(query.Milliseconds()), "query-ms")
		b.ReportMetric(float64(find.Milliseconds()), "find-ms")
		b.ReportMetric(float64(res.Stalled), "stalled-cases")
		fmt.Printf("sweep over %d open pathways: stall query %v (%d stalls), find step %v (%d stalled cases, %d to escalate, %d waiting)\n",
			benchPathways, query.Round(time.Millisecond), rows, find.Round(time.Millisecond), res.Stalled, res.ToEscalate, res.Waiting)
	}
}

// loadPathways bulk-inserts n open pathways with COPY, spread over phases
// and deadlines, plus follow-up tasks and some escalations in progress.
func loadPathways(tb testing.TB, ctx context.Context, pool *pgxpool.Pool, n int, now time.Time) {
	tb.Helper()
	if err := store.SeedDemo(ctx, pool); err != nil {
		tb.Fatal(err)
	}
	centres, err := store.ListCentres(ctx, pool)
	if err != nil || len(centres) == 0 {
		tb.Fatalf("centres: %v", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	day := 24 * time.Hour
	around := func(spread int) time.Time { return now.Add(time.Duration(rng.IntN(2*spread+1)-spread) * day) }

	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = uuid.New()
	}
	copyRows(tb, ctx, pool, "participants", []string{"id", "personal_number", "given_name", "family_name", "district", "birth_date"}, n,
		func(i int) []any {
			return []any{ids[i], fmt.Sprintf("bench-%07d", i), "Bench", "Person", "Angered", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)}
		})
	type task struct {
		key, caseID, kind, role string
		due                     time.Time
	}
	var tasks []task
	var escs []store.EscalationRow
	copyRows(tb, ctx, pool, "pathways", []string{"case_id", "participant_id", "centre_id", "workflow_id", "programme", "track",
		"status", "phase", "current_step", "referral_source", "referred_at", "first_contact_due", "mapping_due", "time_limit_at",
		"days_left", "last_progress_at", "step_end_at", "outcome"}, n,
		func(i int) []any {
			caseID := fmt.Sprintf("B-%07d", i)
			var phase, step string
			var fc, md, se *time.Time
			var outcome []byte
			switch p := i % 100; {
			case p < 10:
				phase, fc = "referral", ptr(around(5))
			case p < 25:
				phase, md = "mapping", ptr(around(20))
			case p < 35:
				phase = "planning"
			case p < 80:
				phase, step, se = "steps", "s1", ptr(around(60))
			case p < 90:
				phase, outcome = "follow_up", []byte(`{"kind":"work"}`)
				tasks = append(tasks, task{caseID + ":follow_up:30", caseID, "follow_up", "job_coach", around(10)})
			default:
				phase = "awaiting_outcome"
			}
			limit := now.Add(time.Duration(rng.IntN(540)) * day)
			progress := now.Add(-time.Duration(rng.IntN(40)) * day)
			if i%20 == 0 { // an escalation in progress, its task overdue
				key := escalation.TaskKey(caseID, escalation.RuleNoProgress, 1)
				progress = now.Add(-45 * day)
				escs = append(escs, store.EscalationRow{CaseID: caseID, CentreID: centres[i%len(centres)].ID, Rule: escalation.RuleNoProgress,
					Level: 1, Role: "job_coach", Reason: "bench", At: now.Add(-3 * day), SweepID: "seed", TaskKey: key})
				due := now.Add(-day) // ignored: climbs
				if i%40 == 0 {
					due = now.Add(day) // not yet due: waits
				}
				tasks = append(tasks, task{key, caseID, "escalation", "job_coach", due})
			}
			return []any{caseID, ids[i], centres[i%len(centres)].ID, "pathway-" + caseID, "standard", "adult", "active", phase, step,
				"social_services", now.Add(-30 * day), fc, md, limit, int(limit.Sub(now) / day), progress, se, outcome}
		})
	copyRows(tb, ctx, pool, "tasks", []string{"task_key", "case_id", "kind", "title", "role", "due_at"}, len(tasks),
		func(i int) []any {
			t := tasks[i]
			return []any{t.key, t.caseID, t.kind, t.kind, t.role, t.due}
		})
	copyRows(tb, ctx, pool, "escalations", []string{"case_id", "centre_id", "rule", "level", "role", "reason", "at", "sweep_id", "task_key"}, len(escs),
		func(i int) []any {
			e := escs[i]
			return []any{e.CaseID, e.CentreID, e.Rule, e.Level, e.Role, e.Reason, e.At, e.SweepID, e.TaskKey}
		})
	if _, err := pool.Exec(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
}

func copyRows(tb testing.TB, ctx context.Context, pool *pgxpool.Pool, table string, cols []string, n int, row func(int) []any) {
	tb.Helper()
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil })); err != nil {
		tb.Fatalf("copy %s: %v", table, err)
	}
}

func ptr[T any](v T) *T { return &v }

// explain logs the stall query's plan, to check that every rule uses its index.
func explain(tb testing.TB, ctx context.Context, pool *pgxpool.Pool, qs []store.StallQuery) {
	for _, q := range qs {
		var rows int
		start := time.Now()
		_ = store.FindStalls(ctx, pool, []store.StallQuery{q}, store.StallScope{}, func(store.StallRow) error { rows++; return nil })
		tb.Logf("rule %-18s %6d stalls in %v", q.Rule, rows, time.Since(start).Round(time.Millisecond))
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback(ctx)
	// Log the plan of the whole query via auto_explain-like EXPLAIN of the same text.
	var plan []string
	err = store.ExplainStalls(ctx, tx, qs, func(line string) { plan = append(plan, line) })
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range plan {
		tb.Log(l)
	}
}
