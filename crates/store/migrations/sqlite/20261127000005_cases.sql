-- Needs and rights cases (DOMAIN.md "Worker services and rights"): the departments that handle them,
-- the routing table (category × sector × region level → department kind; an empty column matches
-- anything; an empty table means the built-in defaults), the cases and their full history.
-- Times are RFC 3339 text in UTC; deadlines are stored, so the escalation job is restart-safe.

CREATE TABLE departments (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('social_work', 'organization', 'postal', 'market_regulation',
                                              'transport', 'cyberspace', 'human_resources', 'commerce')),
    region_code TEXT NOT NULL REFERENCES regions (code),
    UNIQUE (kind, region_code)
);
CREATE INDEX departments_region ON departments (region_code);

CREATE TABLE routing_rules (
    id              INTEGER PRIMARY KEY,
    category        TEXT,
    sector          TEXT,
    level           TEXT CHECK (level IN ('province', 'prefecture', 'county', 'township')),
    department_kind TEXT NOT NULL,
    position        INTEGER NOT NULL
);

CREATE TABLE cases (
    id               INTEGER PRIMARY KEY,
    tracking_code    TEXT NOT NULL UNIQUE,
    category         TEXT NOT NULL,
    sector           TEXT,
    entity_id        INTEGER REFERENCES entities (id),
    region_code      TEXT NOT NULL REFERENCES regions (code),
    -- Emptied (not NULL) when erased after retention.
    description      TEXT NOT NULL CHECK (length(description) <= 4000),
    -- Field-cipher text bound to the row (cases.contact:<id>); NULL when anonymous or erased.
    contact          TEXT,
    anonymous        INTEGER NOT NULL DEFAULT 0 CHECK (anonymous IN (0, 1)),
    status           TEXT NOT NULL CHECK (status IN ('submitted', 'acknowledged', 'resolved', 'closed')),
    department_id    INTEGER NOT NULL REFERENCES departments (id),
    assignee         TEXT,
    ack_due          TEXT NOT NULL,
    resolve_due      TEXT NOT NULL,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    rating           INTEGER CHECK (rating BETWEEN 1 AND 5),
    acknowledged_at  TEXT,
    resolved_at      TEXT,
    created_at       TEXT NOT NULL,
    closed_at        TEXT,
    erased_at        TEXT,
    version          INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX cases_department ON cases (department_id, status);
CREATE INDEX cases_status ON cases (status);
CREATE INDEX cases_region ON cases (region_code);

CREATE TABLE case_events (
    id       INTEGER PRIMARY KEY,
    case_id  INTEGER NOT NULL REFERENCES cases (id),
    at       TEXT NOT NULL,
    -- A user's login name, 'worker' (by tracking code) or 'system' (the deadline job).
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    note     TEXT,
    -- Whether the worker sees it on the tracking page.
    public   INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
    department_id INTEGER REFERENCES departments (id)
);
CREATE INDEX case_events_case ON case_events (case_id, id);
