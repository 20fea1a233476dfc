-- The coverage engine keeps its figures in memory and learns of every change that can move them from
-- this feed, written by triggers in the same transaction as the change: a reader catches up before
-- answering, whichever process wrote. A row with entity_id and organization_id both NULL asks for a
-- full rebuild (written after bulk loads, which clear the feed).
-- An organization other than a joint branch has one home unit; its other units lie below that unit in
-- its chain and are covered through the chain (via_chain = 1).
ALTER TABLE organization_units ADD COLUMN via_chain BIGINT NOT NULL DEFAULT 0;

CREATE TABLE coverage_changes (
    seq             BIGSERIAL PRIMARY KEY,
    entity_id       BIGINT,
    organization_id BIGINT,
    at              TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
);

CREATE FUNCTION cov_entity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO coverage_changes (entity_id) VALUES (OLD.id);
    ELSE
        INSERT INTO coverage_changes (entity_id) VALUES (NEW.id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER cov_entities AFTER INSERT OR UPDATE OR DELETE ON entities
    FOR EACH ROW EXECUTE FUNCTION cov_entity_changed();

CREATE FUNCTION cov_entity_ref_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO coverage_changes (entity_id) VALUES (OLD.entity_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO coverage_changes (entity_id) VALUES (NEW.entity_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER cov_entity_sectors AFTER INSERT OR DELETE ON entity_sectors
    FOR EACH ROW EXECUTE FUNCTION cov_entity_ref_changed();
CREATE TRIGGER cov_assignments AFTER INSERT OR UPDATE OR DELETE ON instructor_assignments
    FOR EACH ROW EXECUTE FUNCTION cov_entity_ref_changed();

CREATE FUNCTION cov_organization_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO coverage_changes (organization_id) VALUES (OLD.id);
    ELSE
        INSERT INTO coverage_changes (organization_id) VALUES (NEW.id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER cov_organizations AFTER INSERT OR UPDATE OR DELETE ON organizations
    FOR EACH ROW EXECUTE FUNCTION cov_organization_changed();

CREATE FUNCTION cov_organization_unit_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO coverage_changes (entity_id, organization_id) VALUES (OLD.entity_id, OLD.organization_id);
    ELSE
        INSERT INTO coverage_changes (entity_id, organization_id) VALUES (NEW.entity_id, NEW.organization_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER cov_organization_units AFTER INSERT OR DELETE ON organization_units
    FOR EACH ROW EXECUTE FUNCTION cov_organization_unit_changed();

-- New coverage rules (setting coverage_rules) rebuild every index.
CREATE FUNCTION cov_rules_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO coverage_changes (entity_id, organization_id) VALUES (NULL, NULL);
    RETURN NULL;
END
$$;
CREATE TRIGGER cov_rules AFTER INSERT OR UPDATE ON settings
    FOR EACH ROW WHEN (NEW.key = 'coverage_rules') EXECUTE FUNCTION cov_rules_changed();
