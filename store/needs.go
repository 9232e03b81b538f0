package store

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// TiedCase is a pathway tied to a recruitment need, as brokers see it: how
// far the participant has come, never who they are.
type TiedCase struct {
	NeedID      string `json:"need_id"`
	CaseID      string `json:"case_id"`
	CentreID    string `json:"centre_id"`
	Phase       string `json:"phase"`
	CurrentStep string `json:"current_step,omitempty"`
	Status      string `json:"status"`
}

// TiedToNeeds lists the active pathways tied to the given needs that the
// viewer may see (centre and protected identity as in the caseload), by
// need, then case.
func TiedToNeeds(ctx context.Context, pool *pgxpool.Pool, v Viewer, needIDs []string) ([]TiedCase, error) {
	if len(needIDs) == 0 {
		return []TiedCase{}, nil
	}
	args := []any{needIDs}
	conds := []string{"p.need_id = ANY($1)", "p.status = 'active'"}
	v.condition(func(cond string, val any) {
		args = append(args, val)
		conds = append(conds, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	})
	rows, err := pool.Query(ctx, `SELECT p.need_id, p.case_id, p.centre_id, p.phase, p.current_step, p.status
		FROM pathways p WHERE `+strings.Join(conds, " AND ")+` ORDER BY p.need_id, p.case_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TiedCase{}
	for rows.Next() {
		var t TiedCase
		if err := rows.Scan(&t.NeedID, &t.CaseID, &t.CentreID, &t.Phase, &t.CurrentStep, &t.Status); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// NeedTies lists every active pathway tied to a need, for the need watcher
// (a worker process, not a person: no viewer).
func NeedTies(ctx context.Context, pool *pgxpool.Pool) ([]TiedCase, error) {
	rows, err := pool.Query(ctx, `SELECT p.need_id, p.case_id, p.centre_id, p.phase, p.current_step, p.status
		FROM pathways p WHERE p.need_id <> '' AND p.status = 'active' ORDER BY p.need_id, p.case_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TiedCase{}
	for rows.Next() {
		var t TiedCase
		if err := rows.Scan(&t.NeedID, &t.CaseID, &t.CentreID, &t.Phase, &t.CurrentStep, &t.Status); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
