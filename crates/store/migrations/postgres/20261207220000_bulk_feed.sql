-- Batched imports write the coverage change feed of the units they insert themselves, one statement per
-- chunk, instead of through a trigger per row (docs/performance.md, "Import throughput"). While the
-- transaction-local setting `dangjian.feed_suspended` is 'on' (set with set_config(…, true) around the
-- import's multi-row INSERTs and set back right after, see store::entities), the feed triggers of the units
-- and their sectors do not fire; everywhere else the setting is unset and they fire as before.
DROP TRIGGER cov_entities ON entities;
CREATE TRIGGER cov_entities AFTER INSERT OR UPDATE OR DELETE ON entities
    FOR EACH ROW WHEN (current_setting('dangjian.feed_suspended', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION cov_entity_changed();

DROP TRIGGER cov_entity_sectors ON entity_sectors;
CREATE TRIGGER cov_entity_sectors AFTER INSERT OR DELETE ON entity_sectors
    FOR EACH ROW WHEN (current_setting('dangjian.feed_suspended', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION cov_entity_ref_changed();
