-- +goose Up
-- In-console notifications for staff. The key is chosen by the workflow or
-- activity that raises the notification, so a retry adds nothing twice. A
-- notification goes to one staff member, or to a role (optionally within one
-- centre). Subject and body name the case, never the participant.
CREATE TABLE notifications (
    id               bigserial PRIMARY KEY,
    notification_key text NOT NULL UNIQUE,
    recipient_staff  text NOT NULL DEFAULT '',
    recipient_role   text NOT NULL DEFAULT '',
    centre_id        text NOT NULL DEFAULT '',
    case_id          text NOT NULL DEFAULT '',
    subject          text NOT NULL,
    body             text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    read_at          timestamptz,
    CHECK (recipient_staff <> '' OR recipient_role <> '')
);
CREATE INDEX notifications_staff ON notifications (recipient_staff, created_at DESC) WHERE recipient_staff <> '';
CREATE INDEX notifications_role ON notifications (recipient_role, centre_id, created_at DESC) WHERE recipient_role <> '';
CREATE INDEX notifications_case ON notifications (case_id) WHERE case_id <> '';

-- +goose Down
DROP TABLE notifications;
