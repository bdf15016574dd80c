//! The simulated player of each store, and the sends they received:
//! `GET|POST /_soundcheck/tenants/{id}/locations/{externalId}/player` and
//! `GET /_soundcheck/tenants/{id}/sends[/{sendId}]`.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::clock::duration_field;
use super::tenants::{TenantPath, existing, parse_body};
use crate::auth::Environment;
use crate::error::{Error, Result};
use crate::extract::{ApiPath, JsonValue, QueryPairs};
use crate::musique::deliveries::{DEFAULT_FAIL_AFTER_MS, Destination, PlayerView, SendView};
use crate::state::AppState;

/// Ours: an offline player fails a delivery after at most a week.
const MAX_FAIL_AFTER_MS: i64 = 7 * 86_400_000;

#[derive(sqlx::FromRow)]
struct LocationRow {
    id: i64,
    company_id: i64,
    prefix: String,
    external_id: String,
    user_id: i64,
}

/// The tenant's location with this External ID; `?company=` picks among companies that
/// share it.
async fn location(
    state: &AppState,
    tenant: &str,
    external_id: &str,
    query: &QueryPairs,
) -> Result<LocationRow> {
    let rows: Vec<LocationRow> = sqlx::query_as(
        "SELECT l.id, l.company_id, c.prefix, l.external_id, l.user_id
         FROM locations l JOIN companies c ON c.id = l.company_id
         WHERE c.tenant_id = ? AND l.external_id = ? ORDER BY c.id",
    )
    .bind(tenant)
    .bind(external_id)
    .fetch_all(&state.db.read)
    .await?;
    let company = query.get("company");
    let mut rows: Vec<LocationRow> = rows
        .into_iter()
        .filter(|r| company.is_none_or(|c| c == r.prefix))
        .collect();
    match rows.len() {
        0 => Err(Error::ResourceNotFound(format!(
            "Tenant `{tenant}` has no location `{external_id}`."
        ))),
        1 => Ok(rows.remove(0)),
        _ => Err(Error::validation(format!(
            "Several companies of tenant `{tenant}` have a location `{external_id}`; name one with `?company=`."
        ))),
    }
}

fn environment(query: &QueryPairs) -> Result<Environment> {
    match query.get("environment") {
        None | Some("prod") => Ok(Environment::Prod),
        Some("dev") => Ok(Environment::Dev),
        Some(other) => Err(Error::validation(format!(
            "`environment` must be prod or dev; got {other:?}."
        ))),
    }
}

fn destination(row: &LocationRow) -> Destination {
    Destination {
        location_id: row.id,
        external_id: row.external_id.clone(),
        user_id: row.user_id,
    }
}

