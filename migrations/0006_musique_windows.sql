-- Musique's per-key minute/hour/day windows, written behind from memory every 200 ms and at
-- shutdown so that a restart continues where each key stood. For each window, how far its
-- theoretical arrival time (when the window is whole again) lay past `at_ms` on the tenant's
-- clock, in nanoseconds; NULL for a whole window. A key's row goes with the key.
CREATE TABLE musique_windows (
    key_id    TEXT PRIMARY KEY REFERENCES api_keys(id) ON DELETE CASCADE,
    at_ms     INTEGER NOT NULL,
    minute_ns INTEGER,
    hour_ns   INTEGER,
    day_ns    INTEGER
);
