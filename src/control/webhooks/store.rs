//! The webhooks' SQL: endpoints (`webhooks`) and the outbox (`webhook_events`).

use super::{OutboxEntry, Webhook};
use crate::db::Db;

/// How many endpoints each tenant that has any has.
pub async fn counts(db: &Db) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as("SELECT tenant_id, COUNT(*) FROM webhooks GROUP BY tenant_id")
        .fetch_all(&db.read)
        .await
}

fn parse_events(hooks: &mut [Webhook]) {
    for hook in hooks {
        hook.events = serde_json::from_str(&hook.events_json).unwrap_or_default();
    }
}

/// Every endpoint of the tenant, oldest first.
pub async fn tenant_webhooks(db: &Db, tenant: &str) -> sqlx::Result<Vec<Webhook>> {
    let mut hooks: Vec<Webhook> = sqlx::query_as(
        "SELECT id, tenant_id, url, events AS events_json, max_attempts, created_at_ms
         FROM webhooks WHERE tenant_id = ? ORDER BY created_at_ms, id",
    )
    .bind(tenant)
    .fetch_all(&db.read)
    .await?;
    parse_events(&mut hooks);
    Ok(hooks)
}

pub async fn insert(db: &Db, hook: &Webhook, secret: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO webhooks (id, tenant_id, url, secret, events, max_attempts, created_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&hook.id)
    .bind(&hook.tenant_id)
    .bind(&hook.url)
    .bind(secret)
    .bind(&hook.events_json)
    .bind(hook.max_attempts)
    .bind(hook.created_at_ms)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// How many endpoints the tenant has, and up to `limit` of them after `(created, id)`.
pub async fn page(
    db: &Db,
    tenant: &str,
    (created, id): (i64, &str),
    limit: i64,
) -> sqlx::Result<(i64, Vec<Webhook>)> {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE tenant_id = ?")
        .bind(tenant)
        .fetch_one(&db.read)
        .await?;
    let mut hooks: Vec<Webhook> = sqlx::query_as(
        "SELECT id, tenant_id, url, events AS events_json, max_attempts, created_at_ms
         FROM webhooks WHERE tenant_id = ? AND (created_at_ms, id) > (?, ?)
         ORDER BY created_at_ms, id LIMIT ?",
    )
    .bind(tenant)
    .bind(created)
    .bind(id)
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    parse_events(&mut hooks);
    Ok((total, hooks))
}

/// Removes the endpoint (its events go with it); false when the tenant has no such one.
pub async fn delete(db: &Db, tenant: &str, webhook: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM webhooks WHERE id = ? AND tenant_id = ?")
        .bind(webhook)
        .bind(tenant)
        .execute(&db.write)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// How many of the tenant's events have the status (any when `None`), and up to `limit` of
/// them after `seq`, oldest first.
pub async fn outbox(
    db: &Db,
    tenant: &str,
    status: Option<&str>,
    after: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<OutboxEntry>)> {
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhook_events WHERE tenant_id = ?1 AND (?2 IS NULL OR status = ?2)",
    )
    .bind(tenant)
    .bind(status)
    .fetch_one(&db.read)
    .await?;
    let events: Vec<OutboxEntry> = sqlx::query_as(
        "SELECT seq, id, webhook_id, type, created_at_ms, status, attempts, next_attempt_ms, responses, body
         FROM webhook_events WHERE tenant_id = ?1 AND (?2 IS NULL OR status = ?2) AND seq > ?3
         ORDER BY seq LIMIT ?4",
    )
    .bind(tenant)
    .bind(status)
    .bind(after)
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    Ok((total, events))
}

/// One event as owed to each of the endpoints, in one transaction.
pub struct NewEvent<'a> {
    pub id: &'a str,
    pub tenant: &'a str,
    pub kind: &'a str,
    pub body: &'a str,
    pub at_ms: i64,
}

pub async fn insert_event(db: &Db, event: &NewEvent<'_>, hooks: &[Webhook]) -> sqlx::Result<()> {
    let mut tx = db.begin_write().await?;
    for hook in hooks {
        sqlx::query(
            "INSERT INTO webhook_events (id, webhook_id, tenant_id, type, body, created_at_ms, status, next_attempt_ms)
             VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
        )
        .bind(event.id)
        .bind(&hook.id)
        .bind(event.tenant)
        .bind(event.kind)
        .bind(event.body)
        .bind(event.at_ms)
        .bind(event.at_ms)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// The tenant of a company; `None` once it is gone.
pub async fn company_tenant(db: &Db, company_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT tenant_id FROM companies WHERE id = ?")
        .bind(company_id)
        .fetch_optional(&db.read)
        .await
}

/// The next pending event of an endpoint, with where and how it goes.
#[derive(sqlx::FromRow)]
pub struct Due {
    pub seq: i64,
    pub next_attempt_ms: Option<i64>,
    pub id: String,
    pub tenant_id: String,
    pub kind: String,
    pub body: String,
    pub attempts: i64,
    pub responses: String,
    pub url: String,
    pub secret: String,
    pub max_attempts: i64,
}

/// The oldest pending event of every endpoint, of `tenant` alone or of all tenants.
pub async fn heads(db: &Db, tenant: Option<&str>) -> sqlx::Result<Vec<Due>> {
    sqlx::query_as(
        "SELECT e.seq, e.id, e.tenant_id, e.type AS kind, e.body, e.attempts, e.responses, e.next_attempt_ms,
                w.url, w.secret, w.max_attempts
         FROM webhook_events e JOIN webhooks w ON w.id = e.webhook_id
         WHERE e.status = 'pending' AND (? IS NULL OR e.tenant_id = ?)
           AND e.seq = (SELECT MIN(seq) FROM webhook_events p WHERE p.webhook_id = e.webhook_id AND p.status = 'pending')",
    )
    .bind(tenant)
    .bind(tenant)
    .fetch_all(&db.read)
    .await
}

/// What an attempt made of the event: its status, attempts, next attempt and attempt log.
pub async fn record_attempt(
    db: &Db,
    seq: i64,
    status: &str,
    attempts: i64,
    next_attempt_ms: Option<i64>,
    responses: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE webhook_events SET status = ?, attempts = ?, next_attempt_ms = ?, responses = ? WHERE seq = ?")
        .bind(status)
        .bind(attempts)
        .bind(next_attempt_ms)
        .bind(responses)
        .bind(seq)
        .execute(&db.write)
        .await?;
    Ok(())
}
