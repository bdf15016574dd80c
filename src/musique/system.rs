//! `GET /` (API name, version, docs URL and the caller's integration) and `GET /health`.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::MusiqueState;
use super::auth::MusiqueCaller;
use super::store;
use crate::clock::{real_now_ms, rfc3339_ms};
use crate::error::Result;
use crate::extract::Caller;
use crate::sync::MutexExt;

pub const API_VERSION: &str = "1.0.0";
pub const DOCS_URL: &str = "https://docs.musique.app";

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    pub company: String,
    pub company_name: String,
    pub environment: &'static str,
    pub permissions: Vec<&'static str>,
    /// `"all"` or the listed External IDs.
    #[schema(value_type = Value)]
    pub external_ids: serde_json::Value,
    pub locations: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Info {
    pub name: &'static str,
    pub version: &'static str,
    pub documentation: &'static str,
    pub integration: Integration,
}

#[utoipa::path(
    get, path = "/api/v1/integration", tag = "System", operation_id = "apiInfo",
    extensions(
        ("x-basis" = json!({"basis": "vendor_docs", "notes": "Name, version and docs URL are documented; the `integration` block comes from the legacy info endpoint."})),
    ),
    description = "API name, version and docs URL, plus the calling token's integration (from the legacy info endpoint).",
    responses((status = 200, description = "About the API and this token.", body = Info))
)]
pub async fn info(
    State(state): State<MusiqueState>,
    Caller(caller): Caller<MusiqueCaller>,
) -> Result<Json<Info>> {
    let locations = match &caller.scope {
        Some(ids) => ids.len() as i64,
        None => store::location_count(&state.core.db, caller.company_id).await?,
    };
    Ok(Json(Info {
        name: "Musique Partner API",
        version: API_VERSION,
        documentation: DOCS_URL,
        integration: Integration {
            company: caller.company_prefix.clone(),
            company_name: caller.company_name.clone(),
            environment: caller.environment.as_str(),
            permissions: caller.permissions.names(),
            external_ids: match &caller.scope {
                Some(ids) => serde_json::json!(ids),
                None => serde_json::json!("all"),
            },
            locations,
        },
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Services {
    pub database: &'static str,
    pub storage: &'static str,
    pub messaging: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub timestamp: String,
    pub services: Services,
}

fn up(ok: bool) -> &'static str {
    if ok { "up" } else { "down" }
}

#[utoipa::path(
    get, path = "/api/v1/integration/health", tag = "System", operation_id = "health",
    extensions(
        ("x-basis" = json!({"basis": "vendor_docs", "notes": "Services are really checked; the check results are reused for a second."})),
    ),
    responses((status = 200, description = "Each service, really checked.", body = Health))
)]
/// Each service is really checked, at most once a second: the read pool answers, the single
/// writer is open (and answers, when idle), and the background key watcher is beating.
pub async fn health(
    State(state): State<MusiqueState>,
    Caller(caller): Caller<MusiqueCaller>,
) -> Json<Health> {
    let [database, storage, messaging] = checks(&state).await;
    let status = match (database, storage && messaging) {
        (false, _) => "down",
        (true, false) => "degraded",
        (true, true) => "healthy",
    };
    Json(Health {
        status,
        version: API_VERSION,
        timestamp: rfc3339_ms(caller.clock.now_ms()),
        services: Services {
            database: up(database),
            storage: up(storage),
            messaging: up(messaging),
        },
    })
}

async fn checks(state: &MusiqueState) -> [bool; 3] {
    const FRESH_MS: i64 = 1_000;
    let cached = *state.health.locked();
    if let Some((at, results)) = cached
        && real_now_ms() - at < FRESH_MS
    {
        return results;
    }
    let database = sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(&state.core.db.read)
        .await
        .is_ok();
    // A writer busy with a long transaction (seeding a catalogue, a 10 MB upload) is up:
    // health must not queue behind it. An idle one is asked to read.
    let storage = match state.core.db.write.try_acquire() {
        Some(mut conn) => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audio_blobs WHERE 0")
            .fetch_one(&mut *conn)
            .await
            .is_ok(),
        None => !state.core.db.write.is_closed(),
    };
    let messaging = real_now_ms() - state.core.watcher_beat_ms.load(Ordering::Acquire) < 5_000;
    let results = [database, storage, messaging];
    *state.health.locked() = Some((real_now_ms(), results));
    results
}
