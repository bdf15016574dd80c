//! `GET /_soundcheck/tenants/{id}/events`: the live page's Server-Sent Events. The stream says
//! *that* the tenant changed (a request reached its journal, the control plane moved its clock,
//! a player, a fault, a reset), never what: the page then reads what it shows. So a burst of
//! a thousand requests is one event, and a page left open costs one idle connection.
//!
//! Bounds: at most [`MAX_STREAMS`] streams at once on the whole server (more are refused with
//! 429); at most one `change` event per [`MIN_GAP`] per stream (changes in between are
//! coalesced into the next one); a comment every [`HEARTBEAT`] so that proxies and the page
//! notice a dead connection. A stream ends when its tenant is deleted (`event: gone`) and at
//! shutdown.
//!
//! EventSource cannot send an `Authorization` header, so the page reads this with `fetch`
//! streaming; the endpoint is behind the control plane's usual checks.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_util::sync::CancellationToken;

use super::ControlState;
use super::tenants::ExistingTenant;
use crate::error::{Error, Result};
use crate::state::DEFAULT_TENANT;

/// Streams open at once, over every tenant.
pub const MAX_STREAMS: usize = 16;
/// The shortest time between two `change` events of a stream: at most 4 a second.
pub const MIN_GAP: Duration = Duration::from_millis(250);
/// A comment line this often when nothing changed.
pub const HEARTBEAT: Duration = Duration::from_secs(20);

/// How many streams are open, and the stop that ends them all at shutdown.
#[derive(Debug)]
pub struct Streams {
    permits: Arc<Semaphore>,
    pub stop: CancellationToken,
}

impl Default for Streams {
    fn default() -> Streams {
        Streams {
            permits: Arc::new(Semaphore::new(MAX_STREAMS)),
            stop: CancellationToken::new(),
        }
    }
}

impl Streams {
    /// How many streams are open now.
    pub fn open(&self) -> usize {
        MAX_STREAMS - self.permits.available_permits()
    }
}

/// The tenant a control-plane path is about: `/_soundcheck/tenants/{id}/…` is `id`,
/// `/_soundcheck/reset` the default tenant's; anything else none.
pub fn tenant_of_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(super::BASE)?;
    if rest == "/reset" {
        return Some(DEFAULT_TENANT);
    }
    let id = rest.strip_prefix("/tenants/")?.split('/').next()?;
    (!id.is_empty()).then_some(id)
}

/// One event in the SSE wire format.
pub fn frame(event: &str, data: &serde_json::Value) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

#[utoipa::path(
    get, path = "/_soundcheck/tenants/{tenant}/events", tag = "Live page", operation_id = "tenantEvents",
    description = "Server-Sent Events (`text/event-stream`) for the live page: `event: hello` at once, then `event: change` whenever the tenant changed (a request in its journal; a control-plane change of its clock, players, faults, or a reset), at most one every 250 ms (changes in between are coalesced), `data` = `{\"version\": n, \"nowMs\": clock}`; a `:` comment every 20 s; `event: gone` when the tenant is deleted. At most 16 streams are open on the server at once; more are refused with 429. Read it with `fetch` when an admin token is set (EventSource sends no headers).",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`.")),
    responses(
        (status = 200, description = "The event stream.", content_type = "text/event-stream", body = String),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError),
        (status = 429, description = "16 streams are open already.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `GET /_soundcheck/tenants/{id}/events`
pub async fn stream(
    State(state): State<ControlState>,
    ExistingTenant(tenant): ExistingTenant,
) -> Result<Response> {
    let permit = state
        .streams
        .permits
        .clone()
        .try_acquire_owned()
        .map_err(|_| Error::RateLimited {
            retry_after_secs: 5,
            message: format!(
                "{MAX_STREAMS} live-page event streams are open already, the most this server \
                 keeps: close a page of /_soundcheck/ui, or try again later."
            ),
        })?;
    let changes = state.core.runtimes.get(&tenant).changes.subscribe();
    let live = Live {
        state: state.clone(),
        tenant,
        changes,
        stop: state.streams.stop.clone(),
        _permit: permit,
        started: false,
        ended: false,
    };
    let body = futures_util::stream::unfold(live, |mut live| async move {
        let frame = live.next().await?;
        Some((Ok::<_, Infallible>(frame), live))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-store"),
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

/// One open stream: the tenant's change counter it waits on, and its place among the
/// [`MAX_STREAMS`].
struct Live {
    state: ControlState,
    tenant: String,
    changes: watch::Receiver<u64>,
    stop: CancellationToken,
    _permit: OwnedSemaphorePermit,
    started: bool,
    ended: bool,
}

impl Live {
    fn data(&mut self) -> serde_json::Value {
        let version = *self.changes.borrow_and_update();
        let now_ms = self.state.core.clocks.get(&self.tenant).now_ms();
        serde_json::json!({"version": version, "nowMs": now_ms})
    }

    /// The next frame, or `None` when the stream is over.
    async fn next(&mut self) -> Option<Bytes> {
        if self.ended {
            return None;
        }
        if !self.started {
            self.started = true;
            let data = self.data();
            return Some(frame("hello", &data));
        }
        tokio::select! {
            () = self.stop.cancelled() => None,
            changed = self.changes.changed() => match changed {
                Ok(()) => {
                    // Whatever else changes meanwhile goes into this one event.
                    tokio::select! {
                        () = self.stop.cancelled() => return None,
                        () = tokio::time::sleep(MIN_GAP) => {}
                    }
                    let data = self.data();
                    Some(frame("change", &data))
                }
                Err(_) => {
                    // The tenant's runtime is gone: it was deleted.
                    self.ended = true;
                    Some(frame("gone", &serde_json::json!({"tenant": self.tenant})))
                }
            },
            () = tokio::time::sleep(HEARTBEAT) => Some(Bytes::from_static(b": still here\n\n")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_of_a_control_path() {
        assert_eq!(tenant_of_path("/_soundcheck/tenants/t_1/clock"), Some("t_1"));
        assert_eq!(tenant_of_path("/_soundcheck/tenants/t_1"), Some("t_1"));
        assert_eq!(tenant_of_path("/_soundcheck/reset"), Some("default"));
        assert_eq!(tenant_of_path("/_soundcheck/tenants"), None);
        assert_eq!(tenant_of_path("/_soundcheck/tenants/"), None);
        assert_eq!(tenant_of_path("/_soundcheck/health"), None);
        assert_eq!(tenant_of_path("/api/v1/integration/send"), None);
    }

    #[test]
    fn a_frame_is_one_sse_event() {
        let bytes = frame("change", &serde_json::json!({"version": 3}));
        assert_eq!(&bytes[..], b"event: change\ndata: {\"version\":3}\n\n");
    }
}
