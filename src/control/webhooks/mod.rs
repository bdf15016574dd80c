//! Delivery webhooks: a tenant registers endpoints for send and delivery events; each event
//! is POSTed as JSON, signed with HMAC-SHA256, retried with exponential back-off on the
//! tenant's clock until a 2xx acknowledges it or its attempts run out, and listed in an outbox.
//!
//! Delivery is at-least-once and in order per endpoint: an endpoint's next event waits until
//! the one before it is acknowledged or given up, so a send's events arrive in the order they
//! happened. Every event has an `id` by which receivers drop duplicates.
//!
//! Signature: `Soundcheck-Signature: v1=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>` with
//! `Soundcheck-Timestamp: <Unix seconds on the tenant's clock>`, plus `Soundcheck-Event-Id`
//! and `Soundcheck-Event-Type`.
//!
//! - [`dispatcher`] the background loop that writes events into the outbox and POSTs them
//! - [`store`]      the SQL of endpoints and the outbox

mod dispatcher;
mod store;

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use dispatcher::{CLOCK_DISPATCH_BUDGET, Registry, dispatch, run};

use super::page::{Page, cursor, next};
use super::tenants::{ExistingTenant, TenantBody, parse_body};
use crate::clock::rfc3339_ms;
use crate::control::ControlState;
use crate::error::{Error, Result};
use crate::extract::{ApiPath, JsonValue, QueryPairs};
use crate::ids::random_alnum;

pub const EVENT_TYPES: [&str; 4] = [
    "send.created",
    "delivery.delivered",
    "delivery.played",
    "delivery.failed",
];
const DEFAULT_ATTEMPTS: i64 = 6;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebhookSpec {
    /// An `http://` URL on a loopback or private-network host (receivers under test run
    /// locally; there is no TLS).
    #[schema(pattern = "^http://")]
    pub url: String,
    /// Event types to receive; every type when absent.
    pub events: Option<Vec<String>>,
    /// The signing secret; generated (`whsec_…`) when absent. Shown once.
    #[schema(min_length = 16, max_length = 128)]
    pub secret: Option<String>,
    /// Attempts per event before it is given up, default 6.
    #[schema(minimum = 1, maximum = 20)]
    pub max_attempts: Option<i64>,
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub id: String,
    #[serde(skip)]
    pub tenant_id: String,
    pub url: String,
    /// Only in the answer to the registration.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[sqlx(skip)]
    pub secret: Option<String>,
    #[sqlx(skip)]
    pub events: Vec<String>,
    #[serde(skip)]
    #[schema(ignore)]
    events_json: String,
    pub max_attempts: i64,
    #[serde(skip)]
    pub created_at_ms: i64,
}

/// Starts or stops the delivery milestones of the tenant's companies.
async fn watch(state: &ControlState, tenant: &str, watched: bool) -> sqlx::Result<()> {
    for company in crate::control::store::company_ids(&state.core.db, tenant).await? {
        state.musique.deliveries.watch(company, watched.then_some(tenant));
    }
    Ok(())
}

/// A tenant whose webhooks were written at once (a scenario loaded): the registry learns
/// them, and its companies' milestones are reported from now on.
pub async fn loaded(state: &ControlState, tenant: &str, count: usize) -> sqlx::Result<()> {
    state.webhooks.set(tenant, count);
    watch(state, tenant, true).await
}

/// Learns, at start, which tenants have webhooks, and reports their milestones.
pub async fn load(state: &ControlState) -> sqlx::Result<()> {
    state.webhooks.load(&state.core.db).await?;
    for tenant in state.webhooks.watched() {
        watch(state, &tenant, true).await?;
    }
    Ok(())
}

