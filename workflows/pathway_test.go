package workflows_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/catalog"
	"github.com/pathways-se/pathways/steps/komvux"
	"github.com/pathways-se/pathways/steps/manual"
	"github.com/pathways-se/pathways/worker"
	"github.com/pathways-se/pathways/workflows"
)

const day = 24 * time.Hour

var staff = pathway.Actor{StaffID: "coach-1"}

// csn is student finance granted, for studies outcomes.
var csn = true

// harness runs one pathway under the testsuite with time skipping: all
// scheduled actions are delayed callbacks at programme days.
type harness struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	reg   *fakeRegistry
	out   *fakeOutside
	edu   *fakeEducation
	start time.Time
	errs  map[string]error // update results by label
}

func programme() pathway.Programme {
	return pathway.Programme{
		Name: "adult", Version: 1, MinAge: 25, MaxAge: 66, TimeLimitDays: 548, PauseStopsClock: true,
		FirstContactHours: 48, MappingDays: 28, MappingReminder: 7, FollowUpDays: []int{30, 90},
		Steps: []pathway.StepSpec{{ID: "coach", Type: manual.Name, DurationDays: 30, Params: map[string]string{"description": "coaching"}}},
	}
}

func newHarness(t *testing.T) *harness {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	h := &harness{t: t, env: env, reg: &fakeRegistry{centres: map[string]bool{"gbg-angered": true, "gbg-oster": true}},
		out: &fakeOutside{}, edu: newFakeEducation(), start: env.Now(), errs: map[string]error{}}
	reg := catalog.Registry()
	wf := &workflows.Pathways{Steps: worker.StepCatalog(reg)}
	env.RegisterWorkflowWithOptions(wf.Pathway, workflow.RegisterOptions{Name: pathway.WorkflowName})
	env.RegisterActivity(h.reg)
	env.RegisterActivity(h.out)
	worker.RegisterSteps(env, reg, steps.Deps{Education: h.edu, People: fakePeople{}})
	// The polling activity runs in real time, which would stop the suite's
	// time skipping; here results arrive by callback signal, and the polling
	// path has its own tests in the step conformance suite.
	env.OnActivity(steps.ActivityName(komvux.Name, "AwaitResult"), mock.Anything, mock.Anything).
		Return(integrations.Enrolment{}, temporal.NewNonRetryableApplicationError("polling is off in this test", "rejected", nil))
	env.SetTestTimeout(30 * time.Second)
	return h
}

func (h *harness) run(p pathway.Programme, mutate ...func(*pathway.Start)) {
	// At the level a new pathway starts at; older levels' paths are the
	// committed histories' (replay_test.go).
	in := pathway.Start{CaseID: "2026-TEST0001", CentreID: "gbg-angered", MunicipalityCode: "1480", Track: pathway.TrackAdult,
		ReferralSource: pathway.SourceSocialServices, ReferredAt: h.start, Programme: p, ChangeLevel: pathway.ChangeLevel}
	for _, m := range mutate {
		m(&in)
	}
	h.env.ExecuteWorkflow(pathway.WorkflowName, in)
}

// at schedules fn at programme day d after the start.
func (h *harness) at(d float64, fn func()) {
	h.env.RegisterDelayedCallback(fn, time.Duration(d*float64(day)))
}

// update sends a staff action and files its error (nil when accepted and
// completed) under label.
func (h *harness) update(label, name string, arg any) {
	h.errs[label] = errors.New("no answer")
	h.env.UpdateWorkflow(name, label, &testsuite.TestUpdateCallback{
		OnAccept:   func() {},
		OnReject:   func(err error) { h.errs[label] = err },
		OnComplete: func(_ any, err error) { h.errs[label] = err },
	}, arg)
}

