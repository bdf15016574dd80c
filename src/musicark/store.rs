//! The SQL of the MusicArk API: seeding the catalogue, loading its summaries, one profile.

use sqlx::FromRow;

use super::catalogue::{self, Song};
use crate::db::Db;

/// Rows per INSERT while seeding: SQLite allows 32,766 bound values per statement.
pub const SEED_BATCH: usize = 1_000;

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

/// Loads the song catalogue into an empty database, checking every derived field of every
/// song; ids and slugs are unique by the table's constraints. The file is streamed in
/// batches, so a 100,000-song catalogue never sits in memory whole, and written in one
/// transaction. Returns how many songs were written (0 when the catalogue was there already).
pub async fn seed_catalogue(db: &Db, source: &CatalogueSource) -> anyhow::Result<usize> {
    use std::io::BufRead;
    if has_songs(db).await? {
        return Ok(0);
    }
    let reader: Box<dyn BufRead + Send> = match source {
        CatalogueSource::File(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        )),
        CatalogueSource::Bundled(text) => Box::new(text.as_bytes()),
    };
    // Parsing and checking every line is CPU work (seconds for a big catalogue): it runs on
    // the blocking pool, handing batches over a short channel, so no request waits behind it.
    let (batches, mut parsed) = tokio::sync::mpsc::channel::<anyhow::Result<Vec<catalogue::Song>>>(2);
    let parser = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(SEED_BATCH);
        for (n, line) in reader.lines().enumerate() {
            let song = line.map_err(anyhow::Error::from).and_then(|line| {
                if line.trim().is_empty() {
                    return Ok(None);
                }
                let song: catalogue::Song = serde_json::from_str(&line)?;
                catalogue::check_consistency(&song).map_err(|e| anyhow::anyhow!("{e}"))?;
                Ok(Some(song))
            });
            match song {
                Ok(Some(song)) => batch.push(song),
                Ok(None) => continue,
                Err(e) => {
                    let _ =
                        batches.blocking_send(Err(anyhow::anyhow!("catalogue.jsonl line {}: {e}", n + 1)));
                    return;
                }
            }
            if batch.len() == SEED_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(SEED_BATCH));
                if batches.blocking_send(Ok(full)).is_err() {
                    return;
                }
            }
        }
        let _ = batches.blocking_send(Ok(batch));
    });
    let mut tx = db.begin_write().await?;
    let mut written = 0;
    while let Some(batch) = parsed.recv().await {
        let batch = batch?;
        insert_songs(&mut tx, &batch).await?;
        written += batch.len();
    }
    parser.await?;
    tx.commit().await?;
    Ok(written)
}

/// Inserts songs within the caller's transaction (seeding writes the whole catalogue in one,
/// so a crash leaves all of it or none).
pub async fn insert_songs(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    songs: &[Song],
) -> anyhow::Result<()> {
    for batch in songs.chunks(SEED_BATCH) {
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO songs (id, slug, title, artist, album, release_year, color_hex, bpm, key,
             mode, duration_seconds, dominant_emotion, published_at, published_at_ms, tempo_feel,
             energy_shape, oklch_l, oklch_c, oklch_h, valence, arousal, nostalgia, melancholy,
             sensuality, triumph, mystery, inspirational, profile) ",
        );
        let mut failure = None;
        insert.push_values(batch, |mut row, s| {
            let published_ms = catalogue::parse_rfc3339(&s.song.published_at).unwrap_or(0) * 1000;
            let profile = serde_json::to_string(s).unwrap_or_else(|e| {
                failure = Some(e);
                String::new()
            });
            let e = &s.emotional;
            row.push_bind(s.song.id.clone())
                .push_bind(s.song.slug.clone())
                .push_bind(s.song.title.clone())
                .push_bind(s.song.artist.clone())
                .push_bind(s.song.album.clone())
                .push_bind(i64::from(s.song.release_year))
                .push_bind(s.color.hex.clone())
                .push_bind(i64::from(s.temporal.bpm))
                .push_bind(s.harmonic.key.clone())
                .push_bind(s.harmonic.mode.clone())
                .push_bind(i64::from(s.song.duration_seconds))
                .push_bind(e.dominant_emotion.clone())
                .push_bind(s.song.published_at.clone())
                .push_bind(published_ms)
                .push_bind(s.ai_analysis.tempo_feel.clone())
                .push_bind(s.temporal.energy_shape.clone())
                .push_bind(s.color.oklch_lightness)
                .push_bind(s.color.oklch_chroma)
                .push_bind(s.color.oklch_hue)
                .push_bind(i64::from(e.valence))
                .push_bind(i64::from(e.arousal))
                .push_bind(i64::from(e.nostalgia_index))
                .push_bind(i64::from(e.melancholy_index))
                .push_bind(i64::from(e.sensuality_index))
                .push_bind(i64::from(e.triumph_index))
                .push_bind(i64::from(e.mystery_index))
                .push_bind(i64::from(e.inspirational_quality))
                .push_bind(profile);
        });
        if let Some(err) = failure {
            anyhow::bail!("serializing a song: {err}");
        }
        insert.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// What lists and searches need of a song, straight from its columns.
#[derive(Debug, FromRow)]
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

pub async fn summaries(db: &Db) -> sqlx::Result<Vec<SummaryRow>> {
    sqlx::query_as(
        "SELECT id, slug, title, artist, album, release_year, color_hex, bpm, key, mode,
                duration_seconds, dominant_emotion, published_at, published_at_ms, tempo_feel,
                energy_shape, oklch_l, oklch_c, oklch_h, valence, arousal, nostalgia, melancholy,
                sensuality, triumph, mystery, inspirational
         FROM songs",
    )
    .fetch_all(&db.read)
    .await
}

/// The full profile of a song by id or slug, with its publication instant.
pub async fn profile(db: &Db, id_or_slug: &str) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as("SELECT published_at_ms, profile FROM songs WHERE id = ?1 OR slug = ?1")
        .bind(id_or_slug)
        .fetch_optional(&db.read)
        .await
}