/// `POST /_soundcheck/tenants/{id}/webhooks`
#[utoipa::path(
    post, path = "/_soundcheck/tenants/{tenant}/webhooks", tag = "Webhooks", operation_id = "createWebhook",
    description = "Registers an endpoint for send and delivery events. Each event is POSTed as JSON `{id, type, timestamp, data}`, signed: `Soundcheck-Signature: v1=<hex HMAC-SHA256(secret, \"{timestamp}.{body}\")>` with `Soundcheck-Timestamp` (Unix seconds on the tenant's clock). Retried after 10 s, 20 s, 40 s … on the tenant's clock until a 2xx.",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`.")),
    request_body(content = WebhookSpec, content_type = "application/json"),
    responses(
        (status = 201, description = "The endpoint, with its secret (shown once).", body = Webhook),
        (status = 400, description = "A bad URL, event type or field.", body = crate::musique::docs::MusiqueError),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError),
    )
)]
pub async fn create(
    State(state): State<ControlState>,
    TenantBody(tenant, JsonValue(body)): TenantBody<JsonValue>,
) -> Result<(StatusCode, Json<Webhook>)> {
    let spec: WebhookSpec = parse_body(body)?;
    let uri: Uri = spec
        .url
        .parse()
        .map_err(|_| Error::validation("`url` must be an http:// URL."))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(Error::validation(
            "`url` must be an http:// URL with a host (soundcheck delivers without TLS).",
        ));
    }
    if !reachable_privately(&uri).await {
        return Err(Error::validation(
            "`url` must name a loopback or private-network host that resolves: soundcheck is a \
             sandbox and delivers to test receivers only.",
        ));
    }
    let events = match spec.events {
        None => EVENT_TYPES.iter().map(|e| (*e).to_owned()).collect(),
        Some(list) if list.is_empty() => {
            return Err(Error::validation("`events` must name at least one event type."));
        }
        Some(list) => {
            if let Some(bad) = list.iter().find(|e| !EVENT_TYPES.contains(&e.as_str())) {
                return Err(Error::validation(format!(
                    "`events` has an unknown type {bad:?}; known: {}.",
                    EVENT_TYPES.join(", ")
                )));
            }
            list
        }
    };
    let secret = match spec.secret {
        Some(s) if !(16..=128).contains(&s.len()) => {
            return Err(Error::validation("`secret` must be 16-128 characters."));
        }
        Some(s) => s,
        None => format!("whsec_{}", random_alnum(32)),
    };
    let max_attempts = spec.max_attempts.unwrap_or(DEFAULT_ATTEMPTS);
    if !(1..=20).contains(&max_attempts) {
        return Err(Error::validation("`maxAttempts` must be from 1 to 20."));
    }
    let hook = Webhook {
        id: format!("whk_{}", random_alnum(12)),
        tenant_id: tenant.clone(),
        url: spec.url,
        secret: Some(secret.clone()),
        events_json: serde_json::to_string(&events).map_err(|e| Error::Internal(e.into()))?,
        events,
        max_attempts,
        created_at_ms: state.core.clocks.get(&tenant).now_ms(),
    };
    store::insert(&state.core.db, &hook, &secret).await?;
    let count = store::tenant_webhooks(&state.core.db, &tenant).await?.len();
    state.webhooks.set(&tenant, count);
    watch(&state, &tenant, true).await?;
    Ok((StatusCode::CREATED, Json(hook)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookList {
    /// A page of endpoints, oldest first.
    pub webhooks: Vec<Webhook>,
    /// How many endpoints the tenant has.
    pub total: i64,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /_soundcheck/tenants/{id}/webhooks?limit=&cursor=`
#[utoipa::path(
    get, path = "/_soundcheck/tenants/{tenant}/webhooks", tag = "Webhooks", operation_id = "listWebhooks",
    description = "The tenant's endpoints (no secrets), oldest first, `limit` at a time.",
    params(
        ("tenant" = String, Path, description = "The tenant's id, or `default`."),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 1000, description = "Endpoints per page; default 100."),
        ("cursor" = Option<String>, Query, description = "The `nextCursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "A page of the tenant's endpoints.", body = WebhookList),
        (status = 400, description = "A bad `limit` or `cursor`.", body = crate::musique::docs::MusiqueError),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError),
    )
)]
pub async fn list(
    State(state): State<ControlState>,
    query: QueryPairs,
    ExistingTenant(tenant): ExistingTenant,
) -> Result<Json<WebhookList>> {
    let page = Page::of(&query, "webhooks", 2)?;
    let after = (page.number(0)?.unwrap_or(i64::MIN), page.text(1).unwrap_or(""));
    let (total, mut webhooks) = store::page(&state.core.db, &tenant, after, page.limit as i64 + 1).await?;
    let next_cursor = next(&mut webhooks, page.limit, |h| {
        cursor("webhooks", &[&h.created_at_ms, &h.id])
    });
    Ok(Json(WebhookList {
        webhooks,
        total,
        next_cursor,
    }))
}

