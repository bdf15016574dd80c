//! Serving HTTP/1.1 connections ourselves, for what `axum::serve` cannot be told: deadlines
//! between and within requests, a connection limit, and accept errors that pass.
//!
//! - [`io`]      capped reads, and the idle and request-head deadlines
//! - [`body`]    request bodies with a timeout and a minimum rate
//! - [`service`] the hyper service of one connection (peer address, in-progress tracking)
//! - [`accept`]  backing off from failed accepts, logged once per episode
//!
//! HTTP/1.1 only, as `axum::serve` was built here (axum without its `http2` feature).

pub mod accept;
pub mod body;
pub mod io;
pub mod service;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use bytes::Bytes;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

pub use body::{BodyLimits, BodyTimeout, body_timeout};
pub use io::Deadlines;

use crate::config::{Config, Timeout};
use accept::{AcceptFailures, Next, Refusals};
use io::{Activity, SmallReads, Watched};
use service::ConnService;

/// Everything that bounds a connection.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub deadlines: Deadlines,
    pub body: BodyLimits,
    pub max_connections: usize,
}

impl Limits {
    pub fn from_config(config: &Config) -> Limits {
        Limits {
            deadlines: Deadlines {
                idle: config.keep_alive_timeout.0,
                head: config.header_read_timeout.0,
            },
            body: BodyLimits {
                timeout: config.body_timeout.0,
                min_rate: config.min_body_rate,
            },
            max_connections: config
                .max_connections
                .unwrap_or_else(|| accept::default_max_connections(accept::open_file_limit())),
        }
    }
}

/// Refused connections kept open at once to be told why (a 503); beyond it they are closed
/// straight away, so that refusing cannot use up file descriptors either.
const REFUSING_AT_ONCE: usize = 32;
/// How long a refused connection is given to send its request and read the 503.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` until `shutdown` completes, then lets every connection
/// finish its request in progress and returns when all have closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    announce(&limits);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let refusing = Arc::new(Semaphore::new(REFUSING_AT_ONCE));
    let stop = CancellationToken::new();
    let mut failures = AcceptFailures::default();
    let mut refusals = Refusals::default();
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => match failures.failed(&err) {
                Next::Retry => continue,
                Next::Pause { pause, first } => {
                    let open = limits.max_connections - permits.available_permits();
                    if first && accept::out_of_files(&err) {
                        tracing::warn!(
                            error = %err,
                            open_connections = open,
                            "cannot accept connections: out of file descriptors; new clients wait \
                             until connections close (raise `ulimit -n` or lower --max-connections)"
                        );
                    } else if first {
                        tracing::warn!(error = %err, open_connections = open, "cannot accept connections; retrying");
                    } else {
                        tracing::debug!(error = %err, pause_ms = pause.as_millis() as u64, "accept failed again");
                    }
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(pause) => continue,
                    }
                }
            },
        };
        if let Some((attempts, over)) = failures.accepted() {
            tracing::info!(
                failed_attempts = attempts,
                over_ms = over.as_millis() as u64,
                "accepting connections again"
            );
        }
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            if refusals.refused() {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "the connection limit is reached (--max-connections): new connections are \
                     answered 503 until one closes"
                );
            }
            refuse(stream, &refusing, refusal_response(limits.max_connections));
            continue;
        };
        if let Some(refused) = refusals.admitted() {
            tracing::info!(refused, "below the connection limit again");
        }
        let activity = Arc::new(Activity::default());
        let io = TokioIo::new(Watched::new(
            SmallReads(stream),
            activity.clone(),
            limits.deadlines,
        ));
        let service = ConnService {
            router: router.clone(),
            activity,
            peer,
            body: limits.body,
        };
        let stop = stop.clone();
        tokio::spawn(async move {
            // The deadlines live in the IO (see `io`), so hyper's own header timer stays off.
            let conn = http1::Builder::new()
                .header_read_timeout(None)
                .serve_connection(io, service)
                .with_upgrades();
            let mut conn = pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                () = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(err) = result {
                tracing::debug!(%peer, error = %err, "connection closed");
            }
            drop(permit);
        });
    }
    drop(listener);
    stop.cancel();
    // Each connection holds a permit until it closes: all of them back means all are done.
    let _all = permits.acquire_many(limits.max_connections as u32).await;
}

fn announce(limits: &Limits) {
    tracing::info!(
        max_connections = limits.max_connections,
        header_read_timeout = %Timeout(limits.deadlines.head),
        keep_alive_timeout = %Timeout(limits.deadlines.idle),
        body_timeout = %Timeout(limits.body.timeout),
        min_body_rate = limits.body.min_rate,
        "connection limits"
    );
    if let Some(files) = accept::open_file_limit()
        && limits.max_connections > accept::room_for_connections(files)
    {
        tracing::warn!(
            max_connections = limits.max_connections,
            open_file_limit = files,
            "--max-connections leaves too few of the process's file descriptors for the rest: \
             accepting may fail (EMFILE) before the limit is reached"
        );
    }
}

/// The 503 a connection over the limit gets, written before its request is read: which API
/// it was for is unknown, so the body is the shape Musique and the control plane share. It
/// carries a request id like every other answer, so a client's log can name it.
fn refusal_response(max: usize) -> Bytes {
    let request_id = format!("req_{}", crate::ids::random_alnum(20));
    let body = serde_json::json!({
        "error": {
            "code": "too_many_connections",
            "message": format!(
                "soundcheck has {max} connections open (--max-connections); retry when one closes."
            ),
            "type": "api_error",
            "requestId": request_id,
        }
    })
    .to_string();
    Bytes::from(format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nx-request-id: {request_id}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    ))
}

/// Answers a connection over the limit with the 503 and closes it. Its request is read (and
/// dropped) before closing: closing with unread data would reset the connection, and a reset
/// can destroy the 503 before the client reads it.
fn refuse(stream: TcpStream, refusing: &Arc<Semaphore>, response: Bytes) {
    let Ok(permit) = refusing.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let mut stream = stream;
        // A new socket's send buffer is empty: the write completes or the peer is gone.
        if stream.try_write(&response).is_ok() {
            let _ = stream.shutdown().await;
            let _ = tokio::time::timeout(REFUSAL_LINGER, async {
                let mut scratch = [0u8; 1024];
                let mut read = 0;
                while read < 64 * 1024 {
                    match stream.read(&mut scratch).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => read += n,
                    }
                }
            })
            .await;
        }
        drop(permit);
    });
}
