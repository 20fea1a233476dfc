-- The coverage engine keeps its figures in memory and learns of every change that can move them from
-- this feed, written by triggers in the same transaction as the change: a reader catches up before
-- answering, whichever process wrote. A row with entity_id and organization_id both NULL asks for a
-- full rebuild (written after bulk loads, which clear the feed).
-- An organization other than a joint branch has one home unit; its other units lie below that unit in
-- its chain and are covered through the chain (via_chain = 1).
ALTER TABLE organization_units ADD COLUMN via_chain INTEGER NOT NULL DEFAULT 0;

CREATE TABLE coverage_changes (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id       INTEGER,
    organization_id INTEGER,
    at              TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TRIGGER cov_entities_ins AFTER INSERT ON entities
BEGIN INSERT INTO coverage_changes (entity_id) VALUES (NEW.id); END;
CREATE TRIGGER cov_entities_upd AFTER UPDATE ON entities
BEGIN INSERT INTO coverage_changes (entity_id) VALUES (NEW.id); END;
CREATE TRIGGER cov_entities_del AFTER DELETE ON entities
BEGIN INSERT INTO coverage_changes (entity_id) VALUES (OLD.id); END;

CREATE TRIGGER cov_entity_sectors_ins AFTER INSERT ON entity_sectors
BEGIN INSERT INTO coverage_changes (entity_id) VALUES (NEW.entity_id); END;
CREATE TRIGGER cov_entity_sectors_del AFTER DELETE ON entity_sectors
BEGIN INSERT INTO coverage_changes (entity_id) VALUES (OLD.entity_id); END;

CREATE TRIGGER cov_organizations_ins AFTER INSERT ON organizations
BEGIN INSERT INTO coverage_changes (organization_id) VALUES (NEW.id); END;
CREATE TRIGGER cov_organizations_upd AFTER UPDATE ON organizations
BEGIN INSERT INTO coverage_changes (organization_id) VALUES (NEW.id); END;
CREATE TRIGGER cov_organizations_del AFTER DELETE ON organizations
BEGIN INSERT INTO coverage_changes (organization_id) VALUES (OLD.id); END;

CREATE TRIGGER cov_organization_units_ins AFTER INSERT ON organization_units
BEGIN INSERT INTO coverage_changes (entity_id, organization_id) VALUES (NEW.entity_id, NEW.organization_id); END;
CREATE TRIGGER cov_organization_units_del AFTER DELETE ON organization_units
BEGIN INSERT INTO coverage_changes (entity_id, organization_id) VALUES (OLD.entity_id, OLD.organization_id); END;

CREATE TRIGGER cov_assignments_ins AFTER INSERT ON instructor_assignments
BEGIN INSERT INTO coverage_changes (entity_id) VALUES (NEW.entity_id); END;
CREATE TRIGGER cov_assignments_upd AFTER UPDATE ON instructor_assignments
BEGIN
    INSERT INTO coverage_changes (entity_id) VALUES (OLD.entity_id);
    INSERT INTO coverage_changes (entity_id) VALUES (NEW.entity_id);
END;
CREATE TRIGGER cov_assignments_del AFTER DELETE ON instructor_assignments
BEGIN INSERT INTO coverage_changes (entity_id) VALUES (OLD.entity_id); END;

-- New coverage rules (setting coverage_rules) rebuild every index.
CREATE TRIGGER cov_rules_ins AFTER INSERT ON settings WHEN NEW.key = 'coverage_rules'
BEGIN INSERT INTO coverage_changes (entity_id, organization_id) VALUES (NULL, NULL); END;
CREATE TRIGGER cov_rules_upd AFTER UPDATE ON settings WHEN NEW.key = 'coverage_rules'
BEGIN INSERT INTO coverage_changes (entity_id, organization_id) VALUES (NULL, NULL); END;