// updateStep sends an Update to a step's child workflow.
func (h *harness) updateStep(label, stepID, name string, arg any) {
	h.errs[label] = errors.New("no answer")
	err := h.env.UpdateWorkflowByID(pathway.StepWorkflowID("2026-TEST0001", stepID), name, label, &testsuite.TestUpdateCallback{
		OnAccept:   func() {},
		OnReject:   func(err error) { h.errs[label] = err },
		OnComplete: func(_ any, err error) { h.errs[label] = err },
	}, arg)
	if err != nil {
		h.errs[label] = err
	}
}

func (h *harness) status() pathway.Status {
	v, err := h.env.QueryWorkflow(pathway.QueryStatus)
	if err != nil {
		h.t.Fatalf("query: %v", err)
	}
	var s pathway.Status
	if err := v.Get(&s); err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *harness) result() pathway.Status {
	h.t.Helper()
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	if err := h.env.GetWorkflowError(); err != nil {
		h.t.Fatalf("workflow failed: %v", err)
	}
	var s pathway.Status
	if err := h.env.GetWorkflowResult(&s); err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *harness) ok(labels ...string) {
	h.t.Helper()
	for _, l := range labels {
		if err := h.errs[l]; err != nil {
			h.t.Errorf("update %s: %v", l, err)
		}
	}
}

func (h *harness) refused(label, wantInMessage string) {
	h.t.Helper()
	err := h.errs[label]
	if err == nil || !strings.Contains(err.Error(), wantInMessage) {
		h.t.Errorf("update %s: got %v, want a refusal containing %q", label, err, wantInMessage)
	}
}

// elapsedDays is how many programme days passed since the start.
func (h *harness) elapsedDays() float64 { return h.env.Now().Sub(h.start).Hours() / 24 }

// toPlan records first contact and mapping, then approves a plan.
func (h *harness) toPlan(plan pathway.Plan) {
	h.at(1, func() {
		h.update("contact", pathway.UpdateFirstContact, pathway.FirstContact{Actor: staff, Channel: "meeting"})
	})
	h.at(10, func() { h.update("mapping", pathway.UpdateMapping, mapping()) })
	h.at(12, func() { h.update("plan", pathway.UpdateApprovePlan, plan) })
}

func mapping() pathway.Mapping {
	return pathway.Mapping{Actor: staff, Abilities: []string{"forklift licence"}, EducationLevel: "3", Language: "sv:B1",
		WorkHistory: "warehouse 2015–2019", Goals: "work in logistics", Obstacles: []string{"no driving licence"}}
}

func manualPlan() pathway.Plan {
	return pathway.Plan{Actor: staff, TargetSSYK: "8332", Steps: []pathway.StepSpec{
		{ID: "coach", Type: manual.Name, DurationDays: 30, Params: map[string]string{"description": "coaching"}}}}
}

func komvuxPlan() pathway.Plan {
	return pathway.Plan{Actor: staff, TargetSSYK: "5321", Steps: []pathway.StepSpec{
		{ID: "vard", Type: komvux.Name, DurationDays: 120, Params: map[string]string{"course_code": "VARVAR0", "form": "yrkesvux"}}}}
}

func confirm(outcome, reason string) manual.Confirm {
	return manual.Confirm{Actor: staff, Outcome: outcome, Reason: reason}
}

