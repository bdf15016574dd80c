//! The Musique API's state: the shared core, its key cache, libraries, players, rate limiters
//! and the windows they continue from.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::auth::MusiqueCaller;
use super::deliveries::Deliveries;
use super::library::Libraries;
use super::store::{self, Writes};
use crate::auth::KeyCache;
use crate::clock::TenantClock;
use crate::rate_limit::{self, KeyLimiter, Limits};
use crate::state::Core;
use crate::sync::MutexExt;

/// How many upload bodies are read at once; more wait their turn.
pub const UPLOADS_IN_FLIGHT: usize = 1;

/// When the health checks last ran (real ms) and their results: database, storage, messaging.
pub type HealthChecks = (i64, [bool; 3]);

/// A key's limiter and the tenant that owns the key.
type OwnedLimiter = (String, Arc<KeyLimiter>);

/// Cloned by every extractor and middleware of the API: one reference count to bump.
#[derive(Clone, Debug)]
pub struct MusiqueState(Arc<Inner>);

impl std::ops::Deref for MusiqueState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

#[derive(Debug)]
pub struct Inner {
    pub core: Core,
    /// Verified `X-API-Key` tokens.
    pub keys: KeyCache<MusiqueCaller>,
    /// The read side of every Musique library.
    pub libraries: Arc<Libraries>,
    /// Every store's simulated player, and the stats they produce.
    pub deliveries: Arc<Deliveries>,
    /// Limiters by key id, with the tenant that owns the key.
    limiters: Mutex<HashMap<String, OwnedLimiter>>,
    /// Windows the database kept for keys that have no limiter yet in this process, by key id.
    saved_windows: Mutex<HashMap<String, rate_limit::store::Saved>>,
    /// Held by a flush of the windows; a tenant's reset holds it so that no stale window is
    /// written back.
    flushing: tokio::sync::Mutex<()>,
    /// The last health checks `(when, [database, storage, messaging])`, reused for a second
    /// so that a client polling `/health` cannot queue up behind the single writer.
    pub health: Mutex<Option<HealthChecks>>,
    /// Uploads whose bodies may be in memory at once.
    pub uploads: tokio::sync::Semaphore,
    /// Sends, uploads and deletes, committed together by one writer.
    pub writer: store::Writer,
}

impl MusiqueState {
    /// Starts the writer too: call it within the runtime.
    pub fn new(core: Core, libraries: Libraries, deliveries: Deliveries) -> MusiqueState {
        let (libraries, deliveries) = (Arc::new(libraries), Arc::new(deliveries));
        let writer = Writes::start(
            core.db.clone(),
            libraries.clone(),
            deliveries.clone(),
            core.config.write_queue,
        );
        MusiqueState(Arc::new(Inner {
            core,
            keys: KeyCache::default(),
            libraries,
            deliveries,
            limiters: Mutex::default(),
            saved_windows: Mutex::default(),
            flushing: tokio::sync::Mutex::default(),
            health: Mutex::default(),
            uploads: tokio::sync::Semaphore::new(UPLOADS_IN_FLIGHT),
            writer,
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
        let mut map = self.limiters.locked();
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
    /// caller holds [`Self::pause`], which [`Self::flush_windows`] takes too, so no stale
    /// window is written back in between.
    pub fn forget_limiters(&self, tenant: &str) {
        let mut map = self.limiters.locked();
        map.retain(|_, (owner, _)| owner != tenant);
        self.lock_saved().retain(|_, (owner, _)| owner != tenant);
    }

    /// Stops the windows' write-behind until the guard is dropped.
    pub async fn pause(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.flushing.lock().await
    }

    /// Reads the windows the database kept, once at start, so that the hot path never does.
    pub async fn load_windows(&self) -> sqlx::Result<()> {
        let saved = rate_limit::store::load(&self.core.db).await?;
        *self.lock_saved() = saved;
        Ok(())
    }

    /// Writes behind the windows of every key that counted something since the last flush.
    pub async fn flush_windows(&self) -> sqlx::Result<()> {
        let _paused = self.pause().await;
        let dirty: Vec<(Arc<KeyLimiter>, (String, rate_limit::SavedWindows))> = {
            let map = self.limiters.locked();
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
        let written = rate_limit::store::save(&self.core.db, &rows).await;
        if written.is_err() {
            limiters.iter().for_each(|l| l.mark_dirty());
        }
        written
    }

    fn lock_saved(&self) -> std::sync::MutexGuard<'_, HashMap<String, rate_limit::store::Saved>> {
        self.saved_windows.locked()
    }
}
