-- Seeding a large catalogue in resumable transactions, and its summaries in blocks.
-- `catalogue_seed` is written by every seeding transaction: how many songs and source lines
-- are committed, and whether the catalogue is complete, so a start after a crash resumes the
-- seed. A database seeded before this table existed has songs and no row: it is complete.
CREATE TABLE catalogue_seed (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    complete  INTEGER NOT NULL,
    songs     INTEGER NOT NULL,
    -- Lines of the source read through the last committed song; NULL when not known.
    lines     INTEGER,
    -- The last committed song's id, to recognise the source when resuming.
    last_id   TEXT
);

-- What lists and searches need of every song (the summary columns of `songs`), packed a few
-- thousand songs to a blob in the catalogue's order: loading a million songs' summaries at
-- start reads a few hundred values instead of 27 million. Written with the songs they hold.
CREATE TABLE song_summaries (
    block  INTEGER PRIMARY KEY,
    data   BLOB NOT NULL
);
