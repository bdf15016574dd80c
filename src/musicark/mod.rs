//! The MusicArk API: route table, key and quota middleware, envelope and error format.
//!
//! - [`state`]     what the API holds: the shared core, its key cache, quotas, the index
//! - [`auth`]      the verified caller, and how its key is found and proven
//! - [`catalogue`] the song profile types and the seeded generator behind the fixtures
//! - [`color`]     OKLab/OKLCH maths (Ottosson) and the ΔEOK distance
//! - [`docs`]      the types only the document names: error body, enveloped successes
//! - [`index`]     the in-memory index lists and searches read
//! - [`params`]    query parameters: defaults, clamps, named 400s
//! - [`quota`]     the monthly quota per key
//! - [`songs`]     `GET /songs` and `GET /songs/{id}` with tier filtering
//! - [`search`]    text, colour and emotional search
//! - [`store`]     the SQL behind them

pub mod auth;
pub mod catalogue;
pub mod color;
pub mod docs;
pub mod index;
pub mod params;
pub mod quota;
pub mod search;
pub mod songs;
pub mod state;
pub mod store;

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{APPLICATION_JSON, Error, Render};
use crate::extract::Caller;
use crate::faults::FaultLayer;
use crate::gate::{Admit, Gate, GateLayer};
use crate::journal::Notes;
use crate::warnings::Warning;
use index::Catalogue;
pub use state::ArkState;

pub const BASE: &str = "/api/v1";

/// The MusicArk routes under `/api/v1`, all behind the key and quota middleware, each routed
/// at the path of its document ([`openapi`]).
pub fn routes<S: Clone + Send + Sync + 'static>(state: ArkState) -> Router<S> {
    // One stack, outermost first, applied as one route layer: each route layer of its own
    // would box the route again between them.
    let keyed = tower::ServiceBuilder::new()
        .layer(GateLayer(Authenticate(state.clone())))
        .layer(FaultLayer::new(state.core.runtimes.clone()))
        .layer(GateLayer(Quota(state.clone())));
    let (router, _) = table().route_layer(keyed).split_for_parts();
    router.layer(Render(render_error)).with_state(state)
}

/// Every MusicArk operation's document, at the path it is served at: the route table's.
pub fn openapi() -> utoipa::openapi::OpenApi {
    table().into_openapi()
}

fn table() -> OpenApiRouter<ArkState> {
    OpenApiRouter::new()
        .routes(routes!(songs::list))
        .routes(routes!(songs::get))
        .routes(routes!(search::text))
        .routes(routes!(search::color))
        .routes(routes!(search::emotional))
}

/// The key of a request: `Authorization: Bearer` wins over `?api_key=` (spec §1).
fn presented_key(req: &Request) -> Result<String, Error> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| Error::InvalidKey)?.trim();
        let (scheme, key) = value.split_once(' ').ok_or(Error::InvalidKey)?;
        if !scheme.eq_ignore_ascii_case("bearer") || key.trim().is_empty() {
            return Err(Error::InvalidKey);
        }
        return Ok(key.trim().to_owned());
    }
    let query = req.uri().query().unwrap_or_default();
    let from_query = form_urlencoded_get(query, "api_key");
    match from_query {
        Some(key) if !key.trim().is_empty() => Ok(key.trim().to_owned()),
        _ => Err(Error::MissingKey),
    }
}

