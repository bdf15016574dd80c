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

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::page::{Page, cursor, next};
use super::tenants::{TenantPath, existing, parse_body};
use crate::auth::random_alnum;
use crate::clock::rfc3339_ms;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::extract::{ApiPath, JsonValue, QueryPairs};
use crate::musique::deliveries::Event;
use crate::state::AppState;

pub const EVENT_TYPES: [&str; 4] = [
    "send.created",
    "delivery.delivered",
    "delivery.played",
    "delivery.failed",
];
/// The first retry waits this long; each next one twice as long, up to an hour.
const FIRST_BACKOFF_MS: i64 = 10_000;
const MAX_BACKOFF_MS: i64 = 3_600_000;
const DEFAULT_ATTEMPTS: i64 = 6;
/// How long a receiver has to answer one attempt (real time).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a clock move waits for the attempts it made due; the rest go on in the background.
pub const CLOCK_DISPATCH_BUDGET: Duration = Duration::from_secs(3);

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

/// Which tenants have webhooks (so a send costs a lookup when none do).
#[derive(Debug, Default)]
pub struct Registry {
    tenants: RwLock<HashMap<String, usize>>,
    dispatching: tokio::sync::Mutex<()>,
    pub wake: tokio::sync::Notify,
}

impl Registry {
    pub async fn load(&self, db: &Db) -> sqlx::Result<()> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT tenant_id, COUNT(*) FROM webhooks GROUP BY tenant_id")
                .fetch_all(&db.read)
                .await?;
        let mut tenants = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        for (tenant, n) in rows {
            tenants.insert(tenant, n as usize);
        }
        Ok(())
    }

    pub fn has(&self, tenant: &str) -> bool {
        self.tenants
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(tenant)
            .is_some_and(|n| *n > 0)
    }

    fn set(&self, tenant: &str, count: usize) {
        self.tenants
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(tenant.to_owned(), count);
    }

    pub fn forget(&self, tenant: &str) {
        self.tenants
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(tenant);
    }

    fn any(&self) -> bool {
        self.tenants
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .any(|n| *n > 0)
    }
}

async fn tenant_webhooks(db: &Db, tenant: &str) -> sqlx::Result<Vec<Webhook>> {
    let mut hooks: Vec<Webhook> = sqlx::query_as(
        "SELECT id, tenant_id, url, events AS events_json, max_attempts, created_at_ms
         FROM webhooks WHERE tenant_id = ? ORDER BY created_at_ms, id",
    )
    .bind(tenant)
    .fetch_all(&db.read)
    .await?;
    for hook in &mut hooks {
        hook.events = serde_json::from_str(&hook.events_json).unwrap_or_default();
    }
    Ok(hooks)
}

/// Starts or stops the delivery milestones of the tenant's companies.
async fn watch(state: &AppState, tenant: &str, watched: bool) -> sqlx::Result<()> {
    for company in super::store::company_ids(&state.db, tenant).await? {
        state.deliveries.watch(company, watched.then_some(tenant));
    }
    Ok(())
}

/// Learns, at start, which tenants have webhooks, and reports their milestones.
pub async fn load(state: &AppState) -> sqlx::Result<()> {
    state.webhooks.load(&state.db).await?;
    let tenants: Vec<String> = sqlx::query_scalar("SELECT DISTINCT tenant_id FROM webhooks")
        .fetch_all(&state.db.read)
        .await?;
    for tenant in tenants {
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
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    JsonValue(body): JsonValue,
) -> Result<(StatusCode, Json<Webhook>)> {
    let tenant = existing(&state, &tenant).await?;
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
        created_at_ms: state.clocks.get(&tenant).now_ms(),
    };
    sqlx::query(
        "INSERT INTO webhooks (id, tenant_id, url, secret, events, max_attempts, created_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&hook.id)
    .bind(&tenant)
    .bind(&hook.url)
    .bind(&secret)
    .bind(&hook.events_json)
    .bind(hook.max_attempts)
    .bind(hook.created_at_ms)
    .execute(&state.db.write)
    .await?;
    let count = tenant_webhooks(&state.db, &tenant).await?.len();
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
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    query: QueryPairs,
) -> Result<Json<WebhookList>> {
    let tenant = existing(&state, &tenant).await?;
    let page = Page::of(&query, "webhooks", 2)?;
    let (created, id) = (page.number(0)?.unwrap_or(i64::MIN), page.text(1).unwrap_or(""));
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE tenant_id = ?")
        .bind(&tenant)
        .fetch_one(&state.db.read)
        .await?;
    let mut webhooks: Vec<Webhook> = sqlx::query_as(
        "SELECT id, tenant_id, url, events AS events_json, max_attempts, created_at_ms
         FROM webhooks WHERE tenant_id = ? AND (created_at_ms, id) > (?, ?)
         ORDER BY created_at_ms, id LIMIT ?",
    )
    .bind(&tenant)
    .bind(created)
    .bind(id)
    .bind(page.limit as i64 + 1)
    .fetch_all(&state.db.read)
    .await?;
    for hook in &mut webhooks {
        hook.events = serde_json::from_str(&hook.events_json).unwrap_or_default();
    }
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
    State(state): State<AppState>,
    ApiPath((tenant, webhook)): ApiPath<(String, String)>,
) -> Result<StatusCode> {
    let tenant = existing(&state, &tenant).await?;
    let done = sqlx::query("DELETE FROM webhooks WHERE id = ? AND tenant_id = ?")
        .bind(&webhook)
        .bind(&tenant)
        .execute(&state.db.write)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::ResourceNotFound(format!(
            "Webhook `{webhook}` was not found."
        )));
    }
    let count = tenant_webhooks(&state.db, &tenant).await?.len();
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
    State(state): State<AppState>,
    TenantPath(tenant): TenantPath,
    query: QueryPairs,
) -> Result<Json<Outbox>> {
    let tenant = existing(&state, &tenant).await?;
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
    let _settled = state.webhooks.dispatching.lock().await;
    collect(&state).await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhook_events WHERE tenant_id = ?1 AND (?2 IS NULL OR status = ?2)",
    )
    .bind(&tenant)
    .bind(status)
    .fetch_one(&state.db.read)
    .await?;
    let mut events: Vec<OutboxEntry> = sqlx::query_as(
        "SELECT seq, id, webhook_id, type, created_at_ms, status, attempts, next_attempt_ms, responses, body
         FROM webhook_events WHERE tenant_id = ?1 AND (?2 IS NULL OR status = ?2) AND seq > ?3
         ORDER BY seq LIMIT ?4",
    )
    .bind(&tenant)
    .bind(status)
    .bind(after)
    .bind(page.limit as i64 + 1)
    .fetch_all(&state.db.read)
    .await?;
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

