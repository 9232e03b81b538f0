package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/escalation/contract"
)

// manualBatchSize is how many cases one batch activity escalates.
const manualBatchSize = 100

// ManualEscalation is a staff-started escalation of one case or many: the
// API (or the CLI) starts it under a workflow ID made from the caller's
// idempotency key, so a repeated request finds the first run instead of
// climbing the ladder twice. Progress is a Query; the result is the same
// ManualProgress, done. Its sweep ID is its workflow ID.
func ManualEscalation(ctx workflow.Context, req contract.ManualRequest) (contract.ManualProgress, error) {
	p := contract.ManualProgress{SweepID: workflow.GetInfo(ctx).WorkflowExecution.ID, State: contract.ManualFinding}
	if err := workflow.SetQueryHandler(ctx, contract.QueryManualProgress, func() (contract.ManualProgress, error) {
		return p, nil
	}); err != nil {
		return p, err
	}
	now := workflow.Now(ctx)
	dctx := workflow.WithActivityOptions(ctx, sweepDBOptions)
	var found contract.ManualFound
	if err := workflow.ExecuteActivity(dctx, contract.ActivityFindManual, contract.ManualFindInput{SweepID: p.SweepID, Now: now, Request: req}).Get(ctx, &found); err != nil {
		return p, err
	}
	p.State, p.Matched, p.ToEscalate, p.AtTop = contract.ManualEscalating, found.Matched, found.ToEscalate, found.AtTop
	bctx := workflow.WithActivityOptions(ctx, sweepBatchOptions)
	var afterCase, afterRule string
	for p.ToEscalate > 0 {
		var b contract.BatchResult
		in := contract.BatchInput{SweepID: p.SweepID, Now: now, AfterCase: afterCase, AfterRule: afterRule, Limit: manualBatchSize, Actor: req.StaffID}
		if err := workflow.ExecuteActivity(bctx, contract.ActivityEscalate, in).Get(ctx, &b); err != nil {
			return p, err
		}
		p.Processed += b.Processed
		p.Escalated += b.Escalated
		p.Skipped += b.Skipped
		p.NotifyFailed += b.NotifyFailed
		afterCase, afterRule = b.LastCase, b.LastRule
		if b.Done {
			break
		}
	}
	counts := contract.SweepCounts{Stalled: p.Matched, Escalated: p.Escalated, Waiting: len(p.AtTop), Skipped: p.Skipped, NotifyFailed: p.NotifyFailed}
	if err := workflow.ExecuteActivity(dctx, contract.ActivityFinish, contract.FinishInput{SweepID: p.SweepID, Now: workflow.Now(ctx), Counts: counts}).Get(ctx, nil); err != nil {
		return p, err
	}
	p.State = contract.ManualDone
	return p, nil
}
