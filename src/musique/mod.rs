//! The Musique Partner API: route table, key and limit middleware.
//!
//! - [`state`]  what the API holds: the shared core, its key cache, libraries, players, limiters
//! - [`auth`]   the verified caller, and how its key is found and proven
//! - [`audio`]  upload, list, get, delete, and the bytes served at each object's `url`
//! - [`sends`]  targeted and broadcast sends, immediate or scheduled
//! - [`system`] `GET /` and `GET /health`
//! - [`legacy`] the legacy paths' notes and token endpoints (issue, test, revoke, limits)
//! - [`store`]  the SQL behind them
//! - [`library`] the in-memory read side that list and get answer from
//! - [`deliveries`] every store's simulated player, fed by sends; the stats they produce
//! - [`player`] one player's rules: priorities, repeats, offline waits
//! - [`mp3`]    MP3 validation and duration by content
//! - [`docs`]   the types only the document names: error body, upload form, send body
//! - [`error`]  the Musique-only error kinds and the error envelope

pub mod audio;
pub mod auth;
pub mod deliveries;
pub mod docs;
pub mod error;
pub mod legacy;
pub mod library;
pub mod mp3;
pub mod player;
pub mod sends;
pub mod state;
pub mod store;
pub mod system;

use std::convert::identity;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::handler::Handler;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, any, get};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::auth::parse_musique_token;
use crate::clock::rfc3339_ms;
use crate::config::Envelope;
use crate::error::{Error, Render};
use crate::extract::Caller;
use crate::faults::FaultLayer;
use crate::gate::{Admit, Gate, GateLayer};
use crate::journal::Notes;
use crate::rate_limit::RateInfo;
use crate::warnings::Warning;
use auth::MusiqueCaller;
pub use state::MusiqueState;

pub const BASE: &str = "/api/v1/integration";

/// The route table of the V1 API and of the legacy paths (spec §1) on the same handlers, all
/// behind the `X-API-Key` middleware but the legacy token issuer, and the public audio file
/// URLs (like a CDN's, unguessable and keyless). Each route is routed at the path of its
/// document ([`openapi`]).
pub fn routes<S: Clone + Send + Sync + 'static>(state: MusiqueState) -> Router<S> {
    // One stack, outermost first (the errors' renderer first), applied as one route layer:
    // each layer of its own, route or router, would box the route again between them.
    let wrapped = state.core.config.envelope == Envelope::Wrapped;
    let keyed = tower::ServiceBuilder::new()
        .layer(Render(error::render_error))
        .layer(GateLayer(Authenticate(state.clone())))
        .layer(FaultLayer::new(state.core.runtimes.clone()))
        .layer(GateLayer(Limit))
        .option_layer(wrapped.then(|| middleware::from_fn(wrap_body)));
    let (router, _) = table(
        |routes| routes.route_layer(keyed.clone()),
        |routes| routes.route_layer(Render(error::render_error)),
    )
    .split_for_parts();
    router.with_state(state)
}

/// Every Musique operation's document, at the path it is served at: the route table's.
pub fn openapi() -> utoipa::openapi::OpenApi {
    table(identity, identity).into_openapi()
}

