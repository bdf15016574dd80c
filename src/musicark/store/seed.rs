//! Seeding: a catalogue file streamed into the songs table, parsed on every core, written in
//! transactions that record how far they got, so a start after a crash resumes.

use std::io::BufRead;

use super::checkpoint::Checkpointer;
use super::summaries::{BLOCK_SONGS, BlockWriter, SummaryRef};
use super::{CatalogueSource, Progress, has_songs, progress, write_pragma};
use crate::db::Db;
use crate::musicark::catalogue::{self, Song};

/// Rows per INSERT while seeding, and per batch the parser hands the writer: 28 values a
/// row, under SQLite's 32,766 bound parameters.
pub const SEED_BATCH: usize = 512;

/// Blocks per seeding transaction (65,536 songs, about 280 MB of database): a crash loses at
/// most one transaction's work.
pub const TRANSACTION_BLOCKS: usize = 16;

/// Transactions the log may hold (about 1.1 GB): after this many, the seed waits until the
/// checkpointer has copied them all into the database, so that the next restarts the log.
pub const LOG_TRANSACTIONS: usize = 4;

/// Batches parsed ahead of the writer: with the one being written, the chunk being parsed and
/// the one before it, about 14 MB of songs are in memory at any time.
const SEED_QUEUE: usize = 2;

// A batch never spans two summary blocks.
const _: () = assert!(BLOCK_SONGS.is_multiple_of(SEED_BATCH));

/// How seeding cuts the catalogue; tests use small sizes to cross every boundary.
#[derive(Clone, Copy, Debug)]
pub struct SeedSizes {
    pub batch: usize,
    /// A multiple of `batch`, so that a batch never spans two blocks.
    pub block: usize,
    pub transaction_blocks: usize,
    pub log_transactions: usize,
}

pub const SEED_SIZES: SeedSizes = SeedSizes {
    batch: SEED_BATCH,
    block: BLOCK_SONGS,
    transaction_blocks: TRANSACTION_BLOCKS,
    log_transactions: LOG_TRANSACTIONS,
};

/// Loads the song catalogue into an empty database, checking every derived field of every
/// song; ids and slugs are unique by the table's indexes, built in the last transaction.
/// Returns how many songs were written (0 when the catalogue was there already).
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
            && sizes.transaction_blocks > 0
            && sizes.log_transactions > 0,
        "seeding sizes {sizes:?}: a block is a whole number of batches"
    );
    let checkpointer = Checkpointer::start(db).await?;
    let seeded = seed_unless_complete(db, source, sizes, checkpointer.as_ref()).await;
    // What the log holds is copied in the background.
    drop(checkpointer);
    seeded
}

async fn seed_unless_complete(
    db: &Db,
    source: &CatalogueSource,
    sizes: SeedSizes,
    checkpointer: Option<&Checkpointer>,
) -> anyhow::Result<usize> {
    let resume = match progress(db).await? {
        Some(p) if p.complete => return Ok(0),
        Some(p) => Some(p),
        None if has_songs(db).await? => return Ok(0),
        None => None,
    };
    // The rows are appended in order and the unique indexes are built at the end, so the seed
    // needs no more cache than the index build's sorting runs take: a few MB of pages, with
    // the rest of the run spilled to a temporary file, during the seed only.
    write_pragma(db, "cache_size", -SEED_CACHE_KIB).await?;
    // The index build at the end sorts every id and slug: past a sorting run (the cache, 8 MB,
    // about 150,000 songs) SQLite can sort and merge the runs on helper threads of its own.
    write_pragma(db, "threads", SEED_SORT_THREADS).await?;
    // The runs the sorter spills go to a temporary file rather than to memory (`db.rs` keeps
    // temporary tables in memory for the lists' small sorts): at a million songs they are
    // ~80 MB, which the writer thread's allocator would keep after the seed, under the index.
    write_pragma(db, "temp_store", TEMP_STORE_FILE).await?;
    let seeded = seed(db, source, sizes, resume, checkpointer).await;
    let reset = write_pragma(db, "cache_size", DEFAULT_CACHE_SIZE).await;
    let reset_threads = write_pragma(db, "threads", 0).await;
    let reset_temp = write_pragma(db, "temp_store", TEMP_STORE_MEMORY).await;
    let seeded = seeded?;
    reset?;
    reset_threads?;
    reset_temp?;
    Ok(seeded)
}

/// `PRAGMA temp_store` values: FILE while seeding, MEMORY (what `db.rs` sets) after.
const TEMP_STORE_FILE: i64 = 1;
const TEMP_STORE_MEMORY: i64 = 2;

