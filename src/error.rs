//! Error kinds shared by both APIs; each API renders them in its own wire format.
//!
//! A handler returns `Result<_, Error>` and never chooses a format: the request's context
//! (set by the outermost middleware) says which API it belongs to and carries the request id.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::{control, musicark, musique};

/// Which wire format a request's errors take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    Musique,
    MusicArk,
    Control,
}

impl Api {
    /// The API a path belongs to: `/api/v1/integration` and the legacy `/api/…` paths are
    /// Musique's, the rest of `/api/v1` is MusicArk's.
    pub fn of_path(path: &str) -> Api {
        if path.starts_with("/api/v1/integration") || path.starts_with("/media/") {
            Api::Musique
        } else if path == "/api/v1" || path.starts_with("/api/v1/") {
            Api::MusicArk
        } else if path.starts_with("/api") {
            Api::Musique
        } else {
            Api::Control
        }
    }
}

/// What the outermost middleware knows about the request being served.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub request_id: String,
    pub api: Api,
    /// What handlers tell the request journal (API requests only).
    pub journal: Option<crate::control::journal::SharedDraft>,
}

tokio::task_local! {
    pub static REQUEST: RequestContext;
}

/// The current request's context; outside a request (unit tests), a placeholder.
pub fn current() -> RequestContext {
    REQUEST.try_with(Clone::clone).unwrap_or_else(|_| RequestContext {
        request_id: String::new(),
        api: Api::Control,
        journal: None,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("The request body is not valid JSON: {0}")]
    InvalidJson(String),
    /// A field or parameter is missing, mistyped or out of range; the message names it.
    #[error("{0}")]
    Validation(String),
    #[error("No file was uploaded: send the MP3 in a multipart form field named `file`.")]
    MissingFile,
    #[error("No API key was given.")]
    MissingKey,
    #[error("The API key is invalid or has been revoked.")]
    InvalidKey,
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
    /// A resource of the MusicArk catalogue.
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("No route matches {0}.")]
    RouteNotFound(String),
    #[error("Method {method} is not allowed on {path}.")]
    MethodNotAllowed { method: String, path: String },
    #[error(
        "Audio `{0}` has a scheduled send that is still pending; it cannot be deleted until that send has gone out."
    )]
    ScheduledSendsPending(String),
    #[error("The file is larger than the {limit_mb} MB limit.")]
    FileTooLarge { limit_mb: u64 },
    #[error("The request body is larger than the {limit_kb} KB limit.")]
    PayloadTooLarge { limit_kb: u64 },
    #[error("{0}")]
    UnsupportedFormat(String),
    /// A `Range` of `bytes` that starts past the end of the file (RFC 9110 §15.5.17).
    #[error("The range `{range}` cannot be satisfied: the file has {total} bytes.")]
    RangeNotSatisfiable { range: String, total: u64 },
    /// A control-plane request from another web site (its `Origin` or `Sec-Fetch-Site`).
    #[error("{0}")]
    CrossSiteRequest(String),
    /// A control-plane request whose `Host` is not a name of this server (DNS rebinding).
    #[error("{0}")]
    HostNotAllowed(String),
    /// A control-plane body that is not declared as JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{message}")]
    RateLimited { retry_after_secs: u64, message: String },
    /// A request body stalled or came too slowly; its connection is closed after the answer.
    #[error("{0}")]
    BodyTimeout(crate::serve::BodyTimeout),
    /// A control-plane resource exists already (a company prefix, say).
    #[error("{0}")]
    Conflict(String),
    /// An error a test asked for through the control plane's faults.
    #[error("{message}")]
    Injected {
        status: StatusCode,
        code: Option<String>,
        message: String,
    },
    #[error("An internal error occurred.")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Error::Internal(err.into())
    }
}

impl Error {
    pub fn validation(message: impl Into<String>) -> Self {
        Error::Validation(message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::InvalidJson(_) | Error::Validation(_) | Error::MissingFile => StatusCode::BAD_REQUEST,
            Error::MissingKey
            | Error::InvalidKey
            | Error::MissingCompanyToken
            | Error::InvalidCompanyToken => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::AudioNotFound(_)
            | Error::ExternalIdsNotFound(_)
            | Error::ExternalIdNotFound(_)
            | Error::ResourceNotFound(_)
            | Error::RouteNotFound(_) => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Error::ScheduledSendsPending(_) | Error::Conflict(_) => StatusCode::CONFLICT,
            Error::FileTooLarge { .. } | Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedFormat(_) | Error::UnsupportedMediaType(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            Error::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            Error::CrossSiteRequest(_) | Error::HostNotAllowed(_) => StatusCode::FORBIDDEN,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Error::Injected { status, .. } => *status,
        }
    }

    /// The message shown to clients: never the cause of an internal error.
    pub fn public_message(&self) -> String {
        self.to_string()
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let ctx = current();
        if let Error::Internal(cause) = &self {
            // The cause goes to the log, with the request id to find it by; never to the client.
            tracing::error!(request_id = %ctx.request_id, error = ?cause, "internal error");
        }
        let mut response = match ctx.api {
            Api::MusicArk => musicark::render_error(&self, &ctx),
            Api::Musique => musique::render_error(&self, &ctx),
            Api::Control => control::render_error(&self, &ctx),
        };
        if let Error::RangeNotSatisfiable { total, .. } = &self {
            // RFC 9110 §14.4: a 416 says how long the representation is.
            if let Ok(value) = axum::http::HeaderValue::from_str(&format!("bytes */{total}")) {
                response
                    .headers_mut()
                    .insert(axum::http::header::CONTENT_RANGE, value);
            }
        }
        if let Error::BodyTimeout(_) = self {
            // The rest of the body may still come; the connection cannot carry another request.
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
