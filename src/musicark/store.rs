//! The SQL of the MusicArk API: seeding the catalogue, loading its summaries, one profile.

use std::io::BufRead;

use sqlx::FromRow;

use super::catalogue::{self, Song};
use crate::db::Db;

/// Rows per INSERT while seeding, and per batch the parser hands the writer: 28 values a
/// row, under SQLite's 32,766 bound parameters.
pub const SEED_BATCH: usize = 512;

/// Songs per summary block (about 1 MB): [`fold_summaries`] reads a catalogue's summaries as
/// a few hundred blobs instead of a row of 27 values per song.
pub const BLOCK_SONGS: usize = 8 * SEED_BATCH;

/// Blocks per seeding transaction (65,536 songs, about 270 MB of rows): a crash loses at most
/// one transaction's work, and the write-ahead log never holds more than one.
pub const TRANSACTION_BLOCKS: usize = 16;

/// Batches parsed ahead of the writer: with the one being written and the chunk being parsed,
/// about 12 MB of songs are in memory at any time.
const SEED_QUEUE: usize = 2;

/// How seeding cuts the catalogue; tests use small sizes to cross every boundary.
#[derive(Clone, Copy, Debug)]
pub struct SeedSizes {
    pub batch: usize,
    /// A multiple of `batch`, so that a batch never spans two blocks.
    pub block: usize,
    pub transaction_blocks: usize,
}

pub const SEED_SIZES: SeedSizes = SeedSizes {
    batch: SEED_BATCH,
    block: BLOCK_SONGS,
    transaction_blocks: TRANSACTION_BLOCKS,
};

/// Whether the catalogue table holds any song.
pub async fn has_songs(db: &Db) -> sqlx::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM songs LIMIT 1")
        .fetch_optional(&db.read)
        .await?;
    Ok(found.is_some())
}

/// Where an empty database's catalogue comes from: one song per line, JSON.
#[derive(Clone)]
pub enum CatalogueSource {
    /// A `catalogue.jsonl` file.
    File(std::path::PathBuf),
    /// The text of one, built into the binary.
    Bundled(&'static str),
}

/// Printed with the states that hold it: of the bundled text (megabytes), only its size.
impl std::fmt::Debug for CatalogueSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CatalogueSource::File(path) => f.debug_tuple("File").field(path).finish(),
            CatalogueSource::Bundled(text) => write!(f, "Bundled({} bytes)", text.len()),
        }
    }
}

impl CatalogueSource {
    fn reader(&self) -> anyhow::Result<Box<dyn BufRead + Send>> {
        Ok(match self {
            CatalogueSource::File(path) => Box::new(std::io::BufReader::with_capacity(
                1 << 20,
                std::fs::File::open(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            )),
            CatalogueSource::Bundled(text) => Box::new(text.as_bytes()),
        })
    }

    /// A guess at the catalogue's size in bytes, for the seeding cache.
    fn len(&self) -> u64 {
        match self {
            CatalogueSource::File(path) => std::fs::metadata(path).map_or(0, |m| m.len()),
            CatalogueSource::Bundled(text) => text.len() as u64,
        }
    }
}

/// How far seeding got: the `catalogue_seed` row.
#[derive(Debug, FromRow)]
struct Progress {
    complete: bool,
    songs: i64,
    /// Lines of the source the committed songs came from (`None` when not known).
    lines: Option<i64>,
    last_id: Option<String>,
}

async fn progress(db: &Db) -> sqlx::Result<Option<Progress>> {
    sqlx::query_as("SELECT complete, songs, lines, last_id FROM catalogue_seed WHERE id = 1")
        .fetch_optional(&db.read)
        .await
}

/// Loads the song catalogue into an empty database, checking every derived field of every
/// song; ids and slugs are unique by the table's constraints. Returns how many songs were
/// written (0 when the catalogue was there already).
///
/// The file is streamed, so a million-song catalogue never sits in memory whole, and written
/// in transactions of [`TRANSACTION_BLOCKS`] blocks, each recording in `catalogue_seed` how
/// far it got: a crash keeps what was committed, and the next start resumes after it (or
/// starts over when the source is not the one it was reading). Only the last transaction
/// marks the catalogue complete; a database seeded in one transaction before that table
/// existed has songs and no progress row, and is complete too.
pub async fn seed_catalogue(db: &Db, source: &CatalogueSource) -> anyhow::Result<usize> {
    seed_catalogue_in(db, source, SEED_SIZES).await
}

/// [`seed_catalogue`] cut into `sizes`.
pub async fn seed_catalogue_in(db: &Db, source: &CatalogueSource, sizes: SeedSizes) -> anyhow::Result<usize> {
    anyhow::ensure!(
        sizes.batch > 0
            && sizes.block.is_multiple_of(sizes.batch)
            && sizes.block > 0
            && sizes.transaction_blocks > 0,
        "seeding sizes {sizes:?}: a block is a whole number of batches"
    );
    // Each checkpoint syncs the log and then the database: with one per transaction, seeding
    // would wait for the disk to take every byte twice. The log takes the whole seed instead
    // (a committed transaction is as safe in it) and is checkpointed in the background, on
    // every start: one after a stop that cut that checkpoint short does it there too, rather
    // than in the first request that writes.
    let wal = journal_mode(db).await? == "wal";
    if wal {
        write_pragma(db, "wal_autocheckpoint", 0).await?;
    }
    let seeded = seed_unless_complete(db, source, sizes).await;
    if wal {
        checkpoint_in_background(db.clone());
    }
    seeded
}

async fn seed_unless_complete(db: &Db, source: &CatalogueSource, sizes: SeedSizes) -> anyhow::Result<usize> {
    let resume = match progress(db).await? {
        Some(p) if p.complete => return Ok(0),
        Some(p) => Some(p),
        None if has_songs(db).await? => return Ok(0),
        None => None,
    };
    // The two unique indexes take random inserts (ids are random): with the default 2 MB page
    // cache most of them would read and spill a page. A cache about the indexes' size (a
    // twenty-fourth of the file, at most 128 MB) keeps most in memory, during the seed only.
    let cache_kib = (source.len() / 24 / 1024).clamp(2_000, 128 * 1024);
    write_pragma(db, "cache_size", -(cache_kib as i64)).await?;
    let seeded = seed(db, source, sizes, resume).await;
    let reset = write_pragma(db, "cache_size", DEFAULT_CACHE_SIZE).await;
    let seeded = seeded?;
    reset?;
    Ok(seeded)
}

/// SQLite's defaults, which `db.rs` keeps: 2,000 KiB of page cache, and a checkpoint whenever
/// a commit leaves 1,000 pages in the log.
const DEFAULT_CACHE_SIZE: i64 = -2_000;
const DEFAULT_AUTOCHECKPOINT: i64 = 1_000;

/// Sets a pragma on the writer's one connection.
async fn write_pragma(db: &Db, pragma: &str, value: i64) -> sqlx::Result<()> {
    // A pragma cannot take a bound parameter; both parts are ours.
    sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA {pragma} = {value}")))
        .execute(&db.write)
        .await
        .map(drop)
}

async fn journal_mode(db: &Db) -> sqlx::Result<String> {
    sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&db.write)
        .await
}

