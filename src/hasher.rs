//! The one place argon2id runs: a fixed set of worker threads, each hashing into a memory block
//! it owns and reuses, fed by a bounded queue in arrival order. It knows tokens and PHC
//! strings, never an API: callers turn [`HashError::Busy`] into their own 429.
//!
//! Why a service: argon2id fills a block of its memory parameter per hash (7 MiB at our default
//! cost, 19 MiB at the crate's). Run on the
//! blocking pool, every concurrent hash allocated a block of its own and glibc kept the freed
//! ones: 256 concurrent company-token checks held 7 GB. Here at most `workers` hashes run at
//! once, each in its worker's block (allocated when work comes, reused for as long as it keeps
//! coming, a large one let go after [`IDLE_RELEASE`] without any), and work beyond the queue's
//! capacity is refused at once instead of piling up.
//!
//! Two queues share the workers, each first in, first out: *checks* (a presented secret
//! against a stored hash: a request is waiting to be let in) and *makes* (new hashes for keys
//! being created). When both have work, workers take from them in turn, so a burst of tenant
//! creations cannot hold up the first request of a new key, nor a flood of checks a creation.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::sync::MutexExt;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

/// Blocks (1 KiB each) a worker keeps at most: the default cost's 7 MiB.
pub const STANDARD_BLOCKS: usize = DEFAULT_M_COST as usize;

/// The default cost: OWASP's argon2id configuration of 7 MiB and 5 passes, one of the five it
/// lists as equally strong (19 MiB and 2 passes, the argon2 crate's default, is the first).
/// About the same work per hash (5 passes over 7 MiB against 2 over 19), a third of the
/// memory: what a test dependency checking keys next to a catalogue index should hold. Hashes
/// stored with other parameters (19 MiB by soundcheck before 2026-12-02) still verify: a PHC
/// string carries its own parameters.
pub const DEFAULT_M_COST: u32 = 7 * 1024;
pub const DEFAULT_T_COST: u32 = 5;

/// A stored hash made with more memory than a worker keeps (by another version, or edited in
/// the database) is still checked, in a block of its own freed afterwards, one such job at a
/// time, up to 64 MiB: above glibc's largest mmap threshold (32 MiB), so freeing it returns the
/// memory to the system. Beyond that, or beyond [`MAX_T_COST`] passes, it is not checked.
pub const MAX_BLOCKS: usize = 64 * 1024;
pub const MAX_T_COST: u32 = 16;

/// How long a worker keeps a block of [`RESERVE_FROM_BLOCKS`] or more with nothing to do. A
/// burst reuses one block per worker however long it lasts; a server that checked one
/// default-cost key at start does not hold 7 MiB per worker for the rest of its life.
/// Smaller blocks (the fast preset's 8 KiB) are kept: letting them go would save nothing.
pub const IDLE_RELEASE: Duration = Duration::from_secs(1);

/// A worker's block of 1 MiB or more is reserved this large: more than glibc's largest mmap
/// threshold (32 MiB), so that it is a mapping of its own, which goes back to the system when
/// the worker lets it go, and freeing it never raises the threshold (which would put the next
/// block in an arena that keeps it). Only the blocks a job uses are touched: the rest stays
/// address space, never resident. Smaller blocks (the fast preset's 8 KiB) are left to the
/// allocator.
const RESERVED_BLOCKS: usize = 32 * 1024 + 1;
pub const RESERVE_FROM_BLOCKS: usize = 1024;

/// The salt length the PHC string format recommends.
const SALT_LEN: usize = 16;

/// How strongly new keys are hashed. `fast` exists for tests and throwaway sandboxes only.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum HashCost {
    /// argon2id with OWASP's 7 MiB, 5 passes, 1 lane (as strong as its 19 MiB, 2 passes).
    #[default]
    Default,
    /// argon2id with the smallest legal parameters (8 KiB, 1 pass).
    Fast,
}

