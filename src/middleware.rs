//! The tower stack shared by every route, in one function, its order explained.

use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;

use crate::auth::random_alnum;
use crate::error::{Api, Error, REQUEST, RequestContext};

/// Wraps the whole app. Outermost first:
/// 1. `request_context` gives the request its id and API, logs it, and stamps `X-Request-Id`
///    on whatever comes back, so it must see every response, even a panic's;
/// 2. `CatchPanicLayer` turns a panic into a 500 in the API's envelope (inside the context,
///    so the body carries the request id).
pub fn stack(router: Router) -> Router {
    router
        .layer(CatchPanicLayer::custom(|_panic| {
            Error::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(middleware::from_fn(request_context))
}

async fn request_context(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = format!("req_{}", random_alnum(20));
    let method = req.method().clone();
    // The path only: a MusicArk query may carry `api_key`, and keys are never logged.
    let path = req.uri().path().to_owned();
    let ctx = RequestContext {
        request_id: request_id.clone(),
        api: Api::of_path(&path),
    };
    let mut response = REQUEST.scope(ctx, next.run(req)).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
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
