-- +goose Up
-- The console's language each staff member chose (sv or en); without a
-- row the browser's Accept-Language decides, then Swedish.
CREATE TABLE staff_settings (
    staff_id   text PRIMARY KEY REFERENCES staff (id) ON DELETE CASCADE,
    language   text NOT NULL CHECK (language IN ('sv', 'en')),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE staff_settings;
