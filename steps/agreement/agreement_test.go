package agreement_test

import (
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/agreement"
	"github.com/pathways-se/pathways/steps/catalog"
	"github.com/pathways-se/pathways/steps/conformance"
)

var (
	internship = catalog.Get(agreement.NameInternship)
	subsidised = catalog.Get(agreement.NameSubsidised)
)

func run(t *testing.T, typ steps.Type, params map[string]string, needID string, during func(env *testsuite.TestWorkflowEnvironment)) (steps.Result, *conformance.Fakes) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := conformance.NewFakes(conformance.NoFault)
	env.RegisterWorkflowWithOptions(typ.Workflow(), workflow.RegisterOptions{Name: steps.WorkflowName(typ.Name())})
	env.RegisterActivityWithOptions(typ.Activities(f.Deps()), activity.RegisterOptions{Name: steps.ActivityName(typ.Name(), "")})
	if during != nil {
		during(env)
	}
	env.ExecuteWorkflow(steps.WorkflowName(typ.Name()), steps.Input{CaseID: "2026-T1", StepID: "r1-p", Type: typ.Name(),
		Params: params, DurationDays: 30, NeedID: needID, TargetSSYK: "5321"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res steps.Result
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res, f
}

func TestAutomaticCompletionRecordsMidPoint(t *testing.T) {
	res, f := run(t, internship, map[string]string{"employer": "need"}, conformance.Need.ID, nil)
	if res.Outcome != pathway.StepCompleted || res.Leads != nil {
		t.Fatalf("%+v", res)
	}
	if res.Details["mid_point"] == "" || res.Details["check_in"] != "due" || res.Details["employer_id"] != conformance.Need.EmployerID {
		t.Errorf("details %v", res.Details)
	}
	if n := f.Ended(f.LastCreated()); n != 1 {
		t.Errorf("agreement ended %d times at its natural end, want 1", n)
	}
}

// An agreement is ended at the employer however its step ends: at the end
// date, assessed early, or cancelled (the wind-down); once each, under the
// business key "<case>:<step>:end-agreement".
func TestAgreementEndedAtEmployerOnCompletionAndCancel(t *testing.T) {
	assess := func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(agreement.UpdateAssess, "a", &testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(err error) { t.Error(err) }, OnComplete: func(any, error) {}},
				agreement.Assessment{Actor: pathway.Actor{StaffID: "s1"}, Outcome: pathway.StepCompleted})
		}, 10*24*time.Hour)
	}
	cancel := func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(env.CancelWorkflow, 10*24*time.Hour)
	}
	for name, during := range map[string]func(*testsuite.TestWorkflowEnvironment){"end date": nil, "assessed": assess, "cancelled": cancel} {
		t.Run(name, func(t *testing.T) {
			f := endRun(t, during)
			if len(f.Created()) != 1 {
				t.Fatalf("created %v", f.Created())
			}
			if n := f.Ended(f.LastCreated()); n != 1 {
				t.Errorf("agreement ended %d times, want 1", n)
			}
			if keys := f.EndKeys(); len(keys) != 1 || keys[0] != "2026-T1:r1-p:end-agreement" {
				t.Errorf("end keys %q", keys)
			}
		})
	}
}

// endRun runs an internship that may be cancelled and returns the fakes.
func endRun(t *testing.T, during func(*testsuite.TestWorkflowEnvironment)) *conformance.Fakes {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := conformance.NewFakes(conformance.NoFault)
	env.RegisterWorkflowWithOptions(internship.Workflow(), workflow.RegisterOptions{Name: steps.WorkflowName(internship.Name())})
	env.RegisterActivityWithOptions(internship.Activities(f.Deps()), activity.RegisterOptions{Name: steps.ActivityName(internship.Name(), "")})
	if during != nil {
		during(env)
	}
	env.ExecuteWorkflow(steps.WorkflowName(internship.Name()), steps.Input{CaseID: "2026-T1", StepID: "r1-p", Type: internship.Name(),
		Params: map[string]string{"employer": "EMP-7"}, DurationDays: 30})
	if !env.IsWorkflowCompleted() {
		t.Fatal("the step did not end")
	}
	return f
}

func TestSubsidisedLeadsToSubsidisedWork(t *testing.T) {
	res, _ := run(t, subsidised, map[string]string{"employer": "need"}, conformance.Need.ID, nil)
	if res.Leads == nil || res.Leads.Kind != pathway.OutcomeSubsidisedWork || res.Leads.Employer != conformance.Need.EmployerName || res.Leads.StartDate.IsZero() {
		t.Fatalf("leads %+v", res.Leads)
	}
}

func TestDropOutEndsAgreementEarly(t *testing.T) {
	res, f := run(t, internship, map[string]string{"employer": "EMP-7"}, "", func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(agreement.UpdateCheckIn, "c", &testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(err error) { t.Error(err) }, OnComplete: func(any, error) {}},
				agreement.CheckIn{Actor: pathway.Actor{StaffID: "s1"}, Status: "concerns"})
			// A drop-out without a reason is refused.
			env.UpdateWorkflow(agreement.UpdateAssess, "a0", &testsuite.TestUpdateCallback{OnAccept: func() { t.Error("accepted without reason") }, OnReject: func(error) {}, OnComplete: func(any, error) {}},
				agreement.Assessment{Actor: pathway.Actor{StaffID: "s1"}, Outcome: pathway.StepDroppedOut})
			env.UpdateWorkflow(agreement.UpdateAssess, "a1", &testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(err error) { t.Error(err) }, OnComplete: func(any, error) {}},
				agreement.Assessment{Actor: pathway.Actor{StaffID: "s1"}, Outcome: pathway.StepDroppedOut, Reason: "stopped attending"})
		}, 20*24*time.Hour)
	})
	if res.Outcome != pathway.StepDroppedOut || res.Reason != "stopped attending" || res.Details["check_in"] != "concerns" {
		t.Fatalf("%+v", res)
	}
	if n := f.Ended(f.LastCreated()); n != 1 {
		t.Errorf("agreement ended %d times after a drop-out, want 1", n)
	}
}

func TestNoNeedFails(t *testing.T) {
	res, f := run(t, internship, map[string]string{"employer": "need"}, "", nil)
	if res.Outcome != pathway.StepFailed || res.Reason == "" || f.Attempts() != 0 {
		t.Fatalf("%+v attempts %d", res, f.Attempts())
	}
}