func TestPathwayToWork(t *testing.T) {
	h := newHarness(t)
	h.toPlan(manualPlan())
	h.at(13, func() {
		s := h.status()
		if s.Phase != pathway.PhaseSteps || s.CurrentStep != "r1-coach" {
			t.Errorf("day 13: phase %s step %q", s.Phase, s.CurrentStep)
		}
	})
	h.at(40, func() { h.updateStep("confirm", "r1-coach", manual.UpdateConfirm, confirm(pathway.StepCompleted, "")) })
	h.at(41, func() {
		if s := h.status(); s.Phase != pathway.PhaseOutcome {
			t.Errorf("day 41: phase %s, want %s", s.Phase, pathway.PhaseOutcome)
		}
	})
	h.at(45, func() {
		h.update("outcome", pathway.UpdateOutcome, pathway.Outcome{Actor: staff, Kind: pathway.OutcomeWork, StartDate: h.env.Now(), Employer: "Logistik AB", SSYK: "8332", EmployerKind: pathway.EmployerRegular, EmploymentForm: pathway.EmploymentUnsubsidised})
	})
	h.at(75.5, func() {
		h.update("fu30", pathway.UpdateFollowUp, pathway.FollowUp{Actor: staff, Day: 30, StillThere: true})
	})
	h.at(135.5, func() {
		h.update("fu90", pathway.UpdateFollowUp, pathway.FollowUp{Actor: staff, Day: 90, StillThere: true})
	})
	h.run(programme())

	h.ok("contact", "mapping", "plan", "confirm", "outcome", "fu30", "fu90")
	s := h.result()
	if s.Phase != pathway.PhaseClosed || s.ClosureReason != pathway.CloseWork {
		t.Fatalf("final phase %s reason %s", s.Phase, s.ClosureReason)
	}
	if s.Outcome == nil || s.Outcome.Sustained == nil || !*s.Outcome.Sustained || len(s.Outcome.FollowUps) != 2 {
		t.Errorf("outcome %+v", s.Outcome)
	}
	if got := strings.Join(h.out.events(), ","); got != "outcome:work,closure:work" {
		t.Errorf("notices %s", got)
	}
	want := []string{"referral", "first_contact", "mapping", "plan", "step_started", "step_ended", "steps_done", "outcome", "follow_up_due", "follow_up", "follow_up_due", "follow_up", "closed"}
	if got := strings.Join(h.reg.kinds(), ","); got != strings.Join(want, ",") {
		t.Errorf("timeline\n got %s\nwant %s", got, strings.Join(want, ","))
	}
	if last := h.reg.last(); last.Status.Phase != pathway.PhaseClosed || len(last.Status.OpenTasks) != 0 {
		t.Errorf("last projection: phase %s, %d open tasks", last.Status.Phase, len(last.Status.OpenTasks))
	}
}

func TestPathwayToStudies(t *testing.T) {
	h := newHarness(t)
	h.toPlan(komvuxPlan())
	h.at(100, func() {
		// The education system's callback, relayed as a signal to the step.
		if err := h.env.SignalWorkflowByID(pathway.StepWorkflowID("2026-TEST0001", "r1-vard"), komvux.SignalResult,
			komvux.Result{EnrolmentID: "E1", Status: "completed", Grade: "C"}); err != nil {
			t.Error(err)
		}
	})
	h.at(101, func() {
		h.update("outcome", pathway.UpdateOutcome, pathway.Outcome{Actor: staff, Kind: pathway.OutcomeStudies, StartDate: h.env.Now(), Employer: "Chalmers", StudyForm: pathway.StudyUniversity, StudentFinance: &csn})
	})
	h.at(131.5, func() {
		h.update("fu30", pathway.UpdateFollowUp, pathway.FollowUp{Actor: staff, Day: 30, StillThere: true})
	})
	h.at(191.5, func() {
		h.update("fu90", pathway.UpdateFollowUp, pathway.FollowUp{Actor: staff, Day: 90, StillThere: true})
	})
	h.run(programme())

	h.ok("contact", "mapping", "plan", "outcome", "fu30", "fu90")
	s := h.result()
	if s.ClosureReason != pathway.CloseStudies || s.Steps[0].Status != pathway.StepCompleted {
		t.Fatalf("reason %s, step %+v", s.ClosureReason, s.Steps[0])
	}
	if h.edu.withdrawals() != 0 {
		t.Errorf("a completed course was withdrawn")
	}
}

