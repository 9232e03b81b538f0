package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/store"
)

// BenchmarkCaseload100k bulk-loads 100,000 pathways with COPY, prints the
// plan of a centre's default caseload page, and times the query.
func BenchmarkCaseload100k(b *testing.B) {
	ctx := context.Background()
	pool, _ := testenv.Database(b)
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
	t0 := time.Now()
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"participants"}, []string{"id", "personal_number", "given_name", "family_name", "district", "birth_date", "protected_identity"}, pgx.CopyFromRows(people)); err != nil {
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
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d pathways with COPY in %s", n, time.Since(t0).Round(time.Millisecond))

	v := store.Viewer{StaffID: "coach.hisingen", CentreID: "gbg-hisingen"}
	sql, args := store.CaseloadSQL(v)
	plan, err := pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
	if err != nil {
		b.Fatal(err)
	}
	for plan.Next() {
		var line string
		_ = plan.Scan(&line)
		b.Log(line)
	}
	plan.Close()

	cases := []struct {
		name string
		v    store.Viewer
		f    store.PathwayFilter
	}{
		{"centre-default", v, store.PathwayFilter{Status: "active"}},
		{"centre-overdue", v, store.PathwayFilter{Overdue: true}},
		{"all-centres-phase", store.Viewer{StaffID: "admin", AllCentres: true}, store.PathwayFilter{Phase: "mapping", Sort: "-started_at"}},
		{"assignee", store.Viewer{StaffID: "coach.7", AllCentres: true}, store.PathwayFilter{Assignee: "coach.7"}},
		{"deep-page", v, store.PathwayFilter{Offset: 10_000, Limit: 50}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				page, err := store.ListVisiblePathways(ctx, pool, c.v, c.f)
				if err != nil {
					b.Fatal(err)
				}
				if i == 0 && page.Total == 0 {
					b.Fatal("empty caseload")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/query")
		})
	}
}