/// Queues one event for every endpoint of the tenant that wants its type.
async fn enqueue(state: &AppState, tenant: &str, kind: &str, at_ms: i64, data: Value) -> sqlx::Result<()> {
    let hooks: Vec<Webhook> = tenant_webhooks(&state.db, tenant)
        .await?
        .into_iter()
        .filter(|h| h.events.iter().any(|e| e == kind))
        .collect();
    if hooks.is_empty() {
        return Ok(());
    }
    let id = format!("evt_{}", random_alnum(20));
    let body = json!({"id": id, "type": kind, "timestamp": rfc3339_ms(at_ms), "data": data}).to_string();
    let mut tx = state.db.begin_write().await?;
    for hook in hooks {
        sqlx::query(
            "INSERT INTO webhook_events (id, webhook_id, tenant_id, type, body, created_at_ms, status, next_attempt_ms)
             VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
        )
        .bind(&id)
        .bind(&hook.id)
        .bind(tenant)
        .bind(kind)
        .bind(&body)
        .bind(at_ms)
        .bind(at_ms)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// A send was made: its `send.created` event is waiting (the players reported it in order
/// with its deliveries' events); wake the dispatcher.
pub fn send_created(state: &AppState, tenant: &str) {
    if state.webhooks.has(tenant) {
        state.webhooks.wake.notify_one();
    }
}

/// Writes the delivery milestones the players reported into the outbox.
async fn collect(state: &AppState) -> sqlx::Result<()> {
    let events: Vec<Event> = state.deliveries.take_events();
    if events.is_empty() {
        return Ok(());
    }
    let mut tenants: HashMap<i64, Option<String>> = HashMap::new();
    for event in events {
        let tenant = match tenants.get(&event.company_id) {
            Some(t) => t.clone(),
            None => {
                let t: Option<String> = sqlx::query_scalar("SELECT tenant_id FROM companies WHERE id = ?")
                    .bind(event.company_id)
                    .fetch_optional(&state.db.read)
                    .await?;
                tenants.insert(event.company_id, t.clone());
                t
            }
        };
        if let Some(tenant) = tenant {
            enqueue(state, &tenant, event.kind, event.at_ms, event.data).await?;
        }
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Due {
    seq: i64,
    next_attempt_ms: Option<i64>,
    id: String,
    tenant_id: String,
    kind: String,
    body: String,
    attempts: i64,
    responses: String,
    url: String,
    secret: String,
    max_attempts: i64,
}

/// Runs every attempt that is due on its tenant's clock, `tenant` alone or all tenants;
/// an endpoint's next event goes only once the one before is settled.
pub async fn dispatch(state: &AppState, tenant: Option<&str>) -> sqlx::Result<usize> {
    let _one_at_a_time = state.webhooks.dispatching.lock().await;
    collect(state).await?;
    let mut attempted = 0;
    loop {
        let heads: Vec<Due> = sqlx::query_as(
            "SELECT e.seq, e.id, e.tenant_id, e.type AS kind, e.body, e.attempts, e.responses, e.next_attempt_ms,
                    w.url, w.secret, w.max_attempts
             FROM webhook_events e JOIN webhooks w ON w.id = e.webhook_id
             WHERE e.status = 'pending' AND (? IS NULL OR e.tenant_id = ?)
               AND e.seq = (SELECT MIN(seq) FROM webhook_events p WHERE p.webhook_id = e.webhook_id AND p.status = 'pending')",
        )
        .bind(tenant)
        .bind(tenant)
        .fetch_all(&state.db.read)
        .await?;
        let mut progressed = false;
        for head in heads {
            let now_ms = state.clocks.get(&head.tenant_id).now_ms();
            if head.next_attempt_ms.is_some_and(|n| n > now_ms) {
                continue;
            }
            attempt(state, &head, now_ms).await?;
            attempted += 1;
            progressed = true;
        }
        if !progressed {
            return Ok(attempted);
        }
    }
}

/// One POST of one event, and what it means for the outbox.
async fn attempt(state: &AppState, due: &Due, now_ms: i64) -> sqlx::Result<()> {
    let timestamp = now_ms.div_euclid(1000);
    let outcome = post(&due.url, &due.secret, timestamp, &due.id, &due.kind, &due.body).await;
    let attempts = due.attempts + 1;
    let mut log: Vec<Value> = serde_json::from_str(&due.responses).unwrap_or_default();
    let (status, next) = match &outcome {
        Ok(code) => {
            log.push(json!({"at": rfc3339_ms(now_ms), "status": code}));
            if (200..300).contains(code) {
                ("delivered", None)
            } else if attempts >= due.max_attempts {
                ("failed", None)
            } else {
                ("pending", Some(now_ms + backoff_ms(attempts)))
            }
        }
        Err(err) => {
            log.push(json!({"at": rfc3339_ms(now_ms), "error": err}));
            if attempts >= due.max_attempts {
                ("failed", None)
            } else {
                ("pending", Some(now_ms + backoff_ms(attempts)))
            }
        }
    };
    sqlx::query("UPDATE webhook_events SET status = ?, attempts = ?, next_attempt_ms = ?, responses = ? WHERE seq = ?")
        .bind(status)
        .bind(attempts)
        .bind(next)
        .bind(Value::Array(log).to_string())
        .bind(due.seq)
        .execute(&state.db.write)
        .await?;
    Ok(())
}

/// The wait after the `n`th failed attempt: 10 s, 20 s, 40 s … up to an hour.
pub fn backoff_ms(failed_attempts: i64) -> i64 {
    let doublings = u32::try_from(failed_attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(20);
    FIRST_BACKOFF_MS
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF_MS)
}

/// Whether every address the URL's host resolves to is loopback or private: a sandbox must
/// not be made to POST to the internet.
async fn reachable_privately(uri: &Uri) -> bool {
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

/// `v1=` + hex HMAC-SHA256 over `"{timestamp}.{body}"`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| {
        // HMAC takes a key of any length; this cannot happen.
        Hmac::<Sha256>::new_from_slice(b"soundcheck").unwrap_or_else(|_| unreachable!())
    });
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("v1={hex}")
}

/// POSTs the body over plain HTTP/1.1 and returns the status code.
async fn post(
    url: &str,
    secret: &str,
    timestamp: i64,
    id: &str,
    kind: &str,
    body: &str,
) -> Result<u16, String> {
    let uri: Uri = url.parse().map_err(|_| "bad url".to_owned())?;
    let host = uri.host().ok_or("no host")?.to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         User-Agent: soundcheck-webhooks\r\nSoundcheck-Event-Id: {id}\r\nSoundcheck-Event-Type: {kind}\r\n\
         Soundcheck-Timestamp: {timestamp}\r\nSoundcheck-Signature: {}\r\nConnection: close\r\n\r\n{body}",
        body.len(),
        signature(secret, timestamp, body)
    );
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(2).any(|w| w == b"\r\n") {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(head)
    };
    let head = tokio::time::timeout(ATTEMPT_TIMEOUT, exchange)
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| "no HTTP status line in the answer".to_owned())
}

