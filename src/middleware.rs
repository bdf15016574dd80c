//! The tower stack shared by every route, in one function, its order explained.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use crate::error::{self, Error, RequestId};
use crate::journal::{self, Notes};
use crate::state::{Core, DEFAULT_TENANT};
use crate::warnings;

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
    pub alias_header: &'static HeaderName,
    pub tenant_alias: fn(&str) -> Option<&str>,
}

/// Wraps the whole app in one layer, [`ContextLayer`]: it gives the request its id (a
/// [`RequestId`] extension), logs it, records an API request in its tenant's journal (with a
/// [`Notes`] extension the layers and handlers below write to), turns a panic below into a
/// 500, renders what no API rendered, and stamps `X-Request-Id` on whatever comes back, so it
/// must see every response, even a panic's. It catches panics itself: a panic layer of its
/// own would box every route once more, and every response body.
///
/// It is a route layer (`Router::layer`), so that the route future around it, the top-level
/// one, sets `Content-Length` (and empties a HEAD answer) after it rendered the body.
///
/// Below it each API's router stacks its own: error rendering, then per route its key
/// layer, [`crate::faults::FaultLayer`], and its limit layer, in that order.
pub fn stack(router: Router, state: Core, entry: Entry) -> Router {
    router.layer(ContextLayer { state, entry })
}

/// What a panic below the request context answers (rendered, like any error, by its finish).
fn panicked() -> Response {
    Error::Internal(anyhow::anyhow!("handler panicked")).into_response()
}

/// The request context layer. A service of its own rather than an axum `from_fn`: a request
/// whose body the journal need not read (every one but a small JSON body) is handled in
/// `call` and its response finished as the inner future completes, with no boxed future.
#[derive(Clone)]
pub struct ContextLayer {
    state: Core,
    entry: Entry,
}

impl<S> Layer<S> for ContextLayer {
    type Service = ContextService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ContextService {
            state: self.state.clone(),
            entry: self.entry,
            inner,
        }
    }
}

#[derive(Clone)]
pub struct ContextService<S> {
    state: Core,
    entry: Entry,
    inner: S,
}

/// What a request's response is finished with on its way out.
struct RequestContext {
    state: Core,
    entry: Entry,
    started: Instant,
    request_id: RequestId,
    method: Method,
    path: String,
    journal: Option<Recording>,
}

/// What the journal needs of an API request, taken before the handler consumes it.
struct Recording {
    api_name: &'static str,
    query: Option<String>,
    // Kept as the header's value (a reference count), read only if no key layer names the
    // tenant.
    alias: Option<HeaderValue>,
    notes: Notes,
}

impl<S> Service<Request> for ContextService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ContextFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let started = Instant::now();
        let request_id = RequestId::generate();
        req.extensions_mut().insert(request_id);
        // The path only: a MusicArk query may carry `api_key`, and keys are never logged.
        let path = req.uri().path().to_owned();
        let journal = (self.entry.journal_api)(&path).map(|api_name| {
            let notes = Notes::recording();
            req.extensions_mut().insert(notes.clone());
            Recording {
                api_name,
                query: req.uri().query().map(journal::redact_query),
                alias: req.headers().get(self.entry.alias_header).cloned(),
                notes,
            }
        });
        let context = RequestContext {
            state: self.state.clone(),
            entry: self.entry,
            started,
            request_id,
            method: req.method().clone(),
            path,
            journal,
        };
        let Some(recording) = &context.journal else {
            return ContextFuture::inner(&mut self.inner, req, context);
        };
        match body_plan(&req) {
            BodyPlan::Nothing => {}
            BodyPlan::Describe(description) => recording.notes.describe_body(description),
            BodyPlan::Read => {
                // The service that was made ready goes with the request; its clone stays.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                return ContextFuture::Reading {
                    reading: Box::pin(async move {
                        let response = match read_json_body(req).await {
                            Ok((req, summary)) => {
                                if let Some(recording) = &context.journal {
                                    recording.notes.describe_body(summary);
                                }
                                let handled = AssertUnwindSafe(async move { inner.call(req).await });
                                match futures_util::FutureExt::catch_unwind(handled).await {
                                    Ok(response) => response?,
                                    Err(_panic) => panicked(),
                                }
                            }
                            Err(err) => err.into_response(),
                        };
                        Ok(context.finish(response))
                    }),
                };
            }
        }
        ContextFuture::inner(&mut self.inner, req, context)
    }
}

type Reading = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

