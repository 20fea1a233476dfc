-- Batched imports write the coverage change feed and the text search index of the units they insert
-- themselves, one statement per chunk, instead of through a trigger per row (docs/performance.md, "Import
-- throughput"). While a row is in `feed_suspended`, the insert triggers below leave that to the writer.
-- The row is only ever inserted and deleted again inside one write transaction (around the import's
-- multi-row INSERTs, see store::entities), so no other connection ever sees it: SQLite has one writer at a
-- time and readers see committed data only. Updates and deletes keep their triggers.
CREATE TABLE feed_suspended (
    id INTEGER PRIMARY KEY CHECK (id = 1)
);

DROP TRIGGER cov_entities_ins;
CREATE TRIGGER cov_entities_ins AFTER INSERT ON entities WHEN NOT EXISTS (SELECT 1 FROM feed_suspended)
BEGIN INSERT INTO coverage_changes (entity_id) VALUES (NEW.id); END;

DROP TRIGGER cov_entity_sectors_ins;
CREATE TRIGGER cov_entity_sectors_ins AFTER INSERT ON entity_sectors WHEN NOT EXISTS (SELECT 1 FROM feed_suspended)
BEGIN INSERT INTO coverage_changes (entity_id) VALUES (NEW.entity_id); END;

DROP TRIGGER search_entities_insert;
CREATE TRIGGER search_entities_insert AFTER INSERT ON entities WHEN NOT EXISTS (SELECT 1 FROM feed_suspended) BEGIN
    INSERT INTO entity_search (rowid, doc) VALUES (new.id,
        new.name || char(31) || COALESCE(new.address, '') || char(31) || COALESCE(new.uscc, '') || char(31)
        || COALESCE(new.site_code, '') || char(31) || char(31));
END;
