package escalation

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/store"
)

// WorkflowName is the registered name of the sweep workflow.
const WorkflowName = "StallSweep"

// SweepInput configures one sweep. Zero values take the defaults.
type SweepInput struct {
	Rules     []Rule `json:"rules,omitempty"`
	BatchSize int    `json:"batch_size,omitempty"`
	// SweepID names the sweep record; default: the workflow ID and run.
	SweepID string `json:"sweep_id,omitempty"`
}

// SweepResult is what a sweep did.
type SweepResult struct {
	SweepID string `json:"sweep_id"`
	store.SweepCounts
	Stalls int `json:"stalls"`
}

var (
	dbOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, MaximumAttempts: 20},
	}
	batchOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2,
			MaximumInterval: 2 * time.Minute, MaximumAttempts: 30},
	}
)

// maxBatchesPerRun bounds a run's history; a larger sweep continues as new.
const maxBatchesPerRun = 500

// sweepCarry is the state a sweep hands over through continue-as-new.
type sweepCarry struct {
	SweepInput
	Now       time.Time         `json:"now"`
	Counts    store.SweepCounts `json:"counts"`
	Stalls    int               `json:"stalls"`
	AfterCase string            `json:"after_case"`
	AfterRule string            `json:"after_rule"`
}

// StallSweep finds stalled cases and escalates each one level, in batches.
func StallSweep(ctx workflow.Context, in SweepInput) (SweepResult, error) {
	return sweep(ctx, sweepCarry{SweepInput: in})
}

// stallSweepContinued is StallSweep after continue-as-new.
func stallSweepContinued(ctx workflow.Context, c sweepCarry) (SweepResult, error) {
	return sweep(ctx, c)
}

const continuedName = "StallSweepContinued"

func sweep(ctx workflow.Context, c sweepCarry) (SweepResult, error) {
	if len(c.Rules) == 0 {
		c.Rules = DefaultRules()
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 200
	}
	dctx := workflow.WithActivityOptions(ctx, dbOptions)
	if c.SweepID == "" {
		info := workflow.GetInfo(ctx)
		c.SweepID = info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID
	}
	if c.Now.IsZero() { // first run
		c.Now = workflow.Now(ctx)
		if err := workflow.ExecuteActivity(dctx, ActivityBegin, BeginInput{SweepID: c.SweepID, Kind: "scheduled", Now: c.Now}).Get(ctx, nil); err != nil {
			return SweepResult{}, err
		}
		var found FindResult
		if err := workflow.ExecuteActivity(dctx, ActivityFind, FindInput{SweepID: c.SweepID, Now: c.Now, Rules: c.Rules}).Get(ctx, &found); err != nil {
			return SweepResult{}, err
		}
		c.Counts.Stalled, c.Counts.Waiting, c.Stalls = found.Stalled, found.Waiting, found.Stalls
		workflow.GetLogger(ctx).Info("stall sweep found", "sweep_id", c.SweepID, "stalled", found.Stalled, "to_escalate", found.ToEscalate)
	}
	bctx := workflow.WithActivityOptions(ctx, batchOptions)
	for n := 0; ; n++ {
		if n == maxBatchesPerRun {
			return SweepResult{}, workflow.NewContinueAsNewError(ctx, continuedName, c)
		}
		var b BatchResult
		in := BatchInput{SweepID: c.SweepID, Now: c.Now, AfterCase: c.AfterCase, AfterRule: c.AfterRule, Limit: c.BatchSize}
		if err := workflow.ExecuteActivity(bctx, ActivityEscalate, in).Get(ctx, &b); err != nil {
			return SweepResult{}, err
		}
		c.Counts.Escalated += b.Escalated
		c.Counts.Skipped += b.Skipped
		c.Counts.NotifyFailed += b.NotifyFailed
		c.AfterCase, c.AfterRule = b.LastCase, b.LastRule
		if b.Done {
			break
		}
	}
	if err := workflow.ExecuteActivity(dctx, ActivityFinish, FinishInput{SweepID: c.SweepID, Now: workflow.Now(ctx), Counts: c.Counts}).Get(ctx, nil); err != nil {
		return SweepResult{}, err
	}
	return SweepResult{SweepID: c.SweepID, SweepCounts: c.Counts, Stalls: c.Stalls}, nil
}
