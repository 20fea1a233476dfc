-- Case statistics (docs/cases.md, "How it is computed"): how long acknowledging and resolving took, as
-- whole seconds from filing, stored with the step that sets them (acknowledge sets ack_seconds; resolve
-- sets resolve_seconds, reopen clears it), so statistics read integers rather than compute them from the
-- text times. Existing rows are filled in below with the same arithmetic the statistics query used.
ALTER TABLE cases ADD COLUMN ack_seconds BIGINT;
ALTER TABLE cases ADD COLUMN resolve_seconds BIGINT;
UPDATE cases SET
    ack_seconds = CAST(EXTRACT(EPOCH FROM (CAST(acknowledged_at AS TIMESTAMPTZ) - CAST(created_at AS TIMESTAMPTZ))) AS BIGINT),
    resolve_seconds = CAST(EXTRACT(EPOCH FROM (CAST(resolved_at AS TIMESTAMPTZ) - CAST(created_at AS TIMESTAMPTZ))) AS BIGINT)
WHERE acknowledged_at IS NOT NULL OR resolved_at IS NOT NULL;

-- The statistics keep their figures in memory (store::cases::stats_index) and learn of every change that
-- can move them from this feed, written by triggers in the same transaction as the change, whichever
-- process wrote. A row with case_id NULL asks for a full rebuild (written after bulk loads, which clear
-- the feed). Only the columns statistics read fire the update trigger.
CREATE TABLE case_changes (
    seq     BIGSERIAL PRIMARY KEY,
    case_id BIGINT,
    at      TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
);

CREATE FUNCTION cst_case_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO case_changes (case_id) VALUES (OLD.id);
    ELSE
        INSERT INTO case_changes (case_id) VALUES (NEW.id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER cst_cases AFTER INSERT OR DELETE OR UPDATE OF category, sector, entity_id, region_code, status,
    ack_due, resolve_due, escalation_level, rating, created_at, ack_seconds, resolve_seconds ON cases
    FOR EACH ROW EXECUTE FUNCTION cst_case_changed();
