package starter

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/pathway"
)

// `pathways tasks done` takes the complete-task action as the API does:
// roles and the case's centre decide, the task's key applies it once, the
// workflow's refusal is reported as such, and each outcome is audited.
func TestTasksDoneCommand(t *testing.T) {
	ctx := context.Background()
	pool, url := testenv.Database(t)
	ts := testsystem.New(t, testsystem.Options{Pool: pool})
	started, err := ts.Cases(0).Start(ctx, cases.Referral{PersonalNumber: pnr(8), GivenName: "Cli", FamilyName: "Uppgift", District: "Angered",
		Source: pathway.SourceSocialServices, Consent: true, Via: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Temporal.SignalWorkflow(ctx, started.WorkflowID, "", pathway.SignalEscalate,
		pathway.Escalation{Rule: "manual", Level: 1, Role: "job_coach", Reason: "no answer"}); err != nil {
		t.Fatal(err)
	}
	task := started.CaseID + ":escalation:manual:1"
	setup := cliSetup(t, url, ts.TaskQueue)
	cli := func(args ...string) (string, error) {
		return runCLI(ctx, tasksCmd(setup), append([]string{"done"}, args...)...)
	}

	if _, err := cli(started.CaseID, task, "--staff", "manager"); err == nil || !strings.Contains(err.Error(), "role") {
		t.Fatalf("a unit manager marked a task done: %v", err)
	}
	if _, err := cli(started.CaseID, task, "--staff", "coach.hisingen"); err == nil || !strings.Contains(err.Error(), "another centre") {
		t.Fatalf("a coach of another centre marked a task done: %v", err)
	}
	// The first-contact task closes by making contact, not by hand.
	if _, err := cli(started.CaseID, started.CaseID+":first_contact", "--staff", "coach.angered"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("the first-contact task marked done by hand: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for open := 0; open == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the escalation task never appeared")
		}
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM tasks WHERE task_key = $1 AND status = 'open'`, task).Scan(&open); err != nil {
			t.Fatal(err)
		}
	}
	out, err := cli(started.CaseID, task, "--staff", "coach.angered", "--key", "cli-1")
	if err != nil {
		t.Fatalf("done: %v", err)
	}
	if !strings.Contains(out, "task "+task+" done") {
		t.Fatalf("done: %q", out)
	}
	if out, err := cli(started.CaseID, task, "--staff", "coach.angered", "--key", "cli-1", "--json"); err != nil || !strings.Contains(out, `"repeat": true`) {
		t.Fatalf("again with the same key: %q %v", out, err)
	}
	// Without the key it is a new action, and the task is no longer open.
	if _, err := cli(started.CaseID, task, "--staff", "coach.angered"); err == nil || !strings.Contains(err.Error(), "no open task") {
		t.Fatalf("again with a fresh key: %v, want the workflow's refusal", err)
	}
	// A protected identity's case does not exist for anyone but its
	// assignee, not even as another centre's.
	protected, err := ts.Cases(0).Start(ctx, cases.Referral{PersonalNumber: pnr(9), GivenName: "Skyddad", FamilyName: "Person", District: "Angered",
		Source: pathway.SourceSocialServices, Consent: true, Via: "cli", ProtectedIdentity: true, Assignee: "coach.angered"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli(protected.CaseID, protected.CaseID+":first_contact", "--staff", "coach.hisingen"); err == nil || err.Error() != "no case "+protected.CaseID {
		t.Fatalf("a protected case to another centre's coach: %v, want no case", err)
	}
	var results string
	if err := pool.QueryRow(ctx, `SELECT string_agg(detail->>'result', ',' ORDER BY id) FROM audit_log
		WHERE case_id = $1 AND detail->>'action' = 'complete-task' AND detail->>'via' = 'cli' AND detail->>'action_id' = $2`,
		started.CaseID, "complete-task:cli-1").Scan(&results); err != nil {
		t.Fatal(err)
	}
	if results != "ok,ok" {
		t.Fatalf("audit results for the task %q, want ok,ok", results)
	}
}