/// The background dispatcher: wakes on new events, and every 100 ms for running clocks.
pub async fn run(state: AppState, stop: tokio_util::sync::CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = state.webhooks.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        if !state.webhooks.any() {
            continue;
        }
        // Players advance when read; run the watched ones so that milestones on a running
        // clock are reported even when nobody reads.
        state
            .deliveries
            .advance_watched(|tenant| state.clocks.get(tenant).now_ms());
        if let Err(err) = dispatch(&state, None).await {
            tracing::warn!(error = %err, "webhook dispatch failed");
        }
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

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        assert_eq!(backoff_ms(1), 10_000);
        assert_eq!(backoff_ms(2), 20_000);
        assert_eq!(backoff_ms(3), 40_000);
        assert_eq!(backoff_ms(12), 3_600_000);
        assert_eq!(backoff_ms(i64::MAX), 3_600_000);
    }

    #[test]
    fn signatures_are_hmac_sha256_over_the_timestamp_and_body() {
        // Computed independently with Python's hmac module.
        let sig = signature("whsec_test0000000000", 1_700_000_000, "{}");
        assert_eq!(
            sig,
            "v1=d5eff11ec603f548a27daf637b156e7a6789ffa41dfe01c5b4a5633ebc4549c9"
        );
        assert_ne!(sig, signature("whsec_test0000000001", 1_700_000_000, "{}"));
        assert_ne!(sig, signature("whsec_test0000000000", 1_700_000_001, "{}"));
    }
}
