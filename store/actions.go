package store

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ActionResults returns what the audit log recorded for one staff action,
// by its action ID (action:idempotency key), oldest first: ok, refused,
// pending or not_sent. It outlives the workflow run that knew the Update ID.
func ActionResults(ctx context.Context, pool *pgxpool.Pool, caseID, actionID string) ([]string, error) {
	rows, err := pool.Query(ctx, `SELECT COALESCE(detail->>'result', '') FROM audit_log
		WHERE case_id = $1 AND action = $2 AND detail->>'action_id' = $3 ORDER BY id`, caseID, AuditAction, actionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