func TestDropoutAndNewPlan(t *testing.T) {
	h := newHarness(t)
	h.toPlan(manualPlan())
	h.at(20, func() {
		h.updateStep("drop", "r1-coach", manual.UpdateConfirm, confirm(pathway.StepDroppedOut, "stopped attending"))
	})
	h.at(21, func() {
		s := h.status()
		if s.Phase != pathway.PhasePlanning || !hasTask(s, "replan") {
			t.Errorf("after dropout: phase %s tasks %+v", s.Phase, s.OpenTasks)
		}
	})
	h.at(25, func() { h.update("plan2", pathway.UpdateApprovePlan, komvuxPlan()) })
	h.at(26, func() {
		s := h.status()
		if len(s.Steps) != 2 || s.Steps[0].Status != pathway.StepDroppedOut || s.Steps[1].ID != "r2-vard" || s.Steps[1].Status != pathway.StepRunning {
			t.Errorf("steps after revision: %+v", s.Steps)
		}
	})
	h.at(30, func() {
		h.update("close", pathway.UpdateClose, pathway.Close{Actor: staff, Reason: pathway.CloseMoved})
	})
	h.run(programme())
	h.ok("drop", "plan2", "close")
	s := h.result()
	if s.ClosureReason != pathway.CloseMoved || s.Steps[1].Status != pathway.StepCancelled {
		t.Fatalf("reason %s steps %+v", s.ClosureReason, s.Steps)
	}
	if h.edu.withdrawals() != 1 {
		t.Errorf("withdrawals %d, want 1 (closing mid-course withdraws the enrolment)", h.edu.withdrawals())
	}
}

func TestTimeLimitFiresMidStep(t *testing.T) {
	h := newHarness(t)
	p := programme()
	p.TimeLimitDays = 60
	h.toPlan(komvuxPlan())
	h.run(p)
	s := h.result()
	if s.ClosureReason != pathway.CloseTimeLimit {
		t.Fatalf("reason %s", s.ClosureReason)
	}
	if d := h.elapsedDays(); d < 60 || d > 61 {
		t.Errorf("closed after %.1f days, want 60", d)
	}
	if s.Steps[0].Status != pathway.StepCancelled {
		t.Errorf("step %+v", s.Steps[0])
	}
	if h.edu.withdrawals() != 1 {
		t.Errorf("withdrawals %d, want exactly 1", h.edu.withdrawals())
	}
	if got := strings.Join(h.out.events(), ","); got != "closure:time_limit" {
		t.Errorf("notices %s", got)
	}
}

func TestPauseThatStopsTheClock(t *testing.T) {
	h := newHarness(t)
	p := programme()
	p.TimeLimitDays = 100
	h.at(10, func() { h.update("pause", pathway.UpdatePause, pathway.Pause{Actor: staff, Reason: pathway.PauseSick}) })
	h.at(20, func() {
		s := h.status()
		if !s.Paused || s.DaysLeft != 90 {
			t.Errorf("while paused: paused=%v days left %d, want 90", s.Paused, s.DaysLeft)
		}
	})
	h.at(40, func() { h.update("resume", pathway.UpdateResume, staff) })
	h.at(41, func() {
		if s := h.status(); s.DaysLeft != 89 {
			t.Errorf("after resume: days left %d, want 89", s.DaysLeft)
		}
	})
	h.run(p)
	h.ok("pause", "resume")
	s := h.result()
	if d := h.elapsedDays(); s.ClosureReason != pathway.CloseTimeLimit || d < 130 || d > 131 {
		t.Errorf("closed %s after %.1f days, want time_limit after 130", s.ClosureReason, d)
	}
}

func TestPauseThatDoesNotStopTheClock(t *testing.T) {
	h := newHarness(t)
	p := programme()
	p.TimeLimitDays = 100
	p.PauseStopsClock = false
	h.at(10, func() {
		h.update("pause", pathway.UpdatePause, pathway.Pause{Actor: staff, Reason: pathway.PauseParental})
	})
	h.at(20, func() {
		if s := h.status(); s.DaysLeft != 80 {
			t.Errorf("while paused: days left %d, want 80", s.DaysLeft)
		}
	})
	h.at(40, func() { h.update("resume", pathway.UpdateResume, staff) })
	h.run(p)
	h.ok("pause", "resume")
	if d := h.elapsedDays(); d < 100 || d > 101 {
		t.Errorf("closed after %.1f days, want 100", d)
	}
}