/// One worker per core: argon2id is all CPU.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The argon2id parameters of a cost preset.
pub fn params(cost: HashCost) -> Params {
    match cost {
        // OWASP's 7 MiB, 5 passes, 1 lane (see DEFAULT_M_COST).
        HashCost::Default => Params::new(DEFAULT_M_COST, DEFAULT_T_COST, 1, None).unwrap_or_default(),
        // The smallest legal parameters (8 KiB, 1 pass): for tests, public fixture tokens and
        // throwaway tenants, whose tokens are 32 random characters (165 bits) that no
        // parameter choice makes any easier or harder to guess.
        HashCost::Fast => Params::new(Params::MIN_M_COST, 1, 1, None).unwrap_or_default(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The queue is full: the caller should ask its client to come back shortly.
    #[error("every argon2 worker is busy and the queue is full")]
    Busy,
    #[error("the hasher has stopped")]
    Stopped,
    #[error("argon2: {0}")]
    Argon2(String),
}

impl From<argon2::Error> for HashError {
    fn from(err: argon2::Error) -> Self {
        HashError::Argon2(err.to_string())
    }
}

impl From<argon2::password_hash::phc::Error> for HashError {
    fn from(err: argon2::password_hash::phc::Error) -> Self {
        HashError::Argon2(err.to_string())
    }
}

/// What the hasher has done, for tests and the soak script's reading of memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub workers: usize,
    /// Jobs waiting for a worker now.
    pub queued: usize,
    /// Jobs running now, and the most that ever ran at once.
    pub running: usize,
    pub peak_running: usize,
    /// How many times a worker allocated (or grew) its own block, and the blocks they hold.
    pub block_allocations: usize,
    pub blocks_held: usize,
    /// How many times an idle worker let its block go.
    pub block_releases: usize,
    /// Jobs that needed more than a worker's block and got one of their own.
    pub oversize_jobs: usize,
}

/// A handle on the workers; clones share them. When the last handle goes, the workers stop.
#[derive(Clone, Debug)]
pub struct Hasher(Arc<Handle>);

#[derive(Debug)]
struct Handle(Arc<Shared>);

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.ready.notify_all();
    }
}

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lane {
    Check = 0,
    Make = 1,
}

#[derive(Default)]
struct Queue {
    lanes: [VecDeque<Job>; 2],
    /// The lane served next when both have work.
    turn: usize,
    closed: bool,
}

impl Queue {
    fn len(&self) -> usize {
        self.lanes[0].len() + self.lanes[1].len()
    }

    fn pop(&mut self) -> Option<Job> {
        let first = self.turn;
        for lane in [first, 1 - first] {
            if let Some(job) = self.lanes[lane].pop_front() {
                self.turn = 1 - lane;
                return Some(job);
            }
        }
        None
    }
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    capacity: usize,
    workers: usize,
    standard_blocks: usize,
    idle_release: Duration,
    /// Held while an oversize job has its own block, so that only one exists at a time.
    oversize: Mutex<()>,
    running: AtomicUsize,
    peak_running: AtomicUsize,
    block_allocations: AtomicUsize,
    blocks_held: AtomicUsize,
    block_releases: AtomicUsize,
    oversize_jobs: AtomicUsize,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("workers", &self.workers)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.locked()
    }
}

/// A worker's memory: its own block, and the way to a bigger one for an oversize job.
struct Memory {
    blocks: Vec<Block>,
    shared: Arc<Shared>,
}