/// The routes and their documents. `keyed` puts the key middleware (and the error renderer)
/// on the routes it is given, `unkeyed` the error renderer alone on the others (the documents
/// are the same without them).
// The legacy docs functions are `#[deprecated]` so that their operations are; routing them
// is no use of them.
#[allow(deprecated)]
fn table(
    keyed: impl Fn(OpenApiRouter<MusiqueState>) -> OpenApiRouter<MusiqueState>,
    unkeyed: impl Fn(OpenApiRouter<MusiqueState>) -> OpenApiRouter<MusiqueState>,
) -> OpenApiRouter<MusiqueState> {
    use legacy::docs;
    let v1 = OpenApiRouter::new()
        .routes(routes!(system::info))
        // The docs' base URL is written both with and without the trailing slash; the
        // document has it once.
        .route(&format!("{BASE}/"), get(system::info))
        .routes(routes!(system::health))
        // The list on a route of its own: the upload's body limit would be one more layer
        // (a boxed route and future) on every list.
        .routes(routes!(audio::list))
        .routes(
            routes!(audio::upload)
                // The multipart body may exceed the 10 MB file limit by its other parts; the
                // file part itself is measured while it streams in (audio::upload).
                .layer(DefaultBodyLimit::max(audio::UPLOAD_BODY_LIMIT)),
        )
        .routes(routes!(audio::get, audio::delete))
        .routes(routes!(sends::send));
    // Static segments win over `{audioId}`, so `/api/audio` and `/api/integration` are theirs;
    // any other `/api/{x}` serves DELETE only (405 otherwise).
    let legacy = OpenApiRouter::new()
        .routes(served_by(routes!(docs::legacy_list_audio), audio::list))
        .routes(
            served_by(routes!(docs::legacy_upload_audio), audio::upload)
                .layer(DefaultBodyLimit::max(audio::UPLOAD_BODY_LIMIT)),
        )
        .routes(served_by(routes!(docs::legacy_get_audio), audio::get))
        .routes(served_by(routes!(docs::legacy_delete_audio), audio::delete))
        .routes(served_by(routes!(docs::legacy_send_audio), sends::send))
        .routes(served_by(routes!(docs::legacy_info), system::info))
        .routes(served_by(routes!(docs::legacy_health), system::health))
        .routes(served_by(routes!(docs::legacy_revoke_token), legacy::revoke))
        .routes(served_by(routes!(docs::legacy_test_token), legacy::test))
        .routes(served_by(routes!(docs::legacy_limits), legacy::limits));
    let legacy_unkeyed = OpenApiRouter::new()
        // The one Musique route without X-API-Key: the company token in the body is its key.
        .routes(served_by(routes!(docs::legacy_issue_token), legacy::issue_token))
        // MusicArk's base path would be caught by `/api/{audioId}`: it stays unrouted (and
        // undocumented).
        .route("/api/v1", any(crate::middleware::not_found))
        .route("/api/v1/send", any(crate::middleware::not_found));
    let legacy = keyed(legacy)
        .merge(unkeyed(legacy_unkeyed))
        .route_layer(middleware::from_fn(legacy::note_v1_equivalent));
    // The audio files answer without a key, like a CDN's.
    let media = OpenApiRouter::new().routes(routes!(audio::media));
    keyed(v1).merge(unkeyed(media)).merge(legacy)
}

/// A legacy operation: documented by its bodiless function in [`legacy::docs`], served by
/// `handler` (a V1 handler, or a token endpoint) on the method its document gives.
fn served_by<H, T>(
    documented: UtoipaMethodRouter<MusiqueState>,
    handler: H,
) -> UtoipaMethodRouter<MusiqueState>
where
    H: Handler<T, MusiqueState>,
    T: 'static,
{
    let (schemas, paths, _) = documented;
    let mut router = MethodRouter::new();
    for item in paths.paths.values() {
        for (filter, operation) in [
            (MethodFilter::GET, &item.get),
            (MethodFilter::PUT, &item.put),
            (MethodFilter::POST, &item.post),
            (MethodFilter::DELETE, &item.delete),
            (MethodFilter::PATCH, &item.patch),
        ] {
            if operation.is_some() {
                router = router.on(filter, handler.clone());
            }
        }
    }
    (schemas, paths, router)
}

/// `X-API-Key` → caller, attributed to its tenant in the journal. Outermost of the key
/// layers: then the tenant's faults, then [`Limit`]. A key verified before is decided without
/// waiting.
#[derive(Clone)]
struct Authenticate(MusiqueState);

impl Gate for Authenticate {
    type Pass = ();

