package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/escalation/contract"
)

// The stall sweep: a Temporal Schedule runs it daily (package escalation
// writes the schedule and hosts the activities, named in escalation/contract).

var (
	sweepDBOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, MaximumAttempts: 20},
	}
	sweepBatchOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2,
			MaximumInterval: 2 * time.Minute, MaximumAttempts: 30},
	}
)

// maxSweepBatchesPerRun bounds a run's history; a larger sweep continues as new.
const maxSweepBatchesPerRun = 500

// StallSweep finds stalled cases and escalates each one level, in batches.
func StallSweep(ctx workflow.Context, in contract.SweepInput) (contract.SweepResult, error) {
	return sweep(ctx, contract.SweepCarry{SweepInput: in})
}

// StallSweepContinued is StallSweep after continue-as-new.
func StallSweepContinued(ctx workflow.Context, c contract.SweepCarry) (contract.SweepResult, error) {
	return sweep(ctx, c)
}

func sweep(ctx workflow.Context, c contract.SweepCarry) (contract.SweepResult, error) {
	if len(c.Rules) == 0 {
		c.Rules = contract.DefaultRules()
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 200
	}
	dctx := workflow.WithActivityOptions(ctx, sweepDBOptions)
	if c.SweepID == "" {
		info := workflow.GetInfo(ctx)
		c.SweepID = info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID
	}
	if c.Now.IsZero() { // first run
		c.Now = workflow.Now(ctx)
		kind := contract.KindScheduled
		if len(c.CentreIDs) > 0 {
			kind = contract.KindCentre
		}
		if err := workflow.ExecuteActivity(dctx, contract.ActivityBegin, contract.BeginInput{SweepID: c.SweepID, Kind: kind, Now: c.Now}).Get(ctx, nil); err != nil {
			return contract.SweepResult{}, err
		}
		// Version 1: one ladder per case, driven by its most severe rule
		// (before, each rule climbed its own: two tasks and two mails).
		oneLadder := workflow.GetVersion(ctx, "one-escalation-ladder", workflow.DefaultVersion, 1) == 1
		var found contract.FindResult
		find := contract.FindInput{SweepID: c.SweepID, Now: c.Now, Rules: c.Rules, OneLadder: oneLadder, CentreIDs: c.CentreIDs}
		if err := workflow.ExecuteActivity(dctx, contract.ActivityFind, find).Get(ctx, &found); err != nil {
			return contract.SweepResult{}, err
		}
		c.Counts.Stalled, c.Counts.Waiting, c.Stalls = found.Stalled, found.Waiting, found.Stalls
		workflow.GetLogger(ctx).Info("stall sweep found", "sweep_id", c.SweepID, "stalled", found.Stalled, "to_escalate", found.ToEscalate)
	}
	bctx := workflow.WithActivityOptions(ctx, sweepBatchOptions)
	for n := 0; ; n++ {
		if n == maxSweepBatchesPerRun {
			return contract.SweepResult{}, workflow.NewContinueAsNewError(ctx, contract.SweepContinuedName, c)
		}
		var b contract.BatchResult
		in := contract.BatchInput{SweepID: c.SweepID, Now: c.Now, AfterCase: c.AfterCase, AfterRule: c.AfterRule, Limit: c.BatchSize, Actor: c.Actor}
		if err := workflow.ExecuteActivity(bctx, contract.ActivityEscalate, in).Get(ctx, &b); err != nil {
			return contract.SweepResult{}, err
		}
		c.Counts.Escalated += b.Escalated
		c.Counts.Skipped += b.Skipped
		c.Counts.NotifyFailed += b.NotifyFailed
		c.AfterCase, c.AfterRule = b.LastCase, b.LastRule
		if b.Done {
			break
		}
	}
	if err := workflow.ExecuteActivity(dctx, contract.ActivityFinish, contract.FinishInput{SweepID: c.SweepID, Now: workflow.Now(ctx), Counts: c.Counts}).Get(ctx, nil); err != nil {
		return contract.SweepResult{}, err
	}
	return contract.SweepResult{SweepID: c.SweepID, SweepCounts: c.Counts, Stalls: c.Stalls}, nil
}