func TestFailedFollowUpLapsesTheOutcome(t *testing.T) {
	h := newHarness(t)
	h.toPlan(manualPlan())
	h.at(20, func() {
		h.update("outcome", pathway.UpdateOutcome, pathway.Outcome{Actor: staff, Kind: pathway.OutcomeWork, StartDate: h.env.Now(), Employer: "Lager AB", EmployerKind: pathway.EmployerRegular, EmploymentForm: pathway.EmploymentUnsubsidised})
	})
	h.at(50.5, func() {
		h.update("fu30", pathway.UpdateFollowUp, pathway.FollowUp{Actor: staff, Day: 30, StillThere: false, Note: "left after two weeks"})
	})
	h.at(51, func() {
		s := h.status()
		if s.Phase != pathway.PhasePlanning || s.Outcome != nil || !hasTask(s, "replan") {
			t.Errorf("after failed follow-up: phase %s outcome %+v", s.Phase, s.Outcome)
		}
		if s.DaysLeft <= 0 {
			t.Errorf("the time limit should run again, days left %d", s.DaysLeft)
		}
	})
	h.at(52, func() {
		h.update("close", pathway.UpdateClose, pathway.Close{Actor: staff, Reason: pathway.CloseDeclined})
	})
	h.run(programme())
	h.ok("outcome", "fu30", "close")
	if s := h.result(); s.ClosureReason != pathway.CloseDeclined {
		t.Errorf("reason %s", s.ClosureReason)
	}
	if h.edu.withdrawals() != 0 {
		t.Error("no course to withdraw")
	}
}

func TestLateFailedFollowUpClosesNotSustained(t *testing.T) {
	h := newHarness(t)
	h.toPlan(manualPlan())
	h.at(20, func() {
		h.update("outcome", pathway.UpdateOutcome, pathway.Outcome{Actor: staff, Kind: pathway.OutcomeSubsidisedWork, StartDate: h.env.Now(), Employer: "Kommunen", EmployerKind: pathway.EmployerMunicipalMeasure, EmploymentForm: pathway.EmploymentSubsidised, Subsidy: "kommunal arbetsmarknadsanställning"})
	})
	h.at(50.5, func() {
		h.update("fu30", pathway.UpdateFollowUp, pathway.FollowUp{Actor: staff, Day: 30, StillThere: true})
	})
	h.at(110.5, func() {
		h.update("fu90", pathway.UpdateFollowUp, pathway.FollowUp{Actor: staff, Day: 90, StillThere: false})
	})
	h.run(programme())
	h.ok("outcome", "fu30", "fu90")
	s := h.result()
	if s.ClosureReason != pathway.CloseSubsidisedWork || s.Outcome.Sustained == nil || *s.Outcome.Sustained {
		t.Errorf("reason %s outcome %+v", s.ClosureReason, s.Outcome)
	}
}

func TestTransfer(t *testing.T) {
	h := newHarness(t)
	h.at(1, func() {
		h.update("bad", pathway.UpdateTransfer, pathway.Transfer{Actor: staff, ToCentre: "nowhere", Reason: "moved"})
	})
	h.at(2, func() {
		h.update("good", pathway.UpdateTransfer, pathway.Transfer{Actor: staff, ToCentre: "gbg-oster", Reason: "moved to Öster"})
	})
	h.at(3, func() {
		if s := h.status(); s.CentreID != "gbg-oster" {
			t.Errorf("centre %s", s.CentreID)
		}
		h.update("close", pathway.UpdateClose, pathway.Close{Actor: staff, Reason: pathway.CloseOther, Note: "test"})
	})
	h.run(programme())
	h.refused("bad", `no centre with ID "nowhere"`)
	h.ok("good", "close")
	if s := h.result(); s.CentreID != "gbg-oster" || h.reg.last().Status.CentreID != "gbg-oster" {
		t.Errorf("centre %s", s.CentreID)
	}
	if !contains(h.reg.kinds(), "transfer") {
		t.Error("transfer not in the timeline")
	}
}

