package starter

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
)

// `pathways step-action` takes a declared step action through the same
// service as the API: the role decides, the key applies it once, and the
// step ends as the action says.
func TestStepActionCommand(t *testing.T) {
	ctx := context.Background()
	pool, url := testenv.Database(t)
	ts := testsystem.New(t, testsystem.Options{Pool: pool})
	started, err := ts.Cases(0).Start(ctx, cases.Referral{PersonalNumber: pnr(7), GivenName: "Cli", FamilyName: "Steg", District: "Angered",
		Source: pathway.SourceSocialServices, Consent: true, Via: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	in := steps.Input{CaseID: started.CaseID, StepID: "r1-s1", Type: "manual", Params: map[string]string{"description": "Coaching"}, DurationDays: 30}
	run, err := ts.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: pathway.StepWorkflowID(in.CaseID, in.StepID), TaskQueue: ts.TaskQueue},
		steps.WorkflowName("manual"), in)
	if err != nil {
		t.Fatal(err)
	}
	setup := cliSetup(t, url, ts.TaskQueue)
	cli := func(args ...string) (string, error) { return runCLI(ctx, stepActionCmd(setup), args...) }

	if _, err := cli(started.CaseID, "r1-s1", "confirm-step", "--staff", "manager", "--set", "outcome=completed"); err == nil || !strings.Contains(err.Error(), "role") {
		t.Fatalf("a unit manager confirmed a step: %v", err)
	}
	if _, err := cli(started.CaseID, "r1-s1", "confirm-step", "--staff", "coach.angered", "--set", "outcome=great"); err == nil || !strings.Contains(err.Error(), "outcome") {
		t.Fatalf("a bad outcome: %v, want an error naming outcome", err)
	}
	out, err := cli(started.CaseID, "r1-s1", "confirm-step", "--staff", "coach.angered", "--set", "outcome=completed", "--key", "cli-1")
	if err != nil || !strings.Contains(out, "completed") {
		t.Fatalf("confirm: %q %v", out, err)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var res steps.Result
	if err := run.Get(wctx, &res); err != nil || res.Outcome != pathway.StepCompleted || res.Details["confirmed_by"] != "coach.angered" {
		t.Fatalf("the step ended %+v %v", res, err)
	}
	// The same key again, after the step has ended: applied once, reported as such.
	if out, err := cli(started.CaseID, "r1-s1", "confirm-step", "--staff", "coach.angered", "--set", "outcome=completed", "--key", "cli-1"); err != nil || !strings.Contains(out, "applied before") {
		t.Fatalf("repeat: %q %v", out, err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE case_id = $1 AND detail->>'action' = 'confirm-step' AND detail->>'via' = 'cli'`,
		started.CaseID).Scan(&n); err != nil || n < 1 {
		t.Fatalf("%d audit rows for the CLI's action (%v)", n, err)
	}
}
