package cases

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/pathways-se/pathways/store"
)

// Reconcile starts the workflow of every case whose start was written more
// than grace ago but never confirmed (the starter crashed, or Temporal or
// PostgreSQL went away mid-start), then confirms it. Starting is a no-op for
// a workflow that already exists, so running it twice, or alongside a start
// still in flight, does no harm. It returns how many cases it confirmed.
func (s *Service) Reconcile(ctx context.Context, grace time.Duration) (int, error) {
	pending, err := store.PendingStarts(ctx, s.Pool, grace, 500)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, p := range pending {
		var req startRequest
		if err := json.Unmarshal(p.Request, &req); err != nil {
			return done, fmt.Errorf("case %s: unreadable start request: %w", p.CaseID, err)
		}
		if err := s.startWorkflow(ctx, p.CaseID, req.TaskQueue, req.Input); err != nil {
			return done, fmt.Errorf("case %s: start workflow: %w", p.CaseID, err)
		}
		if err := store.ConfirmStart(ctx, s.Pool, p.CaseID); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// RunReconciler reconciles every interval until ctx ends. The worker runs it.
func (s *Service) RunReconciler(ctx context.Context, every, grace time.Duration, log *zap.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := s.Reconcile(ctx, grace)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("start reconciler: will try again", zap.Error(err))
		case n > 0:
			log.Info("start reconciler: started pending pathways", zap.Int("count", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
