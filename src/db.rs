//! The SQLite database: pool options (WAL, foreign keys, busy timeout) and embedded migrations.
//!
//! Query style, for the whole crate: runtime `sqlx::query`/`query_as` with `#[derive(FromRow)]`
//! structs and bound parameters (no compile-time macros, so a fresh clone builds without a
//! database). Every query is exercised by the integration tests against a migrated database.
//!
//! SQLite allows one writer at a time, so writes go through a one-connection pool and never
//! meet `SQLITE_BUSY`; reads use a pool of their own and see WAL snapshots. The writes requests
//! make many of at once (Musique's sends, uploads, deletes) share transactions through
//! [`crate::writer`], which takes the connection from the same pool. The WAL is checkpointed
//! into the file behind the writer ([`checkpoint_behind`]), not in the commits it answers on.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqlitePool};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Pages (40 MB) the WAL may hold before a commit checkpoints it itself, as a commit would past
/// SQLite's 1,000 by default: only if [`checkpoint_behind`] falls behind (it runs every
/// [`CHECKPOINT_EVERY`], by when the busiest writer has appended some 1,000 pages).
pub const AUTOCHECKPOINT_PAGES: i64 = 10_000;
/// How often [`checkpoint_behind`] copies what the WAL holds into the file.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// The read and write pools over one database.
#[derive(Clone, Debug)]
pub struct Db {
    pub read: SqlitePool,
    pub write: SqlitePool,
    /// One connection that checkpoints the WAL (`None` for `:memory:`, which has none).
    checkpoints: Option<SqlitePool>,
}

impl Db {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub async fn open(path: &str) -> anyhow::Result<Db> {
        let in_memory = path == ":memory:";
        let options = if in_memory {
            SqliteConnectOptions::from_str("sqlite::memory:")?
        } else {
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
        }
        .foreign_keys(true)
        // NORMAL under WAL keeps every committed transaction across a process crash; only an
        // OS crash could lose the last few, and never corrupts the file.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        // Sorting and DISTINCT spill to temp b-trees; in a file they cost system calls on
        // every list request.
        .pragma("temp_store", "memory");

        // A new file holds nothing to protect yet, but switching it to WAL is a rollback-journal
        // transaction with four fsyncs, and the schema's first WAL frame syncs the WAL and its
        // directory: most of a fresh start. So one connection without syncs creates it (WAL,
        // then the migrations), and stays open until the pool's is, so that closing it does
        // not checkpoint. Everything after runs at NORMAL, whose first checkpoint syncs the
        // WAL before it writes the database; an OS crash before then loses at most what NORMAL
        // may lose, and SQLite drops a WAL beside a database file left empty.
        let new_file = !in_memory && std::fs::metadata(path).map_or(true, |m| m.len() == 0);
        let creator = if new_file {
            let mut conn = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .foreign_keys(true)
                .synchronous(SqliteSynchronous::Off)
                .busy_timeout(Duration::from_secs(10))
                .connect()
                .await?;
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&mut conn)
                .await?;
            MIGRATOR.run(&mut conn).await?;
            Some(conn)
        } else {
            None
        };

        // `test_before_acquire` would ping the connection before every query: a round trip
        // to the connection's worker thread that doubles the cost of a simple SELECT.
        let one = || {
            SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        };
        // A checkpoint in a commit would hold every write waiting for the writer while it
        // copies pages and syncs twice (milliseconds each); behind it, nobody waits for one.
        let writer = (options.clone()).pragma("wal_autocheckpoint", AUTOCHECKPOINT_PAGES.to_string());
        let write = one().connect_with(writer).await?;
        match creator {
            Some(conn) => conn.close().await?,
            None => MIGRATOR.run(&write).await?,
        }
        let checkpoints = if in_memory {
            None
        } else {
            // A checkpoint reads the WAL and writes the file: it needs no page cache. A
            // TRUNCATE gives up after 100 ms of waiting for readers (the WAL is reused as is).
            let checkpointer = (options.clone())
                .busy_timeout(Duration::from_millis(100))
                .pragma("cache_size", "-64");
            Some(one().connect_with(checkpointer).await?)
        };

        // Each `:memory:` connection would be a database of its own: share the writer instead.
        // A reader keeps 512 KiB of pages, not SQLite's 2 MiB: what readers look up again
        // (keys, a song's profile) is a few pages, and a scan (the catalogue index at start)
        // would otherwise leave each reader holding 2 MiB it does not read again.
        let read = if in_memory {
            write.clone()
        } else {
            SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(8)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options.read_only(true).pragma("cache_size", "-512"))
                .await?
        };
        Ok(Db {
            read,
            write,
            checkpoints,
        })
    }

    /// Runs `PRAGMA wal_checkpoint(mode)` on the connection that checkpoints, never the
    /// writer's: returns whether it was blocked, the WAL's frames and how many of them are in
    /// the file now (`(0, 0, 0)` for `:memory:`, which has no WAL). PASSIVE waits for nobody.
    pub async fn checkpoint(&self, mode: Checkpoint) -> sqlx::Result<(bool, i64, i64)> {
        let Some(pool) = &self.checkpoints else {
            return Ok((false, 0, 0));
        };
        let pragma = match mode {
            Checkpoint::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
            Checkpoint::Truncate => "PRAGMA wal_checkpoint(TRUNCATE)",
        };
        let (busy, frames, copied): (i64, i64, i64) = sqlx::query_as(pragma).fetch_one(pool).await?;
        Ok((busy != 0, frames, copied))
    }

    /// Begins a write transaction that holds the write lock from its first statement.
    pub async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.write.begin_with("BEGIN IMMEDIATE").await
    }

    pub async fn close(&self) {
        self.read.close().await;
        if let Some(pool) = &self.checkpoints {
            pool.close().await;
        }
        self.write.close().await;
    }
}

