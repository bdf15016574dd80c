//! The application assembled: the state of each API and of the control plane over one shared
//! core, the router over all of them, and the background tasks.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use axum::response::Response;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::clock::{Clocks, TenantClock, real_now_ms};
use crate::config::Config;
use crate::control::{self, ControlState};
use crate::db::Db;
use crate::error::Error;
use crate::fixtures::{self, Fixtures};
use crate::hasher::Hasher;
use crate::musicark::{self, ArkState};
use crate::musique::{self, MusiqueState};
use crate::state::{Core, DEFAULT_TENANT};
use crate::{keys, middleware, openapi, serve};

/// Every state of the application. Built once; each handler and middleware takes the one
/// state it needs (through [`FromRef`]), still one reference count per clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub core: Core,
    pub musique: MusiqueState,
    pub musicark: ArkState,
    pub control: ControlState,
}

impl FromRef<AppState> for Core {
    fn from_ref(state: &AppState) -> Core {
        state.core.clone()
    }
}

impl FromRef<AppState> for MusiqueState {
    fn from_ref(state: &AppState) -> MusiqueState {
        state.musique.clone()
    }
}

impl FromRef<AppState> for ArkState {
    fn from_ref(state: &AppState) -> ArkState {
        state.musicark.clone()
    }
}

impl FromRef<AppState> for ControlState {
    fn from_ref(state: &AppState) -> ControlState {
        state.control.clone()
    }
}

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
        let hasher = Hasher::new(config.hash_workers, config.hash_queue);
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
        let core = Core::new(config, db, clocks, hasher);
        let webhooks = std::sync::Arc::<control::webhooks::Registry>::default();
        let musique = MusiqueState::new(core.clone(), libraries, deliveries);
        let musicark = ArkState::new(core.clone(), fixtures.catalogue.clone());
        let control = ControlState::new(core.clone(), musique.clone(), musicark.clone(), webhooks);
        let state = AppState {
            core,
            musique,
            musicark,
            control,
        };
        state.core.runtimes.load(&state.core.db).await?;
        state.musique.load_windows().await?;
        control::webhooks::load(&state.control).await?;
        let background = CancellationToken::new();
        tokio::spawn(crate::db::checkpoint_behind(
            state.core.db.clone(),
            background.clone(),
        ));
        tokio::spawn(watch_revocations(state.clone(), background.clone()));
        tokio::spawn(flush_quotas(state.musicark.clone(), background.clone()));
        tokio::spawn(flush_windows(state.musique.clone(), background.clone()));
        tokio::spawn(control::webhooks::run(state.control.clone(), background.clone()));
        tokio::spawn(musique::deliveries::write_behind(
            state.musique.deliveries.clone(),
            state.core.db.clone(),
            background.clone(),
        ));
        // The catalogue is seeded (first start only) and indexed in the background, so
        // start-up does not wait for it; a MusicArk request that comes first starts it at once
        // and waits for it.
        let warm = state.musicark.clone();
        let stop = background.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(musicark::WARM_UP_AFTER) => {}
                () = stop.cancelled() => return,
            }
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
        let state = &self.state;
        let limits = serve::Limits::from_config(&state.core.config);
        // Event streams never end by themselves: they end at shutdown, so that the
        // connections that carry them can finish.
        let streams = state.control.streams.stop.clone();
        let shutdown = async move {
            shutdown.await;
            streams.cancel();
        };
        serve::serve(listener, self.router, limits, shutdown).await;
        self.background.cancel();
        // Counts taken since the last write-behind are kept across the restart.
        if let Err(err) = state.musicark.quotas.flush(&state.core.db).await {
            tracing::error!(error = %err, "could not write the last quota counts");
        }
        if let Err(err) = state.musique.flush_windows().await {
            tracing::error!(error = %err, "could not write the last Musique rate-limit windows");
        }
        // Not needed for correctness (a start replays the sends), but the next start is quicker.
        if let Err(err) = state.musique.deliveries.write_behind(&state.core.db, true).await {
            tracing::error!(error = %err, "could not write the last finished deliveries");
        }
        state.core.db.close().await;
        Ok(())
    }
}

