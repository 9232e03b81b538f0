-- +goose Up
-- Staff: who works in the console. Roles decide actions; the centre decides
-- visibility. password_hash is set for development accounts only; production
-- staff sign in with OIDC and are matched by e-mail.
CREATE TABLE staff (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    email         text NOT NULL,
    centre_id     text NOT NULL REFERENCES centres(id),
    roles         text[] NOT NULL DEFAULT '{}' CHECK (roles <@ ARRAY['job_coach', 'job_broker', 'employment_officer',
                      'counsellor', 'team_lead', 'unit_manager', 'administrator']::text[]),
    password_hash text NOT NULL DEFAULT '',
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX staff_email ON staff (lower(email));
CREATE INDEX staff_centre ON staff (centre_id);

-- Consent: what the participant agreed the centre may share, and when.
CREATE TABLE consents (
    id             bigserial PRIMARY KEY,
    participant_id uuid NOT NULL REFERENCES participants(id),
    scope          text[] NOT NULL DEFAULT '{}',
    registered_at  timestamptz NOT NULL DEFAULT now(),
    registered_by  text NOT NULL DEFAULT '',
    withdrawn_at   timestamptz
);
CREATE INDEX consents_participant ON consents (participant_id, registered_at DESC);

-- Employers and their recruitment needs (rekryteringsbehov).
CREATE TABLE employers (
    id                text PRIMARY KEY,
    name              text NOT NULL,
    org_number        text NOT NULL DEFAULT '',
    municipality_code text NOT NULL DEFAULT '',
    contact_role      text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now()
);
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

-- The audit log: every read of personal data and every change. No foreign
-- keys, so that the log outlives culled cases. Append-only by convention;
-- the review reads it by participant, by staff member and by time.
CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    staff_id       text NOT NULL,
    action         text NOT NULL,
    case_id        text NOT NULL DEFAULT '',
    participant_id uuid,
    detail         jsonb,
    request_id     text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_participant ON audit_log (participant_id, at DESC) WHERE participant_id IS NOT NULL;
CREATE INDEX audit_log_case ON audit_log (case_id, at DESC) WHERE case_id <> '';
CREATE INDEX audit_log_staff ON audit_log (staff_id, at DESC);
CREATE INDEX audit_log_at ON audit_log USING brin (at);

-- Caseload indexes at 100,000 pathways: the default order within a centre,
-- the whole-municipality view of managers, "my cases", the overdue filters,
-- and the protected-identity check of the visibility rule.
CREATE INDEX pathways_centre_progress ON pathways (centre_id, last_progress_at DESC, case_id);
CREATE INDEX pathways_status_progress ON pathways (status, last_progress_at DESC, case_id);
CREATE INDEX pathways_assignee ON pathways (assignee, status) WHERE assignee <> '';
CREATE INDEX pathways_first_contact_due ON pathways (first_contact_due) WHERE status = 'active' AND phase = 'referral';
CREATE INDEX pathways_mapping_due ON pathways (mapping_due) WHERE status = 'active' AND phase = 'mapping';
CREATE INDEX participants_protected ON participants (id) WHERE protected_identity;
CREATE INDEX tasks_open_by_assignee ON tasks (assignee, due_at) WHERE status = 'open' AND assignee <> '';

-- +goose Down
DROP INDEX tasks_open_by_assignee;
DROP INDEX participants_protected;
DROP INDEX pathways_mapping_due;
DROP INDEX pathways_first_contact_due;
DROP INDEX pathways_assignee;
DROP INDEX pathways_status_progress;
DROP INDEX pathways_centre_progress;
DROP TABLE audit_log;
DROP TABLE recruitment_needs;
DROP TABLE employers;
DROP TABLE consents;
DROP TABLE staff;
