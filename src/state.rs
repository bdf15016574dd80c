//! The shared core every API and the control plane hold: config, pools, clocks, the hasher,
//! admission limits and each tenant's runtime. No API's own parts: those are in each API's
//! state, assembled at the top (`app`). No statics.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::admission::Admission;
use crate::clock::{Clocks, real_now_ms};
use crate::config::Config;
use crate::db::Db;
use crate::hasher::Hasher;
use crate::tenancy::Runtimes;

pub use crate::tenancy::DEFAULT_TENANT;

/// Cloned by every state that holds it and by handlers that need only it: one reference
/// count to bump, not one per part.
#[derive(Clone, Debug)]
pub struct Core(Arc<CoreInner>);

impl std::ops::Deref for Core {
    type Target = CoreInner;

    fn deref(&self) -> &CoreInner {
        &self.0
    }
}

#[derive(Debug)]
pub struct CoreInner {
    pub config: Arc<Config>,
    pub db: Db,
    pub clocks: Clocks,
    /// Each tenant's journal and faults, in memory only.
    pub runtimes: Arc<Runtimes>,
    /// When the background watcher last completed a round (real ms); `/health` reads it.
    pub watcher_beat_ms: Arc<AtomicI64>,
    /// The argon2id workers every key hash and check goes through.
    pub hasher: Hasher,
    /// In-flight limits of the keyless endpoints that hash.
    pub admission: Admission,
}

impl Core {
    pub fn new(config: Config, db: Db, clocks: Clocks, hasher: Hasher) -> Core {
        Core(Arc::new(CoreInner {
            admission: Admission::new(&config),
            hasher,
            runtimes: Arc::new(Runtimes::new(config.journal_cap)),
            config: Arc::new(config),
            db,
            clocks,
            watcher_beat_ms: Arc::new(AtomicI64::new(real_now_ms())),
        }))
    }

    pub fn watcher_beat(&self) {
        self.watcher_beat_ms.store(real_now_ms(), Ordering::Release);
    }
}
