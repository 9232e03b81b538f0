// Package activities holds the pathway workflow's own activities: the
// projection into PostgreSQL and the calls to outside systems that belong to
// the pathway as a whole (step types bring their own activities).
package activities

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// Registry writes the read model: pathway rows, timeline and tasks.
type Registry struct {
	Pool *pgxpool.Pool
	Keys *keyring.Ring // seals the timeline's free text
}

// Project applies one change of a pathway. It is idempotent by sequence
// number, so a retry after a lost response writes nothing twice.
func (r *Registry) Project(ctx context.Context, p pathway.Projection) error {
	return store.ApplyProjection(ctx, r.Pool, r.Keys, p)
}

// CheckCentre fails without retry when the centre does not exist, so a
// transfer to an unknown centre is refused.
func (r *Registry) CheckCentre(ctx context.Context, centreID string) error {
	_, err := store.GetCentre(ctx, r.Pool, centreID)
	if err == store.ErrNotFound {
		return nonRetryable("unknown_centre", "no centre with ID %q", centreID)
	}
	return err
}
