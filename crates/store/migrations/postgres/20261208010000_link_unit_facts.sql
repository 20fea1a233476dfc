-- An organization's and an instructor's links to units carry the unit's chain (root) and region, kept
-- by triggers, so that a chain committee's or a region's organizations and instructors are a range of
-- one index instead of a join with every unit of a 100,000-unit chain or a province
-- (docs/performance.md). The unit stays the source of truth: a link takes its unit's facts when it is
-- written, and a unit's move (a new chain or region) is copied to its links.
ALTER TABLE organization_units ADD COLUMN root_id BIGINT, ADD COLUMN region_code TEXT;
ALTER TABLE instructor_assignments ADD COLUMN root_id BIGINT, ADD COLUMN region_code TEXT;

UPDATE organization_units ou SET root_id = e.root_id, region_code = e.region_code
    FROM entities e WHERE e.id = ou.entity_id;
UPDATE instructor_assignments a SET root_id = e.root_id, region_code = e.region_code
    FROM entities e WHERE e.id = a.entity_id;

CREATE INDEX organization_units_root ON organization_units (root_id, organization_id);
CREATE INDEX organization_units_region ON organization_units (region_code, organization_id);
CREATE INDEX instructor_assignments_root ON instructor_assignments (root_id, instructor_id);
CREATE INDEX instructor_assignments_region ON instructor_assignments (region_code, instructor_id);

CREATE FUNCTION dj_link_unit_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT e.root_id, e.region_code INTO NEW.root_id, NEW.region_code FROM entities e WHERE e.id = NEW.entity_id;
    RETURN NEW;
END
$$;

CREATE TRIGGER organization_units_unit_facts BEFORE INSERT OR UPDATE OF entity_id ON organization_units
    FOR EACH ROW EXECUTE FUNCTION dj_link_unit_facts();
CREATE TRIGGER instructor_assignments_unit_facts BEFORE INSERT OR UPDATE OF entity_id ON instructor_assignments
    FOR EACH ROW EXECUTE FUNCTION dj_link_unit_facts();

CREATE FUNCTION dj_entity_unit_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE organization_units SET root_id = NEW.root_id, region_code = NEW.region_code WHERE entity_id = NEW.id;
    UPDATE instructor_assignments SET root_id = NEW.root_id, region_code = NEW.region_code WHERE entity_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER entities_unit_facts AFTER UPDATE OF root_id, region_code ON entities
    FOR EACH ROW WHEN (OLD.root_id IS DISTINCT FROM NEW.root_id OR OLD.region_code IS DISTINCT FROM NEW.region_code)
    EXECUTE FUNCTION dj_entity_unit_facts();

-- The planner learns the new columns and indexes at once (an existing registry may be large).
ANALYZE organization_units;
ANALYZE instructor_assignments;
