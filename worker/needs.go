package worker

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// NeedWatchInterval is how often the worker asks the employer system about
// the needs active pathways are tied to.
const NeedWatchInterval = time.Minute

// WatchNeeds runs CheckNeeds every interval until ctx ends.
func WatchNeeds(ctx context.Context, pool *pgxpool.Pool, needs integrations.NeedRegistry, c client.Client, every time.Duration, log *zap.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := CheckNeeds(ctx, pool, needs, c); err != nil && ctx.Err() == nil {
			log.Warn("need watcher", zap.Error(err))
		} else if n > 0 {
			log.Info("need watcher: pathways told their recruitment need went away", zap.Int("signalled", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CheckNeeds signals need-gone to every active pathway tied to a need the
// employer system has withdrawn or let expire (or no longer knows), and
// returns how many it signalled. A pathway no longer tied to the need
// ignores the signal, so a repeat is harmless.
func CheckNeeds(ctx context.Context, pool *pgxpool.Pool, needs integrations.NeedRegistry, c client.Client) (int, error) {
	ties, err := store.NeedTies(ctx, pool)
	if err != nil {
		return 0, err
	}
	gone := map[string]pathway.NeedGone{}
	asked := map[string]bool{}
	var errs []error
	sent := 0
	for _, t := range ties {
		if !asked[t.NeedID] {
			asked[t.NeedID] = true
			n, err := needs.Need(ctx, t.NeedID)
			switch {
			case errors.Is(err, integrations.ErrNoNeed):
				gone[t.NeedID] = pathway.NeedGone{NeedID: t.NeedID, Status: integrations.NeedWithdrawn, Reason: "the employer system no longer knows it"}
			case err != nil:
				errs = append(errs, err)
			case integrations.NeedGone(n.Status):
				gone[t.NeedID] = pathway.NeedGone{NeedID: t.NeedID, Status: n.Status, Reason: n.StatusReason}
			}
		}
		g, ok := gone[t.NeedID]
		if !ok {
			continue
		}
		err := c.SignalWorkflow(ctx, pathway.WorkflowID(t.CaseID), "", pathway.SignalNeedGone, g)
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf): // closed meanwhile
		case err != nil:
			errs = append(errs, err)
		default:
			sent++
		}
	}
	return sent, errors.Join(errs...)
}
