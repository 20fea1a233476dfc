-- Worker stations (暖心驿站 and the like) and the counter the nearest-station finder watches.
-- Positions are WGS-84 decimal degrees; amenities a comma-separated list of codes in a fixed order.
-- A station is run by a registered unit (operator_entity_id) or by a department (operator_department).

CREATE TABLE stations (
    id                  INTEGER PRIMARY KEY,
    code                TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    operator_entity_id  INTEGER REFERENCES entities (id),
    operator_department TEXT,
    address             TEXT NOT NULL,
    region_code         TEXT NOT NULL REFERENCES regions (code),
    latitude            REAL NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude           REAL NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    amenities           TEXT NOT NULL DEFAULT '',
    opening_hours       TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'closed')),
    contact_phone       TEXT,
    version             INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CHECK ((operator_entity_id IS NULL) <> (operator_department IS NULL))
);
CREATE INDEX stations_region ON stations (region_code);
CREATE INDEX stations_operator ON stations (operator_entity_id);

-- Bumped in the same transaction as every change to a station, so a finder in any process learns
-- with one primary-key read whether its index is still current.
CREATE TABLE station_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO station_generation (id, n) VALUES (1, 0);

CREATE TRIGGER stations_inserted AFTER INSERT ON stations
BEGIN
    UPDATE station_generation SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER stations_updated AFTER UPDATE ON stations
BEGIN
    UPDATE station_generation SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER stations_deleted AFTER DELETE ON stations
BEGIN
    UPDATE station_generation SET n = n + 1 WHERE id = 1;
END;