impl Memory {
    /// Runs `f` on exactly the blocks `params` needs.
    fn with_blocks<R>(&mut self, params: &Params, f: impl FnOnce(&mut [Block]) -> R) -> Result<R, HashError> {
        let needed = params.block_count();
        if needed > MAX_BLOCKS || params.t_cost() > MAX_T_COST {
            return Err(HashError::Argon2(format!(
                "parameters m={} t={} exceed the hasher's bound ({MAX_BLOCKS} KiB, {MAX_T_COST} passes)",
                params.m_cost(),
                params.t_cost()
            )));
        }
        if needed > self.shared.standard_blocks {
            let _one_at_a_time = self.shared.oversize.locked();
            self.shared.oversize_jobs.fetch_add(1, Ordering::Relaxed);
            let mut own = vec![Block::new(); needed];
            return Ok(f(&mut own));
        }
        if self.blocks.len() < needed {
            let held = self.blocks.len();
            // Dropped before the new one is allocated, so the two never coexist.
            self.blocks = Vec::new();
            let reserve = if needed >= RESERVE_FROM_BLOCKS {
                RESERVED_BLOCKS.max(needed)
            } else {
                needed
            };
            self.blocks = Vec::with_capacity(reserve);
            self.blocks.resize(needed, Block::new());
            self.shared.block_allocations.fetch_add(1, Ordering::Relaxed);
            self.shared
                .blocks_held
                .fetch_add(needed - held, Ordering::Relaxed);
        }
        Ok(f(&mut self.blocks[..needed]))
    }

    /// Lets the block go (the worker is idle); the next job allocates one again.
    fn release(&mut self) {
        let held = std::mem::take(&mut self.blocks).len();
        self.shared.blocks_held.fetch_sub(held, Ordering::Relaxed);
        self.shared.block_releases.fetch_add(1, Ordering::Relaxed);
    }
}

impl Hasher {
    /// `workers` threads, each with a block of up to the default cost's 7 MiB, and up
    /// to `capacity` jobs waiting.
    pub fn new(workers: usize, capacity: usize) -> Hasher {
        Self::with_block_size(workers, capacity, STANDARD_BLOCKS)
    }

    /// As [`Hasher::new`] with workers keeping at most `standard_blocks` KiB (tests use small
    /// blocks to exercise the oversize path cheaply).
    pub fn with_block_size(workers: usize, capacity: usize, standard_blocks: usize) -> Hasher {
        Self::start(workers, capacity, standard_blocks, IDLE_RELEASE)
    }

