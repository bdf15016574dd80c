//! The SQLite database: pool options (WAL, foreign keys, busy timeout, a new file's page size)
//! and embedded migrations.
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

/// What the migrations up to [`SCHEMA_VERSION`] build, as one script: every `CREATE` of
/// `sqlite_master` in its order, `_sqlx_migrations` included. A new file runs it and records
/// those migrations as sqlx would have (their checksums), in one transaction, instead of
/// applying them one by one (each its own transaction and bookkeeping, 0009 a table copied
/// and renamed): the largest part of a fresh start. Any later migration is applied by the
/// migrator as usual, and every later start checks the recorded checksums as it always
/// does. `db::tests` checks that it builds the same schema as the migrations; it is written
/// again by `SOUNDCHECK_WRITE_SCHEMA=1 cargo test --lib db::tests::the_schema_script`.
const SCHEMA: &str = include_str!("../migrations/snapshot/schema.sql");
/// The last migration [`SCHEMA`] includes.
pub const SCHEMA_VERSION: i64 = 11;

/// The page size of a new file, in bytes: SQLite's default is 4,096. A MusicArk song's row is
/// 3.8 to 5 KB, so at 4 KiB nearly every song spills into an overflow page of its own, written
/// to the WAL and copied again by the checkpoint: at 8 KiB a page holds one or two whole rows,
/// and the seed's kernel time falls by some 40% (a first start on a million songs 30 s, not 41),
/// with no cost to Musique's small rows that `bench/ab.sh` could see (BENCHMARKS.md). A database
/// created before keeps the page size it has: changing it would rewrite the whole file.
pub const PAGE_SIZE: i64 = 8_192;

/// Pages (80 MB) the WAL may hold before a commit checkpoints it itself, as a commit would past
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
    /// One connection that checkpoints the WAL, opened on first use (`None` for `:memory:`,
    /// which has none).
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
            // Before anything is written: the first page fixes the file's page size.
            sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA page_size = {PAGE_SIZE}")))
                .execute(&mut conn)
                .await?;
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&mut conn)
                .await?;
            create_schema(&mut conn).await?;
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
            // Opened by the first checkpoint, not here: start-up does not wait for it.
            let checkpointer = (options.clone())
                .busy_timeout(Duration::from_millis(100))
                .pragma("cache_size", "-64");
            Some(one().min_connections(0).connect_lazy_with(checkpointer))
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

