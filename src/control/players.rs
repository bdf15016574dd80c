//! The simulated player of each store, and the sends they received:
//! `GET|POST /_soundcheck/tenants/{id}/locations/{externalId}/player` and
//! `GET /_soundcheck/tenants/{id}/sends[/{sendId}]`.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::ControlState;
use super::clock::duration_field;
use super::page::{self, Page, cursor};
use super::tenants::{ExistingTenant, TenantBody, parse_body};
use crate::auth::Environment;
use crate::error::{Error, Result};
use crate::extract::{ApiPath, JsonValue, QueryPairs};
use crate::musique::deliveries::{
    self, DEFAULT_FAIL_AFTER_MS, Destination, HistoryItem, PlayerView, SendView,
};
use crate::musique::store::{self as musique_store, SendRow};

/// Ours: an offline player fails a delivery after at most a week.
const MAX_FAIL_AFTER_MS: i64 = 7 * 86_400_000;

#[derive(sqlx::FromRow)]
pub(super) struct LocationRow {
    pub(super) id: i64,
    pub(super) company_id: i64,
    pub(super) prefix: String,
    pub(super) external_id: String,
    pub(super) user_id: i64,
}

/// The tenant's location with this External ID; `?company=` picks among companies that
/// share it.
async fn location(
    state: &ControlState,
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
    .fetch_all(&state.core.db.read)
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

pub(super) fn environment(query: &QueryPairs) -> Result<Environment> {
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
    get, path = "/_soundcheck/tenants/{tenant}/locations/{external_id}/player", tag = "Players", operation_id = "getPlayer",
    description = "Now playing, the first `limit` of the queue (`queueTotal` counts it all), and a page of the history: played and failed, newest first; follow `nextCursor` for older ones.",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`."), ("external_id" = String, Path, description = "The store's External ID."), ("environment" = Option<String>, Query, description = "`prod` (default) or `dev`."), ("company" = Option<String>, Query, description = "The company prefix, when several share the External ID."), ("limit" = Option<usize>, Query, minimum = 1, maximum = 1000, description = "History entries (and queued deliveries) per answer; default 100."), ("cursor" = Option<String>, Query, description = "The `nextCursor` of the previous answer: the history goes on from there.")),
    responses(
        (status = 200, description = "Now playing, queue and history.", body = PlayerView),
        (status = 400, description = "A bad `environment`, `limit` or `cursor`, or an ambiguous External ID.", body = crate::musique::docs::MusiqueError),
        (status = 404, description = "No such tenant or store.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `GET …/locations/{externalId}/player?environment=prod|dev&company=&limit=&cursor=`
pub async fn get(
    State(state): State<ControlState>,
    ApiPath((_tenant, external_id)): ApiPath<(String, String)>,
    query: QueryPairs,
    ExistingTenant(tenant): ExistingTenant,
) -> Result<Json<PlayerView>> {
    let row = location(&state, &tenant, &external_id, &query).await?;
    let environment = environment(&query)?;
    let page = Page::of(&query, "history", 2)?;
    let now_ms = state.core.clocks.get(&tenant).now_ms();
    Ok(Json(player_page(&state, &row, environment, now_ms, &page).await?))
}

/// The player, its history merged from memory (what finished lately) and SQLite.
pub(super) async fn player_page(
    state: &ControlState,
    row: &LocationRow,
    environment: Environment,
    now_ms: i64,
    page: &Page,
) -> Result<PlayerView> {
    let before = page.number(0)?.zip(page.text(1));
    let _settled = state.musique.deliveries.reading().await;
    let (mut view, mut history) = state.musique.deliveries.player_view(
        row.company_id,
        &destination(row),
        environment,
        now_ms,
        page.limit,
        before,
    );
    let stored =
        musique_store::history_page(&state.core.db, row.id, environment, before, page.limit + 1).await?;
    history.extend(stored.into_iter().map(deliveries::stored_history_item));
    history.sort_unstable_by(|a, b| (b.finished_ms, &b.send_id).cmp(&(a.finished_ms, &a.send_id)));
    history.truncate(page.limit + 1);
    view.next_cursor = page::next(&mut history, page.limit, |h: &HistoryItem| {
        cursor("history", &[&h.finished_ms, &h.send_id])
    });
    view.history = history.into_iter().map(|h| h.view).collect();
    Ok(view)
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
    post, path = "/_soundcheck/tenants/{tenant}/locations/{external_id}/player", tag = "Players", operation_id = "setPlayer",
    description = "Takes the player offline or online, now on the tenant's clock. Offline, deliveries wait and fail after `failAfter` (default 5 minutes).",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`."), ("external_id" = String, Path, description = "The store's External ID."), ("environment" = Option<String>, Query, description = "`prod` (default) or `dev`."), ("company" = Option<String>, Query, description = "The company prefix, when several share the External ID.")),
    request_body(content = PlayerChange, content_type = "application/json"),
    responses(
        (status = 200, description = "The player, as `GET` shows it with the default `limit`.", body = PlayerView),
        (status = 400, description = "The body is not JSON, or a field is missing, mistyped or out of range.", body = crate::musique::docs::MusiqueError),
        (status = 404, description = "No such tenant or store.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `POST …/locations/{externalId}/player` `{"online": false, "failAfter": "2m"}`: the change
/// takes effect now on the tenant's clock.
pub async fn set(
    State(state): State<ControlState>,
    ApiPath((_tenant, external_id)): ApiPath<(String, String)>,
    query: QueryPairs,
    TenantBody(tenant, JsonValue(body)): TenantBody<JsonValue>,
) -> Result<Json<PlayerView>> {
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
    let now_ms = state.core.clocks.get(&tenant).now_ms();
    // Recorded in SQLite and by the players before anyone rebuilds them from SQLite.
    let recording = state.musique.deliveries.gate(row.company_id).await;
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
    .execute(&state.core.db.write)
    .await?;
    let location = destination(&row);
    state.musique.deliveries.set_online(
        row.company_id,
        &location,
        environment,
        now_ms,
        change.online,
        fail_after_ms,
    );
    drop(recording);
    let page = Page::of(&QueryPairs::default(), "history", 2)?;
    Ok(Json(player_page(&state, &row, environment, now_ms, &page).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendList {
    /// A page of sends, newest first.
    pub sends: Vec<SendView>,
    /// How many sends match, on every page.
    pub total: i64,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/_soundcheck/tenants/{tenant}/sends", tag = "Players", operation_id = "listSends",
    description = "Sends, newest first (by creation on the tenant's clock, then the order they were made), with each destination's status, `limit` at a time; follow `nextCursor` for older ones. Sends made meanwhile do not disturb the walk.",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`."), ("audioId" = Option<String>, Query, description = "Only this audio's sends."), ("limit" = Option<usize>, Query, minimum = 1, maximum = 1000, description = "Sends per page; default 100."), ("cursor" = Option<String>, Query, description = "The `nextCursor` of the previous page.")),
    responses(
        (status = 200, description = "A page of sends.", body = SendList),
        (status = 400, description = "A bad `limit` or `cursor`.", body = crate::musique::docs::MusiqueError),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `GET /_soundcheck/tenants/{id}/sends?audioId=&limit=&cursor=`: a page of sends, newest
/// first, with each destination's status.
pub async fn sends(
    State(state): State<ControlState>,
    query: QueryPairs,
    ExistingTenant(tenant): ExistingTenant,
) -> Result<Json<SendList>> {
    let page = Page::of(&query, "sends", 2)?;
    let after = page.number(0)?.zip(page.number(1)?);
    let audio_id = query.get("audioId");
    let companies = super::store::company_ids(&state.core.db, &tenant).await?;
    let now_ms = state.core.clocks.get(&tenant).now_ms();
    let _settled = state.musique.deliveries.reading().await;
    let total = musique_store::count_sends(&state.core.db, &tenant, audio_id).await?;
    let mut rows =
        musique_store::sends_page(&state.core.db, &tenant, audio_id, after, page.limit + 1).await?;
    let next_cursor = page::next(&mut rows, page.limit, |r: &SendRow| {
        cursor("sends", &[&r.created_at_ms, &r.seq])
    });
    let sends = send_views(&state, &companies, now_ms, rows).await?;
    Ok(Json(SendList {
        sends,
        total,
        next_cursor,
    }))
}

/// The sends' views: destinations still held from memory (read first), the rest from their
/// stored outcomes. The caller holds [`crate::musique::deliveries::Deliveries::reading`].
pub(super) async fn send_views(
    state: &ControlState,
    companies: &[i64],
    now_ms: i64,
    rows: Vec<SendRow>,
) -> Result<Vec<SendView>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let wanted: HashSet<&str> = ids.iter().copied().collect();
    let held = state
        .musique
        .deliveries
        .live_destinations(companies, now_ms, &wanted);
    let stored = musique_store::destinations(&state.core.db, &ids).await?;
    let mut by_send: HashMap<&str, Vec<&musique_store::DestinationRow>> = HashMap::new();
    for d in &stored {
        by_send.entry(d.send_id.as_str()).or_default().push(d);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let destinations = by_send.get(row.id.as_str()).map_or(&[][..], Vec::as_slice);
            let held = held.get(&row.id);
            deliveries::stored_send_view(row, destinations, held, now_ms)
        })
        .collect())
}

#[utoipa::path(
    get, path = "/_soundcheck/tenants/{tenant}/sends/{send_id}", tag = "Players", operation_id = "getSend",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`."), ("send_id" = String, Path)),
    responses(
        (status = 200, description = "The send.", body = SendView),
        (status = 404, description = "No such tenant or send.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `GET /_soundcheck/tenants/{id}/sends/{sendId}`
pub async fn send(
    State(state): State<ControlState>,
    ApiPath((_tenant, send_id)): ApiPath<(String, String)>,
    ExistingTenant(tenant): ExistingTenant,
) -> Result<Json<SendView>> {
    let companies = super::store::company_ids(&state.core.db, &tenant).await?;
    let now_ms = state.core.clocks.get(&tenant).now_ms();
    let _settled = state.musique.deliveries.reading().await;
    let rows = musique_store::send_row(&state.core.db, &tenant, &send_id).await?;
    send_views(&state, &companies, now_ms, rows.into_iter().collect())
        .await?
        .into_iter()
        .next()
        .map(Json)
        .ok_or_else(|| Error::ResourceNotFound(format!("Send `{send_id}` was not found.")))
}
