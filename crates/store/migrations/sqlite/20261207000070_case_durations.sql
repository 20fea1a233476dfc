-- Case statistics (docs/cases.md, "How it is computed"): how long acknowledging and resolving took, as
-- whole seconds from filing, stored with the step that sets them (acknowledge sets ack_seconds; resolve
-- sets resolve_seconds, reopen clears it), so statistics read integers rather than compute them from the
-- text times. Existing rows are filled in below with the same rounding the statistics query used.
ALTER TABLE cases ADD COLUMN ack_seconds INTEGER;
ALTER TABLE cases ADD COLUMN resolve_seconds INTEGER;
UPDATE cases SET
    ack_seconds = CAST(round((julianday(acknowledged_at) - julianday(created_at)) * 86400) AS INTEGER),
    resolve_seconds = CAST(round((julianday(resolved_at) - julianday(created_at)) * 86400) AS INTEGER)
WHERE acknowledged_at IS NOT NULL OR resolved_at IS NOT NULL;

-- The statistics keep their figures in memory (store::cases::stats_index) and learn of every change that
-- can move them from this feed, written by triggers in the same transaction as the change, whichever
-- process wrote. A row with case_id NULL asks for a full rebuild (written after bulk loads, which clear
-- the feed). Only the columns statistics read fire the update trigger.
CREATE TABLE case_changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER,
    at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TRIGGER cst_cases_ins AFTER INSERT ON cases
BEGIN INSERT INTO case_changes (case_id) VALUES (NEW.id); END;
CREATE TRIGGER cst_cases_upd AFTER UPDATE OF category, sector, entity_id, region_code, status, ack_due,
    resolve_due, escalation_level, rating, created_at, ack_seconds, resolve_seconds ON cases
BEGIN INSERT INTO case_changes (case_id) VALUES (NEW.id); END;
CREATE TRIGGER cst_cases_del AFTER DELETE ON cases
BEGIN INSERT INTO case_changes (case_id) VALUES (OLD.id); END;
