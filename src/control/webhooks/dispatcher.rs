//! The webhook dispatcher: takes the events the players reported into the outbox, and POSTs
//! each endpoint's events in order, signed, retried with back-off on the tenant's clock. Runs
//! in the background (woken by new sends and every 100 ms) and when a clock moves.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use axum::http::Uri;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::store::{self, Due, NewEvent};
use crate::clock::rfc3339_ms;
use crate::control::ControlState;
use crate::db::Db;
use crate::ids::random_alnum;
use crate::musique::deliveries::Event;
use crate::sync::RwLockExt;

/// The first retry waits this long; each next one twice as long, up to an hour.
const FIRST_BACKOFF_MS: i64 = 10_000;
const MAX_BACKOFF_MS: i64 = 3_600_000;
/// How long a receiver has to answer one attempt (real time).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a clock move waits for the attempts it made due; the rest go on in the background.
pub const CLOCK_DISPATCH_BUDGET: Duration = Duration::from_secs(3);

/// Which tenants have webhooks (so that the dispatcher idles when none do), and the
/// dispatcher's own wake-up.
#[derive(Debug, Default)]
pub struct Registry {
    tenants: RwLock<HashMap<String, usize>>,
    dispatching: tokio::sync::Mutex<()>,
    pub wake: tokio::sync::Notify,
}

impl Registry {
    pub async fn load(&self, db: &Db) -> sqlx::Result<()> {
        let rows = store::counts(db).await?;
        let mut tenants = self.tenants.write_locked();
        for (tenant, n) in rows {
            tenants.insert(tenant, n as usize);
        }
        Ok(())
    }

    pub fn has(&self, tenant: &str) -> bool {
        self.tenants.read_locked().get(tenant).is_some_and(|n| *n > 0)
    }

    /// The tenants that have webhooks.
    pub(super) fn watched(&self) -> Vec<String> {
        self.tenants
            .read_locked()
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(tenant, _)| tenant.clone())
            .collect()
    }

    pub(super) fn set(&self, tenant: &str, count: usize) {
        self.tenants.write_locked().insert(tenant.to_owned(), count);
    }

    pub fn forget(&self, tenant: &str) {
        self.tenants.write_locked().remove(tenant);
    }

    fn any(&self) -> bool {
        self.tenants.read_locked().values().any(|n| *n > 0)
    }
}

/// Queues one event for every endpoint of the tenant that wants its type.
async fn enqueue(
    state: &ControlState,
    tenant: &str,
    kind: &str,
    at_ms: i64,
    data: Value,
) -> sqlx::Result<()> {
    let hooks: Vec<_> = store::tenant_webhooks(&state.core.db, tenant)
        .await?
        .into_iter()
        .filter(|h| h.events.iter().any(|e| e == kind))
        .collect();
    if hooks.is_empty() {
        return Ok(());
    }
    let id = format!("evt_{}", random_alnum(20));
    let body = json!({"id": id, "type": kind, "timestamp": rfc3339_ms(at_ms), "data": data}).to_string();
    let event = NewEvent {
        id: &id,
        tenant,
        kind,
        body: &body,
        at_ms,
    };
    store::insert_event(&state.core.db, &event, &hooks).await
}

/// Writes the send and delivery events the players reported into the outbox.
async fn collect(state: &ControlState) -> sqlx::Result<()> {
    let events: Vec<Event> = state.musique.deliveries.take_events();
    if events.is_empty() {
        return Ok(());
    }
    let mut tenants: HashMap<i64, Option<String>> = HashMap::new();
    for event in events {
        let tenant = match tenants.get(&event.company_id) {
            Some(t) => t.clone(),
            None => {
                let t = store::company_tenant(&state.core.db, event.company_id).await?;
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

/// Waits for an attempt in flight, then writes the new events: the outbox is current while the
/// guard is held.
pub(super) async fn settled(state: &ControlState) -> sqlx::Result<tokio::sync::MutexGuard<'_, ()>> {
    let guard = state.webhooks.dispatching.lock().await;
    collect(state).await?;
    Ok(guard)
}

/// Runs every attempt that is due on its tenant's clock, `tenant` alone or all tenants;
/// an endpoint's next event goes only once the one before is settled.
pub async fn dispatch(state: &ControlState, tenant: Option<&str>) -> sqlx::Result<usize> {
    let _one_at_a_time = settled(state).await?;
    let mut attempted = 0;
    loop {
        let heads = store::heads(&state.core.db, tenant).await?;
        let mut progressed = false;
        for head in heads {
            let now_ms = state.core.clocks.get(&head.tenant_id).now_ms();
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
async fn attempt(state: &ControlState, due: &Due, now_ms: i64) -> sqlx::Result<()> {
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
    let responses = Value::Array(log).to_string();
    store::record_attempt(&state.core.db, due.seq, status, attempts, next, &responses).await
}

/// The wait after the `n`th failed attempt: 10 s, 20 s, 40 s … up to an hour.
fn backoff_ms(failed_attempts: i64) -> i64 {
    let doublings = u32::try_from(failed_attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(20);
    FIRST_BACKOFF_MS
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF_MS)
}

/// `v1=` + hex HMAC-SHA256 over `"{timestamp}.{body}"`.
fn signature(secret: &str, timestamp: i64, body: &str) -> String {
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

/// The background dispatcher: wakes when a watched company gets a send (the deliveries say
/// so), when asked, and every 100 ms for running clocks.
pub async fn run(state: ControlState, stop: tokio_util::sync::CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = state.musique.deliveries.sent_to_watched() => {}
            _ = state.webhooks.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        if !state.webhooks.any() {
            continue;
        }
        // Players advance when read; run the watched ones so that milestones on a running
        // clock are reported even when nobody reads.
        state
            .musique
            .deliveries
            .advance_watched(|tenant| state.core.clocks.get(tenant).now_ms());
        if let Err(err) = dispatch(&state, None).await {
            tracing::warn!(error = %err, "webhook dispatch failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
