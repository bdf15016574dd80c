//! The group-commit writer: one task takes the writes waiting for it and commits them in one
//! transaction, so that many requests share each transaction's statements and its commit.
//!
//! Bounded twice: at most `queue` jobs wait (one more is refused at once, and its caller
//! answers 429), and one transaction takes at most [`MAX_BATCH`] of them. So at most
//! `queue + MAX_BATCH` jobs are held at once: those waiting, and the batch being written.
//!
//! A job is answered only once its transaction committed (or failed): under WAL a commit is in
//! the log before `COMMIT` returns, so it survives the process being killed. What a job does to
//! the database and how it is answered is its [`Batch`]'s; this module knows no API.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use futures_util::FutureExt;
use sqlx::{Connection, Sqlite, SqliteConnection};
use tokio::sync::mpsc;

use crate::db::Db;

/// The most jobs one transaction takes. Enough that a burst of 64 clients shares one commit;
/// few enough that the last of them is not kept long behind the others.
pub const MAX_BATCH: usize = 64;

/// What the writer writes: jobs of one kind, staged in order in one transaction.
pub trait Batch: Send + Sync + 'static {
    type Job: Send + 'static;

    /// Writes the jobs in the open transaction, in order, each seeing what those before it
    /// wrote. A job that fails on its own (a row it needs is missing, one of its statements
    /// fails) leaves nothing written and keeps its failure for [`Batch::committed`], so that
    /// the others go on; an error returned fails the whole transaction.
    /// `tx` is in the transaction: `sqlx::Acquire::begin` on it opens a savepoint.
    fn stage<'a>(
        &'a self,
        tx: &'a mut SqliteConnection,
        jobs: &'a mut [Self::Job],
    ) -> impl Future<Output = sqlx::Result<()>> + Send + 'a;

    /// The transaction committed: shows each job's effects in memory, in order, and answers it.
    fn committed(&self, jobs: Vec<Self::Job>);

    /// Nothing of the transaction was written: answers each job with the error.
    fn failed(&self, jobs: Vec<Self::Job>, err: &sqlx::Error);
}

/// A job the writer did not take.
#[derive(Debug)]
pub enum Refused<J> {
    /// `queue` jobs are waiting already.
    Full(J),
    /// The writer has stopped (the server is shutting down).
    Stopped(J),
}

/// The handle requests submit jobs through; the task it started ends when the last handle goes.
pub struct Writer<J> {
    queue: mpsc::Sender<J>,
    bound: usize,
    counts: Arc<Counts>,
}

/// What the writer has taken on and done, for whoever watches it.
#[derive(Debug, Default)]
struct Counts {
    /// Jobs submitted and not yet answered: waiting, or in the batch being written.
    pending: AtomicUsize,
    /// Transactions the writer ran (committed or not).
    batches: AtomicU64,
}

impl<J> std::fmt::Debug for Writer<J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("bound", &self.bound)
            .field("free", &self.queue.capacity())
            .field("counts", &self.counts)
            .finish()
    }
}

impl<J: Send + 'static> Writer<J> {
    /// Starts the writer's task over the database's write pool, with room for `queue` jobs.
    pub fn start<B: Batch<Job = J>>(db: Db, batch: B, queue: usize) -> Writer<J> {
        let bound = queue.max(1);
        let (tx, rx) = mpsc::channel(bound);
        let counts = Arc::<Counts>::default();
        tokio::spawn(run(db, batch, rx, counts.clone()));
        Writer {
            queue: tx,
            bound,
            counts,
        }
    }

    /// Queues a job; it is answered through whatever it carries.
    pub fn submit(&self, job: J) -> Result<(), Refused<J>> {
        // Counted first: the writer may answer it before `try_send` returns.
        self.counts.pending.fetch_add(1, Ordering::AcqRel);
        self.queue.try_send(job).map_err(|err| {
            self.counts.pending.fetch_sub(1, Ordering::AcqRel);
            match err {
                mpsc::error::TrySendError::Full(job) => Refused::Full(job),
                mpsc::error::TrySendError::Closed(job) => Refused::Stopped(job),
            }
        })
    }

    /// How many jobs were submitted and are not answered yet: waiting, or being written.
    pub fn pending(&self) -> usize {
        self.counts.pending.load(Ordering::Acquire)
    }

    /// How many transactions the writer has run.
    pub fn batches(&self) -> u64 {
        self.counts.batches.load(Ordering::Acquire)
    }

    /// How many jobs wait, not counting the batch being written.
    pub fn waiting(&self) -> usize {
        self.bound - self.queue.capacity()
    }

    /// How many jobs may wait.
    pub fn bound(&self) -> usize {
        self.bound
    }
}

