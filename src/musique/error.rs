//! The Musique API's own error kinds and its error envelope (spec §3).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{ApiKind, Error};

/// What only the Musique API refuses.
#[derive(Debug, thiserror::Error)]
pub enum MusiqueKind {
    #[error("No file was uploaded: send the MP3 in a multipart form field named `file`.")]
    MissingFile,
    /// The legacy token endpoint's credential, sent in the body instead of `X-API-Key`.
    #[error("No company token was given: send it as `companyToken` in the body.")]
    MissingCompanyToken,
    #[error("The company token is invalid.")]
    InvalidCompanyToken,
    #[error("This API key lacks the `{0}` permission.")]
    Forbidden(&'static str),
    #[error("Audio `{0}` was not found.")]
    AudioNotFound(String),
    #[error("Unknown External IDs: {}. Nothing was sent.", .0.join(", "))]
    ExternalIdsNotFound(Vec<String>),
    #[error("External ID `{0}` is not a location of this company.")]
    ExternalIdNotFound(String),
    #[error(
        "Audio `{0}` has a scheduled send that is still pending; it cannot be deleted until that send has gone out."
    )]
    ScheduledSendsPending(String),
    #[error("The file is larger than the {limit_mb} MB limit.")]
    FileTooLarge { limit_mb: u64 },
    #[error("{0}")]
    UnsupportedFormat(String),
}

impl ApiKind for MusiqueKind {
    fn status(&self) -> StatusCode {
        match self {
            MusiqueKind::MissingFile => StatusCode::BAD_REQUEST,
            MusiqueKind::MissingCompanyToken | MusiqueKind::InvalidCompanyToken => StatusCode::UNAUTHORIZED,
            MusiqueKind::Forbidden(_) => StatusCode::FORBIDDEN,
            MusiqueKind::AudioNotFound(_)
            | MusiqueKind::ExternalIdsNotFound(_)
            | MusiqueKind::ExternalIdNotFound(_) => StatusCode::NOT_FOUND,
            MusiqueKind::ScheduledSendsPending(_) => StatusCode::CONFLICT,
            MusiqueKind::FileTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            MusiqueKind::UnsupportedFormat(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }
}

impl From<MusiqueKind> for Error {
    fn from(err: MusiqueKind) -> Self {
        Error::Api(Box::new(err))
    }
}

/// The `code` and `type` of a kind of ours.
fn own_code_and_type(err: &MusiqueKind) -> (&'static str, &'static str) {
    match err {
        MusiqueKind::MissingFile => ("missing_file", "invalid_request_error"),
        // The company token is the legacy token endpoint's API key: the same codes.
        MusiqueKind::MissingCompanyToken => ("missing_api_key", "authentication_error"),
        MusiqueKind::InvalidCompanyToken => ("invalid_api_key", "authentication_error"),
        MusiqueKind::Forbidden(_) => ("insufficient_permissions", "permission_error"),
        MusiqueKind::AudioNotFound(_) => ("audio_not_found", "not_found_error"),
        MusiqueKind::ExternalIdsNotFound(_) | MusiqueKind::ExternalIdNotFound(_) => {
            ("external_id_not_found", "not_found_error")
        }
        MusiqueKind::ScheduledSendsPending(_) => ("audio_has_scheduled_sends", "conflict_error"),
        MusiqueKind::FileTooLarge { .. } => ("file_too_large", "invalid_request_error"),
        MusiqueKind::UnsupportedFormat(_) => ("unsupported_format", "invalid_request_error"),
    }
}

/// The `code` and `type` a status gets when nothing more precise names it.
fn code_and_type_of_status(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => ("validation_error", "invalid_request_error"),
        401 => ("invalid_api_key", "authentication_error"),
        403 => ("insufficient_permissions", "permission_error"),
        404 => ("not_found", "not_found_error"),
        409 => ("conflict", "conflict_error"),
        429 => ("rate_limit_exceeded", "rate_limit_error"),
        500 => ("internal_error", "api_error"),
        s if s >= 500 => ("service_unavailable", "api_error"),
        _ => ("invalid_request", "invalid_request_error"),
    }
}

/// Each error kind's `code` and `type` in Musique's table (spec §3).
fn code_and_type(err: &Error) -> (&str, &'static str) {
    match err {
        Error::InvalidJson(_) => ("invalid_json", "invalid_request_error"),
        Error::Validation(_) => ("validation_error", "invalid_request_error"),
        Error::MissingKey => ("missing_api_key", "authentication_error"),
        Error::InvalidKey => ("invalid_api_key", "authentication_error"),
        Error::ResourceNotFound(_) | Error::RouteNotFound(_) => ("not_found", "not_found_error"),
        Error::MethodNotAllowed { .. } => ("method_not_allowed", "invalid_request_error"),
        // Ours: the docs name no code for an oversized JSON body.
        Error::PayloadTooLarge { .. } => ("payload_too_large", "invalid_request_error"),
        // Ours: the docs say nothing of ranges; RFC 9110's status, a code in the table's style.
        Error::RangeNotSatisfiable { .. } => ("range_not_satisfiable", "invalid_request_error"),
        Error::UnsupportedMediaType(_) => ("unsupported_media_type", "invalid_request_error"),
        Error::RateLimited { .. } => ("rate_limit_exceeded", "rate_limit_error"),
        // Ours: the docs name no code for a body that stalls.
        Error::BodyTimeout(_) => ("request_timeout", "invalid_request_error"),
        Error::Internal(_) => ("internal_error", "api_error"),
        Error::Injected { status, code, .. } => {
            let (default_code, kind) = code_and_type_of_status(*status);
            (code.as_deref().unwrap_or(default_code), kind)
        }
        Error::Api(kind) => match err.api::<MusiqueKind>() {
            Some(own) => own_code_and_type(own),
            // Another API's kind never reaches a Musique route; its status still says much.
            None => code_and_type_of_status(kind.status()),
        },
    }
}

/// `{"error": {"code", "message", "type", "requestId", …}}`.
pub fn render_error(err: &Error, request_id: &str) -> Response {
    let (code, kind) = code_and_type(err);
    let mut body = json!({
        "code": code,
        "message": err.public_message(),
        "type": kind,
        "requestId": request_id,
    });
    match err.api::<MusiqueKind>() {
        Some(MusiqueKind::ExternalIdsNotFound(ids)) => body["externalIds"] = json!(ids),
        Some(MusiqueKind::ExternalIdNotFound(id)) => body["externalIds"] = json!([id]),
        Some(MusiqueKind::Forbidden(permission)) => body["requiredPermission"] = json!(permission),
        _ => {}
    }
    if let Error::RateLimited { retry_after_secs, .. } = err {
        body["retryAfter"] = json!(retry_after_secs);
    }
    let status = err.status();
    let mut response = (status, Json(json!({ "error": body }))).into_response();
    if let Error::RateLimited { retry_after_secs, .. } = err {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
    }
    response
}
