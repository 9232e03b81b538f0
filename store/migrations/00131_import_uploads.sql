-- +goose Up
-- A CSV import in the console runs in steps (upload and dry run, confirm,
-- progress, report). The uploaded file is kept between them sealed under
-- the keyring (file_enc, the row's ID as associated data) and removed once
-- the import is done or discarded. The summaries hold line numbers, field
-- names and reasons only, never a row's values.
CREATE TABLE import_uploads (
    id         uuid PRIMARY KEY,
    staff_id   text        NOT NULL,
    status     text        NOT NULL CHECK (status IN ('checked', 'running', 'done', 'failed', 'discarded')),
    encoding   text        NOT NULL DEFAULT '',
    file_enc   bytea,
    rows_total int         NOT NULL DEFAULT 0,
    rows_done  int         NOT NULL DEFAULT 0,
    dry_run    jsonb,
    result     jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX import_uploads_staff ON import_uploads (staff_id, created_at DESC);

-- +goose Down
DROP TABLE import_uploads;
