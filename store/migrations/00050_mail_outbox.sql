-- +goose Up
-- Staff mail waits here until the relay accepts it. Whoever raises a mail
-- (an escalation sweep, a manual escalation) only inserts a row, keyed by its
-- idempotency key, so a retried sweep queues nothing twice and an SMTP
-- outage never holds up escalation. The worker's deliverer sends due rows,
-- retries transient failures with back-off, and marks each row sent once.
-- Recipients are staff mailboxes; subject and body name the case only.
CREATE TABLE mail_outbox (
    mail_key        text PRIMARY KEY,
    recipient       text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    failed_at       timestamptz,
    last_error      text NOT NULL DEFAULT ''
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

-- +goose Down
DROP TABLE mail_outbox;