/// Helper threads SQLite's sorter may use while seeding (0, its default, after): the cores the
/// parser leaves free once every line is parsed.
const SEED_SORT_THREADS: i64 = 2;

/// SQLite's default, which `db.rs` keeps: 2,000 KiB of page cache.
const DEFAULT_CACHE_SIZE: i64 = -2_000;

/// The writer's page cache while seeding (KiB), which also bounds each sorting run of the
/// index build at the end.
const SEED_CACHE_KIB: i64 = 8 * 1024;

async fn seed(
    db: &Db,
    source: &CatalogueSource,
    sizes: SeedSizes,
    resume: Option<Progress>,
    checkpointer: Option<&Checkpointer>,
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
    let written = write(db, &mut parsed, start, sizes, checkpointer).await;
    // The parser stops at its next send once the receiver is gone.
    drop(parsed);
    parser.await?;
    written
}

/// The songs table's unique indexes (migration 0009) and their columns.
const INDEXES: [(&str, &str); 2] = [("songs_id", "id"), ("songs_slug", "slug")];

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
pub(super) const PARSE_CHUNK: usize = 512;

/// The parser: reads lines from `start` a chunk at a time, parses and checks each chunk's
/// songs on `threads` threads, and hands over batches in order that end at block boundaries,
/// the block's summaries attached. While a chunk is parsed, this thread hands over the rows
/// of the chunk before it and reads the one after, so the parsing threads do not wait for
/// either. Stops at the first bad line, sending its error, or when the writer has gone.
fn parse(
    mut reader: Box<dyn BufRead + Send>,
    start: Start,
    sizes: SeedSizes,
    threads: usize,
    batches: &tokio::sync::mpsc::Sender<anyhow::Result<Batch>>,
) {
    let mut batcher = Batcher {
        lines: start.lines,
        sizes,
        rows: Vec::with_capacity(sizes.batch),
        block: BlockWriter::default(),
        batches,
    };
    let mut chunk = Chunk::read(&mut *reader);
    // The previous chunk's rows and how its reading ended, not handed over yet.
    let mut parsed: Option<(Vec<ParsedLine>, std::io::Result<bool>)> = None;
    loop {
        let more = matches!(chunk.end, Ok(true));
        let (rows, handed, next) = std::thread::scope(|scope| {
            let runs = chunk.spawn_runs(scope, threads);
            let handed = parsed
                .take()
                .is_none_or(|(rows, end)| batcher.hand_over(rows, end));
            let next = (more && handed).then(|| Chunk::read(&mut *reader));
            (join_runs(runs), handed, next)
        });
        if !handed {
            return;
        }
        let end = std::mem::replace(&mut chunk.end, Ok(false));
        parsed = Some((rows, end));
        match next {
            Some(next) => chunk = next,
            None => break,
        }
    }
    if let Some((rows, end)) = parsed
        && !batcher.hand_over(rows, end)
    {
        return;
    }
    batcher.finish();
}

/// A line parsed: its song's row, `None` for a blank line.
type ParsedLine = anyhow::Result<Option<SeedRow>>;

/// Up to [`PARSE_CHUNK`] lines of the source, one after another.
struct Chunk {
    text: Vec<u8>,
    /// Where each line ends in `text`.
    ends: Vec<usize>,
    /// How reading ended: `Ok(true)` when there may be more lines, `Ok(false)` at the end of
    /// the source, the error after the last line read.
    end: std::io::Result<bool>,
}

impl Chunk {
    fn read(reader: &mut dyn BufRead) -> Chunk {
        let (mut text, mut ends) = (Vec::new(), Vec::with_capacity(PARSE_CHUNK));
        let mut end = Ok(true);
        while ends.len() < PARSE_CHUNK {
            match reader.read_until(b'\n', &mut text) {
                Ok(0) => {
                    end = Ok(false);
                    break;
                }
                Ok(_) => ends.push(text.len()),
                Err(e) => {
                    end = Err(e);
                    break;
                }
            }
        }
        Chunk { text, ends, end }
    }

    fn line(&self, i: usize) -> &[u8] {
        &self.text[if i == 0 { 0 } else { self.ends[i - 1] }..self.ends[i]]
    }

    /// Each line's song and row, in order: the lines split into one run per thread, each on
    /// a thread of `scope`.
    fn spawn_runs<'scope>(
        &'scope self,
        scope: &'scope std::thread::Scope<'scope, '_>,
        threads: usize,
    ) -> Vec<std::thread::ScopedJoinHandle<'scope, Vec<ParsedLine>>> {
        let per_thread = self.ends.len().div_ceil(threads.max(1)).max(1);
        (0..self.ends.len())
            .step_by(per_thread)
            .map(|from| {
                let run = from..(from + per_thread).min(self.ends.len());
                scope.spawn(move || run.map(|i| parse_line(self.line(i))).collect())
            })
            .collect()
    }
}

