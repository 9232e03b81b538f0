package workflows

import (
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/pathway"
)

// runSteps runs the plan's next step as a child workflow with a stable ID
// and waits for it, for closure, or for an outcome that makes it moot; in
// the last two cases the step is cancelled and winds down before we go on.
func (w *pathwayWorkflow) runSteps(ctx workflow.Context) error {
	i := w.st.nextPending()
	if i < 0 {
		w.st.Phase = pathway.PhaseOutcome
		w.openTask(pathway.Task{Key: w.taskKey("record_outcome", fmt.Sprint(w.st.PlanRevision)), Kind: "record_outcome",
			Title: "All steps done: record the outcome or revise the plan", Role: "job_coach", Due: workflow.Now(ctx).Add(w.days(14))})
		return w.project(ctx, true, event("steps_done", "All planned steps are done", "system"))
	}
	now := workflow.Now(ctx)
	hadOutcome := w.st.Outcome != nil
	step := &w.st.Steps[i]
	step.Status = pathway.StepRunning
	step.StartedAt = now
	step.PlannedEnd = now.Add(w.days(float64(step.DurationDays)))

	stepCtx, cancel := workflow.WithCancel(ctx)
	stepCtx = workflow.WithChildOptions(stepCtx, workflow.ChildWorkflowOptions{
		WorkflowID:          pathway.StepWorkflowID(w.in.CaseID, step.ID),
		WaitForCancellation: true, // the parent waits for the wind-down
		ParentClosePolicy:   enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
	})
	fut := workflow.ExecuteChildWorkflow(stepCtx, pathway.StepWorkflowName(step.Type), pathway.StepInput{
		CaseID: w.in.CaseID, StepID: step.ID, Type: step.Type, Params: step.Params, DurationDays: step.DurationDays,
		MunicipalityCode: w.in.MunicipalityCode, NeedID: w.st.NeedID, TargetSSYK: w.st.TargetSSYK,
		SecondsPerDay: w.in.SecondsPerDay,
	})
	// Project once the child exists, so staff never act on a step that is
	// not there yet.
	if err := fut.GetChildWorkflowExecution().Get(ctx, nil); err == nil {
		if err := w.project(ctx, true, event("step_started", fmt.Sprintf("Step %s started: %s", step.ID, step.Title), "system")); err != nil {
			cancel()
			return err
		}
	}
	if !hadOutcome && w.st.Outcome != nil &&
		w.version(ctx, "outcome-during-step-start") == workflow.DefaultVersion {
		// Before version 1, an outcome recorded while the step_started
		// projection was in flight left the step running.
		hadOutcome = true
	}
	if err := workflow.Await(ctx, func() bool {
		return fut.IsReady() || w.st.Close != nil || (!hadOutcome && w.st.Outcome != nil)
	}); err != nil {
		cancel()
		return err
	}
	cancelled := !fut.IsReady()
	if cancelled {
		cancel()
	}
	var res pathway.StepResult
	err := fut.Get(ctx, &res)
	cancel()

	step = &w.st.Steps[i] // handlers may have grown the slice meanwhile
	step.EndedAt = workflow.Now(ctx)
	switch {
	case err != nil && temporal.IsCanceledError(err):
		step.Status, step.Reason = pathway.StepCancelled, w.cancelReason()
	case err != nil:
		step.Status, step.Reason = pathway.StepFailed, errorMessage(err)
	default:
		step.Status, step.Reason = res.Outcome, res.Reason
	}
	if err := w.project(ctx, true, eventWith("step_ended", fmt.Sprintf("Step %s %s", step.ID, describe(step)), "system", res.Details)); err != nil {
		return err
	}
	if w.st.Close != nil || w.st.Outcome != nil {
		return nil
	}
	if res.Leads != nil && step.Status == pathway.StepCompleted {
		o := *res.Leads
		o.StaffID = "system"
		if o.StartDate.IsZero() {
			o.StartDate = workflow.Now(ctx)
		}
		return w.applyOutcome(ctx, o)
	}
	if step.Status == pathway.StepDroppedOut || step.Status == pathway.StepFailed {
		w.st.Phase = pathway.PhasePlanning
		title := fmt.Sprintf("Step %s %s: revise the plan", step.ID, step.Status)
		// Version 1 says why in the task itself (e.g. the education system's
		// refusal), so staff need not read the timeline to act.
		if w.version(ctx, "replan-task-says-why") == 1 && step.Reason != "" {
			title = fmt.Sprintf("Step %s %s: %s. Revise the plan", step.ID, step.Status, clip(step.Reason, 200))
		}
		w.openTask(pathway.Task{Key: w.taskKey("replan", step.ID), Kind: "replan",
			Title: title, Role: "job_coach",
			Due: workflow.Now(ctx).Add(w.days(7))})
		return w.project(ctx, false, event("replan_needed", "The plan needs a revision", "system"))
	}
	return nil
}

func (w *pathwayWorkflow) cancelReason() string {
	if w.st.Close != nil {
		return "pathway closed: " + w.st.Close.Reason
	}
	return "outcome recorded"
}

func describe(s *pathway.StepState) string {
	if s.Reason == "" {
		return s.Status
	}
	return s.Status + ": " + s.Reason
}

// stepIDs gives planned steps IDs that are unique across revisions, so each
// child workflow ID is used once.
func stepID(revision int, spec pathway.StepSpec, index int) string {
	id := spec.ID
	if id == "" {
		id = fmt.Sprintf("s%d", index+1)
	}
	return fmt.Sprintf("r%d-%s", revision, id)
}

// clip shortens s to at most n runes for a task title.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
