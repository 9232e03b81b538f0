package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/retention"
)

// The due conditions, shared by planning and applying so a row planned is
// removed only if it is still due. $2 is the as-of time; the day counts
// follow as $3…
const (
	caseDue = `status = 'closed' AND closed_at < $2::timestamptz - make_interval(days => $3::int)`
	// A person goes with their last case: every pathway of theirs is due.
	participantDue = `created_at < $2::timestamptz - make_interval(days => $3::int) AND NOT EXISTS (
		SELECT 1 FROM pathways w WHERE w.participant_id = participants.id
		AND NOT (w.status = 'closed' AND w.closed_at < $2::timestamptz - make_interval(days => $3::int)))`
	// Audit rows about a culled case outlive it by $3 days; rows about no
	// case (or a case that never existed) are kept $4 days.
	auditDue = `((case_id <> '' AND EXISTS (SELECT 1 FROM retention_culled r WHERE r.case_id = audit_log.case_id
			AND r.culled_at < $2::timestamptz - make_interval(days => $3::int)))
		OR (at < $2::timestamptz - make_interval(days => $4::int) AND (case_id = '' OR (
			NOT EXISTS (SELECT 1 FROM pathways w WHERE w.case_id = audit_log.case_id)
			AND NOT EXISTS (SELECT 1 FROM retention_culled r WHERE r.case_id = audit_log.case_id)))))`
	mailDue = `coalesce(sent_at, failed_at) < $2::timestamptz - make_interval(days => $3::int)`
)

// PlanRetention lists what is due at req.AsOf, up to req.Limit per class
// (0: all). It changes nothing: `pathways retention plan` prints it.
func PlanRetention(ctx context.Context, pool *pgxpool.Pool, req retention.PlanRequest) (retention.Plan, error) {
	var p retention.Plan
	var limit *int
	if req.Limit > 0 {
		limit = &req.Limit
	}
	pol := req.Policy
	var err error
	if p.Cases, err = collect[string](ctx, pool, `SELECT case_id FROM pathways WHERE `+caseDue+` ORDER BY closed_at, case_id LIMIT $1`,
		limit, req.AsOf, pol.ClosedCaseDays); err != nil {
		return p, err
	}
	if p.Participants, err = collect[string](ctx, pool, `SELECT id::text FROM participants WHERE `+participantDue+` ORDER BY id LIMIT $1`,
		limit, req.AsOf, pol.ClosedCaseDays); err != nil {
		return p, err
	}
	if p.AuditIDs, err = collect[int64](ctx, pool, `SELECT id FROM audit_log WHERE `+auditDue+` ORDER BY id LIMIT $1`,
		limit, req.AsOf, pol.AuditAfterCaseDays, pol.AuditDays); err != nil {
		return p, err
	}
	p.MailKeys, err = collect[string](ctx, pool, `SELECT mail_key FROM mail_outbox WHERE `+mailDue+` ORDER BY mail_key LIMIT $1`,
		limit, req.AsOf, pol.MailDays)
	return p, err
}

func collect[T any](ctx context.Context, pool *pgxpool.Pool, sql string, args ...any) ([]T, error) {
	rows, err := pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[T])
}

// ApplyRetention removes a planned batch in one transaction, each row only
// if it is still due, so a retry or a second run removes nothing more. A
// culled case leaves its ID in retention_culled; audit rows go through the
// log's one path (audit_cull), which keeps their hashes.
func ApplyRetention(ctx context.Context, pool *pgxpool.Pool, req retention.ApplyRequest) (retention.Counts, error) {
	var c retention.Counts
	pol, pl := req.Policy, req.Plan
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if len(pl.Cases) > 0 {
			rows, err := tx.Query(ctx, `DELETE FROM pathways WHERE case_id = ANY($1) AND `+caseDue+` RETURNING case_id`,
				pl.Cases, req.AsOf, pol.ClosedCaseDays)
			if err != nil {
				return err
			}
			gone, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			c.Cases = int64(len(gone))
			if _, err := tx.Exec(ctx, `INSERT INTO retention_culled (case_id, culled_at) SELECT unnest($1::text[]), $2
				ON CONFLICT (case_id) DO NOTHING`, gone, req.AsOf); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM notifications WHERE case_id = ANY($1)`, gone); err != nil {
				return err
			}
		}
		if len(pl.Participants) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM consents WHERE participant_id::text = ANY($1) AND NOT EXISTS (
				SELECT 1 FROM pathways w WHERE w.participant_id = consents.participant_id)`, pl.Participants); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `DELETE FROM participants WHERE id::text = ANY($1) AND `+participantDue,
				pl.Participants, req.AsOf, pol.ClosedCaseDays)
			if err != nil {
				return err
			}
			c.Participants = tag.RowsAffected()
		}
		if len(pl.AuditIDs) > 0 {
			if err := tx.QueryRow(ctx, `SELECT audit_cull(array(SELECT id FROM audit_log WHERE id = ANY($1) AND `+auditDue+`))`,
				pl.AuditIDs, req.AsOf, pol.AuditAfterCaseDays, pol.AuditDays).Scan(&c.Audit); err != nil {
				return err
			}
		}
		if len(pl.MailKeys) > 0 {
			tag, err := tx.Exec(ctx, `DELETE FROM mail_outbox WHERE mail_key = ANY($1) AND `+mailDue, pl.MailKeys, req.AsOf, pol.MailDays)
			if err != nil {
				return err
			}
			c.Mail = tag.RowsAffected()
		}
		return nil
	})
	return c, err
}

// AuditRetention is the audit action of a retention run.
const AuditRetention = "retention"

// RecordRetention writes a run's audit row (counts only) once per run.
func RecordRetention(ctx context.Context, pool *pgxpool.Pool, r retention.Record) error {
	detail, err := json.Marshal(map[string]any{"as_of": r.AsOf.UTC().Format(time.RFC3339), "removed": r.Counts})
	if err != nil {
		return err
	}
	key := "retention:" + r.RunID
	_, err = pool.Exec(ctx, `INSERT INTO audit_log (staff_id, action, detail, request_id)
		SELECT 'system', $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE action = $1 AND request_id = $3)`,
		AuditRetention, detail, key)
	return err
}
