//! The SQLite database: pool options (WAL, foreign keys, busy timeout) and embedded migrations.
//!
//! Query style, for the whole crate: runtime `sqlx::query`/`query_as` with `#[derive(FromRow)]`
//! structs and bound parameters (no compile-time macros, so a fresh clone builds without a
//! database). Every query is exercised by the integration tests against a migrated database.
//!
//! SQLite allows one writer at a time, so writes go through a one-connection pool and never
//! meet `SQLITE_BUSY`; reads use a pool of their own and see WAL snapshots. The writes requests
//! make many of at once (Musique's sends, uploads, deletes) share transactions through
//! [`crate::writer`], which takes the connection from the same pool.

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The read and write pools over one database.
#[derive(Clone, Debug)]
pub struct Db {
    pub read: SqlitePool,
    pub write: SqlitePool,
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

        // `test_before_acquire` would ping the connection before every query: a round trip
        // to the connection's worker thread that doubles the cost of a simple SELECT.
        let write = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&write).await?;

        // Each `:memory:` connection would be a database of its own: share the writer instead.
        let read = if in_memory {
            write.clone()
        } else {
            SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(8)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options.read_only(true))
                .await?
        };
        Ok(Db { read, write })
    }

    /// Begins a write transaction that holds the write lock from its first statement.
    pub async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.write.begin_with("BEGIN IMMEDIATE").await
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}
