-- +goose Up
-- Direct identifiers and staff free text move into columns the application
-- encrypts (keyring.Seal, AES-256-GCM, the column's name as associated data).
-- *_enc columns hold sealed values; personal_number_idx is a keyed HMAC
-- blind index for exact lookup and the one-active-pathway check. The plain
-- columns stay until `pathways migrate` has converted every row (readers
-- fall back to them meanwhile); a later release drops them.
ALTER TABLE participants
    ADD COLUMN personal_number_enc bytea,
    ADD COLUMN personal_number_idx bytea,
    ADD COLUMN given_name_enc      bytea,
    ADD COLUMN family_name_enc     bytea,
    ADD COLUMN email_enc           bytea,
    ADD COLUMN phone_enc           bytea,
    ALTER COLUMN personal_number DROP NOT NULL,
    ALTER COLUMN given_name DROP NOT NULL,
    ALTER COLUMN family_name DROP NOT NULL;
CREATE UNIQUE INDEX participants_personal_number_idx ON participants (personal_number_idx) WHERE personal_number_idx IS NOT NULL;
-- What the backfill still has to convert.
CREATE INDEX participants_plain ON participants (id) WHERE personal_number_enc IS NULL;

-- A timeline line's summary and data carry staff free text (mapping, notes,
-- reasons); kind, time and actor stay plain for lists and reports.
ALTER TABLE timeline
    ADD COLUMN summary_enc bytea,
    ADD COLUMN data_enc    bytea,
    ALTER COLUMN summary DROP NOT NULL;
CREATE INDEX timeline_plain ON timeline (case_id, seq) WHERE summary_enc IS NULL;

-- +goose Down
DROP INDEX timeline_plain;
ALTER TABLE timeline DROP COLUMN data_enc, DROP COLUMN summary_enc;
DROP INDEX participants_plain;
DROP INDEX participants_personal_number_idx;
ALTER TABLE participants DROP COLUMN phone_enc, DROP COLUMN email_enc, DROP COLUMN family_name_enc,
    DROP COLUMN given_name_enc, DROP COLUMN personal_number_idx, DROP COLUMN personal_number_enc;
