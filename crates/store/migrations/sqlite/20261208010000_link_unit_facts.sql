-- An organization's and an instructor's links to units carry the unit's chain (root) and region, kept
-- by triggers, so that a chain committee's or a region's organizations and instructors are a range of
-- one index instead of a join with every unit of a 100,000-unit chain or a province
-- (docs/performance.md). The unit stays the source of truth: a link takes its unit's facts when it is
-- written, and a unit's move (a new chain or region) is copied to its links.
ALTER TABLE organization_units ADD COLUMN root_id INTEGER;
ALTER TABLE organization_units ADD COLUMN region_code TEXT;
ALTER TABLE instructor_assignments ADD COLUMN root_id INTEGER;
ALTER TABLE instructor_assignments ADD COLUMN region_code TEXT;

UPDATE organization_units SET
    root_id = (SELECT e.root_id FROM entities e WHERE e.id = organization_units.entity_id),
    region_code = (SELECT e.region_code FROM entities e WHERE e.id = organization_units.entity_id);
UPDATE instructor_assignments SET
    root_id = (SELECT e.root_id FROM entities e WHERE e.id = instructor_assignments.entity_id),
    region_code = (SELECT e.region_code FROM entities e WHERE e.id = instructor_assignments.entity_id);

CREATE INDEX organization_units_root ON organization_units (root_id, organization_id);
CREATE INDEX organization_units_region ON organization_units (region_code, organization_id);
CREATE INDEX instructor_assignments_root ON instructor_assignments (root_id, instructor_id);
CREATE INDEX instructor_assignments_region ON instructor_assignments (region_code, instructor_id);

CREATE TRIGGER organization_units_unit_facts AFTER INSERT ON organization_units
BEGIN
    UPDATE organization_units SET
        root_id = (SELECT e.root_id FROM entities e WHERE e.id = NEW.entity_id),
        region_code = (SELECT e.region_code FROM entities e WHERE e.id = NEW.entity_id)
    WHERE organization_id = NEW.organization_id AND entity_id = NEW.entity_id;
END;

CREATE TRIGGER instructor_assignments_unit_facts AFTER INSERT ON instructor_assignments
BEGIN
    UPDATE instructor_assignments SET
        root_id = (SELECT e.root_id FROM entities e WHERE e.id = NEW.entity_id),
        region_code = (SELECT e.region_code FROM entities e WHERE e.id = NEW.entity_id)
    WHERE id = NEW.id;
END;

CREATE TRIGGER instructor_assignments_unit_moved AFTER UPDATE OF entity_id ON instructor_assignments
BEGIN
    UPDATE instructor_assignments SET
        root_id = (SELECT e.root_id FROM entities e WHERE e.id = NEW.entity_id),
        region_code = (SELECT e.region_code FROM entities e WHERE e.id = NEW.entity_id)
    WHERE id = NEW.id;
END;

CREATE TRIGGER entities_unit_facts AFTER UPDATE OF root_id, region_code ON entities
    WHEN OLD.root_id IS NOT NEW.root_id OR OLD.region_code IS NOT NEW.region_code
BEGIN
    UPDATE organization_units SET root_id = NEW.root_id, region_code = NEW.region_code WHERE entity_id = NEW.id;
    UPDATE instructor_assignments SET root_id = NEW.root_id, region_code = NEW.region_code WHERE entity_id = NEW.id;
END;

-- The planner learns the new columns and indexes at once (an existing registry may be large).
ANALYZE organization_units;
ANALYZE instructor_assignments;