    fn start(workers: usize, capacity: usize, standard_blocks: usize, idle_release: Duration) -> Hasher {
        let workers = workers.max(1);
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
            capacity: capacity.max(1),
            workers,
            standard_blocks,
            idle_release,
            oversize: Mutex::new(()),
            running: AtomicUsize::new(0),
            peak_running: AtomicUsize::new(0),
            block_allocations: AtomicUsize::new(0),
            blocks_held: AtomicUsize::new(0),
            block_releases: AtomicUsize::new(0),
            oversize_jobs: AtomicUsize::new(0),
        });
        for i in 0..workers {
            let shared = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(shared));
            if let Err(err) = spawned {
                tracing::error!(error = %err, "could not start an argon2 worker");
            }
        }
        Hasher(Arc::new(Handle(shared)))
    }

    pub fn stats(&self) -> Stats {
        let shared = &self.0.0;
        Stats {
            workers: shared.workers,
            queued: shared.lock().len(),
            running: shared.running.load(Ordering::Relaxed),
            peak_running: shared.peak_running.load(Ordering::Relaxed),
            block_allocations: shared.block_allocations.load(Ordering::Relaxed),
            blocks_held: shared.blocks_held.load(Ordering::Relaxed),
            block_releases: shared.block_releases.load(Ordering::Relaxed),
            oversize_jobs: shared.oversize_jobs.load(Ordering::Relaxed),
        }
    }

    /// The argon2id PHC string of a secret.
    pub async fn hash(&self, secret: &str, cost: HashCost) -> Result<String, HashError> {
        let mut hashes = self.hash_all(&[secret], cost).await?;
        hashes.pop().ok_or(HashError::Stopped)
    }

    /// The PHC strings of several secrets, in order. They are queued together or not at all,
    /// so a creation refused for a full queue leaves no work behind.
    pub async fn hash_all(&self, secrets: &[&str], cost: HashCost) -> Result<Vec<String>, HashError> {
        let params = params(cost);
        let (jobs, receivers): (Vec<Job>, Vec<_>) = secrets
            .iter()
            .map(|secret| {
                let secret = secret.as_bytes().to_vec();
                let params = params.clone();
                job(move |memory: &mut Memory| make(memory, &secret, &params))
            })
            .unzip();
        self.enqueue(Lane::Make, jobs)?;
        let mut hashes = Vec::with_capacity(receivers.len());
        for receiver in receivers {
            hashes.push(receiver.await.map_err(|_| HashError::Stopped)??);
        }
        Ok(hashes)
    }

    /// Whether `secret` matches a stored PHC string, whatever parameters it was made with. A
    /// string that is not an argon2 PHC string, or asks for more than the hasher's bounds,
    /// matches nothing (and is logged: it is the database that is wrong, not the request).
    pub async fn verify(&self, secret: &str, phc: &str) -> Result<bool, HashError> {
        let secret = secret.as_bytes().to_vec();
        let phc = phc.to_owned();
        let (job, receiver) = job(move |memory: &mut Memory| check(memory, &secret, &phc));
        self.enqueue(Lane::Check, vec![job])?;
        match receiver.await.map_err(|_| HashError::Stopped)? {
            Ok(matched) => Ok(matched),
            Err(err) => {
                tracing::error!(error = %err, "a stored key hash cannot be checked");
                Ok(false)
            }
        }
    }

    /// Queues `jobs` on `lane`, all of them or (queue full) none.
    fn enqueue(&self, lane: Lane, jobs: Vec<Job>) -> Result<(), HashError> {
        let shared = &self.0.0;
        let mut queue = shared.lock();
        if queue.closed {
            return Err(HashError::Stopped);
        }
        if queue.len() + jobs.len() > shared.capacity {
            return Err(HashError::Busy);
        }
        let count = jobs.len();
        queue.lanes[lane as usize].extend(jobs);
        drop(queue);
        for _ in 0..count {
            shared.ready.notify_one();
        }
        Ok(())
    }

    /// Queues an arbitrary job (tests of the queue's order and bounds).
    #[cfg(test)]
    fn run_raw<T: Send + 'static>(
        &self,
        lane: Lane,
        f: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<oneshot::Receiver<T>, HashError> {
        let (job, receiver) = job(f);
        self.enqueue(lane, vec![job])?;
        Ok(receiver)
    }
}

/// A job for a worker, and where its answer will come.
fn job<T: Send + 'static>(f: impl FnOnce(&mut Memory) -> T + Send + 'static) -> (Job, oneshot::Receiver<T>) {
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move |memory: &mut Memory| {
        // Whoever asked has gone (its client hung up): the work would be thrown away.
        if tx.is_closed() {
            return;
        }
        let _ = tx.send(f(memory));
    });
    (job, rx)
}

/// How much nicer than the server's other threads a worker runs (`nice` 10: about a tenth of
/// a core's share against a thread at 0). On a 2-core CI machine the workers would otherwise
/// take both cores from the async threads, and a request with an already-verified key would
/// wait behind a burst of hashing it has no part in.
const WORKER_NICENESS: i32 = 10;

/// Lowers the calling thread's priority (Linux keeps a nice value per thread). Failing to is
/// not fatal: the workers are then as urgent as every other thread, as they were before.
#[cfg(target_os = "linux")]
fn lower_priority() {
    let own = rustix::thread::gettid();
    if let Err(err) = rustix::process::setpriority_process(Some(own), WORKER_NICENESS) {
        tracing::debug!(error = %err, "could not lower an argon2 worker's priority");
    }
}

/// Elsewhere (a developer's macOS laptop) the workers keep the default priority.
#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

