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
// replied and every buffered signal has been applied.
func (w *pathwayWorkflow) continueAsNew(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && w.busy == 0 }); err != nil {
		return err
	}
	for _, drain := range w.signals {
		for drain(ctx) {
		}
	}
	//workflowcheck:ignore encoding/json caches types; its output is deterministic
	carry, err := json.Marshal(w.st)
	if err != nil {
		return err
	}
	next := w.in
	next.Carry = carry
	return workflow.NewContinueAsNewError(ctx, pathway.WorkflowName, next)
}
