-- The MusicArk catalogue (read-only, shared by every tenant) and each key's monthly usage.
-- The summary fields that lists and searches need have columns of their own, loaded into
-- memory at start; the whole profile is kept as JSON and read only by `GET /songs/{id}`.
CREATE TABLE songs (
    id                    TEXT PRIMARY KEY,
    slug                  TEXT NOT NULL UNIQUE,
    title                 TEXT NOT NULL,
    artist                TEXT NOT NULL,
    album                 TEXT NOT NULL,
    release_year          INTEGER NOT NULL,
    color_hex             TEXT NOT NULL,
    bpm                   INTEGER NOT NULL,
    key                   TEXT NOT NULL,
    mode                  TEXT NOT NULL,
    duration_seconds      INTEGER NOT NULL,
    dominant_emotion      TEXT NOT NULL,
    published_at          TEXT NOT NULL,
    published_at_ms       INTEGER NOT NULL,
    tempo_feel            TEXT NOT NULL,
    energy_shape          TEXT NOT NULL,
    oklch_l               REAL NOT NULL,
    oklch_c               REAL NOT NULL,
    oklch_h               REAL,
    valence               INTEGER NOT NULL,
    arousal               INTEGER NOT NULL,
    nostalgia             INTEGER NOT NULL,
    melancholy            INTEGER NOT NULL,
    sensuality            INTEGER NOT NULL,
    triumph               INTEGER NOT NULL,
    mystery               INTEGER NOT NULL,
    inspirational         INTEGER NOT NULL,
    profile               TEXT NOT NULL
);

CREATE TABLE musicark_usage (
    key_id  TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    -- The UTC calendar month on the tenant's clock, `YYYY-MM`.
    month   TEXT NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (key_id, month)
);
