package escalation_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/escalation"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// A case that breaks two rules at once (no first contact, and no progress)
// climbs one ladder: one task and one mail per level, and each climb closes
// the lower level's task. The second and third sweeps run as the team lead's
// centre sweep, the console's and `schedule trigger --centre`'s service.
func TestEscalationLadderOnePerCase(t *testing.T) {
	ctx := context.Background()
	mail := &mailbox{keys: map[string]integrations.Mail{}}
	ts := testsystem.New(t, testsystem.Options{Register: func(w sdkworker.Worker, ts *testsystem.System) {
		escalation.Register(w, escalation.New(ts.Pool, ts.Temporal, mail, "", time.UTC))
	}})
	pool, tc := ts.Pool, ts.Temporal
	for _, role := range escalation.Ladder {
		if err := store.SetEscalationContact(ctx, pool, "*", role, role+"@centre.example"); err != nil {
			t.Fatal(err)
		}
	}
	st, err := ts.Cases(secondsPerDay).Start(ctx, cases.Referral{PersonalNumber: personalNumber(), GivenName: "Test", FamilyName: "Person",
		District: "Angered", Source: pathway.SourceSocialServices, Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	caseID, centre := st.CaseID, centreOf(t, ts, st.CaseID)
	waitFor(t, "first contact overdue", func() bool {
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM pathways WHERE case_id = $1 AND first_contact_due < now()`, caseID).Scan(&n)
		return n == 1
	})
	// Two rules apply: first contact is overdue, and (threshold one second)
	// nothing has happened. The time limit would apply too under compressed
	// time, so it and the rest are off.
	rules := escalation.DefaultRules()
	for i := range rules {
		switch rules[i].Name {
		case escalation.RuleFirstContact:
		case escalation.RuleNoProgress:
			rules[i].Threshold = time.Second
		default:
			rules[i].Disabled = true
		}
	}

	// Sweep 1, the scheduled kind: level 1 for the job coach.
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "escalation-ladder-" + ts.TaskQueue, TaskQueue: ts.TaskQueue},
		escalation.WorkflowName, escalation.SweepInput{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	var res escalation.SweepResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Stalled != 1 || res.Stalls != 1 || res.Escalated != 1 {
		t.Fatalf("sweep 1 over a case breaking two rules: %+v, want one stall, one escalation", res)
	}
	waitOpen(t, pool, caseID, "job_coach")
	checkLadder(t, pool, mail, caseID, 1)

	// The team lead's own view is empty while the case is at level 1.
	if mine, err := store.ListEscalated(ctx, pool, store.EscalatedFilter{CentreIDs: []string{centre}, Role: "team_lead"}, time.Now()); err != nil || len(mine) != 0 {
		t.Fatalf("team lead's escalations at level 1: %+v %v", mine, err)
	}

	// The team lead runs their centre's sweep, twice under one key: one sweep.
	lead, coach := staffAt(t, pool, centre, "team_lead"), staffAt(t, pool, centre, "job_coach")
	if _, err := escalation.SweepCentre(ctx, pool, tc, ts.TaskQueue, escalation.CentreSweep{CentreID: centre, StaffID: coach, Key: "k", Rules: rules}); err != escalation.ErrNotAllowed {
		t.Fatalf("a job coach ran the centre sweep: %v", err)
	}
	other := "gbg-hisingen"
	if centre == other {
		other = "gbg-oster"
	}
	if _, err := escalation.SweepCentre(ctx, pool, tc, ts.TaskQueue, escalation.CentreSweep{CentreID: other, StaffID: lead, Key: "k", Rules: rules}); err != escalation.ErrNotAllowed {
		t.Fatalf("a team lead swept another centre: %v", err)
	}
	for climb := 2; climb <= 3; climb++ {
		waitFor(t, fmt.Sprintf("level %d task due", climb-1), func() bool {
			var n int
			_ = pool.QueryRow(ctx, `SELECT count(*) FROM tasks WHERE case_id = $1 AND kind = 'escalation' AND status = 'open' AND due_at < now()`, caseID).Scan(&n)
			return n == 1
		})
		key := fmt.Sprintf("climb-%d", climb)
		var id string
		for i := 0; i < 2; i++ {
			if id, err = escalation.SweepCentre(ctx, pool, tc, ts.TaskQueue, escalation.CentreSweep{CentreID: centre, StaffID: lead, Key: key, Rules: rules}); err != nil {
				t.Fatal(err)
			}
		}
		if err := tc.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
			t.Fatal(err)
		}
		if res.Escalated != 1 {
			t.Fatalf("centre sweep %d: %+v", climb, res)
		}
		waitOpen(t, pool, caseID, escalation.RoleAt(climb))
		checkLadder(t, pool, mail, caseID, climb)
		if climb == 2 {
			mine, err := store.ListEscalated(ctx, pool, store.EscalatedFilter{CentreIDs: []string{centre}, Role: "team_lead"}, time.Now())
			if err != nil || len(mine) != 1 || mine[0].CaseID != caseID || mine[0].Level != 2 {
				t.Fatalf("team lead's escalations at level 2: %+v %v", mine, err)
			}
		}
	}
	var kinds int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM escalation_sweeps WHERE kind = 'centre'`).Scan(&kinds)
	if kinds != 2 {
		t.Fatalf("centre sweeps recorded: %d, want 2", kinds)
	}
	var audited int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1 AND staff_id = $2`, escalation.AuditCentreSweep, lead).Scan(&audited)
	if audited < 2 {
		t.Fatalf("centre sweeps audited: %d", audited)
	}
	if *recordHistories {
		writeHistory(t, tc, run.GetID(), run.GetRunID(), "sweep-one-ladder-run1.json")
		writeHistory(t, tc, pathway.WorkflowID(caseID), "", "pathway-one-ladder-run1.json")
	}
}

func staffAt(t *testing.T, pool *pgxpool.Pool, centre, role string) string {
	var id string
	if err := pool.QueryRow(context.Background(), `SELECT id FROM staff WHERE centre_id = $1 AND $2 = ANY(roles) AND active ORDER BY id LIMIT 1`, centre, role).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// waitOpen waits until the case's one open escalation task is the role's.
func waitOpen(t *testing.T, pool *pgxpool.Pool, caseID, role string) {
	t.Helper()
	waitFor(t, "open escalation task for "+role, func() bool {
		var roles []string
		err := pool.QueryRow(context.Background(), `SELECT coalesce(array_agg(role), '{}') FROM tasks
			WHERE case_id = $1 AND kind = 'escalation' AND status = 'open'`, caseID).Scan(&roles)
		return err == nil && len(roles) == 1 && roles[0] == role
	})
}

// checkLadder checks a case at level n: n escalations, n tasks of which
// only the top is open, and one mail to each level's mailbox so far.
func checkLadder(t *testing.T, pool *pgxpool.Pool, mail *mailbox, caseID string, n int) {
	t.Helper()
	var rows, tasks, open int
	if err := pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM escalations WHERE case_id = $1),
		(SELECT count(*) FROM tasks WHERE case_id = $1 AND kind = 'escalation'),
		(SELECT count(*) FROM tasks WHERE case_id = $1 AND kind = 'escalation' AND status = 'open')`, caseID).Scan(&rows, &tasks, &open); err != nil {
		t.Fatal(err)
	}
	if rows != n || tasks != n || open != 1 {
		t.Fatalf("level %d: %d escalations, %d tasks, %d open; want %d, %d, 1", n, rows, tasks, open, n, n)
	}
	for lvl, role := range escalation.Ladder {
		want := 0
		if lvl < n {
			want = 1
		}
		if got := mailsTo(mail, role+"@centre.example"); got != want {
			t.Fatalf("level %d: %d mail(s) to the %s mailbox, want %d", n, got, role, want)
		}
	}
}
