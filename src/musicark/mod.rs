//! The MusicArk API: route table and error format.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;

use crate::error::{Error, RequestContext};
use crate::state::AppState;

pub const BASE: &str = "/api/v1";

/// The MusicArk routes under `/api/v1`.
pub fn routes(state: AppState) -> Router {
    Router::new().with_state(state)
}

/// Each error kind's `code` in MusicArk's envelope (spec §1).
fn code(err: &Error) -> &'static str {
    match err {
        Error::InvalidJson(_)
        | Error::Validation(_)
        | Error::MissingFile
        | Error::FileTooLarge { .. }
        | Error::PayloadTooLarge { .. }
        | Error::UnsupportedFormat(_) => "bad_request",
        Error::MissingKey | Error::InvalidKey => "unauthorized",
        Error::Forbidden(_) => "forbidden",
        Error::AudioNotFound(_)
        | Error::ExternalIdsNotFound(_)
        | Error::ResourceNotFound(_)
        | Error::RouteNotFound(_) => "not_found",
        Error::MethodNotAllowed { .. } => "method_not_allowed",
        Error::ScheduledSendsPending(_) => "conflict",
        Error::RateLimited { .. } => "rate_limit_exceeded",
        Error::Internal(_) => "internal_error",
    }
}

/// `{"data": null, "meta": {}, "error": {"code", "message"}}`, with RFC 6750's
/// `WWW-Authenticate` on a 401.
pub fn render_error(err: &Error, ctx: &RequestContext) -> Response {
    let body = json!({
        "data": null,
        "meta": {},
        "error": { "code": code(err), "message": err.public_message(), "request_id": ctx.request_id },
    });
    let mut response = (err.status(), Json(body)).into_response();
    let challenge = match err {
        Error::MissingKey => Some(r#"Bearer realm="musicark""#),
        Error::InvalidKey => Some(r#"Bearer realm="musicark", error="invalid_token""#),
        _ => None,
    };
    if let Some(challenge) = challenge {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    }
    if let Error::RateLimited { retry_after_secs, .. } = err {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
    }
    response
}