/// Copies the log into the database on a connection of its own, so that neither the start
/// nor the writer waits for it, truncates the log, and gives the writer its automatic
/// checkpoints back. The passive checkpoint blocks nobody; the truncating one that follows
/// has only what was written meanwhile to copy, and gives up after 100 ms of waiting for
/// readers (the log is then reused as it is).
fn checkpoint_in_background(db: Db) {
    tokio::spawn(async move {
        let checkpoint = async {
            use sqlx::{ConnectOptions, Connection};
            let mut conn = db.write.connect_options().connect().await?;
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&mut conn)
                .await?;
            sqlx::query("PRAGMA busy_timeout = 100")
                .execute(&mut conn)
                .await?;
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut conn)
                .await?;
            conn.close().await
        };
        if let Err(e) = checkpoint.await {
            tracing::warn!(error = %e, "checkpointing the catalogue's log");
        }
        if let Err(e) = write_pragma(&db, "wal_autocheckpoint", DEFAULT_AUTOCHECKPOINT).await {
            tracing::warn!(error = %e, "restoring automatic checkpoints");
        }
    });
}

async fn seed(
    db: &Db,
    source: &CatalogueSource,
    sizes: SeedSizes,
    resume: Option<Progress>,
) -> anyhow::Result<usize> {
    let mut reader = source.reader()?;
    let mut start = Start::default();
    if let Some(p) = resume {
        let (lines, songs) = (p.lines.unwrap_or(0), p.songs);
        let (skipped, recognised) = tokio::task::spawn_blocking(move || {
            let recognised = skip_lines(&mut reader, lines, p.last_id.as_deref());
            (reader, recognised)
        })
        .await?;
        reader = skipped;
        if recognised? && (songs as u64).is_multiple_of(sizes.block as u64) {
            start = Start {
                lines: lines as u64,
                songs: songs as u64,
            };
        } else {
            // Another catalogue than the one the crashed seed was reading: start over.
            let mut tx = db.begin_write().await?;
            for table in ["songs", "song_summaries", "catalogue_seed"] {
                sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            reader = source.reader()?;
        }
    }
    // Parsing and checking every line is CPU work (seconds for a big catalogue): it runs on
    // the blocking pool, handing batches over a short channel, so no request waits behind it.
    let (batches, mut parsed) = tokio::sync::mpsc::channel::<anyhow::Result<Batch>>(SEED_QUEUE);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    let parser = tokio::task::spawn_blocking(move || parse(reader, start, sizes, threads, &batches));
    let written = write(db, &mut parsed, start, sizes).await;
    // The parser stops at its next send once the receiver is gone.
    drop(parsed);
    parser.await?;
    written
}

/// Where a seed starts: after `lines` lines of the source that gave `songs` songs.
#[derive(Clone, Copy, Debug, Default)]
struct Start {
    lines: u64,
    songs: u64,
}

/// Reads past the first `lines` lines; whether the last song among them has id `last_id`.
fn skip_lines(reader: &mut dyn BufRead, lines: i64, last_id: Option<&str>) -> anyhow::Result<bool> {
    let mut line = Vec::new();
    let mut last_song = None;
    for _ in 0..lines {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(false);
        }
        if !line.iter().all(u8::is_ascii_whitespace) {
            last_song = Some(std::mem::take(&mut line));
        }
    }
    #[derive(serde::Deserialize)]
    struct Id {
        song: IdSection,
    }
    #[derive(serde::Deserialize)]
    struct IdSection {
        id: String,
    }
    let id = last_song
        .and_then(|l| serde_json::from_slice::<Id>(&l).ok())
        .map(|s| s.song.id);
    Ok(id.as_deref() == last_id)
}

/// What the parser hands the writer: up to a batch of rows, ending where a block does when
/// `block` is set.
struct Batch {
    rows: Vec<SeedRow>,
    /// The summary block that these rows complete.
    block: Option<Vec<u8>>,
    /// Lines of the source read through the last of `rows`.
    lines: u64,
}

