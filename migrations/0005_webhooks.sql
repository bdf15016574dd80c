-- Delivery webhooks: endpoints a tenant registers, and the outbox of events owed to them.
-- The outbox is the record of at-least-once delivery: an event stays pending until a 2xx
-- acknowledges it or its attempts run out.
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
