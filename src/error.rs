//! Error kinds every API shares, and how an error travels to the API that renders it.
//!
//! A handler returns `Result<_, Error>` and never chooses a format: [`Error`]'s response is
//! only a status with the error in its extensions. Each API's router renders it in its own
//! envelope ([`Render`]); what no API rendered (fallbacks, panics) the entry renders by path.
//! Kinds only one API produces live with that API, behind [`Error::Api`].

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

/// `Content-Type` of the JSON answers every API builds itself, made without parsing or
/// allocating it per response.
pub const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// The id of a request, set by the outermost layer in the request's extensions and shown in
/// every error body and in `X-Request-Id`. Inline, so copying it costs no allocation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RequestId([u8; RequestId::LEN]);

impl RequestId {
    const LEN: usize = 4 + 20;

    /// `req_` and 20 random lowercase letters and digits.
    pub fn generate() -> RequestId {
        let mut bytes = [0u8; RequestId::LEN];
        bytes[..4].copy_from_slice(b"req_");
        crate::ids::fill_alnum(&mut bytes[4..]);
        RequestId(bytes)
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is ever written into it.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl serde::Serialize for RequestId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error kind one API defines; its renderer finds it again with [`Error::api`].
pub trait ApiKind: fmt::Display + fmt::Debug + Send + Sync + Any {
    fn status(&self) -> StatusCode;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("The request body is not valid JSON: {0}")]
    InvalidJson(String),
    /// A field or parameter is missing, mistyped or out of range; the message names it.
    #[error("{0}")]
    Validation(String),
    #[error("No API key was given.")]
    MissingKey,
    #[error("The API key is invalid or has been revoked.")]
    InvalidKey,
    /// A resource the path names does not exist; the message names it.
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("No route matches {0}.")]
    RouteNotFound(String),
    #[error("Method {method} is not allowed on {path}.")]
    MethodNotAllowed { method: String, path: String },
    #[error("The request body is larger than the {limit_kb} KB limit.")]
    PayloadTooLarge { limit_kb: u64 },
    /// A `Range` of `bytes` that starts past the end of the file (RFC 9110 §15.5.17).
    #[error("The range `{range}` cannot be satisfied: the file has {total} bytes.")]
    RangeNotSatisfiable { range: String, total: u64 },
    /// A body that is not declared as JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{message}")]
    RateLimited { retry_after_secs: u64, message: String },
    /// A request body stalled or came too slowly; its connection is closed after the answer.
    #[error("{0}")]
    BodyTimeout(crate::serve::BodyTimeout),
    /// An error a test asked for through the control plane's faults.
    #[error("{message}")]
    Injected {
        status: StatusCode,
        code: Option<String>,
        message: String,
    },
    /// A kind only one API produces.
    #[error("{0}")]
    Api(Box<dyn ApiKind>),
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
            Error::InvalidJson(_) | Error::Validation(_) => StatusCode::BAD_REQUEST,
            Error::MissingKey | Error::InvalidKey => StatusCode::UNAUTHORIZED,
            Error::ResourceNotFound(_) | Error::RouteNotFound(_) => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Error::Injected { status, .. } => *status,
            Error::Api(kind) => kind.status(),
        }
    }

    /// The message shown to clients: never the cause of an internal error.
    pub fn public_message(&self) -> String {
        self.to_string()
    }

    /// The API-specific kind, if this is one of `K`.
    pub fn api<K: ApiKind>(&self) -> Option<&K> {
        match self {
            Error::Api(kind) => {
                let kind: &dyn Any = &**kind;
                kind.downcast_ref::<K>()
            }
            _ => None,
        }
    }
}

/// An error on its way to a renderer, in a response's extensions.
#[derive(Clone, Debug)]
struct Unrendered(Arc<Error>);

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = self.status();
        response.extensions_mut().insert(Unrendered(Arc::new(self)));
        response
    }
}

/// An API's envelope: the body, status and headers of an error, given the request id.
pub type Renderer = fn(&Error, &str) -> Response;

/// Renders the error a response carries, if any, with `render`. The headers and extensions
/// layers put on the way out (rate-limit headers, say) are kept; the body and the renderer's
/// headers replace the placeholder's.
pub fn render(response: Response, request_id: &str, render: impl FnOnce(&Error) -> Response) -> Response {
    if response.extensions().get::<Unrendered>().is_none() {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let Some(Unrendered(err)) = parts.extensions.remove::<Unrendered>() else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Error::Internal(cause) = &*err {
        // The cause goes to the log, with the request id to find it by; never to the client.
        tracing::error!(request_id = %request_id, error = ?cause, "internal error");
    }
    let (rendered, body) = render(&err).into_parts();
    parts.status = rendered.status;
    for (name, value) in rendered.headers {
        if let Some(name) = name {
            parts.headers.insert(name, value);
        }
    }
    if let Error::RangeNotSatisfiable { total, .. } = &*err {
        // RFC 9110 §14.4: a 416 says how long the representation is.
        if let Ok(value) = HeaderValue::from_str(&format!("bytes */{total}")) {
            parts.headers.insert(header::CONTENT_RANGE, value);
        }
    }
    if let Error::BodyTimeout(_) = &*err {
        // The rest of the body may still come; the connection cannot carry another request.
        parts
            .headers
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    Response::from_parts(parts, body)
}

/// The layer of an API's router that renders its errors in the API's envelope.
#[derive(Clone, Copy)]
pub struct Render(pub Renderer);

impl<S> Layer<S> for Render {
    type Service = RenderService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RenderService {
            inner,
            render: self.0,
        }
    }
}

#[derive(Clone)]
pub struct RenderService<S> {
    inner: S,
    render: Renderer,
}

impl<S> Service<Request> for RenderService<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = RenderFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let request_id = req.extensions().get::<RequestId>().copied();
        RenderFuture {
            inner: self.inner.call(req),
            request_id,
            render: self.render,
        }
    }
}

pin_project_lite::pin_project! {
    pub struct RenderFuture<F> {
        #[pin]
        inner: F,
        request_id: Option<RequestId>,
        render: Renderer,
    }
}

impl<F, E> Future for RenderFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = std::task::ready!(this.inner.poll(cx))?;
        // Whose envelope a request no route served takes is the path's to say, not the
        // router's that caught it (Musique's `/api/{audioId}` catches MusicArk's base path):
        // the entry renders those.
        if response
            .extensions()
            .get::<Unrendered>()
            .is_some_and(|Unrendered(err)| {
                matches!(**err, Error::RouteNotFound(_) | Error::MethodNotAllowed { .. })
            })
        {
            return Poll::Ready(Ok(response));
        }
        let request_id = this.request_id.as_ref().map_or("", RequestId::as_str);
        let render = *this.render;
        Poll::Ready(Ok(self::render(response, request_id, |err| {
            render(err, request_id)
        })))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
