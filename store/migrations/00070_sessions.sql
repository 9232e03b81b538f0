-- +goose Up
-- Console sessions live here, not only in the cookie, so that signing out
-- ends a session for good, an administrator can end all of a person's
-- sessions, an idle session lapses, and every API instance agrees. The
-- cookie carries the session ID; the table keeps only its SHA-256.
CREATE TABLE staff_sessions (
    id_hash      bytea PRIMARY KEY,
    staff_id     text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    end_reason   text NOT NULL DEFAULT ''
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id) WHERE ended_at IS NULL;

-- Failed password sign-ins, for throttling by account and by client
-- address across instances. Rows older than the throttle window are pruned.
CREATE TABLE sign_in_failures (
    id      bigserial PRIMARY KEY,
    account text NOT NULL,
    address text NOT NULL,
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_account ON sign_in_failures (account, at);
CREATE INDEX sign_in_failures_address ON sign_in_failures (address, at);

-- +goose Down
DROP TABLE sign_in_failures;
DROP TABLE staff_sessions;
