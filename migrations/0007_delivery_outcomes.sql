-- Finished deliveries leave memory: each one's outcome is kept here, written behind in
-- batches once it has played or failed. A delivery is a send's destination; it goes when its
-- send, audio or location does.
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
-- A store's history, newest first, paged by (finished_at_ms, send_id).
CREATE INDEX delivery_outcomes_history
    ON delivery_outcomes (location_id, environment, finished_at_ms, send_id);

-- A tenant's sends, newest first, paged by (created_at_ms, rowid); also its reset's delete.
CREATE INDEX sends_tenant_created ON sends (tenant_id, created_at_ms);

-- A tenant's outbox, oldest first, paged by seq.
CREATE INDEX webhook_events_tenant ON webhook_events (tenant_id, seq);
