package store_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/store"
)

// BenchmarkCaseload100k bulk-loads 100,000 pathways and their tasks with
// COPY and prints the p95 of every list staff use (goal <= 50 ms).
// CASELOAD_EXPLAIN=<file> appends each list's plans (EXPLAIN ANALYZE) to
// the file, to check its indexes.
func BenchmarkCaseload100k(b *testing.B) {
	ctx := context.Background()
	pool, dbURL := testenv.Database(b)
	if err := store.SeedDemo(ctx, pool); err != nil {
		b.Fatal(err)
	}
	const n = 100_000
	centres := []string{"gbg-hisingen", "gbg-centrum-vaster", "gbg-oster", "gbg-angered", "thn-framtidscentrum", "thn-jobbcentrum"}
	phases := []string{"referral", "mapping", "planning", "steps", "awaiting_outcome", "follow_up", "closed"}
	now := time.Now()
	ids := make([]uuid.UUID, n)
	people := make([][]any, n)
	for i := range ids {
		ids[i] = uuid.New()
		people[i] = []any{ids[i], fmt.Sprintf("p%07d", i), "Given", "Family", "District", now.AddDate(-30, 0, 0), i%500 == 0}
	}
	// The name search's blind index: 2,000 family names, each shared by 50
	// people (the search confirms candidates on the decrypted page; here
	// the index alone is measured).
	keys, err := keyring.Generate("bench").Ring()
	if err != nil {
		b.Fatal(err)
	}
	var tokens [][]any
	for i, id := range ids {
		for _, tok := range store.NameTokens(keys, fmt.Sprintf("Efternamn%04d", i%2000)) {
			tokens = append(tokens, []any{tok, id})
		}
	}
	t0 := time.Now()
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"participants"}, []string{"id", "personal_number", "given_name", "family_name", "district", "birth_date", "protected_identity"}, pgx.CopyFromRows(people)); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"participant_name_tokens"}, []string{"token", "participant_id"}, pgx.CopyFromRows(tokens)); err != nil {
		b.Fatal(err)
	}
	searchName, err := store.NameSearchTokens(keys, "efternamn0042")
	if err != nil {
		b.Fatal(err)
	}
	rows := make([][]any, n)
	for i := range rows {
		ph := phases[i%len(phases)]
		status := "active"
		if ph == "closed" {
			status = "closed"
		}
		due := now.Add(time.Duration(i%200-100) * time.Hour)
		rows[i] = []any{fmt.Sprintf("2026-B%07d", i), ids[i], centres[i%len(centres)], fmt.Sprintf("pathway-2026-B%07d", i), "adult", "adult",
			status, ph, "social_services", now, due, due, now.Add(-time.Duration(i%1000) * time.Hour), fmt.Sprintf("coach.%d", i%50)}
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"pathways"}, []string{"case_id", "participant_id", "centre_id", "workflow_id", "programme", "track",
		"status", "phase", "referral_source", "referred_at", "first_contact_due", "mapping_due", "last_progress_at", "assignee"}, pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	// One open task per active pathway (due around now, every fifth
	// unassigned) and one done task per pathway: the inbox and the open-task
	// count read real rows.
	var tasks [][]any
	for i := range rows {
		due := now.Add(time.Duration(i%300-150) * time.Hour)
		tasks = append(tasks, []any{fmt.Sprintf("2026-B%07d:contact:done", i), fmt.Sprintf("2026-B%07d", i), "first_contact", "First contact",
			"job_coach", fmt.Sprintf("coach.%d", i%50), due, "done"})
		if phases[i%len(phases)] == "closed" {
			continue
		}
		assignee := fmt.Sprintf("coach.%d", i%50)
		if i%5 == 0 {
			assignee = ""
		}
		tasks = append(tasks, []any{fmt.Sprintf("2026-B%07d:review:open", i), fmt.Sprintf("2026-B%07d", i), "review", "Review",
			[]string{"job_coach", "case_officer"}[i%2], assignee, due, "open"})
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"tasks"}, []string{"task_key", "case_id", "kind", "title", "role", "assignee", "due_at", "status"},
		pgx.CopyFromRows(tasks)); err != nil {
		b.Fatal(err)
	}
	// Vacuumed as autovacuum keeps a live database: index-only scans need
	// the visibility map.
	for _, sql := range []string{"VACUUM ANALYZE", "VACUUM"} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d pathways and %d tasks with COPY in %s", n, len(tasks), time.Since(t0).Round(time.Millisecond))

	v := store.Viewer{StaffID: "coach.hisingen", CentreID: "gbg-hisingen"}
	mine := store.Viewer{StaffID: "coach.7", CentreID: "gbg-centrum-vaster"}
	admin := store.Viewer{StaffID: "admin", AllCentres: true}
	// deepAfter walks the default caseload to offset 10,000 once and returns
	// the cursor of the row before it, so the keyset page starts where the
	// deep offset page does.
	deepAfter := func(b *testing.B) string {
		f := store.PathwayFilter{Limit: 500}
		for skipped := 0; skipped < 10_000; skipped += 500 {
			page, err := store.ListVisiblePathways(ctx, pool, v, f)
			if err != nil || page.Next == "" {
				b.Fatalf("walking the caseload at %d: %v", skipped, err)
			}
			f.After = page.Next
		}
		return f.After
	}
	// taskDeepAfter does the same for the centre's task inbox at 5,000.
	inboxDeep := store.TaskFilter{CentreIDs: []string{"gbg-hisingen"}, Limit: 50, Viewer: &v}
	taskDeepAfter := func(b *testing.B) string {
		f := inboxDeep
		f.Limit = 500
		for skipped := 0; skipped < 5_000; skipped += 500 {
			page, err := store.ListTasks(ctx, pool, f)
			if err != nil || page.Next == "" {
				b.Fatalf("walking the inbox at %d: %v", skipped, err)
			}
			f.After = page.Next
		}
		return f.After
	}
	lists := []struct {
		name string
		run  func(*pgxpool.Pool) (int, error)
	}{
		{"centre-default", pathways(ctx, v, store.PathwayFilter{Status: "active"})},
		{"centre-overdue", pathways(ctx, v, store.PathwayFilter{Overdue: true})},
		{"centre-stalled", pathways(ctx, v, store.PathwayFilter{StalledDays: 30})},
		{"all-centres-phase", pathways(ctx, admin, store.PathwayFilter{Phase: "mapping", Sort: "-started_at"})},
		{"all-centres-overdue", pathways(ctx, admin, store.PathwayFilter{Overdue: true})},
		{"assignee", pathways(ctx, store.Viewer{StaffID: "coach.7", AllCentres: true}, store.PathwayFilter{Assignee: "coach.7"})},
		{"my-cases", pathways(ctx, mine, store.PathwayFilter{Assignee: "coach.7", Status: "active"})},
		{"deep-page", pathways(ctx, v, store.PathwayFilter{Offset: 10_000, Limit: 50})},
		{"deep-page-after", nil},
		{"task-inbox-role", taskList(ctx, store.TaskFilter{CentreIDs: []string{"gbg-hisingen"}, Role: "job_coach", Limit: 200, Viewer: &v})},
		{"task-inbox-mine", taskList(ctx, store.TaskFilter{CentreIDs: []string{"gbg-centrum-vaster"}, Assignee: "coach.7", Limit: 200, Viewer: &mine})},
		{"task-inbox-all-centres", taskList(ctx, store.TaskFilter{Limit: 50, Viewer: &admin})},
		{"task-inbox-deep", taskList(ctx, store.TaskFilter{CentreIDs: []string{"gbg-hisingen"}, Offset: 5_000, Limit: 50, Viewer: &v})},
		{"task-inbox-deep-after", nil},
		// Find the person: a family name across all centres and within one
		// (its 50 people spread over the centres), an identity number.
		{"search-name-all-centres", pathways(ctx, admin, store.PathwayFilter{NameTokens: searchName})},
		{"search-name-centre", pathways(ctx, store.Viewer{StaffID: "coach.hisingen", CentreID: centres[42%len(centres)]}, store.PathwayFilter{NameTokens: searchName})},
		{"search-number", pathways(ctx, admin, store.PathwayFilter{ParticipantIDs: []string{ids[4242].String()}})},
	}
	worst, worstName := time.Duration(0), ""
	for _, c := range lists {
		b.Run(c.name, func(b *testing.B) {
			run := c.run
			switch c.name {
			case "deep-page-after":
				run = pathways(ctx, v, store.PathwayFilter{After: deepAfter(b), Limit: 50})
			case "task-inbox-deep-after":
				f := inboxDeep
				f.After = taskDeepAfter(b)
				run = taskList(ctx, f)
			}
			if out := os.Getenv("CASELOAD_EXPLAIN"); out != "" {
				explain(ctx, b, dbURL, out, run)
			}
			const samples = 60
			for i := 0; i < b.N; i++ {
				took := make([]time.Duration, 0, samples)
				for j := 0; j < samples; j++ {
					t := time.Now()
					items, err := run(pool)
					took = append(took, time.Since(t))
					if err != nil {
						b.Fatal(err)
					}
					if items == 0 {
						b.Fatal("empty list")
					}
				}
				slices.Sort(took)
				p95 := took[len(took)*95/100-1]
				fmt.Printf("caseload %s p95: %.1f ms (goal <= 50 ms)\n", c.name, float64(p95.Microseconds())/1000)
				if p95 > worst {
					worst, worstName = p95, c.name
				}
				b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
			}
		})
	}
	// The goal holds for every list: the slowest one is the figure.
	fmt.Printf("caseload slowest list: %s\n", worstName)
	fmt.Printf("ratio caseload_p95_worst: %.1f ms (goal <= 50 ms)\n", float64(worst.Microseconds())/1000)
}

