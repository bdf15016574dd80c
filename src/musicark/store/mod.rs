//! The SQL of the MusicArk API: seeding the catalogue, loading its summaries, one profile.
//!
//! - `seed`       streaming a catalogue file into the songs table, in resumable transactions
//! - `checkpoint` copying the seed's log into the database while it goes on
//! - `summaries`  what lists and searches need of every song, packed in blocks, read at start

use std::io::BufRead;

use sqlx::FromRow;

use crate::db::Db;

mod checkpoint;
mod seed;
mod summaries;
#[cfg(test)]
mod tests;

pub use seed::{
    LOG_TRANSACTIONS, SEED_BATCH, SEED_SIZES, SeedSizes, TRANSACTION_BLOCKS, seed_catalogue,
    seed_catalogue_in,
};
#[cfg(test)]
pub use summaries::summaries;
pub use summaries::{BLOCK_SONGS, SUMMARY_QUEUE, SummaryRef, SummaryRow, fold_summaries};

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

/// Sets a pragma on the writer's one connection.
async fn write_pragma(db: &Db, pragma: &str, value: i64) -> sqlx::Result<()> {
    // A pragma cannot take a bound parameter; both parts are ours.
    sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA {pragma} = {value}")))
        .execute(&db.write)
        .await
        .map(drop)
}

/// The full profile of a song by id or slug, with its publication instant.
pub async fn profile(db: &Db, id_or_slug: &str) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as("SELECT published_at_ms, profile FROM songs WHERE id = ?1 OR slug = ?1")
        .bind(id_or_slug)
        .fetch_optional(&db.read)
        .await
}
