//! The one application state: pools, config, clocks, key cache and limiters. No statics.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use crate::admission::Admission;
use crate::auth::KeyCache;
use crate::clock::{Clocks, TenantClock, real_now_ms};
use crate::config::Config;
use crate::db::Db;
use crate::hasher::Hasher;
use crate::musicark::index::Catalogue;
use crate::musicark::quota::Quotas;
use crate::musique::deliveries::Deliveries;
use crate::musique::library::Libraries;
use crate::rate_limit::{self, KeyLimiter, Limits};
use crate::tenancy::Runtimes;

pub use crate::tenancy::DEFAULT_TENANT;

/// How many upload bodies are read at once; more wait their turn.
pub const UPLOADS_IN_FLIGHT: usize = 1;

/// When the health checks last ran (real ms) and their results: database, storage, messaging.
pub type HealthChecks = (i64, [bool; 3]);

/// A key's limiter and the tenant that owns the key.
type OwnedLimiter = (String, Arc<KeyLimiter>);

/// Cloned by every extractor and middleware that takes it, several times a request: one
/// reference count to bump, not one per part.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

#[derive(Debug)]
pub struct Inner {
    pub config: Arc<Config>,
    pub db: Db,
    pub clocks: Clocks,
    pub keys: Arc<KeyCache>,
    /// The read side of every Musique library.
    pub musique: Arc<Libraries>,
    /// Every store's simulated player, and the stats they produce.
    pub deliveries: Arc<Deliveries>,
    /// Each tenant's journal and faults, in memory only.
    pub runtimes: Arc<Runtimes>,
    /// Which tenants have delivery webhooks, and the dispatcher's wake-up.
    pub webhooks: Arc<crate::control::webhooks::Registry>,
    /// Limiters by key id, with the tenant that owns the key.
    limiters: Arc<Mutex<HashMap<String, OwnedLimiter>>>,
    /// Windows the database kept for keys that have no limiter yet in this process, by key id.
    saved_windows: Arc<Mutex<HashMap<String, rate_limit::store::Saved>>>,
    /// When the background watcher last completed a round (real ms); `/health` reads it.
    pub watcher_beat_ms: Arc<AtomicI64>,
    /// The last health checks `(when, [database, storage, messaging])`, reused for a second
    /// so that a client polling `/health` cannot queue up behind the single writer.
    pub health: Arc<Mutex<Option<HealthChecks>>>,
    /// Uploads whose bodies may be in memory at once.
    pub uploads: Arc<tokio::sync::Semaphore>,
    /// MusicArk's monthly counts, written behind to SQLite.
    pub quotas: Arc<Quotas>,
    /// MusicArk's catalogue index, built once from SQLite.
    pub catalogue: Arc<tokio::sync::OnceCell<Arc<Catalogue>>>,
    /// The `catalogue.jsonl` an empty database is seeded from; `None` for the bundled one.
    pub catalogue_source: Option<std::path::PathBuf>,
    /// The argon2id workers every key hash and check goes through.
    pub hasher: Hasher,
    /// In-flight limits of the keyless endpoints that hash.
    pub admission: Admission,
}

impl AppState {
    pub fn new(
        config: Config,
        db: Db,
        clocks: Clocks,
        musique: Libraries,
        deliveries: Deliveries,
        catalogue_source: Option<std::path::PathBuf>,
        hasher: Hasher,
    ) -> AppState {
        AppState(Arc::new(Inner {
            admission: Admission::new(&config),
            hasher,
            runtimes: Arc::new(Runtimes::new(config.journal_cap)),
            config: Arc::new(config),
            db,
            clocks,
            keys: Arc::default(),
            musique: Arc::new(musique),
            deliveries: Arc::new(deliveries),
            webhooks: Arc::default(),
            limiters: Arc::default(),
            saved_windows: Arc::default(),
            watcher_beat_ms: Arc::new(AtomicI64::new(real_now_ms())),
            health: Arc::default(),
            uploads: Arc::new(tokio::sync::Semaphore::new(UPLOADS_IN_FLIGHT)),
            quotas: Arc::default(),
            catalogue: Arc::default(),
            catalogue_source,
        }))
    }

    /// The limiter of a key, kept across cache evictions so that a re-verified key does not
    /// get a fresh allowance; a key met for the first time continues from what the database
    /// kept (see [`Self::load_windows`]).
    pub fn limiter_for(
        &self,
        tenant: &str,
        key_id: &str,
        limits: Limits,
        clock: &Arc<TenantClock>,
    ) -> Arc<KeyLimiter> {
        let mut map = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(key_id.to_owned())
            .or_insert_with(|| {
                let saved = self.lock_saved().remove(key_id);
                let limiter = match saved {
                    Some((_, saved)) => KeyLimiter::restored(limits, clock.clone(), &saved),
                    None => KeyLimiter::new(limits, clock.clone()),
                };
                (tenant.to_owned(), Arc::new(limiter))
            })
            .1
            .clone()
    }

    /// Drops the limiters of a tenant's keys: a reset gives them their whole allowance back.
    /// Their rows go with the keys in the same reset or deletion (`ON DELETE CASCADE`); the
    /// caller holds [`crate::musicark::quota::Quotas::pause`], which [`Self::flush_windows`]
    /// takes too, so no stale window is written back in between.
    pub fn forget_limiters(&self, tenant: &str) {
        let mut map = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, (owner, _)| owner != tenant);
        self.lock_saved().retain(|_, (owner, _)| owner != tenant);
    }

    /// Reads the windows the database kept, once at start, so that the hot path never does.
    pub async fn load_windows(&self) -> sqlx::Result<()> {
        let saved = rate_limit::store::load(&self.db).await?;
        *self.lock_saved() = saved;
        Ok(())
    }

    /// Writes behind the windows of every key that counted something since the last flush.
    pub async fn flush_windows(&self) -> sqlx::Result<()> {
        let _paused = self.quotas.pause().await;
        let dirty: Vec<(Arc<KeyLimiter>, (String, rate_limit::SavedWindows))> = {
            let map = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
            map.iter()
                .filter_map(|(key, (_, limiter))| {
                    limiter
                        .saved()
                        .map(|saved| (limiter.clone(), (key.clone(), saved)))
                })
                .collect()
        };
        if dirty.is_empty() {
            return Ok(());
        }
        let (limiters, rows): (Vec<_>, Vec<_>) = dirty.into_iter().unzip();
        let written = rate_limit::store::save(&self.db, &rows).await;
        if written.is_err() {
            limiters.iter().for_each(|l| l.mark_dirty());
        }
        written
    }

    fn lock_saved(&self) -> std::sync::MutexGuard<'_, HashMap<String, rate_limit::store::Saved>> {
        self.saved_windows.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn watcher_beat(&self) {
        self.watcher_beat_ms.store(real_now_ms(), Ordering::Release);
    }
}