/// A song as its row: the summary columns moved out of the parsed song, and its profile.
struct SeedRow {
    id: String,
    slug: String,
    title: String,
    artist: String,
    album: String,
    release_year: i64,
    color_hex: String,
    bpm: i64,
    key: String,
    mode: String,
    duration_seconds: i64,
    dominant_emotion: String,
    published_at: String,
    published_at_ms: i64,
    tempo_feel: String,
    energy_shape: String,
    oklch: [f64; 2],
    oklch_h: Option<f64>,
    emotions: [i64; 8],
    profile: String,
}

impl SeedRow {
    /// `len` is about the length of the song's JSON: the profile is written with room for it.
    fn of(song: Song, len: usize) -> anyhow::Result<SeedRow> {
        let mut profile = Vec::with_capacity(len + 64);
        serde_json::to_writer(&mut profile, &song).map_err(|e| anyhow::anyhow!("serializing a song: {e}"))?;
        let profile = String::from_utf8(profile)?;
        let published_at_ms = catalogue::parse_rfc3339(&song.song.published_at).unwrap_or(0) * 1000;
        let Song {
            song: s,
            color: c,
            temporal: t,
            harmonic: h,
            emotional: e,
            ai_analysis: a,
            ..
        } = song;
        Ok(SeedRow {
            id: s.id,
            slug: s.slug,
            title: s.title,
            artist: s.artist,
            album: s.album,
            release_year: i64::from(s.release_year),
            color_hex: c.hex,
            bpm: i64::from(t.bpm),
            key: h.key,
            mode: h.mode,
            duration_seconds: i64::from(s.duration_seconds),
            dominant_emotion: e.dominant_emotion,
            published_at: s.published_at,
            published_at_ms,
            tempo_feel: a.tempo_feel,
            energy_shape: t.energy_shape,
            oklch: [c.oklch_lightness, c.oklch_chroma],
            oklch_h: c.oklch_hue,
            emotions: [
                e.valence,
                e.arousal,
                e.nostalgia_index,
                e.melancholy_index,
                e.sensuality_index,
                e.triumph_index,
                e.mystery_index,
                e.inspirational_quality,
            ]
            .map(i64::from),
            profile,
        })
    }

    fn summary(&self) -> SummaryRef<'_> {
        let [
            valence,
            arousal,
            nostalgia,
            melancholy,
            sensuality,
            triumph,
            mystery,
            inspirational,
        ] = self.emotions;
        SummaryRef {
            id: &self.id,
            slug: &self.slug,
            title: &self.title,
            artist: &self.artist,
            album: &self.album,
            release_year: self.release_year,
            color_hex: &self.color_hex,
            bpm: self.bpm,
            key: &self.key,
            mode: &self.mode,
            duration_seconds: self.duration_seconds,
            dominant_emotion: &self.dominant_emotion,
            published_at: &self.published_at,
            published_at_ms: self.published_at_ms,
            tempo_feel: &self.tempo_feel,
            energy_shape: &self.energy_shape,
            oklch_l: self.oklch[0],
            oklch_c: self.oklch[1],
            oklch_h: self.oklch_h,
            valence,
            arousal,
            nostalgia,
            melancholy,
            sensuality,
            triumph,
            mystery,
            inspirational,
        }
    }
}

/// Lines parsed together, split among the parsing threads: about 2 MB of catalogue.
const PARSE_CHUNK: usize = 512;

/// The parser: reads lines from `start` a chunk at a time, parses and checks each chunk's
/// songs on `threads` threads, and hands over batches in order that end at block boundaries,
/// the block's summaries attached. Stops at the first bad line, sending its error, or when
/// the writer has gone.
fn parse(
    mut reader: Box<dyn BufRead + Send>,
    start: Start,
    sizes: SeedSizes,
    threads: usize,
    batches: &tokio::sync::mpsc::Sender<anyhow::Result<Batch>>,
) {
    let fail = |line: u64, e: anyhow::Error| {
        let _ = batches.blocking_send(Err(anyhow::anyhow!("catalogue.jsonl line {line}: {e}")));
    };
    // The chunk's lines one after another, and where each ends.
    let (mut text, mut ends) = (Vec::new(), Vec::with_capacity(PARSE_CHUNK));
    let mut lines = start.lines;
    let mut rows = Vec::with_capacity(sizes.batch);
    let mut block = Vec::new();
    let mut in_block = 0;
    loop {
        text.clear();
        ends.clear();
        let mut read = Ok(true);
        while ends.len() < PARSE_CHUNK {
            match reader.read_until(b'\n', &mut text) {
                Ok(0) => {
                    read = Ok(false);
                    break;
                }
                Ok(_) => ends.push(text.len()),
                Err(e) => {
                    read = Err(e);
                    break;
                }
            }
        }
        for row in parse_lines(&text, &ends, threads) {
            lines += 1;
            match row {
                Ok(Some(row)) => {
                    encode_summary(&mut block, &row.summary());
                    rows.push(row);
                    in_block += 1;
                }
                Ok(None) => continue,
                Err(e) => return fail(lines, e),
            }
            let ends_block = in_block == sizes.block;
            if rows.len() == sizes.batch || ends_block {
                let batch = Batch {
                    rows: std::mem::replace(&mut rows, Vec::with_capacity(sizes.batch)),
                    block: ends_block.then(|| std::mem::take(&mut block)),
                    lines,
                };
                if ends_block {
                    in_block = 0;
                }
                if batches.blocking_send(Ok(batch)).is_err() {
                    return;
                }
            }
        }
        match read {
            Ok(true) => continue,
            Ok(false) => break,
            Err(e) => return fail(lines + 1, e.into()),
        }
    }
    let last = Batch {
        rows,
        block: (in_block > 0).then_some(block),
        lines,
    };
    let _ = batches.blocking_send(Ok(last));
}

