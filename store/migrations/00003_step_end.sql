-- +goose Up
-- The running step's planned end, for the "step past its end" stall rule.
ALTER TABLE pathways ADD COLUMN step_end_at timestamptz;

-- +goose Down
ALTER TABLE pathways DROP COLUMN step_end_at;