/// Every route of both APIs and of the control plane, behind the shared stack.
pub fn router(state: AppState) -> Router {
    let app = Router::new()
        .merge(musique::routes(state.musique.clone()))
        .merge(musicark::routes(state.musicark.clone()))
        .merge(control::routes(state.control.clone()))
        .merge(openapi::routes(state.core.config.envelope))
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed);
    stack(app, state.core)
}

/// The header whose value names a request's tenant when no key layer did (its company prefix).
static X_API_KEY: axum::http::HeaderName = axum::http::HeaderName::from_static("x-api-key");

/// The shared stack around `router`, told which API each path belongs to.
pub fn stack(router: Router, core: Core) -> Router {
    let entry = middleware::Entry {
        journal_api: |path| match Api::of_path(path) {
            Api::Musique => Some("musique"),
            Api::MusicArk => Some("musicark"),
            Api::Control => None,
        },
        render: render_by_path,
        alias_header: &X_API_KEY,
        tenant_alias: musique::auth::company_prefix,
    };
    middleware::stack(router, core, entry)
}

/// Whose a path is, for what no API's router answered (unknown paths, methods, panics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    Musique,
    MusicArk,
    Control,
}

impl Api {
    /// `/api/v1/integration` and the legacy `/api/…` paths are Musique's, the rest of
    /// `/api/v1` is MusicArk's; everything else (docs included) the control plane's.
    fn of_path(path: &str) -> Api {
        if path.starts_with("/api/v1/integration") || path.starts_with("/media/") {
            Api::Musique
        } else if path == "/api/v1" || path.starts_with("/api/v1/") {
            Api::MusicArk
        } else if path.starts_with("/api") {
            Api::Musique
        } else {
            Api::Control
        }
    }
}

/// An error no API rendered, in the envelope of the API its path belongs to.
fn render_by_path(err: &Error, path: &str, request_id: &str) -> Response {
    match Api::of_path(path) {
        Api::Musique => musique::error::render_error(err, request_id),
        Api::MusicArk => musicark::render_error(err, request_id),
        Api::Control => control::error::render_error(err, request_id),
    }
}

/// Writes MusicArk's quota counts behind, every 200 ms.
async fn flush_quotas(state: ArkState, stop: CancellationToken) {
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if let Err(err) = state.quotas.flush(&state.core.db).await {
            tracing::warn!(error = %err, "could not write quota counts");
        }
    }
}

/// Writes Musique's rate-limit windows behind, every 200 ms: a hard kill loses at most that.
async fn flush_windows(state: MusiqueState, stop: CancellationToken) {
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

/// Keeps both APIs' key caches honest: a key revoked by anyone (this process, the CLI on the
/// same file, another server) is evicted within a second.
async fn watch_revocations(state: AppState, stop: CancellationToken) {
    const EVERY: Duration = Duration::from_millis(250);
    // Revocations are stamped by the revoking process's clock; look back a little so that a
    // slow commit is not missed. Evicting twice is harmless.
    const LOOK_BACK_MS: i64 = 5_000;
    let db = &state.core.db;
    let (musique, musicark) = (&state.musique.keys, &state.musicark.keys);
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
        if let Ok(count) = keys::count(db).await {
            if count < key_count {
                musique.evict_all();
                musicark.evict_all();
            }
            key_count = count;
        }
        match keys::revoked_since(db, watermark - LOOK_BACK_MS).await {
            Ok(revoked) => {
                let ids: Vec<String> = revoked.iter().map(|(id, _)| id.clone()).collect();
                musique.evict_keys(&ids);
                musicark.evict_keys(&ids);
                if let Some(newest) = revoked.iter().map(|(_, at)| *at).max() {
                    watermark = watermark.max(newest);
                }
                watermark = watermark.max(real_now_ms() - LOOK_BACK_MS);
                state.core.watcher_beat();
            }
            Err(err) => tracing::warn!(error = %err, "revocation watcher could not read keys"),
        }
    }
}
