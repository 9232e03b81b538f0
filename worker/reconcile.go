package worker

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/config"
)

// Start reconciliation: how often the worker looks for cases whose workflow
// start was never confirmed, and how old such a start must be (a start in
// flight normally confirms within a second).
const (
	reconcileEvery = 30 * time.Second
	reconcileGrace = time.Minute
)

// reconcileStarts finishes starts a crash left pending, until ctx ends.
func reconcileStarts(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool, c client.Client, log *zap.Logger) {
	svc := &cases.Service{Pool: pool, Temporal: c, TaskQueue: cfg.Temporal.TaskQueue}
	svc.RunReconciler(ctx, reconcileEvery, reconcileGrace, log.Named("starts"))
}