func TestInvalidUpdatesAreRefused(t *testing.T) {
	h := newHarness(t)
	h.at(0.5, func() {
		h.update("mapping-early", pathway.UpdateMapping, mapping())
		h.update("close-bad-code", pathway.UpdateClose, pathway.Close{Actor: staff, Reason: "bored"})
		h.update("close-work-no-outcome", pathway.UpdateClose, pathway.Close{Actor: staff, Reason: pathway.CloseWork})
		h.update("close-time-limit", pathway.UpdateClose, pathway.Close{Actor: staff, Reason: pathway.CloseTimeLimit})
		h.update("no-actor", pathway.UpdateFirstContact, pathway.FirstContact{})
		h.update("resume-unpaused", pathway.UpdateResume, staff)
	})
	h.at(1, func() { h.update("contact", pathway.UpdateFirstContact, pathway.FirstContact{Actor: staff}) })
	h.at(2, func() {
		m := mapping()
		m.Goals = ""
		h.update("mapping-no-goals", pathway.UpdateMapping, m)
	})
	h.at(3, func() { h.update("mapping", pathway.UpdateMapping, mapping()) })
	h.at(4, func() {
		h.update("plan-unknown-type", pathway.UpdateApprovePlan, pathway.Plan{Actor: staff, TargetSSYK: "8332",
			Steps: []pathway.StepSpec{{ID: "x", Type: "astrology", DurationDays: 10}}})
		h.update("plan-bad-ssyk", pathway.UpdateApprovePlan, pathway.Plan{Actor: staff, TargetSSYK: "83"})
		// A blank ID takes its place number: a second "s2" would share its child and business keys.
		h.update("plan-same-id", pathway.UpdateApprovePlan, pathway.Plan{Actor: staff, TargetSSYK: "8332",
			Steps: []pathway.StepSpec{{Type: "manual", DurationDays: 5, Params: map[string]string{"description": "a"}}, {Type: "manual", DurationDays: 5, Params: map[string]string{"description": "b"}}, {ID: "s2", Type: "manual", DurationDays: 5}}})
		h.update("followup-early", pathway.UpdateFollowUp, pathway.FollowUp{Actor: staff, Day: 30, StillThere: true})
	})
	h.at(5, func() {
		h.update("close", pathway.UpdateClose, pathway.Close{Actor: staff, Reason: pathway.CloseDeclined})
		h.update("close-again", pathway.UpdateClose, pathway.Close{Actor: staff, Reason: pathway.CloseDeclined})
	})
	h.run(programme())

	h.refused("mapping-early", `cannot record the mapping while the pathway is in phase "referral"`)
	h.refused("close-bad-code", `reason "bored" is not a closure code`)
	h.refused("close-work-no-outcome", "closing as work needs a recorded work outcome first")
	h.refused("close-time-limit", "set by the system")
	h.refused("no-actor", "staff_id is required")
	h.refused("resume-unpaused", "not paused")
	h.refused("mapping-no-goals", "goals is required")
	h.refused("plan-unknown-type", `unknown step type "astrology"`)
	h.refused("plan-bad-ssyk", "not a four-digit SSYK")
	h.refused("plan-same-id", `steps[2]: id "s2" is already used by steps[1]`)
	h.refused("followup-early", "cannot answer a follow-up")
	h.refused("close-again", "already closed")
	h.ok("contact", "mapping", "close")
	if s := h.result(); s.ClosureReason != pathway.CloseDeclined {
		t.Errorf("reason %s", s.ClosureReason)
	}
}