/// Builds the schema of a new, empty database from [`SCHEMA`], and records the migrations it
/// holds as applied, in one transaction.
async fn create_schema(conn: &mut sqlx::SqliteConnection) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut tx = conn.begin().await?;
    sqlx::raw_sql(SCHEMA).execute(&mut *tx).await?;
    let included: Vec<_> = MIGRATOR
        .iter()
        .filter(|m| m.version <= SCHEMA_VERSION && !m.migration_type.is_down_migration())
        .collect();
    let elapsed_ns = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) ",
    );
    insert.push_values(&included, |mut row, m| {
        row.push_bind(m.version)
            .push_bind(&*m.description)
            .push_bind(true)
            .push_bind(&*m.checksum)
            .push_bind(elapsed_ns);
    });
    insert.build().execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
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
    // The first one a period after start: what start-up wrote can wait that long.
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + CHECKPOINT_EVERY, CHECKPOINT_EVERY);
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

    async fn page_size(pool: &SqlitePool) -> i64 {
        sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(pool)
            .await
            .expect("page_size")
    }

    #[tokio::test]
    async fn a_file_made_before_keeps_its_page_size_and_is_migrated() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("old.db");
        let path = path.to_str().expect("utf-8 path");
        // As an earlier soundcheck, or the sqlite3 shell, made it: SQLite's default pages.
        let mut conn = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .connect()
            .await
            .expect("connect");
        sqlx::raw_sql("PRAGMA page_size = 4096; CREATE TABLE before (x)")
            .execute(&mut conn)
            .await
            .expect("made before");
        conn.close().await.expect("close");

        let db = Db::open(path).await.expect("opened");
        assert_eq!(page_size(&db.read).await, 4096);
        let tenants: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
            .fetch_one(&db.read)
            .await
            .expect("migrated");
        assert_eq!(tenants, 0);
        db.close().await;
    }

    #[tokio::test]
    async fn a_new_file_is_created_in_wal_and_served_at_normal_then_reopened_as_it_was() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("new.db");
        let path = path.to_str().expect("utf-8 path");
        // An empty file (touched by another tool) is new too.
        std::fs::write(path, b"").expect("touch");
        let db = Db::open(path).await.expect("created");
        // The creator's synchronous=OFF did not outlive it; the page size it set did.
        assert_eq!(modes(&db.write).await, ("wal".to_owned(), 1));
        assert_eq!(modes(&db.read).await, ("wal".to_owned(), 1));
        assert_eq!(page_size(&db.read).await, PAGE_SIZE);
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

    /// A blob of 48 pages' bytes: with its row's leaf, 49 pages of the WAL whatever the page
    /// size (the WAL tests count pages).
    const BLOB: i64 = 48 * PAGE_SIZE;

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
            sqlx::query("INSERT INTO t VALUES (zeroblob(?))")
                .bind(BLOB)
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
        // Each blob is 49 pages: the WAL passes its bound once, and that commit copies it.
        let over = AUTOCHECKPOINT_PAGES / 49 + 2;
        for _ in 0..over {
            sqlx::query("INSERT INTO t VALUES (zeroblob(?))")
                .bind(BLOB)
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

    /// Every schema object with its SQL, by name, and the migrations recorded as applied.
    async fn schema_of(
        conn: &mut sqlx::SqliteConnection,
    ) -> (
        Vec<(String, String, String, Option<String>)>,
        Vec<(i64, String, bool, Vec<u8>)>,
    ) {
        let objects = sqlx::query_as("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
            .fetch_all(&mut *conn)
            .await
            .expect("sqlite_master");
        let applied = sqlx::query_as(
            "SELECT version, description, success, checksum FROM _sqlx_migrations ORDER BY version",
        )
        .fetch_all(&mut *conn)
        .await
        .expect("_sqlx_migrations");
        (objects, applied)
    }

    /// The `CREATE` statements of a schema, in the order SQLite keeps them.
    async fn script_of(conn: &mut sqlx::SqliteConnection) -> String {
        let statements: Vec<String> = sqlx::query_scalar(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
        )
        .fetch_all(&mut *conn)
        .await
        .expect("sqlite_master");
        let mut script = format!(
            "-- Written by `SOUNDCHECK_WRITE_SCHEMA=1 cargo test --lib db::tests::the_schema_script`\n\
             -- from a database the migrations up to {SCHEMA_VERSION} built: what a new file runs \
             instead of them (db.rs).\n"
        );
        for statement in statements {
            script.push_str(&statement);
            script.push_str(";\n");
        }
        script
    }

    #[tokio::test]
    async fn the_schema_script_builds_what_the_migrations_build() {
        let migrated_to = |version| async move {
            let mut conn = SqliteConnectOptions::from_str("sqlite::memory:")
                .expect("options")
                .connect()
                .await
                .expect("connection");
            MIGRATOR.run_to(version, &mut conn).await.expect("migrations");
            conn
        };
        let mut migrated = migrated_to(SCHEMA_VERSION).await;
        let script = script_of(&mut migrated).await;
        if std::env::var_os("SOUNDCHECK_WRITE_SCHEMA").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/snapshot/schema.sql");
            std::fs::write(path, &script).expect("write the schema script");
        }
        assert_eq!(
            SCHEMA, script,
            "the schema script is not the migrations' schema: write it again (see SCHEMA)"
        );
        let mut scripted = SqliteConnectOptions::from_str("sqlite::memory:")
            .expect("options")
            .connect()
            .await
            .expect("connection");
        create_schema(&mut scripted).await.expect("schema script");
        assert_eq!(schema_of(&mut scripted).await, schema_of(&mut migrated).await);
        // The migrator finds them applied, checksums and all, and applies the rest.
        MIGRATOR
            .run(&mut scripted)
            .await
            .expect("migrations after the script");
        let mut all = migrated_to(i64::MAX).await;
        assert_eq!(schema_of(&mut scripted).await, schema_of(&mut all).await);
    }

    #[tokio::test]
    async fn the_schema_script_holds_every_migration() {
        // Not a correctness matter (later migrations are applied after it), but a new
        // migration left out of the script makes every fresh start apply it one by one.
        let last = MIGRATOR.iter().map(|m| m.version).max();
        assert_eq!(
            last,
            Some(SCHEMA_VERSION),
            "write the schema script again (see SCHEMA)"
        );
    }

    #[tokio::test]
    async fn a_database_in_memory_has_nothing_to_checkpoint() {
        let db = Db::open(":memory:").await.expect("db");
        let none = db.checkpoint(Checkpoint::Passive).await.expect("checkpoint");
        assert_eq!(none, (false, 0, 0));
    }
}
