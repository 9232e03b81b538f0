-- +goose Up
-- The timeline of each pathway. seq comes from the workflow, so a retried
-- projection activity inserts nothing twice.
CREATE TABLE timeline (
    case_id    text NOT NULL REFERENCES pathways(case_id) ON DELETE CASCADE,
    seq        bigint NOT NULL,
    at         timestamptz NOT NULL,
    kind       text NOT NULL,
    summary    text NOT NULL,
    actor      text NOT NULL DEFAULT '',
    data       jsonb,
    PRIMARY KEY (case_id, seq)
);

-- Tasks: human work items raised by pathways. The key is chosen by the
-- workflow, so the same task is never opened twice.
CREATE TABLE tasks (
    id          bigserial PRIMARY KEY,
    task_key    text NOT NULL UNIQUE,
    case_id     text NOT NULL REFERENCES pathways(case_id) ON DELETE CASCADE,
    kind        text NOT NULL,
    title       text NOT NULL,
    role        text NOT NULL DEFAULT 'job_coach',
    assignee    text NOT NULL DEFAULT '',
    due_at      timestamptz,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz
);
CREATE INDEX tasks_open_by_case ON tasks (case_id) WHERE status = 'open';
CREATE INDEX tasks_open_by_role ON tasks (role, due_at) WHERE status = 'open';

-- +goose Down
DROP TABLE tasks;
DROP TABLE timeline;
