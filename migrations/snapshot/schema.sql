-- Written by `SOUNDCHECK_WRITE_SCHEMA=1 cargo test --lib db::tests::the_schema_script`
-- from a database the migrations up to 11 built: what a new file runs instead of them (db.rs).
CREATE TABLE _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
);
CREATE TABLE tenants (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    -- The tenant's clock: real time plus an offset, or frozen at an instant.
    clock_offset_ms INTEGER NOT NULL DEFAULT 0,
    clock_frozen_ms INTEGER
, seed TEXT, strict INTEGER NOT NULL DEFAULT 0);
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
, public_token TEXT);
CREATE INDEX api_keys_lookup ON api_keys (lookup);
CREATE INDEX api_keys_revoked ON api_keys (revoked_at_ms) WHERE revoked_at_ms IS NOT NULL;
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
CREATE TABLE musicark_usage (
    key_id  TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    -- The UTC calendar month on the tenant's clock, `YYYY-MM`.
    month   TEXT NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (key_id, month)
);
CREATE TABLE player_events (
    id            INTEGER PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    location_id   INTEGER NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    environment   TEXT NOT NULL CHECK (environment IN ('prod', 'dev')),
    -- On the tenant's clock.
    at_ms         INTEGER NOT NULL,
    online        INTEGER NOT NULL,
    fail_after_ms INTEGER NOT NULL
);
CREATE INDEX player_events_location ON player_events (location_id, environment, at_ms);
CREATE TABLE webhooks (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    url           TEXT NOT NULL,
    -- The signing secret: soundcheck must sign with it, so it is kept (it is not an API key).
    secret        TEXT NOT NULL,
    -- JSON array of event types.
    events        TEXT NOT NULL,
    max_attempts  INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE webhook_events (
    seq             INTEGER PRIMARY KEY,
    -- The event's id, the same for every endpoint it goes to: receivers drop duplicates by it.
    id              TEXT NOT NULL,
    webhook_id      TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    type            TEXT NOT NULL,
    body            TEXT NOT NULL,
    -- On the tenant's clock.
    created_at_ms   INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER,
    -- JSON array of {at, status | error} per attempt.
    responses       TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX webhook_events_pending ON webhook_events (webhook_id, status, seq);
CREATE TABLE musique_windows (
    key_id    TEXT PRIMARY KEY REFERENCES api_keys(id) ON DELETE CASCADE,
    at_ms     INTEGER NOT NULL,
    minute_ns INTEGER,
    hour_ns   INTEGER,
    day_ns    INTEGER
);
CREATE TABLE delivery_outcomes (
    send_id         TEXT NOT NULL,
    location_id     INTEGER NOT NULL,
    -- The send's (its audio's), so that a store's history needs no join to find its player.
    environment     TEXT NOT NULL CHECK (environment IN ('prod', 'dev')),
    status          TEXT NOT NULL CHECK (status IN ('played', 'failed')),
    -- On the tenant's clock.
    delivered_at_ms INTEGER,
    started_at_ms   INTEGER,
    finished_at_ms  INTEGER NOT NULL,
    plays_completed INTEGER NOT NULL,
    interruptions   INTEGER NOT NULL,
    PRIMARY KEY (send_id, location_id),
    FOREIGN KEY (send_id, location_id)
        REFERENCES send_destinations (send_id, location_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX delivery_outcomes_history
    ON delivery_outcomes (location_id, environment, finished_at_ms, send_id);
CREATE INDEX sends_tenant_created ON sends (tenant_id, created_at_ms);
CREATE INDEX webhook_events_tenant ON webhook_events (tenant_id, seq);
CREATE TABLE catalogue_seed (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    complete  INTEGER NOT NULL,
    songs     INTEGER NOT NULL,
    -- Lines of the source read through the last committed song; NULL when not known.
    lines     INTEGER,
    -- The last committed song's id, to recognise the source when resuming.
    last_id   TEXT
);
CREATE TABLE song_summaries (
    block  INTEGER PRIMARY KEY,
    data   BLOB NOT NULL
);
CREATE TABLE "songs" (
    id                    TEXT NOT NULL,
    slug                  TEXT NOT NULL,
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
CREATE UNIQUE INDEX songs_id ON songs (id);
CREATE UNIQUE INDEX songs_slug ON songs (slug);
