//! What the live page reads, each in one call: every store's player
//! (`GET /_soundcheck/tenants/{id}/stores`), the tenant's audio with its stats
//! (`…/library`), and each key's windows and quota without its secret (`…/limits`).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Serialize;

use super::ControlState;
use super::page::{self, Page, cursor};
use super::players::{LocationRow, environment, player_page};
use super::store;
use super::tenants::ExistingTenant;
use crate::auth::{Environment, Tier};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::extract::QueryPairs;
use crate::musique::deliveries::PlayerView;
use crate::musique::library::LibraryKey;
use crate::musique::store::Stats;
use crate::rate_limit::{Limits, WindowUsage};

/// Queued deliveries and history entries shown per store in [`stores`]; the player endpoint
/// pages the rest.
pub const PLAYER_ITEMS: usize = 10;
/// The most audio objects one [`library`] answer lists (`total` counts them all).
pub const MAX_AUDIO: usize = 500;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoreView {
    /// The company's prefix.
    pub company: String,
    #[serde(flatten)]
    pub player: PlayerView,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoreList {
    /// A page of stores, by company then creation; each with the first 10 of its queue and
    /// history.
    pub stores: Vec<StoreView>,
    /// How many stores the tenant has.
    pub total: i64,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/_soundcheck/tenants/{tenant}/stores", tag = "Live page", operation_id = "listStores",
    description = "Every store of the tenant's companies with its player as `GET …/player` shows it, but with the first 10 queued deliveries and history entries (`queueTotal` counts the whole queue), `limit` stores at a time.",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`."), ("environment" = Option<String>, Query, description = "`prod` (default) or `dev`."), ("limit" = Option<usize>, Query, minimum = 1, maximum = 1000, description = "Stores per page; default 100."), ("cursor" = Option<String>, Query, description = "The `nextCursor` of the previous page.")),
    responses(
        (status = 200, description = "A page of stores.", body = StoreList),
        (status = 400, description = "A bad `environment`, `limit` or `cursor`.", body = crate::musique::docs::MusiqueError),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `GET /_soundcheck/tenants/{id}/stores?environment=&limit=&cursor=`
pub async fn stores(
    State(state): State<ControlState>,
    query: QueryPairs,
    ExistingTenant(tenant): ExistingTenant,
) -> Result<Json<StoreList>> {
    let environment = environment(&query)?;
    let page = Page::of(&query, "stores", 1)?;
    let after = page.number(0)?.unwrap_or(i64::MIN);
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM locations l JOIN companies c ON c.id = l.company_id WHERE c.tenant_id = ?",
    )
    .bind(&tenant)
    .fetch_one(&state.core.db.read)
    .await?;
    let mut rows: Vec<LocationRow> = sqlx::query_as(
        "SELECT l.id, l.company_id, c.prefix, l.external_id, l.user_id
         FROM locations l JOIN companies c ON c.id = l.company_id
         WHERE c.tenant_id = ? AND l.id > ? ORDER BY l.id LIMIT ?",
    )
    .bind(&tenant)
    .bind(after)
    .bind(page.limit as i64 + 1)
    .fetch_all(&state.core.db.read)
    .await?;
    let next_cursor = page::next(&mut rows, page.limit, |r| cursor("stores", &[&r.id]));
    let now_ms = state.core.clocks.get(&tenant).now_ms();
    let shown = Page {
        limit: PLAYER_ITEMS,
        after: None,
    };
    let mut stores = Vec::with_capacity(rows.len());
    for row in &rows {
        let player = player_page(&state, row, environment, now_ms, &shown).await?;
        stores.push(StoreView {
            company: row.prefix.clone(),
            player,
        });
    }
    Ok(Json(StoreList {
        stores,
        total,
        next_cursor,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LibraryItem {
    pub id: String,
    pub name: String,
    /// The company's prefix.
    pub company: String,
    pub environment: Environment,
    /// Seconds.
    pub duration: f64,
    /// Bytes.
    pub size: i64,
    pub created_at: String,
    /// Where soundcheck serves the MP3 (no key needed).
    pub url: String,
    pub stats: Stats,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LibraryList {
    /// By company, prod then dev, newest first; at most 500.
    pub audio: Vec<LibraryItem>,
    /// How many audio objects the tenant has.
    pub total: i64,
}

#[utoipa::path(
    get, path = "/_soundcheck/tenants/{tenant}/library", tag = "Live page", operation_id = "listLibrary",
    description = "Every audio object of the tenant's companies (prod and dev) with its stats as `GET /audio/{id}` shows them and its media URL; at most 500 (`total` counts them all). Sends and their destinations: `GET …/sends?audioId=`.",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`.")),
    responses(
        (status = 200, description = "The library.", body = LibraryList),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `GET /_soundcheck/tenants/{id}/library`
pub async fn library(
    State(state): State<ControlState>,
    headers: HeaderMap,
    ExistingTenant(tenant): ExistingTenant,
) -> Result<Json<LibraryList>> {
    let base = crate::musique::audio::base_url(&headers, &state.core);
    let companies = store::companies(&state.core.db, &tenant).await?;
    let now_ms = state.core.clocks.get(&tenant).now_ms();
    let mut audio = Vec::new();
    let mut total = 0;
    for company in &companies {
        for environment in [Environment::Prod, Environment::Dev] {
            let key = LibraryKey {
                company_id: company.id,
                environment,
            };
            let room = MAX_AUDIO.saturating_sub(audio.len()) as i64;
            let (items, count) = state.musique.deliveries.with_stats(company.id, now_ms, |stats| {
                state.musique.libraries.page(key, 1, room, |entries, count| {
                    let items: Vec<LibraryItem> = entries
                        .into_iter()
                        .map(|entry| LibraryItem {
                            id: entry.meta.id.clone(),
                            name: entry.meta.name.clone(),
                            company: company.prefix.clone(),
                            environment,
                            duration: (entry.meta.duration * 1000.0).round() / 1000.0,
                            size: entry.meta.size,
                            created_at: rfc3339_ms(entry.meta.created_at_ms),
                            url: format!("{base}/media/audio/{}.mp3", entry.meta.id),
                            stats: stats(&entry.meta.id),
                        })
                        .collect();
                    (items, count)
                })
            });
            audio.extend(items);
            total += count;
        }
    }
    Ok(Json(LibraryList { audio, total }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    /// `minute`, `hour`, `day` or `month`.
    pub window: &'static str,
    pub limit: i64,
    /// Counted against the window now (Musique's windows drip back one request at a time).
    pub used: i64,
    pub remaining: i64,
    /// When the window is whole again, on the tenant's clock.
    pub reset_at: String,
}

/// A key's limits, never its secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyLimits {
    pub id: String,
    /// `musique` or `musicark`.
    pub api: String,
    pub label: String,
    /// The token's non-secret head.
    pub lookup: String,
    pub company: Option<String>,
    pub environment: Option<String>,
    pub tier: Option<String>,
    pub revoked: bool,
    /// Musique: the minute, hour and day windows; MusicArk: the month of the tenant's clock.
    /// Empty for a revoked key.
    pub windows: Vec<Window>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitList {
    pub keys: Vec<KeyLimits>,
}

fn window(name: &'static str, usage: WindowUsage) -> Window {
    Window {
        window: name,
        limit: i64::from(usage.limit),
        used: i64::from(usage.used),
        remaining: i64::from(usage.remaining),
        reset_at: rfc3339_ms(usage.reset_epoch_secs.saturating_mul(1000)),
    }
}

#[utoipa::path(
    get, path = "/_soundcheck/tenants/{tenant}/limits", tag = "Live page", operation_id = "listLimits",
    description = "Each key of the tenant (never its secret) with what it has used: Musique keys their minute, hour and day windows, MusicArk keys the month of the tenant's clock. Reading counts nothing.",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`.")),
    responses(
        (status = 200, description = "Every key's windows.", body = LimitList),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `GET /_soundcheck/tenants/{id}/limits`
pub async fn limits(
    State(state): State<ControlState>,
    ExistingTenant(tenant): ExistingTenant,
) -> Result<Json<LimitList>> {
    let keys = crate::keys::list_of_tenant(&state.core.db, &tenant)
        .await
        .map_err(Error::Internal)?;
    let clock = state.core.clocks.get(&tenant);
    let now_ms = clock.now_ms();
    let mut out = Vec::new();
    for key in keys {
        let revoked = key.revoked_at_ms.is_some();
        let mut windows = Vec::new();
        if !revoked && key.api == "musique" {
            let defaults = Limits::default();
            let limits = Limits {
                per_minute: crate::musique::auth::as_limit(key.limit_minute, defaults.per_minute),
                per_hour: crate::musique::auth::as_limit(key.limit_hour, defaults.per_hour),
                per_day: crate::musique::auth::as_limit(key.limit_day, defaults.per_day),
            };
            // The limiter the key's first request would make: reading it counts nothing.
            let usage = state
                .musique
                .limiter_for(&tenant, &key.id, limits, &clock)
                .usage();
            windows.push(window("minute", usage.per_minute));
            windows.push(window("hour", usage.per_hour));
            windows.push(window("day", usage.per_day));
        } else if !revoked && key.api == "musicark" {
            let tier = key.tier.as_deref().and_then(Tier::parse).unwrap_or(Tier::Free);
            let limit = key.monthly_limit.unwrap_or_else(|| tier.default_monthly_limit());
            let (used, reset) = state
                .musicark
                .quotas
                .used(&state.core.db, &key.id, now_ms)
                .await?;
            windows.push(Window {
                window: "month",
                limit,
                used,
                remaining: (limit - used).max(0),
                reset_at: rfc3339_ms(reset.timestamp_millis()),
            });
        }
        out.push(KeyLimits {
            id: key.id,
            api: key.api,
            label: key.label,
            lookup: key.lookup,
            company: key.company,
            environment: key.environment,
            tier: key.tier,
            revoked,
            windows,
        });
    }
    Ok(Json(LimitList { keys: out }))
}
