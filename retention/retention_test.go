package retention_test

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/pathways-se/pathways/activities"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/retention"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/worker"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var recordHistories = flag.Bool("update-histories", false, "write workflows/testdata/retention/*.json from fresh runs (existing files are kept)")

// fixture writes rows of every class on both sides of the policy's limits.
type fixture struct {
	pool *pgxpool.Pool
	n    int
}

func (f *fixture) person(t *testing.T, created time.Time) uuid.UUID {
	t.Helper()
	f.n++
	id := uuid.New()
	_, err := f.pool.Exec(context.Background(), `INSERT INTO participants (id, personal_number, given_name, family_name, district, birth_date, created_at)
		VALUES ($1, $2, 'Test', 'Person', 'Angered', '1980-01-01', $3)`, id, fmt.Sprintf("19800101-%04d", f.n), created)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(context.Background(), `INSERT INTO consents (participant_id, scope, registered_at, registered_by) VALUES ($1, '{outcome}', $2, 'coach.angered')`, id, created); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) pathway(t *testing.T, person uuid.UUID, caseID string, started time.Time, closed *time.Time) {
	t.Helper()
	ctx := context.Background()
	status := "active"
	if closed != nil {
		status = "closed"
	}
	_, err := f.pool.Exec(ctx, `INSERT INTO pathways (case_id, participant_id, centre_id, workflow_id, programme, track, status, phase,
		referral_source, referred_at, started_at, closed_at)
		VALUES ($1, $2, 'gbg-angered', 'pathway-'||$1, 'adult', 'adult', $3, CASE WHEN $3 = 'closed' THEN 'closed' ELSE 'mapping' END,
		'social_services', $4, $4, $5)`, caseID, person, status, started, closed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(ctx, `INSERT INTO timeline (case_id, seq, at, kind, summary) VALUES ($1, 1, $2, 'referral', 'Referred')`, caseID, started); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(ctx, `INSERT INTO tasks (task_key, case_id, kind, title) VALUES ($1||':first_contact', $1, 'first_contact', 'Call')`, caseID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(ctx, `INSERT INTO notifications (notification_key, recipient_role, case_id, subject) VALUES ($1||':n', 'team_lead', $1, 'x')`, caseID); err != nil {
		t.Fatal(err)
	}
	f.audit(t, caseID, started)
}

func (f *fixture) audit(t *testing.T, caseID string, at time.Time) int64 {
	t.Helper()
	var id int64
	if err := f.pool.QueryRow(context.Background(), `INSERT INTO audit_log (at, staff_id, action, case_id) VALUES ($1, 'coach.angered', 'read_personal_data', $2) RETURNING id`,
		at, caseID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) mail(t *testing.T, key string, sent time.Time) {
	t.Helper()
	if _, err := f.pool.Exec(context.Background(), `INSERT INTO mail_outbox (mail_key, recipient, subject, sent_at) VALUES ($1, 'team@x.se', 's', $2)`, key, sent); err != nil {
		t.Fatal(err)
	}
}

func years(n float64) time.Time {
	return time.Now().Add(-time.Duration(n * 365 * 24 * float64(time.Hour)))
}

// The run removes exactly what its plan listed, in batches; a second run
// removes nothing; a pathway still open is never touched, even one older
// than any limit, and neither is its person.
func TestRetentionRemovesExactlyThePlan(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	if err := store.SeedDemo(ctx, pool); err != nil {
		t.Fatal(err)
	}
	f := &fixture{pool: pool}
	old := years(6)
	// Due: a case closed six years ago, and its person (no other case).
	gone := f.person(t, years(7))
	f.pathway(t, gone, "due-1", years(7), &old)
	// Due: the old closed case of a person who has an open one; the person stays.
	both := f.person(t, years(7))
	f.pathway(t, both, "due-2", years(7), &old)
	f.pathway(t, both, "open-1", years(1), nil)
	// Not due: closed last year; open for six years (the limit is the pathway's own business).
	recent := years(1)
	f.pathway(t, f.person(t, years(2)), "kept-1", years(2), &recent)
	f.pathway(t, f.person(t, years(7)), "open-2", years(6), nil)
	// Audit: a case culled three years ago (due), rows about no case eight years old (due) and a year old (kept).
	if _, err := pool.Exec(ctx, `INSERT INTO retention_culled (case_id, culled_at) VALUES ('culled-long-ago', $1)`, years(3)); err != nil {
		t.Fatal(err)
	}
	dueAudit := []int64{f.audit(t, "culled-long-ago", years(6)), f.audit(t, "", years(8))}
	keptAudit := f.audit(t, "", years(1))
	f.mail(t, "mail-old", time.Now().AddDate(0, 0, -40))
	f.mail(t, "mail-new", time.Now().AddDate(0, 0, -10))

	in := retention.Input{Policy: retention.DefaultPolicy(), BatchSize: 1}
	plan, err := store.PlanRetention(ctx, pool, retention.PlanRequest{Policy: in.Policy, AsOf: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(plan.Cases)
	sort.Slice(plan.AuditIDs, func(i, j int) bool { return plan.AuditIDs[i] < plan.AuditIDs[j] })
	if fmt.Sprint(plan.Cases) != "[due-1 due-2]" || fmt.Sprint(plan.Participants) != fmt.Sprintf("[%s]", gone) ||
		fmt.Sprint(plan.AuditIDs) != fmt.Sprint(dueAudit) || fmt.Sprint(plan.MailKeys) != "[mail-old]" {
		t.Fatalf("plan %+v; want due-1, due-2, person %s, audit %v, mail-old", plan, gone, dueAudit)
	}

	c := testenv.TemporalClient(t)
	queue := testenv.TaskQueue(t)
	w := sdkworker.New(c, queue, sdkworker.Options{})
	worker.RegisterRetention(w, &activities.Retention{Pool: pool})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	run := func(history string) retention.Counts {
		t.Helper()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue, WorkflowExecutionTimeout: time.Minute}, retention.WorkflowName, in)
		if err != nil {
			t.Fatal(err)
		}
		var got retention.Counts
		if err := run.Get(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if *recordHistories {
			testenv.SaveHistory(t, c, run.GetID(), run.GetRunID(), filepath.Join("..", "workflows", "testdata", "retention", history))
		}
		return got
	}
	if got, want := run("batches-run1.json"), (retention.Counts{Cases: 2, Participants: 1, Audit: 2, Mail: 1}); got != want {
		t.Fatalf("first run removed %+v, want %+v", got, want)
	}
	count := func(sql string, args ...any) int {
		var n int
		if err := pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM pathways WHERE case_id IN ('due-1','due-2')`); n != 0 {
		t.Errorf("%d planned cases remain", n)
	}
	for _, table := range []string{"timeline", "tasks", "notifications"} {
		if n := count(`SELECT count(*) FROM ` + table + ` WHERE case_id IN ('due-1','due-2')`); n != 0 {
			t.Errorf("%s keeps %d rows of culled cases", table, n)
		}
	}
	if n := count(`SELECT count(*) FROM pathways WHERE case_id IN ('open-1','open-2','kept-1')`); n != 3 {
		t.Errorf("%d of 3 unplanned cases remain", n)
	}
	if n := count(`SELECT count(*) FROM timeline WHERE case_id IN ('open-1','open-2','kept-1')`); n != 3 {
		t.Errorf("timeline of unplanned cases touched: %d of 3 rows", n)
	}
	if n := count(`SELECT count(*) FROM participants`); n != 3 {
		t.Errorf("%d of 3 unplanned people remain", n)
	}
	if n := count(`SELECT count(*) FROM participants WHERE id = $1`, gone); n != 0 {
		t.Error("the planned person remains")
	}
	if n := count(`SELECT count(*) FROM consents WHERE participant_id = $1`, gone); n != 0 {
		t.Error("the culled person's consents remain")
	}
	if n := count(`SELECT count(*) FROM audit_log WHERE id = ANY($1)`, dueAudit); n != 0 {
		t.Errorf("%d planned audit rows remain", n)
	}
	if n := count(`SELECT count(*) FROM audit_log WHERE id = $1`, keptAudit); n != 1 {
		t.Error("an unplanned audit row was removed")
	}
	if n := count(`SELECT count(*) FROM audit_log WHERE case_id IN ('due-1','due-2')`); n != 2 {
		t.Errorf("audit rows about the cases just culled must outlive them: %d of 2", n)
	}
	if n := count(`SELECT count(*) FROM mail_outbox`); n != 1 {
		t.Errorf("%d mails remain, want mail-new only", n)
	}
	if n := count(`SELECT count(*) FROM retention_culled WHERE case_id IN ('due-1','due-2')`); n != 2 {
		t.Errorf("culled cases not recorded: %d", n)
	}

	if got := run("nothing-due-run1.json"); got != (retention.Counts{}) {
		t.Fatalf("second run removed %+v, want nothing", got)
	}
	// Each run left one audit row with its counts, and the chain holds.
	rows, err := store.ListAudit(ctx, pool, store.AuditFilter{StaffID: "system"})
	if err != nil {
		t.Fatal(err)
	}
	var runs int
	for _, r := range rows {
		if r.Action == store.AuditRetention {
			runs++
		}
	}
	if runs != 2 {
		t.Errorf("%d retention audit rows, want one per run", runs)
	}
	if v, err := store.VerifyAudit(ctx, pool); err != nil || !v.OK() || v.Culled != 2 {
		t.Errorf("audit chain after retention: %+v, %v", v, err)
	}
}
