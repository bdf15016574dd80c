//! The log while seeding: copied into the database by a checkpointer on a connection of its
//! own, so that the seed waits for the disk only when the log is full.

use std::time::Duration;

use tokio::sync::watch;

use super::write_pragma;
use crate::db::{AUTOCHECKPOINT_PAGES, Checkpoint, Db};

/// Copies committed transactions from the log into the database while the seed goes on.
/// A checkpoint syncs the log and then the database: made by the writer at each commit, as
/// SQLite's automatic ones are, it would have the seed wait for the disk to take every byte
/// twice. Dropped, it copies what is left, truncates the log and gives the writer its
/// automatic checkpoints back, in the background; a start with nothing to seed does that too,
/// so the log of a seed whose last checkpoint a stop cut short is not left to the first
/// request that writes.
pub(super) struct Checkpointer {
    /// The last transaction committed, counting from 1.
    committed: watch::Sender<u64>,
    /// The last transaction the log holds no more of.
    copied: watch::Receiver<u64>,
}

impl Checkpointer {
    /// `None` for a database without a log (in memory).
    pub(super) async fn start(db: &Db) -> sqlx::Result<Option<Checkpointer>> {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&db.write)
            .await?;
        if mode != "wal" {
            return Ok(None);
        }
        write_pragma(db, "wal_autocheckpoint", 0).await?;
        let (committed, commits) = watch::channel(0);
        let (copies, copied) = watch::channel(0);
        let db = db.clone();
        tokio::spawn(async move {
            if let Err(e) = run(&db, commits, copies).await {
                tracing::warn!(error = %e, "checkpointing the catalogue's log");
            }
            if let Err(e) = write_pragma(&db, "wal_autocheckpoint", AUTOCHECKPOINT_PAGES).await {
                tracing::warn!(error = %e, "restoring automatic checkpoints");
            }
        });
        Ok(Some(Checkpointer { committed, copied }))
    }

    /// Transaction `n` is committed: the checkpointer copies it, and any before it.
    pub(super) fn committed(&self, n: u64) {
        self.committed.send_replace(n);
    }

    /// Waits until the log holds nothing of transaction `n` or before: the next transaction
    /// then writes the log from its start again.
    pub(super) async fn copied(&self, n: u64) {
        let mut copied = self.copied.clone();
        // An error means the checkpointer stopped (it said why): the log just grows.
        let _ = copied.wait_for(|copied| *copied >= n).await;
    }
}

async fn run(db: &Db, mut commits: watch::Receiver<u64>, copies: watch::Sender<u64>) -> sqlx::Result<()> {
    let mut seeding = true;
    while seeding {
        seeding = commits.changed().await.is_ok();
        let commit = *commits.borrow_and_update();
        loop {
            // On the database's own checkpointing connection, so the seed's writer never waits
            // for a checkpoint; PASSIVE reports the log's frames and how many it copied.
            let (busy, log, copied) = db.checkpoint(Checkpoint::Passive).await?;
            if !busy && log == copied {
                copies.send_replace(commit);
                break;
            }
            // A reader holds frames back; after the seed, the truncating checkpoint has the
            // last word.
            if !seeding {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    // Gives up after the checkpointing connection's busy timeout (100 ms) of waiting for
    // readers: the log is then reused as it is.
    db.checkpoint(Checkpoint::Truncate).await.map(drop)
}