    fn admit(&self, mut req: Request) -> Admit<()> {
        static X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
        let token = match req.headers().get(&X_API_KEY).map(HeaderValue::to_str) {
            None => return Admit::Refuse(Error::MissingKey.into_response()),
            Some(Ok(token)) if token.trim().is_empty() => {
                return Admit::Refuse(Error::MissingKey.into_response());
            }
            Some(Ok(token)) => token.trim(),
            Some(Err(_)) => return Admit::Refuse(Error::InvalidKey.into_response()),
        };
        if let Some(caller) = self.0.keys.cached(token) {
            let legacy = uses_legacy_word(token, &caller);
            let strict = self.0.core.config.strict;
            return match admitted(&mut req, caller, legacy, strict) {
                Ok(()) => Admit::Pass(req, ()),
                Err(err) => Admit::Refuse(err.into_response()),
            };
        }
        let token = token.to_owned();
        let state = self.0.clone();
        Admit::Later(Box::pin(async move {
            // A refused key's request is still filed under the company the token names
            // (`company_prefix`).
            let caller = auth::musique_caller(&state, &token)
                .await
                .map_err(IntoResponse::into_response)?;
            let legacy = uses_legacy_word(&token, &caller);
            admitted(&mut req, caller, legacy, state.core.config.strict)
                .map_err(IntoResponse::into_response)?;
            Ok((req, ()))
        }))
    }
}

fn uses_legacy_word(token: &str, caller: &MusiqueCaller) -> bool {
    parse_musique_token(token).is_some_and(|t| t.env_word != caller.environment.as_str())
}

/// Files the request under the caller's tenant, strict if the server or the tenant is, and
/// warns of a legacy env word (refused when strict).
fn admitted(
    req: &mut Request,
    caller: Arc<MusiqueCaller>,
    legacy_word: bool,
    strict: bool,
) -> Result<(), Error> {
    let notes = Notes::of(req.extensions());
    notes.attribute(&caller.tenant_id, &caller.key_id);
    notes.strict_if(strict || caller.strict);
    if legacy_word {
        let (word, meant) = match caller.environment.as_str() {
            "prod" => ("live", "prod"),
            _ => ("test", "dev"),
        };
        let mut warning = Warning::new(
            format!("legacy environment word \"{word}\" in the token"),
            "; read as its V1 word (the V1 docs show only prod and dev)",
        );
        warning.hint = Some(meant);
        notes.warn(warning)?;
    }
    req.extensions_mut().insert(Caller(caller));
    Ok(())
}

/// The caller's rate limit, then the header triple on every response the key gets. Below
/// the fault layer, so a faulted request consumes nothing.
#[derive(Clone)]
struct Limit;

impl Gate for Limit {
    type Pass = RateInfo;

    fn admit(&self, req: Request) -> Admit<RateInfo> {
        let caller = match Caller::<MusiqueCaller>::of(req.extensions()) {
            Ok(Caller(caller)) => caller,
            Err(err) => return Admit::Refuse(err.into_response()),
        };
        match caller.limiter.check() {
            Ok(info) => Admit::Pass(req, info),
            Err(refused) => {
                let mut response = Error::RateLimited {
                    retry_after_secs: refused.retry_after_secs,
                    message: format!(
                        "Rate limit exceeded: {} requests allowed in this window. Retry after {} second{}.",
                        refused.info.limit,
                        refused.retry_after_secs,
                        if refused.retry_after_secs == 1 { "" } else { "s" }
                    ),
                }
                .into_response();
                refused.info.write_headers(response.headers_mut());
                Admit::Refuse(response)
            }
        }
    }

    fn finish(info: RateInfo, response: &mut Response) {
        // `GET /api/integration/limits` leaves the reading its body reports, so that its
        // headers are that same reading.
        let info = response.extensions_mut().remove::<RateInfo>().unwrap_or(info);
        info.write_headers(response.headers_mut());
    }
}

/// `--envelope wrapped`: the body of every successful JSON response the key gets, wrapped.
async fn wrap_body(req: Request, next: Next) -> Response {
    let now_ms = Caller::<MusiqueCaller>::of(req.extensions()).map(|Caller(c)| c.clock.now_ms());
    let response = next.run(req).await;
    match now_ms {
        Ok(now_ms) => wrap(response, now_ms).await,
        Err(err) => err.into_response(),
    }
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
