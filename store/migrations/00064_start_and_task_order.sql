-- +goose Up
-- A start is written before its workflow exists: the row carries the start
-- request until the workflow is known to run, and the worker's reconciler
-- starts (or confirms) whatever is still pending after a grace period. So a
-- row never lacks its workflow for long, and no workflow lacks its row.
ALTER TABLE pathways ADD COLUMN start_pending jsonb;
CREATE INDEX pathways_start_pending ON pathways (started_at) WHERE start_pending IS NOT NULL;

-- The projection sequence that last opened or closed a task: an older
-- projection arriving late never reopens a task a newer one closed.
ALTER TABLE tasks ADD COLUMN seq bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE tasks DROP COLUMN seq;
DROP INDEX pathways_start_pending;
ALTER TABLE pathways DROP COLUMN start_pending;
