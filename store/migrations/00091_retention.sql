-- +goose Up
-- Cases culled by retention (gallring): only the pseudonymous case ID and
-- when, so audit rows about the case can be kept for a while after it and
-- then culled too (retention.audit_after_case_days).
CREATE TABLE retention_culled (
    case_id   text PRIMARY KEY,
    culled_at timestamptz NOT NULL
);
CREATE INDEX retention_culled_at ON retention_culled (culled_at);
CREATE INDEX pathways_closed_at ON pathways (closed_at) WHERE status = 'closed';
CREATE INDEX mail_outbox_done ON mail_outbox ((coalesce(sent_at, failed_at))) WHERE sent_at IS NOT NULL OR failed_at IS NOT NULL;

-- +goose Down
DROP INDEX mail_outbox_done;
DROP INDEX pathways_closed_at;
DROP TABLE retention_culled;
