package escalation_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/escalation"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// mailbox records mail instead of sending it.
type mailbox struct {
	mu   sync.Mutex
	keys map[string]integrations.Mail
}

func (m *mailbox) Mail(_ context.Context, key string, mail integrations.Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[key] = mail
	return nil
}

var personSeq atomic.Int64

func personalNumber() string {
	n := personSeq.Add(1)
	nine := fmt.Sprintf("870623%03d", 100+n%900)
	return "19870623-" + nine[6:] + string(identity.CheckDigit(nine))
}

// secondsPerDay compresses programme time: first contact is due 48 h (here
// 6 s) after the referral, and an escalation task two days (6 s) after it opens.
const secondsPerDay = 3.0

func TestScheduledSweepEscalatesClimbsAndCalms(t *testing.T) {
	ctx := context.Background()
	// One worker with the real pathway workflows and the sweep.
	mail := &mailbox{keys: map[string]integrations.Mail{}}
	ts := testsystem.New(t, testsystem.Options{Register: func(w sdkworker.Worker, ts *testsystem.System) {
		escalation.Register(w, escalation.New(ts.Pool, ts.Temporal, mail, "https://console.example", time.UTC))
	}})
	pool, tc, tq := ts.Pool, ts.Temporal, ts.TaskQueue
	// Every centre's team lead has a functional mailbox.
	for _, role := range escalation.Ladder {
		if err := store.SetEscalationContact(ctx, pool, "*", role, role+"@centre.example"); err != nil {
			t.Fatal(err)
		}
	}

	// The schedule, as the worker extension writes it, with only the
	// first-contact rule (time runs 28,800 times fast here, so the others
	// would fire too).
	rules := escalation.DefaultRules()
	for i := range rules {
		rules[i].Disabled = rules[i].Name != escalation.RuleFirstContact
	}
	schedID := "escalation-test-" + tq
	scfg := escalation.ScheduleConfig{ID: schedID, Cron: "0 7 * * *", TimeZone: "Europe/Stockholm", TaskQueue: tq,
		Input: escalation.SweepInput{Rules: rules, BatchSize: 2}}
	created, err := escalation.EnsureSchedule(ctx, tc, scfg)
	if err != nil || !created {
		t.Fatalf("create schedule: %v %v", created, err)
	}
	// Idempotent: a second worker start updates it in place.
	if created, err := escalation.EnsureSchedule(ctx, tc, scfg); err != nil || created {
		t.Fatalf("update schedule: %v %v", created, err)
	}
	h := tc.ScheduleClient().GetHandle(ctx, schedID)
	t.Cleanup(func() { _ = h.Delete(context.Background()) })
	d, err := h.Describe(ctx)
	if err != nil || d.Schedule.Spec.TimeZoneName != "Europe/Stockholm" || len(d.Info.NextActionTimes) == 0 {
		t.Fatalf("describe: %+v %v", d, err)
	}

	// Three referrals nobody contacts.
	svc := ts.Cases(secondsPerDay)
	var ids []string
	for i := 0; i < 3; i++ {
		st, err := svc.Start(ctx, cases.Referral{PersonalNumber: personalNumber(), GivenName: "Test", FamilyName: "Person",
			District: "Angered", Source: pathway.SourceSocialServices, Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, st.CaseID)
	}
	// Wait until first contact is overdue in the read model.
	waitFor(t, "first contact overdue", func() bool {
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM pathways WHERE phase = 'referral' AND first_contact_due < now()`).Scan(&n)
		return n == 3
	})

	// Sweep 1: every case escalated to the job coach, with a task and a mail.
	sweep := trigger(t, pool, h, 1)
	if sweep.Escalated != 3 || sweep.Stalled != 3 {
		t.Fatalf("sweep 1: %+v", sweep)
	}
	for _, id := range ids {
		waitTasks(t, pool, id, "job_coach")
	}
	// Mail goes to the role's mailbox (and to seeded job coaches at the centre).
	if n := mailsTo(mail, "job_coach@centre.example"); n != 3 {
		t.Fatalf("mails to the job coach mailbox after sweep 1: %d", n)
	}

	// Sweep 2 right away: the tasks are not due yet, nothing changes.
	sweep = trigger(t, pool, h, 2)
	if sweep.Escalated != 0 || sweep.Waiting != 3 {
		t.Fatalf("sweep 2: %+v", sweep)
	}

	// Staff act on the first case: first contact calms its escalation.
	uh, err := tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: pathway.WorkflowID(ids[0]), UpdateName: pathway.UpdateFirstContact,
		Args: []any{pathway.FirstContact{Actor: pathway.Actor{StaffID: "s-test"}, Channel: "phone"}}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		t.Fatal(err)
	}
	var st pathway.Status
	if err := uh.Get(ctx, &st); err != nil {
		t.Fatal(err)
	}
	if st.EscalationLvl != 0 {
		t.Fatalf("after first contact: escalation level %d", st.EscalationLvl)
	}
	waitFor(t, "calmed task", func() bool { return openEscalationTasks(t, pool, ids[0]) == 0 })

	// The others ignore their tasks past the deadline: sweep 3 climbs them to the team lead.
	waitFor(t, "escalation tasks due", func() bool {
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM tasks WHERE kind = 'escalation' AND status = 'open' AND due_at < now()`).Scan(&n)
		return n == 2
	})
	sweep = trigger(t, pool, h, 3)
	if sweep.Escalated != 2 || sweep.Stalled != 2 {
		t.Fatalf("sweep 3: %+v", sweep)
	}
	for _, id := range ids[1:] {
		waitTasks(t, pool, id, "job_coach", "team_lead")
	}
	if n := mailsTo(mail, "team_lead@centre.example"); n != 2 {
		t.Fatalf("mails to the team lead mailbox after sweep 3: %d", n)
	}
	if n := mailsTo(mail, "job_coach@centre.example"); n != 3 {
		t.Fatalf("mails to the job coach mailbox after sweep 3: %d", n)
	}

	// No duplicates anywhere: one row per (case, rule, level), one task each.
	var rows, distinct int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT (case_id, rule, level)) FROM escalations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != 5 || distinct != 5 {
		t.Fatalf("escalations: %d rows, %d distinct; want 5", rows, distinct)
	}
	var tasks int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM tasks WHERE kind = 'escalation'`).Scan(&tasks)
	if tasks != 5 {
		t.Fatalf("escalation tasks: %d, want 5", tasks)
	}
	// The console notifications went to the roles.
	var notes int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE recipient_role IN ('job_coach', 'team_lead')`).Scan(&notes)
	if notes != 5 {
		t.Fatalf("console notifications: %d, want 5", notes)
	}
	// The team-lead view lists the two, at level 2; the chart has points.
	list, err := store.ListEscalated(ctx, pool, store.EscalatedFilter{}, time.Now())
	if err != nil || len(list) != 2 || list[0].Level != 2 || list[0].Role != "team_lead" {
		t.Fatalf("escalated list: %+v %v", list, err)
	}
	pts, err := store.StallStats(ctx, pool, time.Now().Add(-time.Hour), "Europe/Stockholm", nil)
	if err != nil || len(pts) == 0 || pts[len(pts)-1].Stalled != 2 {
		t.Fatalf("stats: %+v %v", pts, err)
	}

	// Manual escalation is a workflow: it climbs a case's manual ladder once
	// per request, and a repeated request (same key) does not climb again.
	req := escalation.ManualRequest{Filter: escalation.ManualFilter{CaseIDs: ids[1:2]}, Reason: "unreachable", StaffID: "s-lead"}
	id := escalation.ManualWorkflowID("s-lead", "key-1")
	for i := 0; i < 2; i++ {
		if err := escalation.StartManual(ctx, tc, tq, id, req); err != nil {
			t.Fatal(err)
		}
		var res escalation.ManualProgress
		if err := tc.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil || res.Escalated != 1 {
			t.Fatalf("manual: %+v %v", res, err)
		}
		if st, err := escalation.ManualStatus(ctx, tc, id); err != nil || st.State != "done" || st.Escalated != 1 {
			t.Fatalf("manual status: %+v %v", st, err)
		}
	}
	var manual int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM escalations WHERE rule = 'manual' AND actor = 's-lead'`).Scan(&manual)
	if manual != 1 {
		t.Fatalf("manual escalations recorded: %d, want 1", manual)
	}
}

func trigger(t *testing.T, pool *pgxpool.Pool, h client.ScheduleHandle, n int) store.SweepRow {
	t.Helper()
	// The schedule skips overlapping runs: a sweep that has recorded its end
	// may still be closing, so trigger only once the schedule is idle.
	waitFor(t, fmt.Sprintf("schedule idle before sweep %d", n), func() bool {
		d, err := h.Describe(context.Background())
		return err == nil && len(d.Info.RunningWorkflows) == 0
	})
	if err := h.Trigger(context.Background(), client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	var row store.SweepRow
	waitFor(t, fmt.Sprintf("sweep %d", n), func() bool {
		sweeps, err := store.RecentSweeps(context.Background(), pool, 20)
		if err != nil {
			return false
		}
		done := 0
		for _, s := range sweeps {
			if s.Kind == "scheduled" && s.FinishedAt != nil {
				done++
			}
		}
		if done == n {
			row = sweeps[0]
			return row.FinishedAt != nil
		}
		return false
	})
	return row
}

func openEscalationTasks(t *testing.T, pool *pgxpool.Pool, caseID string) int {
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM tasks WHERE case_id = $1 AND kind = 'escalation' AND status = 'open'`, caseID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitTasks waits until the case's escalation tasks are exactly these roles.
func waitTasks(t *testing.T, pool *pgxpool.Pool, caseID string, roles ...string) {
	t.Helper()
	waitFor(t, "escalation tasks of "+caseID, func() bool {
		rows, err := pool.Query(context.Background(), `SELECT role FROM tasks WHERE case_id = $1 AND kind = 'escalation' ORDER BY id`, caseID)
		if err != nil {
			return false
		}
		var got []string
		for rows.Next() {
			var r string
			_ = rows.Scan(&r)
			got = append(got, r)
		}
		rows.Close()
		return fmt.Sprint(got) == fmt.Sprint(roles)
	})
}

func mailsTo(m *mailbox, to string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, mail := range m.keys {
		if mail.To == to {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
