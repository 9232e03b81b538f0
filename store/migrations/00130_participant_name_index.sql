-- +goose Up
-- Search by name over encrypted names: a blind index of name-word prefixes.
-- Each token is HMAC-SHA256 under the keyring's index key of one prefix (2
-- characters or more) of one word of the given or family name, lower-cased.
-- A search hashes its words the same way; the page's candidates are then
-- decrypted and confirmed. Tokens reveal neither names nor their lengths
-- beyond how many prefixes a person has; they go with the person (cascade).
CREATE TABLE participant_name_tokens (
    token          bytea NOT NULL,
    participant_id uuid  NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    PRIMARY KEY (token, participant_id)
);
CREATE INDEX participant_name_tokens_participant ON participant_name_tokens (participant_id);
-- Rows encrypted before this index existed: `pathways migrate` fills them.
ALTER TABLE participants ADD COLUMN names_indexed boolean NOT NULL DEFAULT false;
CREATE INDEX participants_names_unindexed ON participants (id) WHERE NOT names_indexed;

-- +goose Down
DROP INDEX participants_names_unindexed;
ALTER TABLE participants DROP COLUMN names_indexed;
DROP TABLE participant_name_tokens;
