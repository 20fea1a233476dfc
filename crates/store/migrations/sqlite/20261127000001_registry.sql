-- The registry: regions, sectors, the platform chain, Party organizations, instructors.
-- Dates are ISO 'YYYY-MM-DD' text and timestamps RFC 3339 UTC text in both backends (see docs/storage.md).

CREATE TABLE regions (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('province', 'prefecture', 'county', 'township')),
    parent_code TEXT REFERENCES regions (code),
    path        TEXT NOT NULL UNIQUE,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX regions_parent ON regions (parent_code);

CREATE TABLE sectors (
    code     TEXT PRIMARY KEY,
    name_zh  TEXT NOT NULL UNIQUE,
    name_en  TEXT NOT NULL,
    stage    TEXT NOT NULL CHECK (stage IN ('priority', 'exploratory')),
    builtin  INTEGER NOT NULL DEFAULT 0,
    position INTEGER NOT NULL,
    version  INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE entities (
    id                   INTEGER PRIMARY KEY,
    uscc                 TEXT UNIQUE,
    site_code            TEXT UNIQUE,
    name                 TEXT NOT NULL,
    kind                 TEXT NOT NULL CHECK (kind IN ('platform', 'franchisee', 'partner', 'site')),
    parent_id            INTEGER REFERENCES entities (id),
    root_id              INTEGER REFERENCES entities (id),
    region_code          TEXT NOT NULL REFERENCES regions (code),
    address              TEXT,
    workers              INTEGER NOT NULL DEFAULT 0 CHECK (workers >= 0),
    party_members        INTEGER NOT NULL DEFAULT 0 CHECK (party_members >= 0),
    probationary_members INTEGER NOT NULL DEFAULT 0 CHECK (probationary_members >= 0),
    established_on       TEXT,
    closed_on            TEXT,
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    CHECK (uscc IS NOT NULL OR site_code IS NOT NULL),
    CHECK (party_members + probationary_members <= workers)
);
CREATE INDEX entities_parent ON entities (parent_id);
CREATE INDEX entities_root ON entities (root_id);
CREATE INDEX entities_region ON entities (region_code);
CREATE INDEX entities_kind ON entities (kind);

CREATE TABLE entity_sectors (
    entity_id   INTEGER NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    sector_code TEXT NOT NULL REFERENCES sectors (code),
    PRIMARY KEY (entity_id, sector_code)
);
CREATE INDEX entity_sectors_sector ON entity_sectors (sector_code, entity_id);

CREATE TABLE organizations (
    id             INTEGER PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('grassroots_committee', 'general_branch', 'branch', 'joint_branch', 'floating_branch')),
    parent_id      INTEGER REFERENCES organizations (id),
    region_code    TEXT NOT NULL REFERENCES regions (code),
    established_on TEXT,
    dissolved_on   TEXT,
    term_start     TEXT,
    term_end       TEXT,
    secretary      TEXT,
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX organizations_parent ON organizations (parent_id);
CREATE INDEX organizations_region ON organizations (region_code);

CREATE TABLE organization_units (
    organization_id INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    entity_id       INTEGER NOT NULL REFERENCES entities (id),
    PRIMARY KEY (organization_id, entity_id)
);
CREATE INDEX organization_units_entity ON organization_units (entity_id);

CREATE TABLE instructors (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    mobile          TEXT NOT NULL UNIQUE,
    dispatching_org TEXT,
    region_code     TEXT NOT NULL REFERENCES regions (code),
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX instructors_region ON instructors (region_code);

CREATE TABLE instructor_assignments (
    id            INTEGER PRIMARY KEY,
    instructor_id INTEGER NOT NULL REFERENCES instructors (id) ON DELETE CASCADE,
    entity_id     INTEGER NOT NULL REFERENCES entities (id),
    start_on      TEXT NOT NULL,
    end_on        TEXT
);
CREATE INDEX instructor_assignments_instructor ON instructor_assignments (instructor_id);
CREATE INDEX instructor_assignments_entity ON instructor_assignments (entity_id);