func TestActivityDutyNeedsEducationFirst(t *testing.T) {
	h := newHarness(t)
	h.at(1, func() { h.update("contact", pathway.UpdateFirstContact, pathway.FirstContact{Actor: staff}) })
	h.at(2, func() { h.update("mapping", pathway.UpdateMapping, mapping()) })
	h.at(3, func() { h.update("plan-manual", pathway.UpdateApprovePlan, manualPlan()) })
	h.at(4, func() { h.update("plan-komvux", pathway.UpdateApprovePlan, komvuxPlan()) })
	h.at(5, func() {
		h.update("close", pathway.UpdateClose, pathway.Close{Actor: staff, Reason: pathway.CloseMoved})
	})
	h.run(programme(), func(s *pathway.Start) { s.Track, s.ActivityDuty = pathway.TrackYouth, true })
	h.refused("plan-manual", "must start with an education step")
	h.ok("contact", "mapping", "plan-komvux", "close")
	h.result()
}

func TestFirstContactMissedAndMappingDeadlines(t *testing.T) {
	h := newHarness(t)
	h.at(1, func() {
		if s := h.status(); hasTask(s, "first_contact_missed") {
			t.Error("missed before the target")
		}
	})
	h.at(3, func() {
		s := h.status()
		if !hasTask(s, "first_contact_missed") {
			t.Errorf("no missed-contact task after 48 h: %+v", s.OpenTasks)
		}
		h.update("contact", pathway.UpdateFirstContact, pathway.FirstContact{Actor: staff})
	})
	// Mapping is due on day 31; the reminder comes on day 24.
	h.at(23, func() {
		if s := h.status(); hasTask(s, "mapping_reminder") || hasTask(s, "first_contact_missed") {
			t.Errorf("day 23 tasks %+v", s.OpenTasks)
		}
	})
	h.at(25, func() {
		if s := h.status(); !hasTask(s, "mapping_reminder") || s.MappingOverdue {
			t.Errorf("day 25: tasks %+v overdue %v", s.OpenTasks, s.MappingOverdue)
		}
	})
	h.at(32, func() {
		if s := h.status(); !s.MappingOverdue {
			t.Error("day 32: mapping not overdue")
		}
		h.env.SignalWorkflow(pathway.SignalMoveMappingDeadline, pathway.MoveDeadline{Due: h.env.Now().Add(20 * day), Reason: "interpreter needed"})
	})
	h.at(33, func() {
		s := h.status()
		if s.MappingOverdue || hasTask(s, "mapping_reminder") {
			t.Errorf("after moving the deadline: overdue %v tasks %+v", s.MappingOverdue, s.OpenTasks)
		}
		h.update("close", pathway.UpdateClose, pathway.Close{Actor: staff, Reason: pathway.CloseOther, Note: "test over"})
	})
	h.run(programme())
	h.ok("contact", "close")
	h.result()
	for _, k := range []string{"first_contact_missed", "mapping_reminder", "mapping_overdue", "mapping_deadline_moved"} {
		if !contains(h.reg.kinds(), k) {
			t.Errorf("timeline lacks %s: %v", k, h.reg.kinds())
		}
	}
}

