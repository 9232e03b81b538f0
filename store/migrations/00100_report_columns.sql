-- +goose Up
-- Reports group by gender as Swedish statistics do (the identity number's
-- second-last digit). Identity numbers are encrypted, so the gender is kept
-- in a plain column, set at registration; `pathways migrate` fills in the
-- rows written before (store.BackfillGender).
ALTER TABLE participants ADD COLUMN gender text NOT NULL DEFAULT ''
    CHECK (gender IN ('', 'man', 'woman'));
-- Reports read the pathways that took part in a period.
CREATE INDEX pathways_report_period ON pathways (referred_at, closed_at);

-- +goose Down
DROP INDEX pathways_report_period;
ALTER TABLE participants DROP COLUMN gender;