pin_project_lite::pin_project! {
    #[project = ContextProjection]
    pub enum ContextFuture<F> {
        Inner { #[pin] inner: F, context: Option<RequestContext> },
        /// The inner service panicked in `call`: the 500 is all there is to finish.
        Panicked { context: Option<RequestContext> },
        Reading { reading: Reading },
    }
}

impl<F> ContextFuture<F> {
    fn inner<S>(service: &mut S, req: Request, context: RequestContext) -> Self
    where
        S: Service<Request, Future = F>,
    {
        match std::panic::catch_unwind(AssertUnwindSafe(|| service.call(req))) {
            Ok(inner) => ContextFuture::Inner {
                inner,
                context: Some(context),
            },
            Err(_panic) => ContextFuture::Panicked {
                context: Some(context),
            },
        }
    }
}

impl<F> Future for ContextFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            ContextProjection::Inner { inner, context } => {
                let response = match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(response)) => response?,
                    Err(_panic) => panicked(),
                };
                match context.take() {
                    Some(context) => Poll::Ready(Ok(context.finish(response))),
                    None => panic!("ContextFuture polled after it finished"),
                }
            }
            ContextProjection::Panicked { context } => match context.take() {
                Some(context) => Poll::Ready(Ok(context.finish(panicked()))),
                None => panic!("ContextFuture polled after it finished"),
            },
            ContextProjection::Reading { reading } => reading.as_mut().poll(cx),
        }
    }
}

impl RequestContext {
    /// Renders what no API rendered, records an API request in its tenant's journal, stamps
    /// the id and logs the request.
    fn finish(self, response: Response) -> Response {
        let RequestContext {
            state,
            entry,
            started,
            request_id,
            method,
            path,
            journal,
        } = self;
        let response = error::render(response, request_id.as_str(), |err| {
            (entry.render)(err, &path, request_id.as_str())
        });
        let Some(recording) = journal else {
            return stamp_and_log(response, request_id.as_str(), &method, &path, started.elapsed());
        };
        let mut draft = recording.notes.take();
        // The API's key layer names the tenant; else the alias the headers gave, even for a
        // key that was refused or never checked; anything else is the default tenant's.
        let tenant = draft.tenant.take().or_else(|| {
            let value = recording.alias.as_ref()?.to_str().ok()?;
            state
                .runtimes
                .tenant_of_prefix((entry.tenant_alias)(value.trim())?)
                .map(Arc::from)
        });
        let tenant = tenant.as_deref().unwrap_or(DEFAULT_TENANT);
        let at_ms = state.clocks.get(tenant).now_ms();
        let status = response.status().as_u16();
        let latency = started.elapsed();
        let latency_ms = latency.as_secs_f64() * 1000.0;
        let mut response = stamp_and_log(response, request_id.as_str(), &method, &path, latency);
        add_warnings(&mut response, &mut draft);
        let entry = journal::entry(
            recording.api_name,
            method,
            path,
            recording.query,
            status,
            latency_ms,
            request_id,
            at_ms,
            draft,
        );
        let runtime = state.runtimes.get(tenant);
        runtime.journal.push(entry);
        runtime.changes.bump();
        response
    }
}

/// One `Soundcheck-Warning` header per warning the request got, in the order found, and one
/// that counts those left out.
fn add_warnings(response: &mut Response, draft: &mut journal::Draft) {
    if draft.left_out > 0 {
        let line = format!("{} more warnings left out", draft.left_out);
        draft.notes.push(line.clone());
        draft.warnings.push(line);
    }
    for line in &draft.warnings {
        // Every line is visible ASCII (`warnings::quoted`); one that is not is dropped.
        if let Ok(value) = HeaderValue::from_str(line) {
            response.headers_mut().append(warnings::HEADER, value);
        }
    }
}

fn stamp_and_log(
    mut response: Response,
    request_id: &str,
    method: &Method,
    path: &str,
    latency: Duration,
) -> Response {
    static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert(&X_REQUEST_ID, value);
    }
    let status = response.status();
    let latency_us = latency.as_micros() as u64;
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::warn!(%method, %path, status = status.as_u16(), latency_us, request_id, "request");
    } else {
        tracing::info!(%method, %path, status = status.as_u16(), latency_us, request_id, "request");
    }
    response
}

/// How the journal summarizes a body: small JSON bodies are read (and handed on unchanged),
/// others are described by their type and length.
enum BodyPlan {
    Nothing,
    Describe(String),
    Read,
}

fn body_plan(req: &Request) -> BodyPlan {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match length {
        None | Some(0) => BodyPlan::Nothing,
        Some(n) if content_type.starts_with("application/json") && n <= JOURNAL_BODY_BYTES => BodyPlan::Read,
        Some(n) => {
            let kind = content_type.split(';').next().unwrap_or("").trim();
            let kind = if kind.is_empty() { "no content type" } else { kind };
            BodyPlan::Describe(format!("({kind}, {n} bytes)"))
        }
    }
}

/// Reads a small JSON body for its summary, and hands it on unchanged.
async fn read_json_body(req: Request) -> Result<(Request, String), Error> {
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, JOURNAL_BODY_BYTES as usize).await {
        Ok(bytes) => {
            let summary = journal::summarize_json(&bytes);
            Ok((Request::from_parts(parts, Body::from(bytes)), summary))
        }
        // Never hand on an empty body in its place: an empty send is a broadcast.
        Err(err) => Err(match crate::serve::body_timeout(&err) {
            Some(timeout) => Error::BodyTimeout(timeout),
            None => Error::InvalidJson("the body ended before its Content-Length".to_owned()),
        }),
    }
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
