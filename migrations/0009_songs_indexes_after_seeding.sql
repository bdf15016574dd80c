-- The songs table without the constraint indexes of 0003 (`id` PRIMARY KEY, `slug` UNIQUE),
-- which no statement can drop: the same uniqueness is kept by two unique indexes, which the
-- seed drops while the table is empty and builds once in its last transaction. Maintained row
-- by row, each seeding transaction rewrote most of both (ids are random) into the log and
-- the checkpoint copied them again: for a million songs, three times the bytes of the table.
-- A catalogue seeded before keeps its rows, rowids (the catalogue's order) and uniqueness.
CREATE TABLE songs_new (
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

INSERT INTO songs_new (rowid, id, slug, title, artist, album, release_year, color_hex, bpm, key,
    mode, duration_seconds, dominant_emotion, published_at, published_at_ms, tempo_feel,
    energy_shape, oklch_l, oklch_c, oklch_h, valence, arousal, nostalgia, melancholy,
    sensuality, triumph, mystery, inspirational, profile)
SELECT rowid, id, slug, title, artist, album, release_year, color_hex, bpm, key,
    mode, duration_seconds, dominant_emotion, published_at, published_at_ms, tempo_feel,
    energy_shape, oklch_l, oklch_c, oklch_h, valence, arousal, nostalgia, melancholy,
    sensuality, triumph, mystery, inspirational, profile
FROM songs ORDER BY rowid;

DROP TABLE songs;
ALTER TABLE songs_new RENAME TO songs;
-- The names the seed drops and builds again (`store::seed`).
CREATE UNIQUE INDEX songs_id ON songs (id);
CREATE UNIQUE INDEX songs_slug ON songs (slug);
