-- Accounts, grants, sessions, API tokens, security settings and the audit log.
-- instructors.mobile holds the SM4-GCM (or AES-256-GCM) ciphertext from now on; mobile_idx is its
-- HMAC-SM3 blind index for exact lookup. Plaintext left from before is encrypted at start-up.

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    password_hash        TEXT NOT NULL,
    password_changed_at  TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    totp_secret          TEXT,
    totp_enabled         INTEGER NOT NULL DEFAULT 0,
    totp_last_step       INTEGER,
    failed_logins        INTEGER NOT NULL DEFAULT 0,
    locked_until         TEXT,
    disabled             INTEGER NOT NULL DEFAULT 0,
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_by   INTEGER REFERENCES users (id),
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);

CREATE TABLE grants (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER REFERENCES users (id) ON DELETE CASCADE,
    token_id      INTEGER REFERENCES api_tokens (id) ON DELETE CASCADE,
    role          TEXT NOT NULL,
    scope_type    TEXT NOT NULL CHECK (scope_type IN ('region', 'chain', 'sector_in_region', 'organization')),
    scope_path    TEXT,
    scope_root_id INTEGER,
    scope_sector  TEXT,
    scope_org_id  INTEGER,
    created_by    INTEGER REFERENCES users (id),
    created_at    TEXT NOT NULL,
    CHECK ((user_id IS NULL) <> (token_id IS NULL))
);
CREATE INDEX grants_user ON grants (user_id);
CREATE INDEX grants_token ON grants (token_id);

CREATE TABLE sessions (
    id_hash             TEXT PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    second_factor_done  INTEGER NOT NULL DEFAULT 0,
    csrf_token          TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    last_seen_at        TEXT NOT NULL,
    absolute_expires_at TEXT NOT NULL,
    client_ip           TEXT,
    revoked_at          TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by INTEGER REFERENCES users (id)
);

CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    at             TEXT NOT NULL,
    actor          TEXT NOT NULL,
    actor_user_id  INTEGER,
    actor_token_id INTEGER,
    client_ip      TEXT,
    action         TEXT NOT NULL,
    object_type    TEXT,
    object_id      TEXT,
    outcome        TEXT NOT NULL,
    request_id     TEXT,
    detail         TEXT,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor);

-- The hash the oldest kept audit record chains to, after older records were purged.
CREATE TABLE audit_anchor (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    anchor_hash TEXT NOT NULL,
    purged_at   TEXT NOT NULL
);

ALTER TABLE instructors ADD COLUMN mobile_idx TEXT;
CREATE UNIQUE INDEX instructors_mobile_idx ON instructors (mobile_idx);

-- Audit records are never changed; only purging past the retention period deletes them.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
