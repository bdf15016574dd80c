//! soundcheck: a local emulator of the Musique Partner API and the MusicArk API.
//!
//! - [`config`]     the server's flags and their env twins
//! - [`clock`]      the one clock, per tenant, that tests can move
//! - [`db`]         SQLite pools, pragmas and embedded migrations
//! - [`error`]      error kinds, rendered in each API's own envelope
//! - [`extract`]    extractors whose rejections are our errors
//! - [`auth`]       token shapes, the verification cache, typed callers
//! - [`hasher`]     argon2id on a fixed set of workers with reused memory, queued in order
//! - [`ids`]        random identifiers and secrets
//! - [`hosts`]      `Host` headers, origins and `--allowed-hosts`, parsed and normalized
//! - [`admission`]  in-flight limits of the keyless endpoints that hash (legacy auth, tenants)
//! - [`cli`]        the `keys` subcommands
//! - [`keys`]       creating, listing and revoking keys (CLI and fixtures)
//! - [`serve`]      the accept loop and connections: timeouts, limits, small read buffers
//! - [`rate_limit`] Musique's minute/hour/day limits on governor
//! - [`fixtures`]   the default sandbox and how a tenant is seeded
//! - [`middleware`] the tower stack shared by every route
//! - [`state`]      the one `AppState`
//! - [`musique`]    the Musique Partner API
//! - [`musicark`]   the MusicArk API
//! - [`control`]    the emulator's own control plane under `/_soundcheck/`
//! - [`openapi`]    the three OpenAPI documents and the `/docs` page

pub mod admission;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod control;
pub mod db;
pub mod error;
pub mod extract;
pub mod fixtures;
pub mod hasher;
pub mod hosts;
pub mod ids;
pub mod keys;
pub mod middleware;
pub mod musicark;
pub mod musique;
pub mod openapi;
pub mod rate_limit;
pub mod serve;
pub mod state;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::clock::{Clocks, TenantClock, real_now_ms};
use crate::config::Config;
use crate::db::Db;
use crate::fixtures::Fixtures;
use crate::state::{AppState, DEFAULT_TENANT};

/// A built application: its routes and the state tests may reach into (clocks, database).
pub struct App {
    pub router: Router,
    pub state: AppState,
    pub fixtures: Fixtures,
    background: CancellationToken,
}

impl App {
    /// Opens the database, applies migrations, seeds the default tenant on first start, and
    /// starts the background key watcher.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        config.validate()?;
        let fixtures = Fixtures::load(config.fixtures.as_deref())?;
        let db = Db::open(&config.db).await?;
        let hasher = hasher::Hasher::new(config.hash_workers, config.hash_queue);
        fixtures::seed_tenant(&db, &hasher, DEFAULT_TENANT, "Default sandbox", &fixtures).await?;

        let clocks = Clocks::default();
        let rows: Vec<(String, i64, Option<i64>)> =
            sqlx::query_as("SELECT id, clock_offset_ms, clock_frozen_ms FROM tenants")
                .fetch_all(&db.read)
                .await?;
        for (tenant, offset, frozen) in rows {
            clocks.insert(&tenant, TenantClock::load(&tenant, offset, frozen));
        }

