package store

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ActionResults returns what the audit log recorded for one staff action,
// by its action ID (action:idempotency key), oldest first: ok, refused,
// pending, not_sent or unknown. It outlives the workflow run that knew the
// Update ID.
func ActionResults(ctx context.Context, pool *pgxpool.Pool, caseID, actionID string) ([]string, error) {
	rows, err := pool.Query(ctx, actionResults, caseID, actionID)
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

// actionResults reads audit_log_action_id; the action is a literal so the
// planner can use that partial index.
const actionResults = `SELECT COALESCE(detail->>'result', '') FROM audit_log
		WHERE case_id = $1 AND action = '` + AuditAction + `' AND detail->>'action_id' = $2 ORDER BY id`