func pathways(ctx context.Context, v store.Viewer, f store.PathwayFilter) func(*pgxpool.Pool) (int, error) {
	return func(pool *pgxpool.Pool) (int, error) {
		page, err := store.ListVisiblePathways(ctx, pool, v, f)
		return len(page.Items), err
	}
}

func taskList(ctx context.Context, f store.TaskFilter) func(*pgxpool.Pool) (int, error) {
	return func(pool *pgxpool.Pool) (int, error) {
		page, err := store.ListTasks(ctx, pool, f)
		return len(page.Items), err
	}
}

// sqlRecorder keeps the queries a list runs, for EXPLAIN.
type sqlRecorder struct{ queries []pgx.QueuedQuery }

func (r *sqlRecorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.queries = append(r.queries, pgx.QueuedQuery{SQL: d.SQL, Arguments: d.Args})
	return ctx
}

func (r *sqlRecorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// explain appends EXPLAIN ANALYZE of every query one run of a list makes
// to the file CASELOAD_EXPLAIN names, to check its indexes.
func explain(ctx context.Context, b *testing.B, dbURL, out string, run func(*pgxpool.Pool) (int, error)) {
	file, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer file.Close()
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		b.Fatal(err)
	}
	rec := &sqlRecorder{}
	cfg.ConnConfig.Tracer = rec
	traced, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer traced.Close()
	if _, err := run(traced); err != nil {
		b.Fatal(err)
	}
	for _, q := range rec.queries {
		fmt.Fprintf(file, "--- %s\n%s\n", b.Name(), q.SQL)
		rows, err := traced.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q.SQL, q.Arguments...)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var line string
			_ = rows.Scan(&line)
			fmt.Fprintln(file, line)
		}
		rows.Close()
	}
}