async fn run<B: Batch>(db: Db, batch: B, mut queue: mpsc::Receiver<B::Job>, counts: Arc<Counts>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.recv().await {
        jobs.push(first);
        // The connection first, then whatever arrived meanwhile: while the pool's other users
        // (write-behinds, the control plane) hold it, the queue fills and one commit serves it.
        let connection = db.write.acquire().await;
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let written = match connection {
            Ok(connection) => AssertUnwindSafe(write(connection, &batch, &mut jobs))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(sqlx::Error::Protocol("the writer panicked".into()))),
            Err(err) => Err(err),
        };
        let taken = std::mem::replace(&mut jobs, Vec::with_capacity(MAX_BATCH));
        let size = taken.len();
        counts.batches.fetch_add(1, Ordering::AcqRel);
        // A panic in memory loses the answers of that batch (their requests get a 500), never
        // the writer.
        let answered = std::panic::catch_unwind(AssertUnwindSafe(|| match &written {
            Ok(()) => batch.committed(taken),
            Err(err) => batch.failed(taken, err),
        }));
        counts.pending.fetch_sub(size, Ordering::AcqRel);
        if answered.is_err() {
            tracing::error!("the writer panicked while answering a batch");
        }
        if let Err(err) = written {
            tracing::error!(error = %err, "a write transaction failed");
        }
    }
}

