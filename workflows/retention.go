package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/retention"
)

// retentionMaxBatches bounds one run's history; what is left is due the
// next day, and a run that stops early loses nothing.
const retentionMaxBatches = 200

// Retention culls what the policy says is due, batch by batch, as of the
// run's start, and records the counts in the audit log. Each batch is
// planned, then applied with every row rechecked, so a retried or repeated
// run removes nothing twice and a pathway still open is never touched.
func Retention(ctx workflow.Context, in retention.Input) (retention.Counts, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	batch := in.BatchSize
	if batch <= 0 {
		batch = 500
	}
	asOf := workflow.Now(ctx)
	var total retention.Counts
	for i := 0; i < retentionMaxBatches; i++ {
		var plan retention.Plan
		if err := workflow.ExecuteActivity(ctx, retention.ActPlan, retention.PlanRequest{Policy: in.Policy, AsOf: asOf, Limit: batch}).Get(ctx, &plan); err != nil {
			return total, err
		}
		if plan.Empty() {
			break
		}
		var c retention.Counts
		if err := workflow.ExecuteActivity(ctx, retention.ActApply, retention.ApplyRequest{Plan: plan, Policy: in.Policy, AsOf: asOf}).Get(ctx, &c); err != nil {
			return total, err
		}
		total = total.Add(c)
		if c == (retention.Counts{}) {
			break // planned rows are no longer due (a case of a person with another): tomorrow's run sees them again
		}
	}
	rec := retention.Record{RunID: workflow.GetInfo(ctx).WorkflowExecution.RunID, AsOf: asOf, Counts: total}
	err := workflow.ExecuteActivity(ctx, retention.ActRecord, rec).Get(ctx, nil)
	return total, err
}
