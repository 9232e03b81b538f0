-- +goose Up
-- The audit log becomes append-only and tamper-evident.
--
-- Each row carries seq (its place in the chain, in commit order), prev_hash
-- (the hash of row seq-1) and hash = sha256(prev_hash || the row's content).
-- A BEFORE INSERT trigger assigns all three under a transaction-scoped
-- advisory lock, so concurrent writers chain in commit order and no caller
-- can choose them. `pathways audit verify` recomputes the chain.
--
-- UPDATE, DELETE and TRUNCATE are refused by triggers, even for the owner.
-- The one documented way to remove rows is audit_cull() (retention): it
-- deletes the rows it is given and records each one's seq and hash, never
-- its content, in audit_culled, so the chain still verifies across the gap.
-- The application role (pathways_app, created by the deployment) may only
-- INSERT and SELECT here and EXECUTE audit_cull.

ALTER TABLE audit_log ADD COLUMN seq bigint, ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea;

CREATE TABLE audit_culled (
    seq       bigint PRIMARY KEY,
    hash      bytea NOT NULL,
    culled_at timestamptz NOT NULL DEFAULT now()
);

-- +goose StatementBegin
CREATE FUNCTION audit_row_hash(prev bytea, r audit_log) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(coalesce(prev, '\x'::bytea) || convert_to(concat_ws(E'\x1f',
        r.seq::text,
        to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        r.staff_id, r.action, r.case_id, coalesce(r.participant_id::text, ''),
        coalesce(r.detail::text, ''), r.request_id), 'UTF8'))
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last_seq  bigint;
    last_hash bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(7403181902);  -- the audit chain's lock
    SELECT seq, hash INTO last_seq, last_hash FROM (
        (SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1)
        UNION ALL
        (SELECT seq, hash FROM audit_culled ORDER BY seq DESC LIMIT 1)
    ) t ORDER BY seq DESC LIMIT 1;
    NEW.seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := last_hash;
    NEW.at := date_trunc('microseconds', NEW.at);
    NEW.hash := audit_row_hash(NEW.prev_hash, NEW);
    RETURN NEW;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('pathways.audit_cull', true) = 'on' THEN
        IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_log' THEN
            RETURN OLD;
        END IF;
        IF TG_OP = 'INSERT' AND TG_TABLE_NAME = 'audit_culled' THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused (retention removes rows only through audit_cull)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd

-- Rows written before the chain existed are chained once, in id order.
-- +goose StatementBegin
DO $$
DECLARE
    r audit_log;
    prev bytea;
    n bigint := 0;
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        n := n + 1;
        r.seq := n;
        r.at := date_trunc('microseconds', r.at);
        r.prev_hash := prev;
        r.hash := audit_row_hash(prev, r);
        UPDATE audit_log SET seq = r.seq, at = r.at, prev_hash = r.prev_hash, hash = r.hash WHERE id = r.id;
        prev := r.hash;
    END LOOP;
END
$$;
-- +goose StatementEnd

ALTER TABLE audit_log ALTER COLUMN seq SET NOT NULL, ALTER COLUMN hash SET NOT NULL;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_chain();
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_culled_no_update BEFORE INSERT OR UPDATE OR DELETE ON audit_culled FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_culled_no_truncate BEFORE TRUNCATE ON audit_culled FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- The retention job's one path: remove the given rows, keep their hashes.
-- SECURITY DEFINER runs it with the owner's rights, so the application role
-- needs no DELETE on the table.
-- +goose StatementBegin
CREATE FUNCTION audit_cull(ids bigint[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(7403181902);
    PERFORM set_config('pathways.audit_cull', 'on', true);
    INSERT INTO audit_culled (seq, hash)
        SELECT seq, hash FROM audit_log WHERE id = ANY(ids) ON CONFLICT (seq) DO NOTHING;
    DELETE FROM audit_log WHERE id = ANY(ids);
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('pathways.audit_cull', 'off', true);
    RETURN n;
END
$$;
-- +goose StatementEnd

-- The application role, where the deployment created one (make run, the
-- test harness and compose do): everything it needs, and on the audit log
-- only INSERT and SELECT.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pathways_app') THEN
        EXECUTE 'GRANT USAGE ON SCHEMA public TO pathways_app';
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO pathways_app';
        EXECUTE 'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO pathways_app';
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO pathways_app';
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO pathways_app';
        EXECUTE 'REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, audit_culled FROM pathways_app';
        EXECUTE 'REVOKE INSERT ON audit_culled FROM pathways_app';
        EXECUTE 'REVOKE ALL ON TABLE goose_db_version FROM pathways_app';
        EXECUTE 'GRANT SELECT ON TABLE goose_db_version TO pathways_app';
    END IF;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION audit_cull(bigint[]) FROM PUBLIC;
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pathways_app') THEN
        EXECUTE 'GRANT EXECUTE ON FUNCTION audit_cull(bigint[]) TO pathways_app';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION audit_cull(bigint[]);
DROP TRIGGER audit_culled_no_truncate ON audit_culled;
DROP TRIGGER audit_culled_no_update ON audit_culled;
DROP TRIGGER audit_log_no_truncate ON audit_log;
DROP TRIGGER audit_log_no_delete ON audit_log;
DROP TRIGGER audit_log_no_update ON audit_log;
DROP TRIGGER audit_log_chain ON audit_log;
DROP FUNCTION audit_refuse_change();
DROP FUNCTION audit_chain();
DROP FUNCTION audit_row_hash(bytea, audit_log);
DROP TABLE audit_culled;
DROP INDEX audit_log_seq;
ALTER TABLE audit_log DROP COLUMN hash, DROP COLUMN prev_hash, DROP COLUMN seq;
