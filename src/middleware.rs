//! The tower stack shared by every route, in one function, its order explained.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;

use crate::auth::parse_musique_token;
use crate::control::journal::{self, Draft};
use crate::error::{Api, Error, REQUEST, RequestContext};
use crate::ids::random_alnum;
use crate::state::Core;

/// JSON bodies up to this size are summarized in the journal; larger ones are not buffered
/// twice.
const JOURNAL_BODY_BYTES: u64 = 16 * 1024;

/// Wraps the whole app. Outermost first:
/// 1. `request_context` gives the request its id and API, logs it, records it in its tenant's
///    journal, and stamps `X-Request-Id` on whatever comes back, so it must see every
///    response, even a panic's;
/// 2. `CatchPanicLayer` turns a panic into a 500 in the API's envelope (inside the context,
///    so the body carries the request id).
pub fn stack(router: Router, state: Core) -> Router {
    router
        .layer(CatchPanicLayer::custom(|_panic| {
            Error::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(middleware::from_fn_with_state(state, request_context))
}

async fn request_context(State(state): State<Core>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = format!("req_{}", random_alnum(20));
    let method = req.method().clone();
    // The path only: a MusicArk query may carry `api_key`, and keys are never logged.
    let path = req.uri().path().to_owned();
    let api = Api::of_path(&path);
    let api_name = match api {
        Api::Musique => Some("musique"),
        Api::MusicArk => Some("musicark"),
        Api::Control => None,
    };
    let Some(api_name) = api_name else {
        let ctx = RequestContext {
            request_id: request_id.clone(),
            api,
            journal: None,
        };
        let response = REQUEST.scope(ctx, next.run(req)).await;
        return finish(response, &request_id, &method, &path, started);
    };

    // What the journal needs of the request, taken before the handler consumes it.
    let query = req.uri().query().map(journal::redact_query);
    // A Musique token names its company even when it is wrong: the request goes to that
    // company's tenant's journal.
    let prefix = req
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| parse_musique_token(t.trim()))
        .map(|t| t.company.to_owned());
    let draft = Arc::new(Mutex::new(Draft::default()));
    let ctx = RequestContext {
        request_id: request_id.clone(),
        api,
        journal: Some(draft.clone()),
    };
    let response = REQUEST
        .scope(ctx, async {
            match summarize_body(req).await {
                Ok((req, body)) => {
                    if let Some(body) = body {
                        journal::describe_body(body);
                    }
                    next.run(req).await
                }
                Err(err) => err.into_response(),
            }
        })
        .await;

    let draft = std::mem::take(&mut *draft.lock().unwrap_or_else(|e| e.into_inner()));
    let tenant = match &draft.tenant {
        Some(tenant) => tenant.clone(),
        None => state.runtimes.tenant_of_prefix(prefix.as_deref()),
    };
    let at_ms = state.clocks.get(&tenant).now_ms();
    let entry = journal::entry(
        api_name,
        method.to_string(),
        path.clone(),
        query,
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0,
        request_id.clone(),
        at_ms,
        draft,
    );
    state.runtimes.get(&tenant).journal.push(entry);
    finish(response, &request_id, &method, &path, started)
}

fn finish(
    mut response: Response,
    request_id: &str,
    method: &axum::http::Method,
    path: &str,
    started: Instant,
) -> Response {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    let status = response.status();
    let latency_us = started.elapsed().as_micros() as u64;
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::warn!(%method, %path, status = status.as_u16(), latency_us, request_id, "request");
    } else {
        tracing::info!(%method, %path, status = status.as_u16(), latency_us, request_id, "request");
    }
    response
}

/// A journal summary of the body: small JSON bodies are read (and handed on unchanged),
/// others are described by their type and length.
async fn summarize_body(req: Request) -> Result<(Request, Option<String>), Error> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    Ok(match length {
        None | Some(0) => (req, None),
        Some(n) if content_type.starts_with("application/json") && n <= JOURNAL_BODY_BYTES => {
            let (parts, body) = req.into_parts();
            match axum::body::to_bytes(body, JOURNAL_BODY_BYTES as usize).await {
                Ok(bytes) => {
                    let summary = journal::summarize_json(&bytes);
                    (Request::from_parts(parts, Body::from(bytes)), Some(summary))
                }
                // Never hand on an empty body in its place: an empty send is a broadcast.
                Err(err) => {
                    return Err(match crate::serve::body_timeout(&err) {
                        Some(timeout) => Error::BodyTimeout(timeout),
                        None => Error::InvalidJson("the body ended before its Content-Length".to_owned()),
                    });
                }
            }
        }
        Some(n) => {
            let kind = content_type.split(';').next().unwrap_or("").trim();
            let kind = if kind.is_empty() { "no content type" } else { kind };
            (req, Some(format!("({kind}, {n} bytes)")))
        }
    })
}

/// Unknown paths, in the envelope of the API the path belongs to.
pub async fn not_found(req: Request) -> Error {
    Error::RouteNotFound(format!("{} {}", req.method(), req.uri().path()))
}

/// Known paths called with a method they do not serve.
pub async fn method_not_allowed(req: Request) -> Error {
    Error::MethodNotAllowed {
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
    }
}
