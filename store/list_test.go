package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/store"
)

// TestCaseloadKeysetPages walks every sort order, both ways, page by page
// with the Next cursor and checks the pages join up to the list an offset
// walk returns: ties, NULLs (time_limit_at, days_left) and a protected
// identity the viewer may not see included.
func TestCaseloadKeysetPages(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	if err := store.SeedDemo(ctx, pool); err != nil {
		t.Fatal(err)
	}
	const n = 47
	centres := []string{"gbg-hisingen", "gbg-oster"}
	phases := []string{"referral", "mapping", "steps"}
	base := time.Date(2026, 3, 1, 9, 0, 0, 123456000, time.UTC)
	var people, rows [][]any
	for i := range n {
		id := uuid.New()
		people = append(people, []any{id, fmt.Sprintf("k%05d", i), "G", "F", "D", base.AddDate(-30, 0, 0), i == 5})
		var limitAt, daysLeft any
		if i%3 != 0 {
			limitAt, daysLeft = base.Add(time.Duration(i%4)*time.Hour), i%5
		}
		rows = append(rows, []any{fmt.Sprintf("2026-K%05d", (i*17)%n), id, centres[i%2], fmt.Sprintf("wf-k%d", i), "adult", "adult", "active",
			phases[i%3], "social_services", base, base.Add(time.Duration(i%7) * time.Minute), base.Add(time.Duration(i%5) * time.Second), limitAt, daysLeft})
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"participants"}, []string{"id", "personal_number", "given_name", "family_name", "district", "birth_date", "protected_identity"}, pgx.CopyFromRows(people)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"pathways"}, []string{"case_id", "participant_id", "centre_id", "workflow_id", "programme", "track", "status",
		"phase", "referral_source", "referred_at", "started_at", "last_progress_at", "time_limit_at", "days_left"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	v := store.Viewer{StaffID: "admin", AllCentres: true}
	ids := func(p store.Page[store.PathwayRow]) []string {
		var out []string
		for _, r := range p.Items {
			out = append(out, r.CaseID)
		}
		return out
	}
	sorts := []string{""}
	for _, s := range store.SortFields() {
		sorts = append(sorts, s, "-"+s)
	}
	for _, sort := range sorts {
		all, err := store.ListVisiblePathways(ctx, pool, v, store.PathwayFilter{Sort: sort, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if all.Total != n-1 || len(all.Items) != n-1 {
			t.Fatalf("sort %q: %d of %d rows, want %d (one protected identity hidden)", sort, len(all.Items), all.Total, n-1)
		}
		var walked, offsets []string
		f := store.PathwayFilter{Sort: sort, Limit: 6}
		for pages := 0; ; pages++ {
			page, err := store.ListVisiblePathways(ctx, pool, v, f)
			if err != nil {
				t.Fatalf("sort %q page %d: %v", sort, pages, err)
			}
			walked = append(walked, ids(page)...)
			byOffset, err := store.ListVisiblePathways(ctx, pool, v, store.PathwayFilter{Sort: sort, Limit: 6, Offset: pages * 6})
			if err != nil {
				t.Fatal(err)
			}
			offsets = append(offsets, ids(byOffset)...)
			if page.Next == "" {
				break
			}
			if pages > n {
				t.Fatalf("sort %q: the cursor does not advance", sort)
			}
			f.After, f.Offset = page.Next, f.Offset+6
		}
		if !slices.Equal(walked, ids(all)) || !slices.Equal(offsets, ids(all)) {
			t.Fatalf("sort %q:\nkeyset %v\noffset %v\nwhole  %v", sort, walked, offsets, ids(all))
		}
	}

	first, err := store.ListVisiblePathways(ctx, pool, v, store.PathwayFilter{Sort: "phase", Limit: 6})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %v, next %q", err, first.Next)
	}
	for _, bad := range []store.PathwayFilter{{Sort: "-phase", After: first.Next}, {After: "not-a-cursor"}} {
		if _, err := store.ListVisiblePathways(ctx, pool, v, bad); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("after %q with sort %q: %v, want ErrBadCursor", bad.After, bad.Sort, err)
		}
	}
}