func TestEscalationOnceAndCalmedByProgress(t *testing.T) {
	h := newHarness(t)
	esc := pathway.Escalation{Rule: "first_contact", Level: 1, Role: "job_coach", Reason: "no contact in 48 h"}
	h.at(3, func() {
		h.env.SignalWorkflow(pathway.SignalEscalate, esc)
		h.env.SignalWorkflow(pathway.SignalEscalate, esc) // a repeated sweep
	})
	h.at(4, func() {
		s := h.status()
		if n := countTasks(s, "escalation"); n != 1 || s.EscalationLvl != 1 {
			t.Errorf("escalation tasks %d level %d, want 1 and 1", n, s.EscalationLvl)
		}
		// Another rule at the same level: the case has one ladder, no second task.
		h.env.SignalWorkflow(pathway.SignalEscalate, pathway.Escalation{Rule: "no_progress", Level: 1, Role: "job_coach", Reason: "no progress"})
		esc.Level, esc.Role = 2, "team_lead"
		h.env.SignalWorkflow(pathway.SignalEscalate, esc)
	})
	h.at(5, func() {
		// Climbing closed the level-1 task: only the team lead's is open.
		if s := h.status(); countTasks(s, "escalation") != 1 || s.EscalationLvl != 2 || s.OpenTasks[len(s.OpenTasks)-1].Role != "team_lead" {
			t.Errorf("after climbing: %+v", s.OpenTasks)
		}
		// A duplicate referral for the team lead is a notice, not a stall: the
		// ladder at level 2 does not swallow it.
		h.env.SignalWorkflow(pathway.SignalEscalate, pathway.Escalation{Rule: "duplicate_referral", Level: 2, Role: "team_lead", Reason: "referred again"})
		h.update("contact", pathway.UpdateFirstContact, pathway.FirstContact{Actor: staff})
	})
	h.at(6, func() {
		if s := h.status(); countTasks(s, "escalation") != 0 || s.EscalationLvl != 0 {
			t.Errorf("progress did not calm the escalation: %+v", s.OpenTasks)
		}
		h.update("close", pathway.UpdateClose, pathway.Close{Actor: staff, Reason: pathway.CloseMoved})
	})
	h.run(programme())
	h.ok("contact", "close")
	h.result()
	if n := countKind(h.reg.kinds(), "escalated"); n != 3 {
		t.Errorf("escalated events %d, want 3 (two levels and the duplicate referral)", n)
	}
}

func hasTask(s pathway.Status, kind string) bool { return countTasks(s, kind) > 0 }

func countTasks(s pathway.Status, kind string) int {
	n := 0
	for _, t := range s.OpenTasks {
		if t.Kind == kind {
			n++
		}
	}
	return n
}

func contains(list []string, s string) bool { return countKind(list, s) > 0 }

func countKind(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

// An outcome recorded while the step's start is still being projected (the
// database slow) cancels the step, as it does once the step runs.
func TestOutcomeWhileStepStarts(t *testing.T) {
	h := newHarness(t)
	h.at(1, func() { h.update("contact", pathway.UpdateFirstContact, pathway.FirstContact{Actor: staff}) })
	h.at(2, func() { h.update("mapping", pathway.UpdateMapping, mapping()) })
	h.at(3, func() {
		h.reg.failProjections("step_started")
		h.update("plan", pathway.UpdateApprovePlan, manualPlan())
	})
	// The suite retries the projection for about five minutes.
	h.env.RegisterDelayedCallback(func() {
		h.update("outcome", pathway.UpdateOutcome, pathway.Outcome{Actor: staff, Kind: pathway.OutcomeWork, StartDate: h.env.Now(), Employer: "Lager AB", EmployerKind: pathway.EmployerRegular, EmploymentForm: pathway.EmploymentUnsubsidised})
	}, 3*day+10*time.Second)
	h.env.RegisterDelayedCallback(func() { h.reg.failProjections("") }, 3*day+20*time.Second)
	h.at(4, func() {
		s := h.status()
		if s.Phase != pathway.PhaseFollowUp || s.CurrentStep != "" || len(s.Steps) != 1 || s.Steps[0].Status != pathway.StepCancelled {
			t.Errorf("day 4: phase %s, current step %q, steps %+v: want the step cancelled by the outcome", s.Phase, s.CurrentStep, s.Steps)
		}
		h.update("close", pathway.UpdateClose, pathway.Close{Actor: staff, Reason: pathway.CloseMoved})
	})
	h.run(programme())
	h.ok("contact", "mapping", "plan", "outcome", "close")
}

// A pathway stamped with a change level this code does not know (started by
// a newer release) is not run as if this code had those changes: its
// workflow task fails, for Temporal to retry on a worker that knows them.
func TestPathwayFromNewerReleaseIsRefused(t *testing.T) {
	h := newHarness(t)
	h.run(programme(), func(in *pathway.Start) { in.ChangeLevel = pathway.ChangeLevel + 1 })
	err := h.env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "upgrade the worker") {
		t.Fatalf("a pathway from a newer release ran: %v", err)
	}
}
