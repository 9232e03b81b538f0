-- +goose Up
-- A team lead may run the stall sweep over their own centre now (the console,
-- `pathways schedule trigger --centre`): recorded as its own kind, so the
-- stalled-over-time chart keeps reading whole scheduled sweeps only.
ALTER TABLE escalation_sweeps DROP CONSTRAINT escalation_sweeps_kind_check;
ALTER TABLE escalation_sweeps ADD CONSTRAINT escalation_sweeps_kind_check CHECK (kind IN ('scheduled', 'manual', 'centre'));

-- +goose Down
DELETE FROM escalation_sweeps WHERE kind = 'centre';
ALTER TABLE escalation_sweeps DROP CONSTRAINT escalation_sweeps_kind_check;
ALTER TABLE escalation_sweeps ADD CONSTRAINT escalation_sweeps_kind_check CHECK (kind IN ('scheduled', 'manual'));