#[utoipa::path(
    get, path = "/tenants/{tenant}/locations/{external_id}/player", tag = "Players", operation_id = "getPlayer",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`."), ("external_id" = String, Path, description = "The store's External ID."), ("environment" = Option<String>, Query, description = "`prod` (default) or `dev`."), ("company" = Option<String>, Query, description = "The company prefix, when several share the External ID.")),
    responses(
        (status = 200, description = "Now playing, queue and history.", body = PlayerView),
        (status = 400, description = "A bad `environment`, or an ambiguous External ID.", body = crate::openapi::MusiqueError),
        (status = 404, description = "No such tenant or store.", body = crate::openapi::MusiqueError)
    )
)]
/// `GET …/locations/{externalId}/player?environment=prod|dev&company=`
pub async fn get(
    State(state): State<AppState>,
    ApiPath((tenant, external_id)): ApiPath<(String, String)>,
    query: QueryPairs,
) -> Result<Json<PlayerView>> {
    let tenant = existing(&state, &tenant).await?;
    let row = location(&state, &tenant, &external_id, &query).await?;
    let now_ms = state.clocks.get(&tenant).now_ms();
    Ok(Json(state.deliveries.player_view(
        row.company_id,
        &destination(&row),
        environment(&query)?,
        now_ms,
    )))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlayerChange {
    pub online: bool,
    /// How long a delivery waits for this offline player before it fails (`90s`, `5m`, …).
    pub fail_after: Option<String>,
    pub fail_after_ms: Option<i64>,
}

#[utoipa::path(
    post, path = "/tenants/{tenant}/locations/{external_id}/player", tag = "Players", operation_id = "setPlayer",
    description = "Takes the player offline or online, now on the tenant's clock. Offline, deliveries wait and fail after `failAfter` (default 5 minutes).",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`."), ("external_id" = String, Path, description = "The store's External ID."), ("environment" = Option<String>, Query, description = "`prod` (default) or `dev`."), ("company" = Option<String>, Query, description = "The company prefix, when several share the External ID.")),
    request_body(content = PlayerChange, content_type = "application/json"),
    responses(
        (status = 200, description = "The player.", body = PlayerView),
        (status = 400, description = "The body is not JSON, or a field is missing, mistyped or out of range.", body = crate::openapi::MusiqueError),
        (status = 404, description = "No such tenant or store.", body = crate::openapi::MusiqueError)
    )
)]
/// `POST …/locations/{externalId}/player` `{"online": false, "failAfter": "2m"}`: the change
/// takes effect now on the tenant's clock.
pub async fn set(
    State(state): State<AppState>,
    ApiPath((tenant, external_id)): ApiPath<(String, String)>,
    query: QueryPairs,
    JsonValue(body): JsonValue,
) -> Result<Json<PlayerView>> {
    let tenant = existing(&state, &tenant).await?;
    let row = location(&state, &tenant, &external_id, &query).await?;
    let environment = environment(&query)?;
    let change: PlayerChange = parse_body(body)?;
    let fail_after_ms = duration_field("failAfter", change.fail_after.as_deref(), change.fail_after_ms)?
        .unwrap_or(DEFAULT_FAIL_AFTER_MS);
    if !(1..=MAX_FAIL_AFTER_MS).contains(&fail_after_ms) {
        return Err(Error::validation(format!(
            "`failAfter` must be from 1 ms to {} days.",
            MAX_FAIL_AFTER_MS / 86_400_000
        )));
    }
    let now_ms = state.clocks.get(&tenant).now_ms();
    sqlx::query(
        "INSERT INTO player_events (tenant_id, location_id, environment, at_ms, online, fail_after_ms)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&tenant)
    .bind(row.id)
    .bind(environment.as_str())
    .bind(now_ms)
    .bind(change.online)
    .bind(fail_after_ms)
    .execute(&state.db.write)
    .await?;
    let location = destination(&row);
    state.deliveries.set_online(
        row.company_id,
        &location,
        environment,
        now_ms,
        change.online,
        fail_after_ms,
    );
    Ok(Json(state.deliveries.player_view(
        row.company_id,
        &location,
        environment,
        now_ms,
    )))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SendList {
    pub sends: Vec<SendView>,
}

#[utoipa::path(
    get, path = "/tenants/{tenant}/sends", tag = "Players", operation_id = "listSends",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`."), ("audioId" = Option<String>, Query, description = "Only this audio's sends.")),
    responses(
        (status = 200, description = "Sends, newest first, with each destination's status.", body = SendList),
        (status = 404, description = "No such tenant.", body = crate::openapi::MusiqueError)
    )
)]
/// `GET /_soundcheck/tenants/{id}/sends?audioId=`: every send, newest first, with each
/// destination's status.
pub async fn sends(
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    query: QueryPairs,
) -> Result<Json<SendList>> {
    let tenant = existing(&state, &tenant).await?;
    let companies = super::store::company_ids(&state.db, &tenant).await?;
    let now_ms = state.clocks.get(&tenant).now_ms();
    let mut sends = state.deliveries.sends_view(&companies, now_ms, None);
    if let Some(audio) = query.get("audioId") {
        sends.retain(|s| s.audio_id == audio);
    }
    Ok(Json(SendList { sends }))
}

#[utoipa::path(
    get, path = "/tenants/{tenant}/sends/{send_id}", tag = "Players", operation_id = "getSend",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`."), ("send_id" = String, Path)),
    responses(
        (status = 200, description = "The send.", body = SendView),
        (status = 404, description = "No such tenant or send.", body = crate::openapi::MusiqueError)
    )
)]
/// `GET /_soundcheck/tenants/{id}/sends/{sendId}`
pub async fn send(
    State(state): State<AppState>,
    ApiPath((tenant, send_id)): ApiPath<(String, String)>,
) -> Result<Json<SendView>> {
    let tenant = existing(&state, &tenant).await?;
    let companies = super::store::company_ids(&state.db, &tenant).await?;
    let now_ms = state.clocks.get(&tenant).now_ms();
    state
        .deliveries
        .sends_view(&companies, now_ms, Some(&send_id))
        .into_iter()
        .next()
        .map(Json)
        .ok_or_else(|| Error::ResourceNotFound(format!("Send `{send_id}` was not found.")))
}