        control::store::backfill_seeds(&db).await?;
        let libraries = musique::library::Libraries::load(&db).await?;
        let deliveries = musique::deliveries::Deliveries::load(&db, &clocks).await?;
        let catalogue_source = fixtures.catalogue_path.clone();
        let state = AppState::new(
            config,
            db,
            clocks,
            libraries,
            deliveries,
            catalogue_source,
            hasher,
        );
        state.runtimes.load(&state.db).await?;
        state.load_windows().await?;
        control::webhooks::load(&state).await?;
        let background = CancellationToken::new();
        tokio::spawn(watch_revocations(state.clone(), background.clone()));
        tokio::spawn(flush_quotas(state.clone(), background.clone()));
        tokio::spawn(flush_windows(state.clone(), background.clone()));
        tokio::spawn(control::webhooks::run(state.clone(), background.clone()));
        tokio::spawn(musique::deliveries::write_behind(
            state.deliveries.clone(),
            state.db.clone(),
            background.clone(),
        ));
        // The catalogue is seeded (first start only) and indexed in the background, so
        // start-up does not wait for it; a MusicArk request that comes first waits for it.
        let warm = state.clone();
        tokio::spawn(async move {
            if let Err(err) = musicark::catalogue_index(&warm).await {
                tracing::error!(error = %err, "could not build the catalogue index");
            }
        });
        Ok(App {
            router: router(state.clone()),
            state,
            fixtures,
            background,
        })
    }

    /// Serves on `listener` until `shutdown` completes, then lets in-flight requests finish.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let limits = serve::Limits::from_config(&self.state.config);
        serve::serve(listener, self.router, limits, shutdown).await;
        self.background.cancel();
        // Counts taken since the last write-behind are kept across the restart.
        if let Err(err) = self.state.quotas.flush(&self.state.db).await {
            tracing::error!(error = %err, "could not write the last quota counts");
        }
        if let Err(err) = self.state.flush_windows().await {
            tracing::error!(error = %err, "could not write the last Musique rate-limit windows");
        }
        // Not needed for correctness (a start replays the sends), but the next start is quicker.
        if let Err(err) = self.state.deliveries.write_behind(&self.state.db, true).await {
            tracing::error!(error = %err, "could not write the last finished deliveries");
        }
        self.state.db.close().await;
        Ok(())
    }
}

/// Every route of both APIs, behind the shared stack.
pub fn router(state: AppState) -> Router {
    let app = Router::new()
        .merge(musique::routes(state.clone()))
        .merge(musicark::routes(state.clone()))
        .merge(control::routes(state.clone()))
        .merge(openapi::routes())
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed);
    middleware::stack(app, state)
}

/// Writes MusicArk's quota counts behind, every 200 ms.
async fn flush_quotas(state: AppState, stop: CancellationToken) {
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if let Err(err) = state.quotas.flush(&state.db).await {
            tracing::warn!(error = %err, "could not write quota counts");
        }
    }
}

/// Writes Musique's rate-limit windows behind, every 200 ms: a hard kill loses at most that.
async fn flush_windows(state: AppState, stop: CancellationToken) {
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if let Err(err) = state.flush_windows().await {
            tracing::warn!(error = %err, "could not write rate-limit windows");
        }
    }
}

/// Keeps the key cache honest: a key revoked by anyone (this process, the CLI on the same
/// file, another server) is evicted within a second.
async fn watch_revocations(state: AppState, stop: CancellationToken) {
    const EVERY: Duration = Duration::from_millis(250);
    // Revocations are stamped by the revoking process's clock; look back a little so that a
    // slow commit is not missed. Evicting twice is harmless.
    const LOOK_BACK_MS: i64 = 5_000;
    let mut watermark = real_now_ms() - LOOK_BACK_MS;
    // Keys deleted with their tenant by another process leave no revocation behind: when
    // the number of keys drops, every cached key is checked again on its next use.
    let mut key_count = i64::MAX;
    let mut ticker = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if let Ok(count) = keys::count(&state.db).await {
            if count < key_count {
                state.keys.evict_all();
            }
            key_count = count;
        }
        match keys::revoked_since(&state.db, watermark - LOOK_BACK_MS).await {
            Ok(revoked) => {
                let ids: Vec<String> = revoked.iter().map(|(id, _)| id.clone()).collect();
                state.keys.evict_keys(&ids);
                if let Some(newest) = revoked.iter().map(|(_, at)| *at).max() {
                    watermark = watermark.max(newest);
                }
                watermark = watermark.max(real_now_ms() - LOOK_BACK_MS);
                state.watcher_beat();
            }
            Err(err) => tracing::warn!(error = %err, "revocation watcher could not read keys"),
        }
    }
}
