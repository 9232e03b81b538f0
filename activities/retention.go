package activities

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/pathways-se/pathways/retention"
	"github.com/pathways-se/pathways/store"
)

// Retention runs culling (gallring) for the retention workflow.
type Retention struct {
	Pool *pgxpool.Pool
}

// Register registers the activities under the contract's names.
func (r *Retention) Register(w sdkworker.Registry) {
	w.RegisterActivityWithOptions(r.Plan, activity.RegisterOptions{Name: retention.ActPlan})
	w.RegisterActivityWithOptions(r.Apply, activity.RegisterOptions{Name: retention.ActApply})
	w.RegisterActivityWithOptions(r.Record, activity.RegisterOptions{Name: retention.ActRecord})
}

// Plan lists the next batch that is due.
func (r *Retention) Plan(ctx context.Context, req retention.PlanRequest) (retention.Plan, error) {
	return store.PlanRetention(ctx, r.Pool, req)
}

// Apply removes a planned batch; idempotent.
func (r *Retention) Apply(ctx context.Context, req retention.ApplyRequest) (retention.Counts, error) {
	return store.ApplyRetention(ctx, r.Pool, req)
}

// Record writes the run's audit row: counts, never content.
func (r *Retention) Record(ctx context.Context, rec retention.Record) error {
	return store.RecordRetention(ctx, r.Pool, rec)
}
