-- The Musique audio library and its sends. Audio bytes live in the same database as their
-- row, written in one transaction, so a crash can never leave a row without bytes or bytes
-- without a row.
CREATE TABLE audio (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    company_id    INTEGER NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    environment   TEXT NOT NULL CHECK (environment IN ('prod', 'dev')),
    name          TEXT NOT NULL,
    description   TEXT,
    category      TEXT,
    duration      REAL NOT NULL,
    size          INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    -- Insertion order breaks ties between uploads in the same millisecond.
    seq           INTEGER NOT NULL
);
CREATE INDEX audio_library ON audio (company_id, environment, created_at_ms DESC, seq DESC);

CREATE TABLE audio_blobs (
    audio_id TEXT PRIMARY KEY REFERENCES audio(id) ON DELETE CASCADE,
    bytes    BLOB NOT NULL
);

CREATE TABLE sends (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    audio_id      TEXT NOT NULL REFERENCES audio(id) ON DELETE CASCADE,
    key_id        TEXT NOT NULL,
    priority      TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    repeat        INTEGER NOT NULL CHECK (repeat BETWEEN 1 AND 10),
    volume        INTEGER NOT NULL CHECK (volume BETWEEN 0 AND 100),
    broadcast     INTEGER NOT NULL,
    scheduled     INTEGER NOT NULL,
    -- When the destinations play: the send's creation for an immediate send, scheduleAt
    -- otherwise. Everything time-based compares it with the tenant's clock.
    due_at_ms     INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX sends_audio_due ON sends (audio_id, due_at_ms);

CREATE TABLE send_destinations (
    send_id     TEXT NOT NULL REFERENCES sends(id) ON DELETE CASCADE,
    location_id INTEGER NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    user_id     INTEGER NOT NULL,
    PRIMARY KEY (send_id, location_id)
);
