-- +goose Up
-- Recruitment needs live in the employer system alone (integrations.NeedRegistry):
-- the local copy disagreed with it, so it goes. A pathway's read model keeps
-- the need its plan is tied to, so brokers see who is tied to a need and
-- the need watcher finds the pathways of a need that went away.
DROP TABLE recruitment_needs;
ALTER TABLE pathways ADD COLUMN need_id text NOT NULL DEFAULT '';
CREATE INDEX pathways_need ON pathways (need_id) WHERE need_id <> '' AND status = 'active';

-- +goose Down
DROP INDEX pathways_need;
ALTER TABLE pathways DROP COLUMN need_id;
CREATE TABLE recruitment_needs (
    id                text PRIMARY KEY,
    employer_id       text NOT NULL REFERENCES employers(id),
    centre_id         text REFERENCES centres(id),
    ssyk              text NOT NULL CHECK (ssyk ~ '^[0-9]{4}$'),
    title             text NOT NULL,
    positions         int  NOT NULL CHECK (positions > 0),
    start_date        date NOT NULL,
    required_training text NOT NULL DEFAULT '',
    contact_role      text NOT NULL DEFAULT '',
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'filled', 'withdrawn')),
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recruitment_needs_open ON recruitment_needs (ssyk, start_date) WHERE status = 'open';
CREATE INDEX recruitment_needs_employer ON recruitment_needs (employer_id);
