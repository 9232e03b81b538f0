package workflows

import (
	"encoding/json"

	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/pathway"
)

// continueAsNewDue is true when the history has grown enough to start a
// fresh run, and no step is running (a running child stays with its parent).
func (w *pathwayWorkflow) continueAsNewDue(ctx workflow.Context) bool {
	if w.st.currentStep() >= 0 {
		return false
	}
	info := workflow.GetInfo(ctx)
	limit := w.in.HistoryLimit
	if limit <= 0 {
		limit = defaultHistoryLimit
	}
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= limit
}

// continueAsNew hands the state to a fresh run once every Update has
// replied and every signal has been applied. It returns nil, without
// handing over, when closure was requested meanwhile: the close Update
// waits for the main loop, so the loop must close the case, not wait for it.
func (w *pathwayWorkflow) continueAsNew(ctx workflow.Context) error {
	if w.version(ctx, "hand-over-yields-to-close") == workflow.DefaultVersion {
		return w.continueAsNewV0(ctx)
	}
	// No yield between the last check and the hand-over, so nothing can be
	// accepted that the next run would not see. Undelivered notices are
	// carried in state; the wait is for handlers and signal projections only.
	if err := workflow.Await(ctx, func() bool { return w.st.Close != nil || w.quiet(ctx) }); err != nil {
		return err
	}
	if w.st.Close != nil {
		return nil
	}
	return w.handOver(ctx)
}

// quiet is true when no Update handler runs, no signal waits or is being
// handled, and no failed notice is being projected.
func (w *pathwayWorkflow) quiet(ctx workflow.Context) bool {
	if !workflow.AllHandlersFinished(ctx) || w.busy > 0 {
		return false
	}
	for _, ch := range w.inbox {
		if ch.Len() > 0 {
			return false
		}
	}
	return true
}

// continueAsNewV0 is the hand-over before hand-over-yields-to-close: it
// waited for notices too, and a close arriving meanwhile never completed.
// Kept for the runs it recorded.
func (w *pathwayWorkflow) continueAsNewV0(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && w.busy == 0 }); err != nil {
		return err
	}
	for _, drain := range w.signals {
		for drain(ctx) {
		}
	}
	return w.handOver(ctx)
}

func (w *pathwayWorkflow) handOver(ctx workflow.Context) error {
	//workflowcheck:ignore encoding/json caches types; its output is deterministic
	carry, err := json.Marshal(w.st)
	if err != nil {
		return err
	}
	next := w.in
	next.Carry = carry
	return workflow.NewContinueAsNewError(ctx, pathway.WorkflowName, next)
}