/// Each line's song and row, in order: the lines split into one run per thread.
fn parse_lines(text: &[u8], ends: &[usize], threads: usize) -> Vec<anyhow::Result<Option<SeedRow>>> {
    let line = |i: usize| &text[if i == 0 { 0 } else { ends[i - 1] }..ends[i]];
    let per_thread = ends.len().div_ceil(threads.max(1)).max(1);
    let runs: Vec<std::ops::Range<usize>> = (0..ends.len())
        .step_by(per_thread)
        .map(|from| from..(from + per_thread).min(ends.len()))
        .collect();
    let parse_run = |run: std::ops::Range<usize>| run.map(|i| parse_line(line(i))).collect::<Vec<_>>();
    let Some((mine, others)) = runs.split_last() else {
        return Vec::new();
    };
    std::thread::scope(|scope| {
        let others: Vec<_> = others
            .iter()
            .map(|run| scope.spawn(|| parse_run(run.clone())))
            .collect();
        let mine = parse_run(mine.clone());
        let mut parsed = Vec::with_capacity(ends.len());
        for other in others {
            // A panic in a parsing thread is a bug; it surfaces as the panic it was.
            parsed.extend(
                other
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        parsed.extend(mine);
        parsed
    })
}

/// A line's song and row, `None` for a blank line.
fn parse_line(line: &[u8]) -> anyhow::Result<Option<SeedRow>> {
    let text = std::str::from_utf8(line)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let song: Song = serde_json::from_str(text)?;
    catalogue::check_consistency(&song).map_err(anyhow::Error::msg)?;
    SeedRow::of(song, text.len()).map(Some)
}

/// The writer: inserts the parser's batches and their blocks, committing every
/// `transaction_blocks` blocks with the progress, the last transaction marking the
/// catalogue complete.
async fn write(
    db: &Db,
    parsed: &mut tokio::sync::mpsc::Receiver<anyhow::Result<Batch>>,
    start: Start,
    sizes: SeedSizes,
) -> anyhow::Result<usize> {
    let mut tx = db.begin_write().await?;
    let (mut songs, mut lines) = (start.songs, start.lines);
    let mut last_id = None;
    let mut blocks_in_tx = 0;
    while let Some(batch) = parsed.recv().await {
        let batch = batch?;
        songs += batch.rows.len() as u64;
        lines = batch.lines;
        if let Some(row) = batch.rows.last() {
            last_id = Some(row.id.clone());
        }
        insert_rows(&mut tx, batch.rows).await?;
        let Some(block) = batch.block else {
            continue;
        };
        // Blocks are numbered from the catalogue's start, so a resumed seed goes on counting.
        let number = (songs - 1) / sizes.block as u64;
        sqlx::query("INSERT INTO song_summaries (block, data) VALUES (?, ?)")
            .bind(number as i64)
            .bind(block)
            .execute(&mut *tx)
            .await?;
        blocks_in_tx += 1;
        if blocks_in_tx == sizes.transaction_blocks {
            save_progress(&mut tx, false, songs, lines, last_id.as_deref()).await?;
            tx.commit().await?;
            tx = db.begin_write().await?;
            blocks_in_tx = 0;
        }
    }
    save_progress(&mut tx, true, songs, lines, last_id.as_deref()).await?;
    tx.commit().await?;
    Ok((songs - start.songs) as usize)
}

async fn save_progress(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    complete: bool,
    songs: u64,
    lines: u64,
    last_id: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO catalogue_seed (id, complete, songs, lines, last_id) VALUES (1, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET complete = excluded.complete, songs = excluded.songs,
             lines = excluded.lines, last_id = COALESCE(excluded.last_id, last_id)",
    )
    .bind(complete)
    .bind(songs as i64)
    .bind(lines as i64)
    .bind(last_id)
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// Inserts rows within the caller's transaction, [`SEED_BATCH`] to a statement.
async fn insert_rows(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>, rows: Vec<SeedRow>) -> anyhow::Result<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            // OR FAIL: a duplicate fails the seed as ABORT would (the transaction is rolled
            // back), without the statement journal ABORT keeps to undo a statement's rows.
            "INSERT OR FAIL INTO songs (id, slug, title, artist, album, release_year, color_hex, bpm, key,
             mode, duration_seconds, dominant_emotion, published_at, published_at_ms, tempo_feel,
             energy_shape, oklch_l, oklch_c, oklch_h, valence, arousal, nostalgia, melancholy,
             sensuality, triumph, mystery, inspirational, profile) ",
        );
        insert.push_values(rows.by_ref().take(SEED_BATCH), |mut row, s| {
            let [v, a, n, m, se, t, my, i] = s.emotions;
            row.push_bind(s.id)
                .push_bind(s.slug)
                .push_bind(s.title)
                .push_bind(s.artist)
                .push_bind(s.album)
                .push_bind(s.release_year)
                .push_bind(s.color_hex)
                .push_bind(s.bpm)
                .push_bind(s.key)
                .push_bind(s.mode)
                .push_bind(s.duration_seconds)
                .push_bind(s.dominant_emotion)
                .push_bind(s.published_at)
                .push_bind(s.published_at_ms)
                .push_bind(s.tempo_feel)
                .push_bind(s.energy_shape)
                .push_bind(s.oklch[0])
                .push_bind(s.oklch[1])
                .push_bind(s.oklch_h)
                .push_bind(v)
                .push_bind(a)
                .push_bind(n)
                .push_bind(m)
                .push_bind(se)
                .push_bind(t)
                .push_bind(my)
                .push_bind(i)
                .push_bind(s.profile);
        });
        insert.build().execute(&mut **tx).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Summaries: what lists and searches need of every song, read at start.

/// What lists and searches need of a song, straight from its columns.
#[derive(Clone, Debug, PartialEq, FromRow)]
pub struct SummaryRow {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub artist: String,
    pub album: String,
    pub release_year: i64,
    pub color_hex: String,
    pub bpm: i64,
    pub key: String,
    pub mode: String,
    pub duration_seconds: i64,
    pub dominant_emotion: String,
    pub published_at: String,
    pub published_at_ms: i64,
    pub tempo_feel: String,
    pub energy_shape: String,
    pub oklch_l: f64,
    pub oklch_c: f64,
    pub oklch_h: Option<f64>,
    pub valence: i64,
    pub arousal: i64,
    pub nostalgia: i64,
    pub melancholy: i64,
    pub sensuality: i64,
    pub triumph: i64,
    pub mystery: i64,
    pub inspirational: i64,
}

/// [`SummaryRow`] borrowed from the block being read: what [`fold_summaries`] hands over.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SummaryRef<'a> {
    pub id: &'a str,
    pub slug: &'a str,
    pub title: &'a str,
    pub artist: &'a str,
    pub album: &'a str,
    pub release_year: i64,
    pub color_hex: &'a str,
    pub bpm: i64,
    pub key: &'a str,
    pub mode: &'a str,
    pub duration_seconds: i64,
    pub dominant_emotion: &'a str,
    pub published_at: &'a str,
    pub published_at_ms: i64,
    pub tempo_feel: &'a str,
    pub energy_shape: &'a str,
    pub oklch_l: f64,
    pub oklch_c: f64,
    pub oklch_h: Option<f64>,
    pub valence: i64,
    pub arousal: i64,
    pub nostalgia: i64,
    pub melancholy: i64,
    pub sensuality: i64,
    pub triumph: i64,
    pub mystery: i64,
    pub inspirational: i64,
}