async fn write<B: Batch>(
    mut connection: sqlx::pool::PoolConnection<Sqlite>,
    batch: &B,
    jobs: &mut [B::Job],
) -> sqlx::Result<()> {
    // Holds the write lock from its first statement, as `Db::begin_write` does.
    let mut tx = connection.begin_with("BEGIN IMMEDIATE").await?;
    batch.stage(&mut tx, jobs).await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tokio::sync::oneshot;

    use super::*;
    use crate::sync::MutexExt;

    /// Writes each job's number, remembering how many jobs each transaction held.
    struct Probe {
        sizes: Arc<Mutex<Vec<usize>>>,
    }

    struct Job {
        n: i64,
        fail: bool,
        panic: bool,
        reply: oneshot::Sender<Result<(), String>>,
    }

    impl Batch for Probe {
        type Job = Job;

        async fn stage(&self, tx: &mut SqliteConnection, jobs: &mut [Job]) -> sqlx::Result<()> {
            self.sizes.locked().push(jobs.len());
            for job in jobs.iter() {
                assert!(!job.panic, "a job that panics");
                sqlx::query("INSERT INTO probe (n) VALUES (?)")
                    .bind(job.n)
                    .execute(&mut *tx)
                    .await?;
            }
            if jobs.iter().any(|j| j.fail) {
                return Err(sqlx::Error::Protocol("a job that fails".into()));
            }
            Ok(())
        }

        fn committed(&self, jobs: Vec<Job>) {
            for job in jobs {
                let _ = job.reply.send(Ok(()));
            }
        }

        fn failed(&self, jobs: Vec<Job>, err: &sqlx::Error) {
            for job in jobs {
                let _ = job.reply.send(Err(err.to_string()));
            }
        }
    }

    async fn writer(queue: usize) -> (Db, Writer<Job>, Arc<Mutex<Vec<usize>>>) {
        let db = Db::open(":memory:").await.expect("db");
        sqlx::query("CREATE TABLE probe (n INTEGER NOT NULL)")
            .execute(&db.write)
            .await
            .expect("table");
        let sizes = Arc::<Mutex<Vec<usize>>>::default();
        let writer = Writer::start(db.clone(), Probe { sizes: sizes.clone() }, queue);
        (db, writer, sizes)
    }

    fn job(n: i64) -> (Job, oneshot::Receiver<Result<(), String>>) {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            n,
            fail: false,
            panic: false,
            reply,
        };
        (job, answer)
    }

    fn submit(writer: &Writer<Job>, n: i64) -> oneshot::Receiver<Result<(), String>> {
        let (job, answer) = job(n);
        writer.submit(job).map_err(|_| "refused").expect("room");
        answer
    }

    /// Lets the writer's task run until `done` holds: a wait for a state, never for time.
    async fn until(done: impl Fn() -> bool) {
        for _ in 0..100_000 {
            if done() {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the writer never got there");
    }

    async fn written(db: &Db) -> Vec<i64> {
        sqlx::query_scalar("SELECT n FROM probe ORDER BY rowid")
            .fetch_all(&db.read)
            .await
            .expect("read")
    }

    #[tokio::test]
    async fn a_transaction_takes_at_most_max_batch_jobs_in_the_order_they_came() {
        let (db, writer, sizes) = writer(2 * MAX_BATCH).await;
        // While the connection is held elsewhere, the writer holds the first job and the rest wait.
        let held = db.write.acquire().await.expect("connection");
        let mut answers = vec![submit(&writer, 0)];
        until(|| writer.waiting() == 0).await;
        let last = MAX_BATCH as i64 + 1;
        answers.extend((1..=last).map(|n| submit(&writer, n)));
        assert_eq!(writer.pending(), MAX_BATCH + 2);
        drop(held);
        for answer in answers {
            assert_eq!(answer.await.expect("answered"), Ok(()));
        }
        assert_eq!(*sizes.locked(), [MAX_BATCH, 2]);
        assert_eq!(writer.batches(), 2);
        assert_eq!(written(&db).await, (0..=last).collect::<Vec<_>>());
        until(|| writer.pending() == 0).await;
    }

    #[tokio::test]
    async fn a_full_queue_refuses_the_next_job_at_once_and_takes_jobs_again_once_it_drains() {
        let (db, writer, _) = writer(3).await;
        let held = db.write.acquire().await.expect("connection");
        let mut answers = vec![submit(&writer, 0)];
        until(|| writer.waiting() == 0).await;
        answers.extend((1..=3).map(|n| submit(&writer, n)));
        assert_eq!((writer.waiting(), writer.bound()), (3, 3));
        let (refused, _) = job(4);
        assert!(matches!(writer.submit(refused), Err(Refused::Full(j)) if j.n == 4));
        drop(held);
        for answer in answers {
            assert_eq!(answer.await.expect("answered"), Ok(()));
        }
        assert_eq!(submit(&writer, 5).await.expect("answered"), Ok(()));
        assert_eq!(written(&db).await, [0, 1, 2, 3, 5]);
    }

    #[tokio::test]
    async fn a_failed_or_panicking_transaction_writes_nothing_and_the_writer_goes_on() {
        let (db, writer, _) = writer(8).await;
        for (fail, panic) in [(true, false), (false, true)] {
            let held = db.write.acquire().await.expect("connection");
            let before = submit(&writer, 1);
            until(|| writer.waiting() == 0).await;
            let (mut bad, answer) = job(2);
            (bad.fail, bad.panic) = (fail, panic);
            writer.submit(bad).map_err(|_| "refused").expect("room");
            drop(held);
            for answer in [before, answer] {
                let err = answer.await.expect("answered").expect_err("failed");
                assert!(
                    err.contains(if fail { "a job that fails" } else { "panicked" }),
                    "{err}"
                );
            }
        }
        assert_eq!(submit(&writer, 3).await.expect("answered"), Ok(()));
        assert_eq!(written(&db).await, [3]);
    }
}
