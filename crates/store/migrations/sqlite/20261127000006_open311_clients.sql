-- Open311 GeoReport v2 clients (docs/open311.md): civic-reporting apps that file cases with an API key.
-- Only the SM3 hash of a key is kept (like api_tokens); the key is shown once. `extended_statuses`: the
-- client takes mySociety's extended statuses (fixed, in_progress, …) instead of open/closed.
CREATE TABLE open311_clients (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL,
    key_hash          TEXT NOT NULL UNIQUE,
    extended_statuses INTEGER NOT NULL DEFAULT 0 CHECK (extended_statuses IN (0, 1)),
    created_at        TEXT NOT NULL,
    -- A login name, or `cli:$USER`.
    created_by        TEXT NOT NULL,
    revoked_at        TEXT,
    last_used_at      TEXT
);

-- The client that filed a case, if it came in over Open311.
ALTER TABLE cases ADD COLUMN open311_client_id INTEGER REFERENCES open311_clients (id);
CREATE INDEX cases_open311_client ON cases (open311_client_id, created_at);
