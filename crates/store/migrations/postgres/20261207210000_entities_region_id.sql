-- Units by region and by chain, with their ids in the index: a region subtree's or a chain's ids (the
-- scope and filter sub-queries) are read from the index alone, and a list ordered by region and id
-- comes in index order. (SQLite keeps the row id in every index anyway; the same definition on both
-- keeps one schema.)
DROP INDEX entities_region;
CREATE INDEX entities_region ON entities (region_code, id);
DROP INDEX entities_root;
CREATE INDEX entities_root ON entities (root_id, id);
