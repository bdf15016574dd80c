-- The control plane: what a tenant looked like when it was created (so that a reset can put
-- it back without new tokens) and the availability history of each store's player.
ALTER TABLE tenants ADD COLUMN seed TEXT;

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