fn work(shared: Arc<Shared>) {
    lower_priority();
    let mut memory = Memory {
        blocks: Vec::new(),
        shared: shared.clone(),
    };
    loop {
        let job = {
            let mut queue = shared.lock();
            loop {
                if queue.closed {
                    return;
                }
                if let Some(job) = queue.pop() {
                    break job;
                }
                if memory.blocks.len() < RESERVE_FROM_BLOCKS {
                    queue = crate::sync::wait(&shared.ready, queue);
                    continue;
                }
                let (guard, waited) = shared
                    .ready
                    .wait_timeout(queue, shared.idle_release)
                    .unwrap_or_else(|e| e.into_inner());
                queue = guard;
                if waited.timed_out() && queue.len() == 0 && !queue.closed {
                    // Unmapped outside the lock: nobody queueing waits for it.
                    drop(queue);
                    memory.release();
                    queue = shared.lock();
                }
            }
        };
        let running = shared.running.fetch_add(1, Ordering::AcqRel) + 1;
        shared.peak_running.fetch_max(running, Ordering::AcqRel);
        // A panicking job drops its reply, which its caller sees as `Stopped`; the worker and
        // its block carry on.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
        shared.running.fetch_sub(1, Ordering::AcqRel);
    }
}

fn make(memory: &mut Memory, secret: &[u8], params: &Params) -> Result<String, HashError> {
    use rand::Rng;
    let mut salt = [0u8; SALT_LEN];
    rand::rng().fill(&mut salt);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    memory.with_blocks(params, |blocks| {
        argon2.hash_password_into_with_memory(secret, &salt, &mut out, blocks)
    })??;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| HashError::Argon2(e.to_string()))?,
        salt: Some(Salt::new(&salt)?),
        hash: Some(Output::new(&out)?),
    };
    Ok(phc.to_string())
}

