-- Tenants own every row of state; API keys of both APIs live in one table so that one
-- lookup path, one cache and one revocation watcher serve them all.
CREATE TABLE tenants (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    -- The tenant's clock: real time plus an offset, or frozen at an instant.
    clock_offset_ms INTEGER NOT NULL DEFAULT 0,
    clock_frozen_ms INTEGER
);

CREATE TABLE companies (
    id         INTEGER PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    -- Prefixes are unique across tenants: a token's prefix names exactly one company.
    prefix     TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    -- Only the hash of the legacy company token is kept.
    company_token_hash TEXT
);

CREATE TABLE locations (
    id          INTEGER PRIMARY KEY,
    company_id  INTEGER NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    user_id     INTEGER NOT NULL,
    name        TEXT NOT NULL,
    UNIQUE (company_id, external_id)
);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    api           TEXT NOT NULL CHECK (api IN ('musique', 'musicark')),
    -- The non-secret head of the token (prefix, environment and the first characters of the
    -- secret part): it finds the row without hashing; argon2id `hash` then proves the rest.
    lookup        TEXT NOT NULL,
    hash          TEXT NOT NULL,
    label         TEXT NOT NULL DEFAULT '',
    company_id    INTEGER REFERENCES companies(id) ON DELETE CASCADE,
    environment   TEXT CHECK (environment IN ('prod', 'dev')),
    permissions   TEXT,
    -- JSON array of External IDs, or NULL for the whole company.
    scope         TEXT,
    limit_minute  INTEGER,
    limit_hour    INTEGER,
    limit_day     INTEGER,
    tier          TEXT CHECK (tier IN ('free', 'pro', 'enterprise')),
    monthly_limit INTEGER,
    created_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER
);
CREATE INDEX api_keys_lookup ON api_keys (lookup);
CREATE INDEX api_keys_revoked ON api_keys (revoked_at_ms) WHERE revoked_at_ms IS NOT NULL;
