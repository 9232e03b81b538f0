-- +goose Up
-- Escalation of stalled cases. Each sweep (scheduled or manual) is recorded,
-- each stall it found is kept for a while (the chart reads the per-centre
-- counts), and each escalation signalled to a pathway is recorded once per
-- (case, rule, level): a repeated sweep cannot duplicate it.
CREATE TABLE escalation_sweeps (
    id           text PRIMARY KEY,
    kind         text NOT NULL DEFAULT 'scheduled' CHECK (kind IN ('scheduled', 'manual')),
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    stalled      int NOT NULL DEFAULT 0,  -- distinct stalled cases
    escalated    int NOT NULL DEFAULT 0,  -- escalations signalled
    waiting      int NOT NULL DEFAULT 0,  -- stalls whose open task is not yet due, or at the top
    skipped      int NOT NULL DEFAULT 0,  -- pathways that were no longer running
    notify_failed int NOT NULL DEFAULT 0
);
CREATE INDEX escalation_sweeps_started ON escalation_sweeps (started_at);

-- Stalled cases per centre at each sweep: the "stalled over time" chart.
CREATE TABLE escalation_sweep_centres (
    sweep_id  text NOT NULL REFERENCES escalation_sweeps(id) ON DELETE CASCADE,
    centre_id text NOT NULL,
    stalled   int NOT NULL,
    escalated int NOT NULL,
    PRIMARY KEY (sweep_id, centre_id)
);

-- The stalls a sweep found, with the level decided for each (0: wait).
-- Short-lived: the sweep pages through them to signal in batches.
CREATE TABLE escalation_stalls (
    sweep_id  text NOT NULL REFERENCES escalation_sweeps(id) ON DELETE CASCADE,
    case_id   text NOT NULL,
    rule      text NOT NULL,
    centre_id text NOT NULL,
    since     timestamptz,
    level     int NOT NULL,
    role      text NOT NULL DEFAULT '',
    reason    text NOT NULL DEFAULT '',
    PRIMARY KEY (sweep_id, case_id, rule)
);

-- Escalations signalled to pathways. A new stall of the same rule after
-- progress replaces the calmed row (see store.RecordEscalation).
CREATE TABLE escalations (
    id        bigserial PRIMARY KEY,
    case_id   text NOT NULL REFERENCES pathways(case_id) ON DELETE CASCADE,
    centre_id text NOT NULL,
    rule      text NOT NULL,
    level     int  NOT NULL CHECK (level > 0),
    role      text NOT NULL,
    reason    text NOT NULL DEFAULT '',
    at        timestamptz NOT NULL,
    sweep_id  text NOT NULL,
    task_key  text NOT NULL,
    actor     text NOT NULL DEFAULT 'system',
    UNIQUE (case_id, rule, level)
);
CREATE INDEX escalations_at ON escalations (at);
CREATE INDEX escalations_task ON escalations (task_key);

-- Functional mailboxes per centre and role ('*' is any centre): who is
-- mailed when a case reaches the role. Staff addresses, no participant data.
CREATE TABLE escalation_contacts (
    centre_id text NOT NULL,
    role      text NOT NULL,
    email     text NOT NULL,
    PRIMARY KEY (centre_id, role)
);

-- Partial indexes for the stall rules: each rule is a range scan over the
-- active pathways in one phase.
CREATE INDEX pathways_stall_first_contact ON pathways (first_contact_due) WHERE status = 'active' AND phase = 'referral';
CREATE INDEX pathways_stall_mapping ON pathways (mapping_due) WHERE status = 'active' AND phase = 'mapping';
CREATE INDEX pathways_stall_step_end ON pathways (step_end_at) WHERE status = 'active' AND phase = 'steps';
CREATE INDEX pathways_stall_progress ON pathways (last_progress_at) WHERE status = 'active';
CREATE INDEX pathways_stall_time_limit ON pathways (time_limit_at) WHERE status = 'active' AND outcome IS NULL;
CREATE INDEX tasks_open_follow_up_due ON tasks (due_at) WHERE status = 'open' AND kind = 'follow_up';

-- +goose Down
DROP INDEX tasks_open_follow_up_due;
DROP INDEX pathways_stall_time_limit;
DROP INDEX pathways_stall_progress;
DROP INDEX pathways_stall_step_end;
DROP INDEX pathways_stall_mapping;
DROP INDEX pathways_stall_first_contact;
DROP TABLE escalation_contacts;
DROP TABLE escalations;
DROP TABLE escalation_stalls;
DROP TABLE escalation_sweep_centres;
DROP TABLE escalation_sweeps;