impl SummaryRef<'_> {
    pub fn to_row(&self) -> SummaryRow {
        SummaryRow {
            id: self.id.to_owned(),
            slug: self.slug.to_owned(),
            title: self.title.to_owned(),
            artist: self.artist.to_owned(),
            album: self.album.to_owned(),
            release_year: self.release_year,
            color_hex: self.color_hex.to_owned(),
            bpm: self.bpm,
            key: self.key.to_owned(),
            mode: self.mode.to_owned(),
            duration_seconds: self.duration_seconds,
            dominant_emotion: self.dominant_emotion.to_owned(),
            published_at: self.published_at.to_owned(),
            published_at_ms: self.published_at_ms,
            tempo_feel: self.tempo_feel.to_owned(),
            energy_shape: self.energy_shape.to_owned(),
            oklch_l: self.oklch_l,
            oklch_c: self.oklch_c,
            oklch_h: self.oklch_h,
            valence: self.valence,
            arousal: self.arousal,
            nostalgia: self.nostalgia,
            melancholy: self.melancholy,
            sensuality: self.sensuality,
            triumph: self.triumph,
            mystery: self.mystery,
            inspirational: self.inspirational,
        }
    }
}

impl SummaryRow {
    fn as_ref(&self) -> SummaryRef<'_> {
        SummaryRef {
            id: &self.id,
            slug: &self.slug,
            title: &self.title,
            artist: &self.artist,
            album: &self.album,
            release_year: self.release_year,
            color_hex: &self.color_hex,
            bpm: self.bpm,
            key: &self.key,
            mode: &self.mode,
            duration_seconds: self.duration_seconds,
            dominant_emotion: &self.dominant_emotion,
            published_at: &self.published_at,
            published_at_ms: self.published_at_ms,
            tempo_feel: &self.tempo_feel,
            energy_shape: &self.energy_shape,
            oklch_l: self.oklch_l,
            oklch_c: self.oklch_c,
            oklch_h: self.oklch_h,
            valence: self.valence,
            arousal: self.arousal,
            nostalgia: self.nostalgia,
            melancholy: self.melancholy,
            sensuality: self.sensuality,
            triumph: self.triumph,
            mystery: self.mystery,
            inspirational: self.inspirational,
        }
    }
}

/// Every song's summary, owned: [`fold_summaries`] into a vector.
pub async fn summaries(db: &Db) -> anyhow::Result<Vec<SummaryRow>> {
    fold_summaries(db, Vec::with_capacity, |rows, row| rows.push(row.to_row())).await
}

