-- The MusicArk catalogue (read-only, shared by every tenant) and each key's monthly usage.
CREATE TABLE songs (
    id               TEXT PRIMARY KEY,
    slug             TEXT NOT NULL UNIQUE,
    published_at_ms  INTEGER NOT NULL,
    -- The whole profile, every section, as the generator wrote it; the tier filter picks
    -- from it per request. The in-memory index is built from the same rows at start.
    profile          TEXT NOT NULL
);

CREATE TABLE musicark_usage (
    key_id  TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    -- The UTC calendar month on the tenant's clock, `YYYY-MM`.
    month   TEXT NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (key_id, month)
);