/// `DELETE /_soundcheck/tenants/{id}/webhooks/{webhookId}`
#[utoipa::path(
    delete, path = "/_soundcheck/tenants/{tenant}/webhooks/{webhook}", tag = "Webhooks", operation_id = "deleteWebhook",
    description = "Removes the endpoint and its pending events.",
    params(("tenant" = String, Path), ("webhook" = String, Path)),
    responses(
        (status = 204, description = "Removed."),
        (status = 404, description = "No such tenant or endpoint.", body = crate::musique::docs::MusiqueError),
    )
)]
pub async fn remove(
    State(state): State<ControlState>,
    ApiPath((_tenant, webhook)): ApiPath<(String, String)>,
    ExistingTenant(tenant): ExistingTenant,
) -> Result<StatusCode> {
    if !store::delete(&state.core.db, &tenant, &webhook).await? {
        return Err(Error::ResourceNotFound(format!(
            "Webhook `{webhook}` was not found."
        )));
    }
    let count = store::tenant_webhooks(&state.core.db, &tenant).await?.len();
    state.webhooks.set(&tenant, count);
    if count == 0 {
        watch(&state, &tenant, false).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    #[serde(skip)]
    pub seq: i64,
    /// The event's id.
    pub id: String,
    pub webhook_id: String,
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip)]
    pub created_at_ms: i64,
    #[sqlx(skip)]
    pub created_at: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    #[serde(skip)]
    pub next_attempt_ms: Option<i64>,
    #[sqlx(skip)]
    pub next_attempt_at: Option<String>,
    #[serde(skip)]
    pub responses: String,
    /// Each attempt: when, and the status code or the error.
    #[sqlx(skip)]
    #[schema(value_type = Vec<Object>)]
    pub attempt_log: Value,
    #[serde(skip)]
    pub body: String,
    /// The event as POSTed.
    #[sqlx(skip)]
    #[schema(value_type = Object)]
    pub event: Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Outbox {
    /// A page of events, oldest first.
    pub events: Vec<OutboxEntry>,
    /// How many events match.
    pub total: i64,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /_soundcheck/tenants/{id}/outbox?status=`
#[utoipa::path(
    get, path = "/_soundcheck/tenants/{tenant}/outbox", tag = "Webhooks", operation_id = "listOutbox",
    description = "Every event owed to the tenant's endpoints, oldest first, with its attempts and the next one, `limit` at a time; new events come at the end.",
    params(
        ("tenant" = String, Path, description = "The tenant's id, or `default`."),
        ("status" = Option<String>, Query, description = "`pending`, `delivered` or `failed`."),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 1000, description = "Events per page; default 100."),
        ("cursor" = Option<String>, Query, description = "The `nextCursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "A page of the outbox.", body = Outbox),
        (status = 400, description = "A bad `status`, `limit` or `cursor`.", body = crate::musique::docs::MusiqueError),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError),
    )
)]
pub async fn outbox(
    State(state): State<ControlState>,
    query: QueryPairs,
    ExistingTenant(tenant): ExistingTenant,
) -> Result<Json<Outbox>> {
    let status = query.get("status");
    if let Some(s) = status
        && !["pending", "delivered", "failed"].contains(&s)
    {
        return Err(Error::validation(
            "`status` must be pending, delivered or failed.",
        ));
    }
    let page = Page::of(&query, "outbox", 1)?;
    let after = page.number(0)?.unwrap_or(i64::MIN);
    // An attempt in flight is finished first and new events are written, so the outbox is
    // current when it answers.
    let _settled = dispatcher::settled(&state).await?;
    let (total, mut events) =
        store::outbox(&state.core.db, &tenant, status, after, page.limit as i64 + 1).await?;
    let next_cursor = next(&mut events, page.limit, |e| cursor("outbox", &[&e.seq]));
    for e in &mut events {
        e.created_at = rfc3339_ms(e.created_at_ms);
        e.next_attempt_at = e.next_attempt_ms.map(rfc3339_ms);
        e.attempt_log = serde_json::from_str(&e.responses).unwrap_or(Value::Null);
        e.event = serde_json::from_str(&e.body).unwrap_or(Value::Null);
    }
    Ok(Json(Outbox {
        events,
        total,
        next_cursor,
    }))
}

/// Whether every address the URL's host resolves to is loopback or private: a sandbox must
/// not be made to POST to the internet.
pub(crate) async fn reachable_privately(uri: &Uri) -> bool {
    let Some(host) = uri.host() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(80);
    let lookup = tokio::net::lookup_host((host, port));
    let Ok(Ok(addrs)) = tokio::time::timeout(Duration::from_secs(1), lookup).await else {
        return false;
    };
    let addrs: Vec<std::net::SocketAddr> = addrs.collect();
    !addrs.is_empty() && addrs.iter().all(|a| private_ip(a.ip()))
}

fn private_ip(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        // Loopback, and unique local addresses (fc00::/7).
        std::net::IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_and_private_addresses_receive_webhooks() {
        for ok in [
            "127.0.0.1",
            "10.1.2.3",
            "172.17.0.2",
            "192.168.1.9",
            "::1",
            "fd00::1",
        ] {
            assert!(private_ip(ok.parse().expect("ip")), "{ok}");
        }
        for bad in ["8.8.8.8", "1.1.1.1", "2001:4860::8888"] {
            assert!(!private_ip(bad.parse().expect("ip")), "{bad}");
        }
    }
}
