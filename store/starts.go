package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PendingStart is a registry row whose workflow is not yet known to run.
type PendingStart struct {
	CaseID  string
	Request json.RawMessage
}

// PendingStarts returns rows written more than grace ago whose workflow start
// was never confirmed, oldest first.
func PendingStarts(ctx context.Context, pool *pgxpool.Pool, grace time.Duration, limit int) ([]PendingStart, error) {
	rows, err := pool.Query(ctx, `SELECT case_id, start_pending FROM pathways
		WHERE start_pending IS NOT NULL AND started_at < now() - make_interval(secs => $1)
		ORDER BY started_at LIMIT $2`, grace.Seconds(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PendingStart
	for rows.Next() {
		var p PendingStart
		if err := rows.Scan(&p.CaseID, &p.Request); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ConfirmStart records that the case's workflow exists.
func ConfirmStart(ctx context.Context, db Execer, caseID string) error {
	_, err := db.Exec(ctx, `UPDATE pathways SET start_pending = NULL WHERE case_id = $1 AND start_pending IS NOT NULL`, caseID)
	return err
}

// ConfirmStarts is ConfirmStart for many cases in one statement (the import
// confirms its starts in batches).
func ConfirmStarts(ctx context.Context, db Execer, caseIDs []string) error {
	_, err := db.Exec(ctx, `UPDATE pathways SET start_pending = NULL WHERE case_id = ANY($1) AND start_pending IS NOT NULL`, caseIDs)
	return err
}

// Projected returns which of the cases their workflow has projected at least
// once (the first projection opens the first-contact task).
func Projected(ctx context.Context, pool *pgxpool.Pool, caseIDs []string) ([]string, error) {
	rows, err := pool.Query(ctx, `SELECT case_id FROM pathways WHERE case_id = ANY($1) AND projection_seq > 0`, caseIDs)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