/// The first value of `name` in a query string.
fn form_urlencoded_get(query: &str, name: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// Key → caller, attributed to its tenant in the journal. Outermost of the key layers: then
/// the tenant's faults, then [`Quota`]. Order of checks (spec §2): 401, then 429, then the
/// handler's 400 and 404. A key verified before is decided without waiting.
#[derive(Clone)]
struct Authenticate(ArkState);

impl Gate for Authenticate {
    type Pass = ();

    fn admit(&self, mut req: Request) -> Admit<()> {
        let key = match presented_key(&req) {
            Ok(key) => key,
            Err(err) => return Admit::Refuse(err.into_response()),
        };
        if let Some(caller) = self.0.keys.cached(&key) {
            return match admitted(&mut req, caller, &key, self.0.core.config.strict) {
                Ok(()) => Admit::Pass(req, ()),
                Err(err) => Admit::Refuse(err.into_response()),
            };
        }
        let state = self.0.clone();
        Admit::Later(Box::pin(async move {
            let caller = auth::musicark_caller(&state, &key)
                .await
                .map_err(IntoResponse::into_response)?;
            admitted(&mut req, caller, &key, state.core.config.strict)
                .map_err(IntoResponse::into_response)?;
            Ok((req, ()))
        }))
    }
}

/// Files the request under the caller's tenant, strict if the server or the tenant is, and
/// warns of what the real service might not accept in the key (refused when strict).
fn admitted(req: &mut Request, caller: Arc<auth::ArkCaller>, key: &str, strict: bool) -> Result<(), Error> {
    let notes = Notes::of(req.extensions());
    notes.attribute(&caller.tenant_id, &caller.key_id);
    notes.strict_if(strict || caller.strict);
    if key.len() != "mk_live_".len() + 32 {
        notes.warn(Warning::new(
            format!(
                "the key's secret part has {} characters, not the documented 32",
                key.len().saturating_sub("mk_live_".len())
            ),
            "; soundcheck accepts 16-64",
        ))?;
    }
    if req.headers().contains_key(header::AUTHORIZATION)
        && form_urlencoded_get(req.uri().query().unwrap_or_default(), "api_key").is_some()
    {
        notes.warn(Warning::new(
            "both a bearer key and query parameter \"api_key\" were given",
            "; the header was used",
        ))?;
    }
    req.extensions_mut().insert(Caller(caller));
    Ok(())
}

/// The key's monthly quota, then the quota headers on every response the key gets. Below
/// the fault layer, so a faulted request consumes nothing. A count in memory (every call of
/// the month but its first) is taken without waiting.
#[derive(Clone)]
struct Quota(ArkState);

impl Gate for Quota {
    type Pass = quota::QuotaInfo;

    fn admit(&self, req: Request) -> Admit<quota::QuotaInfo> {
        let caller = match Caller::<auth::ArkCaller>::of(req.extensions()) {
            Ok(Caller(caller)) => caller,
            Err(err) => return Admit::Refuse(err.into_response()),
        };
        let now_ms = caller.clock.now_ms();
        let (key_id, limit) = (&caller.key_id, caller.monthly_limit);
        if let Some(taken) = self.0.quotas.try_take(key_id, limit, now_ms) {
            return match taken {
                Ok(info) => Admit::Pass(req, info),
                Err(refused) => Admit::Refuse(exceeded(&refused, now_ms)),
            };
        }
        let state = self.0.clone();
        Admit::Later(Box::pin(async move {
            let (key_id, limit) = (&caller.key_id, caller.monthly_limit);
            match state.quotas.take(&state.core.db, key_id, limit, now_ms).await {
                Ok(Ok(info)) => Ok((req, info)),
                Ok(Err(refused)) => Err(exceeded(&refused, now_ms)),
                Err(err) => Err(Error::from(err).into_response()),
            }
        }))
    }

    fn finish(info: quota::QuotaInfo, response: &mut Response) {
        info.write_headers(response.headers_mut());
    }
}

fn exceeded(refused: &quota::QuotaInfo, now_ms: i64) -> Response {
    let mut response = Error::RateLimited {
        retry_after_secs: refused.retry_after_secs(now_ms),
        message: quota::EXCEEDED.to_owned(),
    }
    .into_response();
    refused.write_headers(response.headers_mut());
    response
}

/// `{"data": …, "meta": {…}, "error": null}`.
pub fn envelope(data: &impl Serialize, meta: &impl Serialize) -> Result<Response, Error> {
    #[derive(Serialize)]
    struct Envelope<'a, D, M> {
        data: &'a D,
        meta: &'a M,
        error: Option<()>,
    }
    let bytes = serde_json::to_vec(&Envelope {
        data,
        meta,
        error: None,
    })
    .map_err(|e| Error::Internal(e.into()))?;
    Ok(([(header::CONTENT_TYPE, APPLICATION_JSON)], bytes).into_response())
}

/// How long after start the warm-up task waits before it seeds and indexes the catalogue, unless
/// a MusicArk request asks first: start-up (the first minutes' keys, the first requests) does not
/// share the two cores with a seed nobody has asked for yet.
pub const WARM_UP_AFTER: std::time::Duration = std::time::Duration::from_millis(100);

/// The catalogue index: on first use the catalogue is seeded into an empty database, then
/// indexed from SQLite (a warm-up task also starts this [`WARM_UP_AFTER`] start).
///
/// The build runs in a task of its own, not in the caller's future: a request that gives up
/// (its client went away, a timeout) never cancels a seed half-way for the requests behind it.
pub async fn catalogue_index(state: &ArkState) -> Result<Arc<Catalogue>, Error> {
    if let Some(index) = state.catalogue.get() {
        return Ok(index.clone());
    }
    let state = state.clone();
    tokio::spawn(async move { build_index(&state).await })
        .await
        .map_err(|err| Error::Internal(anyhow::anyhow!("the catalogue index build stopped: {err}")))?
}

async fn build_index(state: &ArkState) -> Result<Arc<Catalogue>, Error> {
    let index = state
        .catalogue
        .get_or_try_init(|| async {
            store::seed_catalogue(&state.core.db, &state.catalogue_source)
                .await
                .map_err(Error::Internal)?;
            let catalogue = Catalogue::load(&state.core.db).await.map_err(Error::Internal)?;
            Ok::<_, Error>(Arc::new(catalogue))
        })
        .await?;
    Ok(index.clone())
}

/// The `code` a status gets when nothing more precise names it.
fn code_of_status(status: axum::http::StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        429 => "rate_limit_exceeded",
        500 => "internal_error",
        s if s >= 500 => "service_unavailable",
        _ => "bad_request",
    }
}

/// Each error kind's `code` in MusicArk's envelope (spec §1).
fn code(err: &Error) -> &str {
    match err {
        Error::InvalidJson(_) | Error::Validation(_) | Error::PayloadTooLarge { .. } => "bad_request",
        Error::MissingKey | Error::InvalidKey => "unauthorized",
        Error::UnsupportedMediaType(_) => "unsupported_media_type",
        Error::RangeNotSatisfiable { .. } => "range_not_satisfiable",
        Error::ResourceNotFound(_) | Error::RouteNotFound(_) => "not_found",
        Error::MethodNotAllowed { .. } => "method_not_allowed",
        Error::RateLimited { .. } => "rate_limit_exceeded",
        Error::BodyTimeout(_) => "request_timeout",
        Error::Internal(_) => "internal_error",
        Error::Injected { status, code, .. } => code.as_deref().unwrap_or(code_of_status(*status)),
        // MusicArk has no kinds of its own; another API's never reaches its routes.
        Error::Api(kind) => code_of_status(kind.status()),
    }
}

/// `{"data": null, "meta": {}, "error": {"code", "message"}}`, with RFC 6750's
/// `WWW-Authenticate` on a 401.
pub fn render_error(err: &Error, request_id: &str) -> Response {
    let body = json!({
        "data": null,
        "meta": {},
        "error": { "code": code(err), "message": err.public_message(), "request_id": request_id },
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
