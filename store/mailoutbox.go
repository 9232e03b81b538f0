package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// OutboxMail is one staff mail in the outbox.
type OutboxMail struct {
	Key       string     `json:"key"`
	To        string     `json:"to"`
	Subject   string     `json:"subject"`
	Body      string     `json:"body"`
	CreatedAt time.Time  `json:"created_at"`
	Attempts  int        `json:"attempts"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	FailedAt  *time.Time `json:"failed_at,omitempty"`
	LastError string     `json:"last_error,omitempty"`
}

// EnqueueMail adds m once per key; a second call with the same key does
// nothing, whatever became of the first.
func EnqueueMail(ctx context.Context, pool *pgxpool.Pool, m OutboxMail) error {
	if strings.TrimSpace(m.Key) == "" || strings.TrimSpace(m.To) == "" || strings.TrimSpace(m.Subject) == "" {
		return errors.New("outbox mail: key, recipient and subject are required")
	}
	_, err := pool.Exec(ctx, `INSERT INTO mail_outbox (mail_key, recipient, subject, body)
		VALUES ($1, $2, $3, $4) ON CONFLICT (mail_key) DO NOTHING`, m.Key, m.To, m.Subject, m.Body)
	if err != nil {
		return fmt.Errorf("enqueue mail: %w", err)
	}
	return nil
}

// ClaimMail takes up to limit due mails and leases them for lease: a
// deliverer that dies mid-send leaves them due again when the lease ends.
// Concurrent deliverers never claim the same row.
func ClaimMail(ctx context.Context, pool *pgxpool.Pool, limit int, lease time.Duration) ([]OutboxMail, error) {
	// The CTE locks the batch once; the UPDATE then touches exactly those rows.
	rows, err := pool.Query(ctx, `WITH due AS (
			SELECT mail_key FROM mail_outbox
			WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
			ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
		UPDATE mail_outbox o SET attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
		FROM due WHERE o.mail_key = due.mail_key
		RETURNING `+outboxCols, limit, lease.Seconds())
	return collectOutbox(rows, err, "claim mail")
}

const outboxCols = `o.mail_key, o.recipient, o.subject, o.body, o.created_at, o.attempts, o.sent_at, o.failed_at, o.last_error`

func collectOutbox(rows pgx.Rows, err error, what string) ([]OutboxMail, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OutboxMail, error) {
		var m OutboxMail
		err := r.Scan(&m.Key, &m.To, &m.Subject, &m.Body, &m.CreatedAt, &m.Attempts, &m.SentAt, &m.FailedAt, &m.LastError)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// The marks below name the claim (the attempt number ClaimMail returned): a
// deliverer whose lease ran out and whose mail another claimed changes nothing.

// MailSent marks a mail delivered.
func MailSent(ctx context.Context, pool *pgxpool.Pool, key string, attempt int) error {
	_, err := pool.Exec(ctx, `UPDATE mail_outbox SET sent_at = now(), last_error = '' WHERE mail_key = $1 AND attempts = $2`, key, attempt)
	if err != nil {
		return fmt.Errorf("mark mail sent: %w", err)
	}
	return nil
}

// MailRetry records a transient failure and when to try again.
func MailRetry(ctx context.Context, pool *pgxpool.Pool, key string, attempt int, reason string, after time.Duration) error {
	_, err := pool.Exec(ctx, `UPDATE mail_outbox SET last_error = $3, next_attempt_at = now() + make_interval(secs => $4)
		WHERE mail_key = $1 AND attempts = $2`, key, attempt, reason, after.Seconds())
	if err != nil {
		return fmt.Errorf("reschedule mail: %w", err)
	}
	return nil
}

// MailFailed records a refusal: the mail is not tried again.
func MailFailed(ctx context.Context, pool *pgxpool.Pool, key string, attempt int, reason string) error {
	_, err := pool.Exec(ctx, `UPDATE mail_outbox SET failed_at = now(), last_error = $3 WHERE mail_key = $1 AND attempts = $2`, key, attempt, reason)
	if err != nil {
		return fmt.Errorf("mark mail failed: %w", err)
	}
	return nil
}

// OutboxCounts is the state of the outbox, for health and metrics.
type OutboxCounts struct {
	Pending int `json:"pending"`
	Sent    int `json:"sent"`
	Failed  int `json:"failed"`
}

// MailOutboxCounts counts mails by state.
func MailOutboxCounts(ctx context.Context, pool *pgxpool.Pool) (OutboxCounts, error) {
	var c OutboxCounts
	err := pool.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL),
		count(*) FILTER (WHERE sent_at IS NOT NULL),
		count(*) FILTER (WHERE failed_at IS NOT NULL) FROM mail_outbox`).Scan(&c.Pending, &c.Sent, &c.Failed)
	if err != nil {
		return c, fmt.Errorf("count outbox: %w", err)
	}
	return c, nil
}

// MailOutbox lists mails for a key prefix (e.g. one sweep's escalations), oldest first.
func MailOutbox(ctx context.Context, pool *pgxpool.Pool, keyPrefix string, limit int) ([]OutboxMail, error) {
	rows, err := pool.Query(ctx, `SELECT `+outboxCols+`
		FROM mail_outbox o WHERE starts_with(o.mail_key, $1) ORDER BY o.created_at, o.mail_key LIMIT $2`, keyPrefix, limit)
	return collectOutbox(rows, err, "list outbox")
}