/// The runs' lines in order.
fn join_runs(runs: Vec<std::thread::ScopedJoinHandle<'_, Vec<ParsedLine>>>) -> Vec<ParsedLine> {
    let mut parsed = Vec::with_capacity(PARSE_CHUNK);
    for run in runs {
        // A panic in a parsing thread is a bug; it surfaces as the panic it was.
        parsed.extend(
            run.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        );
    }
    parsed
}

/// Gathers parsed rows into batches and blocks, and hands them to the writer.
struct Batcher<'a> {
    /// Lines of the source handed over so far.
    lines: u64,
    sizes: SeedSizes,
    rows: Vec<SeedRow>,
    block: BlockWriter,
    batches: &'a tokio::sync::mpsc::Sender<anyhow::Result<Batch>>,
}

impl Batcher<'_> {
    /// Hands over a chunk's lines, then what ended its reading: whether to go on (false after
    /// a bad line or a read error, both sent, or when the writer has gone).
    fn hand_over(&mut self, parsed: Vec<ParsedLine>, end: std::io::Result<bool>) -> bool {
        for row in parsed {
            self.lines += 1;
            match row {
                Ok(Some(row)) => {
                    self.block.push(&row.summary());
                    self.rows.push(row);
                }
                Ok(None) => continue,
                Err(e) => return self.fail(self.lines, e),
            }
            let ends_block = self.block.songs() == self.sizes.block;
            if self.rows.len() == self.sizes.batch || ends_block {
                let batch = Batch {
                    rows: std::mem::replace(&mut self.rows, Vec::with_capacity(self.sizes.batch)),
                    block: ends_block.then(|| self.block.take()),
                    lines: self.lines,
                };
                if self.batches.blocking_send(Ok(batch)).is_err() {
                    return false;
                }
            }
        }
        match end {
            Ok(_) => true,
            Err(e) => self.fail(self.lines + 1, e.into()),
        }
    }

    /// Sends the error of `line`; false, to stop.
    fn fail(&self, line: u64, e: anyhow::Error) -> bool {
        let _ = self
            .batches
            .blocking_send(Err(anyhow::anyhow!("catalogue.jsonl line {line}: {e}")));
        false
    }

    /// Hands over the last rows and the last block, if any.
    fn finish(mut self) {
        let last = Batch {
            rows: std::mem::take(&mut self.rows),
            block: (self.block.songs() > 0).then(|| self.block.take()),
            lines: self.lines,
        };
        let _ = self.batches.blocking_send(Ok(last));
    }
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
    checkpointer: Option<&Checkpointer>,
) -> anyhow::Result<usize> {
    if checkpointer.is_some() {
        // What the log holds before the seed (a new database's schema and fixtures) is copied
        // first, so that the seed's first transaction starts the log over. A reader in the
        // way (one the pool is opening) is waited for, at most 100 ms.
        for _ in 0..10 {
            let (busy, log, copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&db.write)
                .await?;
            if busy == 0 && log == copied {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    let mut tx = db.begin_write().await?;
    // Kept row by row, the unique indexes of random ids and slugs would have every transaction
    // rewrite most of their pages into the log (and the checkpoint copy them again): they go
    // with the first transaction, while the table is empty or holds only this seed's rows,
    // and come back in the last.
    for index in INDEXES {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX IF EXISTS {}", index.0)))
            .execute(&mut *tx)
            .await?;
    }
    let mut commits = 0;
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
            commits += 1;
            if let Some(log) = checkpointer {
                log.committed(commits);
                // The log restarts only once all of it is copied: waiting for that every
                // few transactions bounds it, and the disk is waited for only when slower.
                if commits.is_multiple_of(sizes.log_transactions as u64) {
                    log.copied(commits).await;
                }
            }
            tx = db.begin_write().await?;
            blocks_in_tx = 0;
        }
    }
    // A duplicate id or slug fails here, and the seed with it, as an insert would have.
    for (index, column) in INDEXES {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE UNIQUE INDEX {index} ON songs ({column})"
        )))
        .execute(&mut *tx)
        .await?;
    }
    save_progress(&mut tx, true, songs, lines, last_id.as_deref()).await?;
    tx.commit().await?;
    if let Some(log) = checkpointer {
        log.committed(commits + 1);
    }
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
            // OR FAIL: a row that breaks a constraint fails the seed as ABORT would (the
            // transaction is rolled back), without the statement journal ABORT keeps to undo
            // a statement's rows.
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
