package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PathwaysOf returns every pathway of a participant, oldest first, active or
// closed (a register extract lists them all).
func PathwaysOf(ctx context.Context, pool *pgxpool.Pool, participantID uuid.UUID) ([]PathwayRow, error) {
	rows, err := pool.Query(ctx, `SELECT `+pathwayCols+` FROM pathways p WHERE p.participant_id = $1 ORDER BY p.started_at, p.case_id`, participantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []PathwayRow{}
	for rows.Next() {
		r, err := scanPathway(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// EscalationsOf returns the escalations recorded for a case, oldest first.
func EscalationsOf(ctx context.Context, pool *pgxpool.Pool, caseID string) ([]EscalationRow, error) {
	rows, err := pool.Query(ctx, `SELECT case_id, centre_id, rule, level, role, reason, at, sweep_id, task_key, actor
		FROM escalations WHERE case_id = $1 ORDER BY at, level`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []EscalationRow{}
	for rows.Next() {
		var e EscalationRow
		if err := rows.Scan(&e.CaseID, &e.CentreID, &e.Rule, &e.Level, &e.Role, &e.Reason, &e.At, &e.SweepID, &e.TaskKey, &e.Actor); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// MailAbout returns the staff mail that names a case (its key or subject).
func MailAbout(ctx context.Context, pool *pgxpool.Pool, caseID string) ([]OutboxMail, error) {
	rows, err := pool.Query(ctx, `SELECT mail_key, recipient, subject, body, created_at, attempts, sent_at, failed_at, last_error
		FROM mail_outbox WHERE strpos(mail_key, $1) > 0 OR strpos(subject, $1) > 0 ORDER BY created_at`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []OutboxMail{}
	for rows.Next() {
		var m OutboxMail
		if err := rows.Scan(&m.Key, &m.To, &m.Subject, &m.Body, &m.CreatedAt, &m.Attempts, &m.SentAt, &m.FailedAt, &m.LastError); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
