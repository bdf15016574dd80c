//! The Musique Partner API: route table, key middleware and error format.
//!
//! - [`audio`]  upload, list, get, delete, and the bytes served at each object's `url`
//! - [`sends`]  targeted and broadcast sends, immediate or scheduled
//! - [`system`] `GET /` and `GET /health`
//! - [`legacy`] the legacy paths' notes and token endpoints (issue, test, revoke, limits)
//! - [`store`]  the SQL behind them
//! - [`library`] the in-memory read side that list and get answer from
//! - [`deliveries`] every store's simulated player, fed by sends; the stats they produce
//! - [`player`] one player's rules: priorities, repeats, offline waits
//! - [`mp3`]    MP3 validation and duration by content
//! - [`error`]  the Musique-only error kinds and the error envelope

pub mod audio;
pub mod deliveries;
pub mod error;
pub mod legacy;
pub mod library;
pub mod mp3;
pub mod player;
pub mod sends;
pub mod store;
pub mod system;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};

use crate::auth::{self, MusiqueCaller};
use crate::clock::rfc3339_ms;
use crate::config::Envelope;
use crate::error::{Error, Render};
use crate::faults::FaultLayer;
use crate::journal::Notes;
use crate::rate_limit::RateInfo;
use crate::state::AppState;

pub const BASE: &str = "/api/v1/integration";

/// The route table of the V1 API and of the legacy paths (spec §1) on the same handlers, all
/// behind the `X-API-Key` middleware but the legacy token issuer, and the public audio file
/// URLs (like a CDN's, unguessable and keyless).
pub fn routes(state: AppState) -> Router {
    let v1 = |path: &str| format!("{BASE}{path}");
    let keyed = middleware::from_fn_with_state(state.clone(), authenticate);
    let faulted = FaultLayer::new(state.runtimes.clone());
    let limited = middleware::from_fn_with_state(state.clone(), limit);
    // Static segments win over `{audioId}`, so `/api/audio` and `/api/integration` are theirs;
    // any other `/api/{x}` serves DELETE only (405 otherwise).
    let legacy = Router::new()
        .route(
            "/api/audio",
            get(audio::list)
                .post(audio::upload)
                .layer(DefaultBodyLimit::max(audio::UPLOAD_BODY_LIMIT)),
        )
        .route("/api/audio/{audioId}", get(audio::get))
        .route("/api/{audioId}", delete(audio::delete))
        .route("/api/{audioId}/send", post(sends::send))
        .route("/api/integration", get(system::info))
        .route("/api/integration/health", get(system::health))
        .route("/api/integration/test", post(legacy::test))
        .route("/api/integration/limits", get(legacy::limits))
        .route("/api/integration/auth", delete(legacy::revoke))
        .route_layer(limited.clone())
        .route_layer(faulted.clone())
        .route_layer(keyed.clone())
        // The one Musique route without X-API-Key: the company token in the body is its key.
        .route("/api/integration/auth", post(legacy::issue_token))
        // MusicArk's base path would be caught by `/api/{audioId}`: it stays unrouted.
        .route("/api/v1", any(crate::middleware::not_found))
        .route("/api/v1/send", any(crate::middleware::not_found))
        .route_layer(middleware::from_fn(legacy::note_v1_equivalent));
    Router::new()
        // The docs' base URL is written both with and without the trailing slash.
        .route(BASE, get(system::info))
        .route(&v1("/"), get(system::info))
        .route(&v1("/health"), get(system::health))
        .route(
            &v1("/audio"),
            get(audio::list)
                .post(audio::upload)
                // The multipart body may exceed the 10 MB file limit by its other parts; the
                // file part itself is measured while it streams in (audio::upload).
                .layer(DefaultBodyLimit::max(audio::UPLOAD_BODY_LIMIT)),
        )
        .route(&v1("/audio/{id}"), get(audio::get).delete(audio::delete))
        .route(&v1("/audio/{id}/send"), post(sends::send))
        .route_layer(limited)
        .route_layer(faulted)
        .route_layer(keyed)
        .merge(legacy)
        .route("/media/audio/{file}", get(audio::media))
        .layer(Render(error::render_error))
        .with_state(state)
}

/// The caller a request was authenticated as, put there by [`authenticate`].
#[derive(Clone, Debug)]
pub struct Caller(pub Arc<MusiqueCaller>);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Error> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("route is missing the key middleware")))
    }
}

/// `X-API-Key` → caller, attributed to its tenant in the journal. Outermost of the key
/// layers: then the tenant's faults, then [`limit`].
async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let notes = Notes::of(req.extensions());
    let token = match req.headers().get("x-api-key").map(HeaderValue::to_str) {
        None => return Error::MissingKey.into_response(),
        Some(Ok(token)) if token.trim().is_empty() => return Error::MissingKey.into_response(),
        Some(Ok(token)) => token.trim().to_owned(),
        Some(Err(_)) => return Error::InvalidKey.into_response(),
    };
    let caller = match auth::musique_caller(&state, &token).await {
        Ok(caller) => caller,
        Err(err) => {
            // A token names its company even when it is wrong: the request goes to that
            // company's tenant's journal.
            if let Some(parsed) = auth::parse_musique_token(&token) {
                notes.attribute_tenant(state.runtimes.tenant_of_prefix(Some(parsed.company)));
            }
            return err.into_response();
        }
    };
    notes.attribute(&caller.tenant_id, &caller.key_id);
    if auth::parse_musique_token(&token).is_some_and(|t| t.env_word != caller.environment.as_str()) {
        notes.note("The token uses the legacy environment word (live/test); the V1 docs only show prod/dev.");
    }
    req.extensions_mut().insert(Caller(caller));
    next.run(req).await
}

/// The caller's rate limit, then the header triple on every response the key gets (and the
/// `{"data", "timestamp"}` wrapping when configured). Below the fault layer, so a faulted
/// request consumes nothing.
async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(Caller(caller)) = req.extensions().get::<Caller>().cloned() else {
        return Error::Internal(anyhow::anyhow!("route is missing the key middleware")).into_response();
    };
    let info = match caller.limiter.check() {
        Ok(info) => info,
        Err(refused) => {
            let mut response = Error::RateLimited {
                retry_after_secs: refused.retry_after_secs,
                message: format!(
                    "Rate limit exceeded: {} requests allowed in this window. Retry after {} seconds.",
                    refused.info.limit, refused.retry_after_secs
                ),
            }
            .into_response();
            refused.info.write_headers(response.headers_mut());
            return response;
        }
    };
    let mut response = next.run(req).await;
    if state.config.envelope == Envelope::Wrapped {
        response = wrap(response, caller.clock.now_ms()).await;
    }
    // `GET /api/integration/limits` leaves the reading its body reports, so that its headers
    // are that same reading.
    let info = response.extensions_mut().remove::<RateInfo>().unwrap_or(info);
    info.write_headers(response.headers_mut());
    response
}

/// `{"data": <body>, "timestamp": "…"}` around a successful JSON body, spliced as bytes.
async fn wrap(response: Response, now_ms: i64) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !response.status().is_success() || !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Error::Internal(anyhow::anyhow!("could not buffer a response to wrap")).into_response();
    };
    let mut wrapped = Vec::with_capacity(bytes.len() + 64);
    wrapped.extend_from_slice(b"{\"data\":");
    wrapped.extend_from_slice(&bytes);
    wrapped.extend_from_slice(format!(",\"timestamp\":\"{}\"}}", rfc3339_ms(now_ms)).as_bytes());
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(wrapped))
}
