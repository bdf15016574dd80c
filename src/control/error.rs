//! The control plane's own error kinds and its error envelope, the Musique shape with codes
//! of its own.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{ApiKind, Error};
use crate::musique::error::MusiqueKind;

/// What only the control plane refuses.
#[derive(Debug, thiserror::Error)]
pub enum ControlKind {
    /// A request from another web site (its `Origin` or `Sec-Fetch-Site`).
    #[error("{0}")]
    CrossSiteRequest(String),
    /// A request whose `Host` is not a name of this server (DNS rebinding).
    #[error("{0}")]
    HostNotAllowed(String),
    /// A resource exists already (a company prefix, say).
    #[error("{0}")]
    Conflict(String),
}

impl ApiKind for ControlKind {
    fn status(&self) -> StatusCode {
        match self {
            ControlKind::CrossSiteRequest(_) | ControlKind::HostNotAllowed(_) => StatusCode::FORBIDDEN,
            ControlKind::Conflict(_) => StatusCode::CONFLICT,
        }
    }
}

impl From<ControlKind> for Error {
    fn from(err: ControlKind) -> Self {
        Error::Api(Box::new(err))
    }
}

/// The codes of the Musique kinds the control plane may pass on from Musique code.
fn musique_code(err: &MusiqueKind) -> (&'static str, &'static str) {
    match err {
        MusiqueKind::MissingFile | MusiqueKind::UnsupportedFormat(_) => {
            ("validation_error", "invalid_request_error")
        }
        MusiqueKind::MissingCompanyToken => ("missing_admin_token", "authentication_error"),
        MusiqueKind::InvalidCompanyToken => ("invalid_admin_token", "authentication_error"),
        MusiqueKind::Forbidden(_) => ("forbidden", "permission_error"),
        MusiqueKind::AudioNotFound(_)
        | MusiqueKind::ExternalIdsNotFound(_)
        | MusiqueKind::ExternalIdNotFound(_) => ("not_found", "not_found_error"),
        MusiqueKind::ScheduledSendsPending(_) => ("conflict", "conflict_error"),
        MusiqueKind::FileTooLarge { .. } => ("payload_too_large", "invalid_request_error"),
    }
}

/// The control plane's error codes.
fn code_and_type(err: &Error) -> (&str, &'static str) {
    match err {
        Error::InvalidJson(_) => ("invalid_json", "invalid_request_error"),
        Error::Validation(_) => ("validation_error", "invalid_request_error"),
        Error::MissingKey => ("missing_admin_token", "authentication_error"),
        Error::InvalidKey => ("invalid_admin_token", "authentication_error"),
        Error::UnsupportedMediaType(_) => ("unsupported_media_type", "invalid_request_error"),
        Error::RangeNotSatisfiable { .. } => ("range_not_satisfiable", "invalid_request_error"),
        Error::ResourceNotFound(_) | Error::RouteNotFound(_) => ("not_found", "not_found_error"),
        Error::MethodNotAllowed { .. } => ("method_not_allowed", "invalid_request_error"),
        Error::PayloadTooLarge { .. } => ("payload_too_large", "invalid_request_error"),
        Error::RateLimited { .. } => ("rate_limit_exceeded", "rate_limit_error"),
        Error::BodyTimeout(_) => ("request_timeout", "invalid_request_error"),
        Error::Internal(_) => ("internal_error", "api_error"),
        Error::Injected { code, .. } => (code.as_deref().unwrap_or("injected"), "api_error"),
        Error::Api(_) => {
            if let Some(own) = err.api::<ControlKind>() {
                match own {
                    ControlKind::CrossSiteRequest(_) => ("cross_site_request", "permission_error"),
                    ControlKind::HostNotAllowed(_) => ("host_not_allowed", "permission_error"),
                    ControlKind::Conflict(_) => ("conflict", "conflict_error"),
                }
            } else if let Some(musique) = err.api::<MusiqueKind>() {
                musique_code(musique)
            } else {
                ("internal_error", "api_error")
            }
        }
    }
}

/// `{"error": {"code", "message", "type", "requestId"}}`, with a `WWW-Authenticate` challenge
/// on a missing or wrong admin token.
pub fn render_error(err: &Error, request_id: &str) -> Response {
    let (code, kind) = code_and_type(err);
    let body = json!({
        "error": {
            "code": code,
            "message": err.public_message(),
            "type": kind,
            "requestId": request_id,
        }
    });
    let mut response = (err.status(), Json(body)).into_response();
    if let Error::RateLimited { retry_after_secs, .. } = err {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
    }
    if matches!(err, Error::MissingKey | Error::InvalidKey) {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="soundcheck-control""#),
        );
    }
    response
}
