-- +goose Up
-- Centres: one competence centre or jobbcentrum each.
CREATE TABLE centres (
    id                text PRIMARY KEY,
    name              text NOT NULL,
    municipality      text NOT NULL,
    municipality_code text NOT NULL,
    districts         text[] NOT NULL DEFAULT '{}',
    min_age           int  NOT NULL DEFAULT 16,
    max_age           int  NOT NULL DEFAULT 66,
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- Participants hold personal data; every read of it is audited by the API.
CREATE TABLE participants (
    id                 uuid PRIMARY KEY,
    personal_number    text NOT NULL UNIQUE,
    given_name         text NOT NULL,
    family_name        text NOT NULL,
    email              text NOT NULL DEFAULT '',
    phone              text NOT NULL DEFAULT '',
    district           text NOT NULL,
    birth_date         date NOT NULL,
    protected_identity boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Pathways: the read model behind lists and reports, projected from the workflow.
CREATE TABLE pathways (
    case_id           text PRIMARY KEY,
    participant_id    uuid NOT NULL REFERENCES participants(id),
    centre_id         text NOT NULL REFERENCES centres(id),
    workflow_id       text NOT NULL UNIQUE,
    programme         text NOT NULL,
    programme_version int  NOT NULL DEFAULT 1,
    track             text NOT NULL,
    activity_duty     boolean NOT NULL DEFAULT false,
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
    phase             text NOT NULL,
    current_step      text NOT NULL DEFAULT '',
    referral_source   text NOT NULL,
    referred_at       timestamptz NOT NULL,
    started_at        timestamptz NOT NULL DEFAULT now(),
    first_contact_due timestamptz,
    mapping_due       timestamptz,
    time_limit_at     timestamptz,
    days_left         int,
    paused            boolean NOT NULL DEFAULT false,
    last_progress_at  timestamptz NOT NULL DEFAULT now(),
    closed_at         timestamptz,
    closure_reason    text NOT NULL DEFAULT '',
    outcome           jsonb,
    assignee          text NOT NULL DEFAULT '',
    projection_seq    bigint NOT NULL DEFAULT 0,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Exactly one active pathway per participant.
CREATE UNIQUE INDEX pathways_one_active ON pathways (participant_id) WHERE status = 'active';
CREATE INDEX pathways_centre_phase ON pathways (centre_id, status, phase, last_progress_at DESC);

-- +goose Down
DROP TABLE pathways;
DROP TABLE participants;
DROP TABLE centres;
