//! The tower stack shared by every route, in one function, its order explained.

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;

use crate::error::{self, Error, RequestId};
use crate::journal::{self, Notes};
use crate::state::{Core, DEFAULT_TENANT};

/// JSON bodies up to this size are summarized in the journal; larger ones are not buffered
/// twice.
const JOURNAL_BODY_BYTES: u64 = 16 * 1024;

/// What the entry tells the shared stack of the APIs it assembled.
#[derive(Clone, Copy)]
pub struct Entry {
    /// The API a path belongs to, by the name the journal records; `None` for paths the
    /// journal does not record (the control plane, the docs).
    pub journal_api: fn(&str) -> Option<&'static str>,
    /// Renders an error no API's router rendered (fallbacks, panics, the docs), given the
    /// request's path and id.
    pub render: fn(&Error, &str, &str) -> Response,
    /// The header whose value names the request's tenant when no key layer named it (a
    /// route without one, an unknown path, a refused key), and the name it gives: resolved
    /// through the tenancy map of company prefixes, the default tenant when unknown.
    pub alias_header: &'static str,
    pub tenant_alias: fn(&str) -> Option<&str>,
}

/// Wraps the whole app. Outermost first:
/// 1. `request_context` gives the request its id (a [`RequestId`] extension), logs it,
///    records an API request in its tenant's journal (with a [`Notes`] extension the layers
///    and handlers below write to), renders what no API rendered, and stamps `X-Request-Id`
///    on whatever comes back, so it must see every response, even a panic's;
/// 2. `CatchPanicLayer` turns a panic into a 500, rendered by the first.
///
/// Below them each API's router stacks its own: error rendering, then per route its key
/// layer, [`crate::faults::FaultLayer`], and its limit layer, in that order.
pub fn stack(router: Router, state: Core, entry: Entry) -> Router {
    router
        .layer(CatchPanicLayer::custom(|_panic| {
            Error::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(middleware::from_fn_with_state((state, entry), request_context))
}

async fn request_context(
    State((state, entry)): State<(Core, Entry)>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let request_id = RequestId::generate();
    let method = req.method().clone();
    // The path only: a MusicArk query may carry `api_key`, and keys are never logged.
    let path = req.uri().path().to_owned();
    req.extensions_mut().insert(request_id);
    let render = |response: Response| {
        error::render(response, request_id.as_str(), |err| {
            (entry.render)(err, &path, request_id.as_str())
        })
    };
    let Some(api_name) = (entry.journal_api)(&path) else {
        let response = render(next.run(req).await);
        return finish(response, request_id.as_str(), &method, &path, started);
    };

    // What the journal needs of the request, taken before the handler consumes it.
    let query = req.uri().query().map(journal::redact_query);
    // Kept as the header's value (a reference count), read only if no key layer names the
    // tenant.
    let alias = req.headers().get(entry.alias_header).cloned();
    let notes = Notes::recording();
    req.extensions_mut().insert(notes.clone());
    let response = match summarize_body(req).await {
        Ok((req, body)) => {
            if let Some(body) = body {
                notes.describe_body(body);
            }
            next.run(req).await
        }
        Err(err) => err.into_response(),
    };
    let response = render(response);

    let mut draft = notes.take();
    // The API's key layer names the tenant; else the alias the headers gave, even for a key
    // that was refused or never checked; anything else is the default tenant's.
    let tenant = draft.tenant.take().or_else(|| {
        let value = alias.as_ref()?.to_str().ok()?;
        state
            .runtimes
            .tenant_of_prefix((entry.tenant_alias)(value.trim())?)
    });
    let tenant = tenant.as_deref().unwrap_or(DEFAULT_TENANT);
    let at_ms = state.clocks.get(tenant).now_ms();
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let response = finish(response, request_id.as_str(), &method, &path, started);
    let entry = journal::entry(
        api_name, method, path, query, status, latency_ms, request_id, at_ms, draft,
    );
    state.runtimes.get(tenant).journal.push(entry);
    response
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
    let content_type = |req: &Request| {
        req.headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    Ok(match length {
        None | Some(0) => (req, None),
        Some(n) if content_type(&req).starts_with("application/json") && n <= JOURNAL_BODY_BYTES => {
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
            let content_type = content_type(&req);
            let kind = content_type.split(';').next().unwrap_or("").trim();
            let kind = if kind.is_empty() { "no content type" } else { kind };
            (req, Some(format!("({kind}, {n} bytes)")))
        }
    })
}

/// Unknown paths, rendered at the top in the envelope of the API the path belongs to.
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