/// A checkpoint's mode (SQLite's names).
#[derive(Clone, Copy, Debug)]
pub enum Checkpoint {
    /// Copies what no reader still needs; waits for nobody.
    Passive,
    /// Copies everything, waiting for readers and the writer (up to the busy timeout), then
    /// empties the WAL file.
    Truncate,
}

/// Checkpoints the WAL every [`CHECKPOINT_EVERY`] until `stop`, so that commits seldom do.
pub async fn checkpoint_behind(db: Db, stop: tokio_util::sync::CancellationToken) {
    if db.checkpoints.is_none() {
        return;
    }
    let mut ticker = tokio::time::interval(CHECKPOINT_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if let Err(err) = db.checkpoint(Checkpoint::Passive).await {
            tracing::warn!(error = %err, "could not checkpoint the WAL");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The journal mode and the synchronous level (NORMAL is 1) a pool's connection runs with.
    async fn modes(pool: &SqlitePool) -> (String, i64) {
        let journal = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(pool).await;
        let sync = sqlx::query_scalar("PRAGMA synchronous").fetch_one(pool).await;
        (journal.expect("journal_mode"), sync.expect("synchronous"))
    }

    #[tokio::test]
    async fn a_new_file_is_created_in_wal_and_served_at_normal_then_reopened_as_it_was() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("new.db");
        let path = path.to_str().expect("utf-8 path");
        // An empty file (touched by another tool) is new too.
        std::fs::write(path, b"").expect("touch");
        let db = Db::open(path).await.expect("created");
        // The creator's synchronous=OFF did not outlive it.
        assert_eq!(modes(&db.write).await, ("wal".to_owned(), 1));
        assert_eq!(modes(&db.read).await, ("wal".to_owned(), 1));
        // Readers keep 512 KiB of pages; the writer SQLite's default 2 MiB.
        let cache = |pool| sqlx::query_scalar::<_, i64>("PRAGMA cache_size").fetch_one(pool);
        assert_eq!(cache(&db.read).await.expect("cache_size"), -512);
        assert_eq!(cache(&db.write).await.expect("cache_size"), -2000);
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&db.read)
            .await
            .expect("migrations table");
        assert_eq!(applied, MIGRATOR.iter().count() as i64);
        sqlx::query("INSERT INTO tenants (id, name, created_at_ms) VALUES ('t', 'T', 0)")
            .execute(&db.write)
            .await
            .expect("insert");
        db.close().await;

        let again = Db::open(path).await.expect("reopened");
        let tenants: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants WHERE id = 't'")
            .fetch_one(&again.read)
            .await
            .expect("count");
        assert_eq!(tenants, 1);
        assert_eq!(modes(&again.write).await, ("wal".to_owned(), 1));
    }

    #[tokio::test]
    async fn commits_leave_the_wal_to_the_checkpointer_which_copies_it_all() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(&dir.path().join("c.db").to_string_lossy())
            .await
            .expect("db");
        let pages: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(&db.write)
            .await
            .expect("pragma");
        assert_eq!(pages, AUTOCHECKPOINT_PAGES);
        sqlx::query("CREATE TABLE t (x BLOB)")
            .execute(&db.write)
            .await
            .expect("table");
        // Past SQLite's own threshold of 1,000 pages, under ours: no commit checkpointed them.
        for _ in 0..40 {
            sqlx::query("INSERT INTO t VALUES (zeroblob(200000))")
                .execute(&db.write)
                .await
                .expect("insert");
        }
        let (busy, frames, copied) = db.checkpoint(Checkpoint::Passive).await.expect("checkpoint");
        assert!(frames > 1_500 && frames < AUTOCHECKPOINT_PAGES, "{frames} frames");
        assert_eq!((busy, copied), (false, frames));
        db.close().await;
    }

    #[tokio::test]
    async fn past_its_bound_a_commit_checkpoints_the_wal_itself() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(&dir.path().join("c.db").to_string_lossy())
            .await
            .expect("db");
        sqlx::query("CREATE TABLE t (x BLOB)")
            .execute(&db.write)
            .await
            .expect("table");
        // 200 KB is 49 pages: the WAL passes its bound once, and that commit copies it.
        let over = AUTOCHECKPOINT_PAGES / 49 + 2;
        for _ in 0..over {
            sqlx::query("INSERT INTO t VALUES (zeroblob(200000))")
                .execute(&db.write)
                .await
                .expect("insert");
        }
        let (_, frames, copied) = db.checkpoint(Checkpoint::Passive).await.expect("checkpoint");
        assert!(frames <= AUTOCHECKPOINT_PAGES + 100, "{frames} frames");
        assert_eq!(copied, frames);
        // The WAL was restarted from its start after that checkpoint: what it holds now is
        // only what came after, far under the bound (`over` inserts would be some 10,000).
        assert!(
            frames < AUTOCHECKPOINT_PAGES / 10,
            "{frames} frames after the automatic checkpoint"
        );
        db.close().await;
    }

    #[tokio::test]
    async fn a_database_in_memory_has_nothing_to_checkpoint() {
        let db = Db::open(":memory:").await.expect("db");
        let none = db.checkpoint(Checkpoint::Passive).await.expect("checkpoint");
        assert_eq!(none, (false, 0, 0));
    }
}