/// Folds every song's summary, in the catalogue file's order, into what `init` makes of the
/// number of songs: `row` runs on a blocking thread for each, borrowing it from the block
/// being read, while the next blocks are read from SQLite (at most [`SUMMARY_QUEUE`] ahead).
///
/// A catalogue seeded before summary blocks existed is read from its columns, and its blocks
/// written, so that the next start reads them.
pub async fn fold_summaries<S, I, F>(db: &Db, init: I, mut row: F) -> anyhow::Result<S>
where
    S: Send + 'static,
    I: FnOnce(usize) -> S + Send + 'static,
    F: FnMut(&mut S, SummaryRef<'_>) + Send + 'static,
{
    let complete = progress(db).await?.filter(|p| p.complete);
    let count = match &complete {
        Some(p) => p.songs,
        None => {
            sqlx::query_scalar("SELECT count(*) FROM songs")
                .fetch_one(&db.read)
                .await?
        }
    };
    let (blocks, mut queue) = tokio::sync::mpsc::channel::<Vec<u8>>(SUMMARY_QUEUE);
    let folder = tokio::task::spawn_blocking(move || {
        let mut state = init(usize::try_from(count).unwrap_or(0));
        while let Some(block) = queue.blocking_recv() {
            decode_block(&block, |summary| row(&mut state, summary))?;
        }
        Ok::<_, anyhow::Error>(state)
    });
    let read = match complete {
        Some(_) => read_blocks(db, &blocks).await,
        None => backfill_blocks(db, &blocks).await,
    };
    drop(blocks);
    let folded = folder.await?;
    // A decoding error stops the folder, which makes the reader's next send fail: report it.
    let state = folded?;
    read?;
    Ok(state)
}

/// Blocks read ahead of the folder.
pub const SUMMARY_QUEUE: usize = 2;

async fn read_blocks(db: &Db, blocks: &tokio::sync::mpsc::Sender<Vec<u8>>) -> anyhow::Result<()> {
    use futures_util::TryStreamExt;
    let mut rows =
        sqlx::query_scalar::<_, Vec<u8>>("SELECT data FROM song_summaries ORDER BY block").fetch(&db.read);
    while let Some(block) = rows.try_next().await? {
        if blocks.send(block).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// Reads a catalogue seeded before summary blocks existed from its columns, a block's worth
/// at a time, and writes its blocks once all are read.
async fn backfill_blocks(db: &Db, blocks: &tokio::sync::mpsc::Sender<Vec<u8>>) -> anyhow::Result<()> {
    #[derive(FromRow)]
    struct Numbered {
        rowid: i64,
        #[sqlx(flatten)]
        row: SummaryRow,
    }
    let mut written = Vec::new();
    let mut after = 0i64;
    loop {
        let rows: Vec<Numbered> = sqlx::query_as(
            "SELECT rowid, id, slug, title, artist, album, release_year, color_hex, bpm, key, mode,
                    duration_seconds, dominant_emotion, published_at, published_at_ms, tempo_feel,
                    energy_shape, oklch_l, oklch_c, oklch_h, valence, arousal, nostalgia, melancholy,
                    sensuality, triumph, mystery, inspirational
             FROM songs WHERE rowid > ? ORDER BY rowid LIMIT ?",
        )
        .bind(after)
        .bind(BLOCK_SONGS as i64)
        .fetch_all(&db.read)
        .await?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.rowid;
        let mut block = Vec::new();
        for numbered in &rows {
            encode_summary(&mut block, &numbered.row.as_ref());
        }
        written.push((rows.len(), block.clone()));
        if blocks.send(block).await.is_err() {
            return Ok(());
        }
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM song_summaries")
        .execute(&mut *tx)
        .await?;
    let mut songs = 0;
    for (number, (len, block)) in written.into_iter().enumerate() {
        songs += len as u64;
        sqlx::query("INSERT INTO song_summaries (block, data) VALUES (?, ?)")
            .bind(number as i64)
            .bind(block)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO catalogue_seed (id, complete, songs, lines, last_id) VALUES (1, 1, ?, NULL, NULL)",
    )
    .bind(songs as i64)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

// A block is the songs' summaries one after another, each field in `SummaryRef`'s order: text
// as its length (LEB128) and UTF-8 bytes, integers zigzag LEB128, reals as their 8 bytes
// little-endian, the hue a 0 or a 1 and its 8 bytes.

fn encode_summary(out: &mut Vec<u8>, s: &SummaryRef<'_>) {
    fn uint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    let int = |out: &mut Vec<u8>, v: i64| uint(out, ((v << 1) ^ (v >> 63)) as u64);
    let text = |out: &mut Vec<u8>, v: &str| {
        uint(out, v.len() as u64);
        out.extend_from_slice(v.as_bytes());
    };
    text(out, s.id);
    text(out, s.slug);
    text(out, s.title);
    text(out, s.artist);
    text(out, s.album);
    int(out, s.release_year);
    text(out, s.color_hex);
    int(out, s.bpm);
    text(out, s.key);
    text(out, s.mode);
    int(out, s.duration_seconds);
    text(out, s.dominant_emotion);
    text(out, s.published_at);
    int(out, s.published_at_ms);
    text(out, s.tempo_feel);
    text(out, s.energy_shape);
    out.extend_from_slice(&s.oklch_l.to_le_bytes());
    out.extend_from_slice(&s.oklch_c.to_le_bytes());
    match s.oklch_h {
        Some(h) => {
            out.push(1);
            out.extend_from_slice(&h.to_le_bytes());
        }
        None => out.push(0),
    }
    for v in [
        s.valence,
        s.arousal,
        s.nostalgia,
        s.melancholy,
        s.sensuality,
        s.triumph,
        s.mystery,
        s.inspirational,
    ] {
        int(out, v);
    }
}

/// Calls `each` with every summary of `block`.
fn decode_block(block: &[u8], mut each: impl FnMut(SummaryRef<'_>)) -> anyhow::Result<()> {
    let mut r = Decoder { rest: block };
    while !r.rest.is_empty() {
        let summary = r
            .summary()
            .ok_or_else(|| anyhow::anyhow!("a summary block is malformed"))?;
        each(summary);
    }
    Ok(())
}

struct Decoder<'a> {
    rest: &'a [u8],
}

impl<'a> Decoder<'a> {
    fn uint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.rest.split_first()?;
            self.rest = rest;
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(v);
            }
        }
        None
    }

    fn int(&mut self) -> Option<i64> {
        let v = self.uint()?;
        Some((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(n)?;
        self.rest = rest;
        Some(head)
    }

    fn text(&mut self) -> Option<&'a str> {
        let len = usize::try_from(self.uint()?).ok()?;
        std::str::from_utf8(self.bytes(len)?).ok()
    }

    fn real(&mut self) -> Option<f64> {
        Some(f64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }

    fn summary(&mut self) -> Option<SummaryRef<'a>> {
        Some(SummaryRef {
            id: self.text()?,
            slug: self.text()?,
            title: self.text()?,
            artist: self.text()?,
            album: self.text()?,
            release_year: self.int()?,
            color_hex: self.text()?,
            bpm: self.int()?,
            key: self.text()?,
            mode: self.text()?,
            duration_seconds: self.int()?,
            dominant_emotion: self.text()?,
            published_at: self.text()?,
            published_at_ms: self.int()?,
            tempo_feel: self.text()?,
            energy_shape: self.text()?,
            oklch_l: self.real()?,
            oklch_c: self.real()?,
            oklch_h: match self.bytes(1)? {
                [0] => None,
                [1] => Some(self.real()?),
                _ => return None,
            },
            valence: self.int()?,
            arousal: self.int()?,
            nostalgia: self.int()?,
            melancholy: self.int()?,
            sensuality: self.int()?,
            triumph: self.int()?,
            mystery: self.int()?,
            inspirational: self.int()?,
        })
    }
}

/// The full profile of a song by id or slug, with its publication instant.
pub async fn profile(db: &Db, id_or_slug: &str) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as("SELECT published_at_ms, profile FROM songs WHERE id = ?1 OR slug = ?1")
        .bind(id_or_slug)
        .fetch_optional(&db.read)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bundled catalogue, read independently of the seeder.
    fn songs() -> Vec<Song> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/catalogue.jsonl");
        let file = std::fs::File::open(path).expect("the bundled catalogue");
        catalogue::read_jsonl(std::io::BufReader::new(file)).expect("a readable catalogue")
    }

    /// Lines of JSONL: a song's line, or any other text.
    fn write_source(dir: &tempfile::TempDir, name: &str, lines: &[String]) -> CatalogueSource {
        let path = dir.path().join(name);
        std::fs::write(&path, lines.join("\n") + "\n").expect("writing the source");
        CatalogueSource::File(path)
    }

    fn line(song: &Song) -> String {
        serde_json::to_string(song).expect("a song serializes")
    }

    async fn open(dir: &tempfile::TempDir) -> Db {
        Db::open(dir.path().join("ark.db").to_str().expect("utf-8"))
            .await
            .expect("a database")
    }

    /// Small sizes, so that 600 songs cross many batches, blocks and transactions.
    const SMALL: SeedSizes = SeedSizes {
        batch: 3,
        block: 6,
        transaction_blocks: 4,
    };

    /// The summaries as the columns hold them: what `fold_summaries` must give.
    async fn columns(db: &Db) -> Vec<SummaryRow> {
        sqlx::query_as(
            "SELECT id, slug, title, artist, album, release_year, color_hex, bpm, key, mode,
                    duration_seconds, dominant_emotion, published_at, published_at_ms, tempo_feel,
                    energy_shape, oklch_l, oklch_c, oklch_h, valence, arousal, nostalgia, melancholy,
                    sensuality, triumph, mystery, inspirational
             FROM songs ORDER BY rowid",
        )
        .fetch_all(&db.read)
        .await
        .expect("the columns")
    }

    async fn ids_and_profiles(db: &Db) -> Vec<(String, String)> {
        sqlx::query_as("SELECT id, profile FROM songs ORDER BY rowid")
            .fetch_all(&db.read)
            .await
            .expect("the rows")
    }

    fn expected(songs: &[Song]) -> Vec<(String, String)> {
        songs.iter().map(|s| (s.song.id.clone(), line(s))).collect()
    }

    #[tokio::test]
    async fn a_seed_in_many_transactions_writes_every_song_once_in_order() {
        let songs = songs();
        // 72 songs are exactly three transactions of SMALL; one more and one fewer end inside one.
        for n in [0, 1, 71, 72, 73, songs.len()] {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let db = open(&dir).await;
            let source = write_source(
                &dir,
                "catalogue.jsonl",
                &songs[..n].iter().map(line).collect::<Vec<_>>(),
            );
            assert_eq!(
                seed_catalogue_in(&db, &source, SMALL).await.expect("seeded"),
                n,
                "{n} songs"
            );
            assert_eq!(ids_and_profiles(&db).await, expected(&songs[..n]), "{n} songs");
            assert_eq!(
                summaries(&db).await.expect("summaries"),
                columns(&db).await,
                "{n} songs"
            );
            assert_eq!(
                seed_catalogue_in(&db, &source, SMALL).await.expect("done"),
                0,
                "{n} songs: seeded once"
            );
        }
    }

    #[tokio::test]
    async fn a_seed_stopped_by_a_bad_line_resumes_after_its_last_transaction() {
        let songs = &songs()[..100];
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = open(&dir).await;
        let mut lines: Vec<String> = songs.iter().map(line).collect();
        // Blank lines count as lines read, not as songs.
        lines.insert(10, String::new());
        lines.insert(11, "   ".into());
        let good = lines.clone();
        lines[60] = r#"{"song": 1}"#.into();
        let bad = write_source(&dir, "catalogue.jsonl", &lines);
        let err = seed_catalogue_in(&db, &bad, SMALL)
            .await
            .expect_err("line 61 is not a song");
        assert!(err.to_string().starts_with("catalogue.jsonl line 61:"), "{err}");
        // Two transactions of 24 songs were committed before the bad line; the third was not.
        let p = progress(&db).await.expect("progress").expect("a progress row");
        assert!(!p.complete);
        assert_eq!((p.songs, p.lines), (48, Some(50)));
        assert_eq!(ids_and_profiles(&db).await, expected(&songs[..48]));

        let fixed = write_source(&dir, "catalogue.jsonl", &good);
        assert_eq!(seed_catalogue_in(&db, &fixed, SMALL).await.expect("resumed"), 52);
        assert_eq!(ids_and_profiles(&db).await, expected(songs));
        assert_eq!(summaries(&db).await.expect("summaries"), columns(&db).await);
        let p = progress(&db).await.expect("progress").expect("a progress row");
        assert!(p.complete);
        assert_eq!((p.songs, p.lines), (100, Some(102)));
    }

    #[tokio::test]
    async fn a_bad_line_past_the_first_parsing_chunk_is_named() {
        let songs = &songs()[..PARSE_CHUNK + 20];
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = open(&dir).await;
        let mut lines: Vec<String> = songs.iter().map(line).collect();
        lines[PARSE_CHUNK + 3] = "[]".into();
        let source = write_source(&dir, "catalogue.jsonl", &lines);
        let err = seed_catalogue_in(&db, &source, SMALL)
            .await
            .expect_err("not a song");
        let expected = format!("catalogue.jsonl line {}:", PARSE_CHUNK + 4);
        assert!(err.to_string().starts_with(&expected), "{err}");
    }

    #[tokio::test]
    async fn a_seed_resumed_from_another_source_starts_over() {
        let songs = songs();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = open(&dir).await;
        let mut first: Vec<String> = songs[..100].iter().map(line).collect();
        first[80] = "not json".into();
        let source = write_source(&dir, "catalogue.jsonl", &first);
        seed_catalogue_in(&db, &source, SMALL)
            .await
            .expect_err("line 81 is not a song");
        assert_eq!(ids_and_profiles(&db).await.len(), 72);

        let other = write_source(
            &dir,
            "other.jsonl",
            &songs[200..290].iter().map(line).collect::<Vec<_>>(),
        );
        assert_eq!(seed_catalogue_in(&db, &other, SMALL).await.expect("seeded"), 90);
        assert_eq!(ids_and_profiles(&db).await, expected(&songs[200..290]));
        assert_eq!(summaries(&db).await.expect("summaries"), columns(&db).await);
    }

    #[tokio::test]
    async fn a_catalogue_seeded_before_summary_blocks_is_complete_and_gets_its_blocks() {
        let songs = &songs()[..50];
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = open(&dir).await;
        let source = write_source(
            &dir,
            "catalogue.jsonl",
            &songs.iter().map(line).collect::<Vec<_>>(),
        );
        seed_catalogue_in(&db, &source, SMALL).await.expect("seeded");
        // As the single transaction of an older version left it: songs, and nothing else.
        sqlx::query("DELETE FROM song_summaries")
            .execute(&db.write)
            .await
            .expect("delete");
        sqlx::query("DELETE FROM catalogue_seed")
            .execute(&db.write)
            .await
            .expect("delete");

        assert_eq!(
            seed_catalogue_in(&db, &source, SMALL)
                .await
                .expect("nothing to do"),
            0
        );
        let from_columns = columns(&db).await;
        assert_eq!(summaries(&db).await.expect("summaries"), from_columns);
        let blocks: i64 = sqlx::query_scalar("SELECT count(*) FROM song_summaries")
            .fetch_one(&db.read)
            .await
            .expect("count");
        assert_eq!(blocks as usize, songs.len().div_ceil(BLOCK_SONGS));
        assert!(
            progress(&db)
                .await
                .expect("progress")
                .is_some_and(|p| p.complete && p.songs == 50)
        );
        assert_eq!(summaries(&db).await.expect("from the blocks"), from_columns);
    }

    #[test]
    fn a_summary_survives_its_block_whatever_its_values() {
        let row = SummaryRow {
            id: "é".into(),
            slug: String::new(),
            title: "夜の歌\u{0}\n".into(),
            artist: "x".repeat(300),
            album: "a".into(),
            release_year: i64::MIN,
            color_hex: "#000000".into(),
            bpm: i64::MAX,
            key: "C".into(),
            mode: "major".into(),
            duration_seconds: -1,
            dominant_emotion: "calm".into(),
            published_at: "1960-01-01T00:00:00Z".into(),
            published_at_ms: -315_619_200_000,
            tempo_feel: "sway".into(),
            energy_shape: "peak".into(),
            oklch_l: 0.1 + 0.2,
            oklch_c: -0.0,
            oklch_h: None,
            valence: 0,
            arousal: 1000,
            nostalgia: 1,
            melancholy: 127,
            sensuality: 128,
            triumph: 16_384,
            mystery: -64,
            inspirational: -65,
        };
        let mut block = Vec::new();
        encode_summary(&mut block, &row.as_ref());
        let first = block.len();
        let second = SummaryRow {
            oklch_h: Some(f64::MIN_POSITIVE),
            ..row.clone()
        };
        encode_summary(&mut block, &second.as_ref());
        let mut back = Vec::new();
        decode_block(&block, |s| back.push(s.to_row())).expect("a well-formed block");
        assert_eq!(back, vec![row, second]);
        assert!(back[0].oklch_c.is_sign_negative(), "the bits, not just the value");

        // Cut anywhere but between rows, a block is an error, never a panic.
        for cut in (1..block.len()).filter(|cut| *cut != first) {
            assert!(decode_block(&block[..cut], |_| ()).is_err(), "cut at {cut}");
        }
        let mut bad = block.clone();
        bad[first + 2] = 0xff; // the second byte of the second row's id, "é"
        assert!(decode_block(&bad, |_| ()).is_err(), "text that is not UTF-8");
    }
}
