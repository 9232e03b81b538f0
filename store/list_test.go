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

// TestTaskInboxTotals checks each inbox's total against its rows (counted
// on the tasks alone, with their pathway's centre, less the protected
// identities the viewer may not see) and that paging by cursor returns the
// same tasks in the same order.
func TestTaskInboxTotals(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	if err := store.SeedDemo(ctx, pool); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	// Pathways 1 and 2 are protected identities; only 1 is assigned (to coach.x).
	cases := []struct {
		centre, assignee string
		protected        bool
	}{{"gbg-hisingen", "", false}, {"gbg-hisingen", "coach.x", true}, {"gbg-oster", "", true}, {"gbg-oster", "coach.y", false}}
	var people, rows, tasks [][]any
	for i, c := range cases {
		id := uuid.New()
		caseID := fmt.Sprintf("2026-T%05d", i)
		people = append(people, []any{id, fmt.Sprintf("t%05d", i), "G", "F", "D", base.AddDate(-30, 0, 0), c.protected})
		rows = append(rows, []any{caseID, id, c.centre, "wf-" + caseID, "adult", "adult", "active", "steps", "social_services", base, c.assignee})
		for j, role := range []string{"job_coach", "case_officer", "job_coach"} {
			status := "open"
			if j == 2 {
				status = "done"
			}
			tasks = append(tasks, []any{fmt.Sprintf("%s:t%d", caseID, j), caseID, "review", "Review", role, status, base.Add(time.Duration(i*3+j) * time.Hour)})
		}
	}
	// Two open tasks without a due date (last in every inbox), one on a
	// due date another task shares (ordered by ID).
	tasks = append(tasks, []any{"2026-T00000:nodue1", "2026-T00000", "review", "Review", "case_officer", "open", nil},
		[]any{"2026-T00003:nodue2", "2026-T00003", "review", "Review", "case_officer", "open", nil},
		[]any{"2026-T00003:samedue", "2026-T00003", "review", "Review", "case_officer", "open", base})
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"participants"}, []string{"id", "personal_number", "given_name", "family_name", "district", "birth_date", "protected_identity"}, pgx.CopyFromRows(people)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"pathways"}, []string{"case_id", "participant_id", "centre_id", "workflow_id", "programme", "track", "status",
		"phase", "referral_source", "referred_at", "assignee"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"tasks"}, []string{"task_key", "case_id", "kind", "title", "role", "status", "due_at"}, pgx.CopyFromRows(tasks)); err != nil {
		t.Fatal(err)
	}
	admin := store.Viewer{StaffID: "admin", AllCentres: true}
	coachX := store.Viewer{StaffID: "coach.x", AllCentres: true}
	hisingen := store.Viewer{StaffID: "coach.x", CentreID: "gbg-hisingen"}
	oster := store.Viewer{StaffID: "coach.o", CentreID: "gbg-oster"}
	for _, c := range []struct {
		name string
		f    store.TaskFilter
		want int
	}{
		{"admin, all centres", store.TaskFilter{Viewer: &admin}, 7},
		{"admin, one role", store.TaskFilter{Viewer: &admin, Role: "job_coach"}, 2},
		{"admin, done", store.TaskFilter{Viewer: &admin, Status: "done"}, 2},
		{"admin, one centre", store.TaskFilter{Viewer: &admin, CentreIDs: []string{"gbg-oster"}}, 4},
		{"assigned to a protected identity", store.TaskFilter{Viewer: &coachX}, 9},
		{"no viewer", store.TaskFilter{}, 11},
		{"own centre", store.TaskFilter{Viewer: &hisingen, CentreIDs: []string{"gbg-hisingen"}}, 5},
		{"own centre, protected unassigned", store.TaskFilter{Viewer: &oster, CentreIDs: []string{"gbg-oster"}}, 4},
		{"another centre", store.TaskFilter{Viewer: &oster, CentreIDs: []string{"gbg-hisingen"}}, 0},
	} {
		c.f.Limit = 500
		page, err := store.ListTasks(ctx, pool, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if page.Total != c.want || len(page.Items) != c.want {
			t.Errorf("%s: total %d, %d rows, want %d", c.name, page.Total, len(page.Items), c.want)
		}
		// Page by page with the cursor: the same tasks in the same order.
		var walked []int64
		f := c.f
		f.Limit = 2
		for pages := 0; pages <= c.want; pages++ {
			p, err := store.ListTasks(ctx, pool, f)
			if err != nil {
				t.Fatalf("%s, page %d: %v", c.name, pages, err)
			}
			for _, task := range p.Items {
				walked = append(walked, task.ID)
			}
			if f.After = p.Next; f.After == "" {
				break
			}
		}
		var whole []int64
		for _, task := range page.Items {
			whole = append(whole, task.ID)
		}
		if !slices.Equal(walked, whole) {
			t.Errorf("%s: pages by cursor %v, whole list %v", c.name, walked, whole)
		}
	}
	if _, err := store.ListTasks(ctx, pool, store.TaskFilter{After: "not-a-cursor"}); !errors.Is(err, store.ErrBadCursor) {
		t.Errorf("a task list after a bad cursor: %v, want ErrBadCursor", err)
	}
}

// TestTaskCentreFollowsPathway checks the centre a task carries for the
// inbox (migration 00170): its pathway's on insert, and the new one when
// the pathway moves to another centre.
func TestTaskCentreFollowsPathway(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	if err := store.SeedDemo(ctx, pool); err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	if _, err := pool.Exec(ctx, `INSERT INTO participants (id, personal_number, given_name, family_name, district, birth_date)
		VALUES ($1, 'c00001', 'G', 'F', 'D', '1990-01-01')`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO pathways (case_id, participant_id, centre_id, workflow_id, programme, track, status, phase, referral_source, referred_at)
		VALUES ('2026-C00001', $1, 'gbg-hisingen', 'wf-c1', 'adult', 'adult', 'active', 'referral', 'social_services', now())`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO tasks (task_key, case_id, kind, title) VALUES ('2026-C00001:contact', '2026-C00001', 'first_contact', 'First contact')`); err != nil {
		t.Fatal(err)
	}
	inbox := func(centre string) []store.TaskRow {
		t.Helper()
		v := store.Viewer{StaffID: "coach", CentreID: centre}
		page, err := store.ListTasks(ctx, pool, store.TaskFilter{Viewer: &v})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != len(page.Items) {
			t.Errorf("%s: total %d, %d rows", centre, page.Total, len(page.Items))
		}
		return page.Items
	}
	if got := inbox("gbg-hisingen"); len(got) != 1 || got[0].CentreID != "gbg-hisingen" {
		t.Fatalf("the task in its pathway's centre: %+v", got)
	}
	if _, err := pool.Exec(ctx, `UPDATE pathways SET centre_id = 'gbg-oster' WHERE case_id = '2026-C00001'`); err != nil {
		t.Fatal(err)
	}
	if got := inbox("gbg-hisingen"); len(got) != 0 {
		t.Errorf("the old centre still lists the moved case's task: %+v", got)
	}
	if got := inbox("gbg-oster"); len(got) != 1 || got[0].CentreID != "gbg-oster" {
		t.Errorf("the new centre's inbox: %+v", got)
	}
}