fn check(memory: &mut Memory, secret: &[u8], phc: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(phc)?;
    let algorithm =
        Algorithm::try_from(parsed.algorithm.as_str()).map_err(|e| HashError::Argon2(e.to_string()))?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v)?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(|e| HashError::Argon2(e.to_string()))?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(HashError::Argon2(
            "the PHC string has no salt or no hash".to_owned(),
        ));
    };
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params.clone());
    memory.with_blocks(&params, |blocks| {
        argon2.hash_password_into_with_memory(secret, salt, &mut out, blocks)
    })??;
    // `Output`'s equality takes the same time however many bytes match.
    Ok(Output::new(&out)? == *expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{PasswordHasher, PasswordVerifier};
    use std::sync::mpsc;
    use std::time::Duration;

    /// Small parameters, so that debug-build tests stay quick: 64 KiB, 1 pass.
    fn small() -> Params {
        Params::new(64, 1, 1, None).expect("params")
    }

    fn phc_of(secret: &str, params: Params) -> String {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(secret.as_bytes())
            .expect("hash")
            .to_string()
    }

    /// Polls `cond` for up to five seconds.
    fn eventually(what: &str, cond: impl Fn() -> bool) {
        for _ in 0..500 {
            if cond() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("timed out waiting for {what}");
    }

    /// A job that says it started, then waits for `release`.
    fn gate(
        started: mpsc::Sender<usize>,
        release: Arc<(Mutex<bool>, Condvar)>,
        id: usize,
    ) -> impl FnOnce(&mut Memory) -> usize + Send + 'static {
        move |_memory: &mut Memory| {
            let _ = started.send(id);
            let (open, cond) = &*release;
            let mut open = open.locked();
            while !*open {
                open = crate::sync::wait(cond, open);
            }
            id
        }
    }

    fn open(release: &Arc<(Mutex<bool>, Condvar)>) {
        *release.0.lock().expect("lock") = true;
        release.1.notify_all();
    }

    #[tokio::test]
    async fn hashes_made_here_verify_with_the_crate_and_the_crates_verify_here() {
        let hasher = Hasher::new(2, 16);
        let phc = hasher
            .hash("msk_prod_1234567890abcdef", HashCost::Fast)
            .await
            .expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{phc}");
        assert!(!phc.contains("1234567890abcdef"));
        let parsed = PasswordHash::new(&phc).expect("a PHC string");
        assert!(
            Argon2::default()
                .verify_password(b"msk_prod_1234567890abcdef", &parsed)
                .is_ok()
        );
        assert!(
            hasher
                .verify("msk_prod_1234567890abcdef", &phc)
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("msk_prod_1234567890abcdeg", &phc)
                .await
                .expect("verify")
        );
        // Two hashes of one secret differ by their salts.
        let again = hasher
            .hash("msk_prod_1234567890abcdef", HashCost::Fast)
            .await
            .expect("hash");
        assert_ne!(phc, again);
        // Other parameters (two lanes, two passes) are read from the string.
        let lanes = phc_of("two lanes", Params::new(64, 2, 2, None).expect("params"));
        assert!(hasher.verify("two lanes", &lanes).await.expect("verify"));
        assert!(!hasher.verify("two lanez", &lanes).await.expect("verify"));
        // A worker's block holds the last job's data: the next job must not depend on it.
        let theirs = phc_of("mk_live_secret", small());
        let _dirty = hasher.verify("something else", &phc_of("other", small())).await;
        assert!(hasher.verify("mk_live_secret", &theirs).await.expect("verify"));
        assert!(!hasher.verify("mk_live_secreT", &theirs).await.expect("verify"));
        assert!(
            !hasher
                .verify("anything", "not a phc string")
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("anything", "$argon2id$v=19$m=8,t=1,p=1$c2FsdA")
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn the_default_cost_is_owasps_7_mib_5_passes() {
        let default = params(HashCost::Default);
        assert_eq!(
            (default.m_cost(), default.t_cost(), default.p_cost()),
            (7168, 5, 1)
        );
        assert_eq!(params(HashCost::Default).block_count(), STANDARD_BLOCKS);
        assert_eq!(params(HashCost::Fast).block_count(), 8);
    }

    #[tokio::test]
    async fn never_more_than_the_workers_run_at_once_and_each_keeps_one_block() {
        let hasher = Hasher::with_block_size(2, 64, 64);
        let secrets: Vec<String> = (0..20).map(|i| format!("secret number {i}")).collect();
        let phcs: Vec<String> = secrets.iter().map(|s| phc_of(s, small())).collect();
        let checks = secrets
            .iter()
            .zip(&phcs)
            .map(|(secret, phc)| hasher.verify(secret, phc));
        let results = futures_util::future::join_all(checks).await;
        assert!(results.into_iter().all(|r| r.expect("verify")));
        let stats = hasher.stats();
        assert!(stats.peak_running >= 1 && stats.peak_running <= 2, "{stats:?}");
        // 20 jobs, two workers: at most one allocation each, 64 KiB apiece, nothing oversize.
        assert!(stats.block_allocations <= 2, "{stats:?}");
        assert!(stats.blocks_held <= 2 * 64, "{stats:?}");
        assert_eq!(stats.oversize_jobs, 0);
    }

    #[tokio::test]
    async fn jobs_start_in_the_order_they_came() {
        let hasher = Hasher::new(1, 64);
        let release = Arc::new((Mutex::new(false), Condvar::new()));
        let (started, starts) = mpsc::channel();
        let first = hasher
            .run_raw(Lane::Check, gate(started.clone(), release.clone(), 0))
            .expect("queued");
        assert_eq!(starts.recv_timeout(Duration::from_secs(5)), Ok(0));
        let mut rest = Vec::new();
        for id in 1..=8 {
            let started = started.clone();
            rest.push(
                hasher
                    .run_raw(Lane::Check, move |_| {
                        let _ = started.send(id);
                        id
                    })
                    .expect("queued"),
            );
        }
        assert_eq!(hasher.stats().queued, 8);
        open(&release);
        first.await.expect("ran");
        for receiver in rest {
            receiver.await.expect("ran");
        }
        let order: Vec<usize> = starts.try_iter().collect();
        assert_eq!(order, (1..=8).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn with_every_worker_busy_the_rest_wait_and_a_full_queue_refuses() {
        let hasher = Hasher::new(2, 3);
        let release = Arc::new((Mutex::new(false), Condvar::new()));
        let (started, starts) = mpsc::channel();
        let busy: Vec<_> = (0..2)
            .map(|id| {
                hasher
                    .run_raw(Lane::Check, gate(started.clone(), release.clone(), id))
                    .expect("queued")
            })
            .collect();
        for _ in 0..2 {
            starts
                .recv_timeout(Duration::from_secs(5))
                .expect("a worker took a gate");
        }
        // Both workers are held: three more wait, a fourth is refused, and so is a group
        // of hashes that would not fit whole.
        let waiting: Vec<_> = (2..5)
            .map(|id| {
                hasher
                    .run_raw(Lane::Check, gate(started.clone(), release.clone(), id))
                    .expect("queued")
            })
            .collect();
        assert_eq!(hasher.stats().running, 2);
        assert_eq!(hasher.stats().queued, 3);
        assert!(matches!(hasher.run_raw(Lane::Make, |_| ()), Err(HashError::Busy)));
        assert!(matches!(
            hasher.hash_all(&["a"], HashCost::Fast).await,
            Err(HashError::Busy)
        ));
        assert!(starts.try_recv().is_err(), "no third job started while two ran");
        open(&release);
        for receiver in busy.into_iter().chain(waiting) {
            receiver.await.expect("ran");
        }
        assert_eq!(hasher.stats().peak_running, 2);
        eventually("an empty queue", || hasher.stats().queued == 0);
        hasher
            .hash_all(&["a", "b", "c"], HashCost::Fast)
            .await
            .expect("room again");
    }

    #[tokio::test]
    async fn checks_and_makes_take_turns_when_both_wait() {
        let hasher = Hasher::new(1, 64);
        let release = Arc::new((Mutex::new(false), Condvar::new()));
        let (started, starts) = mpsc::channel();
        let first = hasher
            .run_raw(Lane::Check, gate(started.clone(), release.clone(), 0))
            .expect("queued");
        starts.recv_timeout(Duration::from_secs(5)).expect("started");
        let order = Arc::new(Mutex::new(Vec::new()));
        let record = |lane: Lane, name: &'static str| {
            let order = order.clone();
            hasher
                .run_raw(lane, move |_| {
                    order.lock().expect("lock").push(name);
                })
                .expect("queued")
        };
        // Three makes queued before three checks: served in turn, each lane in its order.
        let jobs = [
            record(Lane::Make, "m1"),
            record(Lane::Make, "m2"),
            record(Lane::Make, "m3"),
            record(Lane::Check, "c1"),
            record(Lane::Check, "c2"),
            record(Lane::Check, "c3"),
        ];
        open(&release);
        first.await.expect("ran");
        for job in jobs {
            job.await.expect("ran");
        }
        // The gate was a check, so makes come next.
        assert_eq!(*order.lock().expect("lock"), ["m1", "c1", "m2", "c2", "m3", "c3"]);
    }

    #[tokio::test]
    async fn a_stored_hash_bigger_than_a_block_gets_its_own_within_bounds() {
        let hasher = Hasher::with_block_size(1, 8, 16);
        let big = phc_of("big secret", small());
        assert!(hasher.verify("big secret", &big).await.expect("verify"));
        assert!(!hasher.verify("big secrets", &big).await.expect("verify"));
        let stats = hasher.stats();
        assert_eq!(stats.oversize_jobs, 2, "{stats:?}");
        assert_eq!(
            stats.blocks_held, 0,
            "the worker's own block did not grow: {stats:?}"
        );
        // Over the bound: not checked at all, so it matches nothing.
        let huge = big.replace("m=64,", &format!("m={},", 2 * MAX_BLOCKS));
        assert_ne!(huge, big);
        assert!(!hasher.verify("x", &huge).await.expect("verify"));
        assert_eq!(hasher.stats().oversize_jobs, 2);
    }

    #[tokio::test]
    async fn a_key_hashed_at_the_old_19_mib_default_still_verifies() {
        // Databases made before the default cost changed hold hashes of m=19456,t=2: each is
        // checked in a block of its own, and a worker keeps only its 7 MiB one.
        let hasher = Hasher::new(1, 8);
        let old = phc_of("msk_prod_0123456789abcdef", Params::default());
        assert!(old.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{old}");
        assert!(
            hasher
                .verify("msk_prod_0123456789abcdef", &old)
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("msk_prod_0123456789abcdeX", &old)
                .await
                .expect("verify")
        );
        let stats = hasher.stats();
        assert_eq!(stats.oversize_jobs, 2, "{stats:?}");
        assert!(stats.blocks_held <= STANDARD_BLOCKS, "{stats:?}");
    }

    #[tokio::test]
    async fn an_idle_worker_lets_a_large_block_go_and_keeps_a_small_one() {
        let secret = "mk_live_secret";
        // The smallest block that is let go: 1 MiB, one pass (quick even in a debug build).
        let large = phc_of(
            secret,
            Params::new(RESERVE_FROM_BLOCKS as u32, 1, 1, None).expect("params"),
        );
        let blocks = RESERVE_FROM_BLOCKS;
        // Never idle long enough: one block, allocated once, kept between jobs.
        let keeping = Hasher::start(1, 8, blocks, Duration::from_secs(3600));
        for _ in 0..3 {
            assert!(keeping.verify(secret, &large).await.expect("verify"));
        }
        let stats = keeping.stats();
        assert_eq!(
            (stats.block_allocations, stats.blocks_held, stats.block_releases),
            (1, blocks, 0)
        );

        // Idle at once: the block goes as soon as the queue is empty, and comes back for the
        // next job.
        let releasing = Hasher::start(1, 8, blocks, Duration::ZERO);
        assert!(releasing.verify(secret, &large).await.expect("verify"));
        eventually("the block let go", || {
            let stats = releasing.stats();
            (stats.block_releases, stats.blocks_held) == (1, 0)
        });
        assert!(!releasing.verify("mk_live_secreT", &large).await.expect("verify"));
        eventually("the block let go again", || releasing.stats().block_releases == 2);
        assert_eq!(releasing.stats().block_allocations, 2);

        // A block under the threshold stays, idle or not.
        let small_phc = phc_of(secret, small());
        assert!(releasing.verify(secret, &small_phc).await.expect("verify"));
        assert!(releasing.verify(secret, &small_phc).await.expect("verify"));
        let stats = releasing.stats();
        assert_eq!(
            (stats.block_allocations, stats.blocks_held, stats.block_releases),
            (3, 64, 2)
        );
    }

    #[tokio::test]
    async fn a_job_whose_caller_left_is_skipped() {
        let hasher = Hasher::new(1, 8);
        let release = Arc::new((Mutex::new(false), Condvar::new()));
        let (started, starts) = mpsc::channel();
        let first = hasher
            .run_raw(Lane::Check, gate(started.clone(), release.clone(), 0))
            .expect("queued");
        starts.recv_timeout(Duration::from_secs(5)).expect("started");
        let abandoned = hasher
            .run_raw(Lane::Check, gate(started.clone(), release.clone(), 1))
            .expect("queued");
        drop(abandoned);
        open(&release);
        first.await.expect("ran");
        hasher.hash("after", HashCost::Fast).await.expect("hash");
        assert_eq!(starts.try_iter().collect::<Vec<_>>(), Vec::<usize>::new());
    }
}
