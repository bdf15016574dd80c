//! The legacy Musique paths (spec §1) that old clients still call: the audio, send and system
//! paths go straight to the V1 handlers on the same state (see the route table in
//! [`super::routes`]); the token endpoints, which V1 has no equivalent of, live here.
//!
//! Every legacy request is noted in the journal with its V1 equivalent, so that integrators
//! see they are on deprecated paths.

use std::sync::LazyLock;

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::MusiqueState;
use super::auth::MusiqueCaller;
use super::error::MusiqueKind;
use super::store::{self, CompanyCredential};
use crate::admission::{RETRY_AFTER_SECS, Slot};
use crate::auth::{self, Environment, Permissions, Secret};
use crate::clock::rfc3339_ms;
use crate::config::Envelope;
use crate::error::{Error, Result};
use crate::extract::{Caller, JsonValue};
use crate::faults;
use crate::journal::Notes;
use crate::keys::{self, NewMusiqueKey};
use crate::rate_limit::{Usage, WindowUsage};
use crate::warnings::Warning;

/// Each legacy operation (method, route) and the journal note its requests get: the
/// `v1_equivalent` of its document's `x-basis`, read on first use and kept for the
/// process's life.
static NOTES: LazyLock<Vec<(&'static str, &'static str, &'static str)>> = LazyLock::new(|| {
    let mut notes = Vec::new();
    for (method, path, basis) in crate::basis::operations(super::openapi()) {
        if let Some(Value::String(note)) = basis.and_then(|b| b.get("v1_equivalent").cloned()) {
            notes.push((method, &*path.leak(), &*note.leak()));
        }
    }
    notes
});

/// Notes a legacy request's V1 equivalent in the journal. Outside the key middleware, so
/// that a request refused for its key is noted too.
pub async fn note_v1_equivalent(req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    if let Some((_, _, note)) = NOTES
        .iter()
        .find(|(method, path, _)| *method == req.method().as_str() && Some(*path) == matched)
    {
        Notes::of(req.extensions()).note(*note);
    }
    next.run(req).await
}

/// A new token, shown once. The legacy docs spell `expires_at` in snake case.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    pub token: String,
    /// Tokens do not expire (spec §2): always `null`.
    pub expires_at: Option<String>,
}

/// The `companyToken` of a `POST /api/integration/auth` body. It is this endpoint's
/// credential, in place of `X-API-Key`, so it is checked before the rest of the body, as the
/// key is on the other paths: left out, null or blank it is 401 `missing_api_key`, wrong
/// (malformed, unknown company, company without a token, bad secret alike) 401
/// `invalid_api_key`; only a value that is not a string makes the body malformed (400).
fn company_token(body: &Value) -> Result<Secret> {
    let Value::Object(fields) = body else {
        return Err(Error::validation(
            "The body must be a JSON object with `externalId` and `companyToken`.",
        ));
    };
    match fields.get("companyToken") {
        None | Some(Value::Null) => Err(MusiqueKind::MissingCompanyToken.into()),
        Some(Value::String(token)) if token.trim().is_empty() => Err(MusiqueKind::MissingCompanyToken.into()),
        Some(Value::String(token)) => Ok(Secret(token.trim().to_owned())),
        Some(_) => Err(Error::validation("`companyToken` must be a string.")),
    }
}

/// The fields of a `POST /api/integration/auth` body.
const AUTH_FIELDS: [&str; 2] = ["externalId", "companyToken"];

/// The `externalId` of a `POST /api/integration/auth` body.
fn external_id(body: &Value) -> Result<String> {
    match body.get("externalId") {
        None | Some(Value::Null) => Err(Error::validation(
            "`externalId` is required: the External ID of the location the token is for.",
        )),
        Some(Value::String(id)) if keys::validate_external_id(id).is_ok() => Ok(id.clone()),
        Some(Value::String(_)) => Err(Error::validation(
            "`externalId` must be 1-128 printable characters.",
        )),
        Some(_) => Err(Error::validation("`externalId` must be a string.")),
    }
}

/// The company a company token belongs to, proven with argon2 on the hasher. The token's
/// prefix finds the one row to check. The returned slot is one of the company's few requests
/// in flight on this endpoint (`--legacy-auth-in-flight`): a burst of wrong tokens with a real
/// prefix gets 429s at once instead of queueing argon2 work for everyone.
async fn verify_company(state: &MusiqueState, token: &Secret) -> Result<(CompanyCredential, Slot<i64>)> {
    let prefix = auth::company_token_prefix(&token.0).ok_or(MusiqueKind::InvalidCompanyToken)?;
    let company = store::company_by_prefix(&state.core.db, prefix)
        .await?
        .ok_or(MusiqueKind::InvalidCompanyToken)?;
    let hash = company
        .company_token_hash
        .as_deref()
        .ok_or(MusiqueKind::InvalidCompanyToken)?;
    let limits = &state.core.admission.legacy_auth;
    let slot = limits.try_acquire(company.id).ok_or_else(|| Error::RateLimited {
        retry_after_secs: RETRY_AFTER_SECS,
        message: format!(
            "Too many token requests for this company at once (at most {}). Retry after {RETRY_AFTER_SECS} second.",
            limits.limit()
        ),
    })?;
    if state.core.hasher.verify(&token.0, hash).await? {
        Ok((company, slot))
    } else {
        Err(MusiqueKind::InvalidCompanyToken.into())
    }
}

/// `POST /api/integration/auth` `{externalId, companyToken}`: a new token of the company for
/// one location. The legacy model is one token per user (location): prod, every permission,
/// scoped to that External ID, the default limits. It works at once on every path.
pub async fn issue_token(
    State(state): State<MusiqueState>,
    notes: Notes,
    method: Method,
    uri: Uri,
    JsonValue(body): JsonValue,
) -> Result<Response> {
    let (company, _slot) = verify_company(&state, &company_token(&body)?).await?;
    // No key of the tenant made this request: the company token names the tenant instead,
    // so the faults its key layer would have applied are applied here, by the same code.
    notes.attribute_tenant(company.tenant_id.as_str());
    if let Some(response) = faults::intercept(&*state.core.runtimes, &notes, &method, uri.path()).await {
        return Ok(response);
    }
    let external_id = external_id(&body)?;
    notes.strict_if(state.core.config.strict || company.strict);
    if let Value::Object(fields) = &body {
        for name in fields.keys().filter(|n| !AUTH_FIELDS.contains(&n.as_str())) {
            notes.warn(Warning::unknown(
                "field",
                name,
                &AUTH_FIELDS,
                &[("company_token", "companyToken"), ("token", "companyToken")],
            ))?;
        }
    }
    let user_id = store::location_user_id(&state.core.db, company.id, &external_id)
        .await?
        .ok_or_else(|| MusiqueKind::ExternalIdNotFound(external_id.clone()))?;

    let token = keys::generate_musique_token(&company.prefix, Environment::Prod);
    let hash = state
        .core
        .hasher
        .hash(&token, state.core.config.hash_cost)
        .await?;
    let secret = Secret(token.clone());
    let key = NewMusiqueKey {
        tenant_id: company.tenant_id.clone(),
        company_id: company.id,
        environment: Environment::Prod,
        token: secret,
        label: format!("legacy token of {external_id} (userId {user_id})"),
        permissions: Permissions::ALL,
        scope: Some(vec![external_id]),
        limits: None,
    };
    let mut tx = state.core.db.begin_write().await?;
    keys::insert_musique_key(&mut tx, &key, &hash).await?;
    tx.commit().await?;

    let response = Json(IssuedToken {
        token,
        expires_at: None,
    })
    .into_response();
    // The key middleware wraps the other paths' bodies; this path has no key middleware.
    Ok(match state.core.config.envelope {
        Envelope::Wrapped => super::wrap(response, state.core.clocks.get(&company.tenant_id).now_ms()).await,
        Envelope::Bare => response,
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenTest {
    pub valid: bool,
    pub external_id: Option<String>,
    pub user_id: Option<i64>,
    pub permissions: Vec<&'static str>,
}

/// `POST /api/integration/test`: the calling token is valid (a bad one never gets here: the
/// key middleware answers 401), with the user it stands for.
pub async fn test(
    State(state): State<MusiqueState>,
    Caller(caller): Caller<MusiqueCaller>,
) -> Result<Json<TokenTest>> {
    // A legacy token is one user's, i.e. one location's: a token scoped to exactly one
    // External ID answers with it and its userId. A token over the whole company or several
    // stores stands for no one user, so both are null rather than one picked at random;
    // `GET /api/integration` lists its scope.
    let (external_id, user_id) = match caller.scope.as_deref() {
        Some([only]) => (
            Some(only.clone()),
            store::location_user_id(&state.core.db, caller.company_id, only).await?,
        ),
        _ => (None, None),
    };
    Ok(Json(TokenTest {
        valid: true,
        external_id,
        user_id,
        permissions: caller.permissions.names(),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Revoked {
    pub revoked: bool,
    pub message: &'static str,
}

/// `DELETE /api/integration/auth`: revokes the calling key.
pub async fn revoke(
    State(state): State<MusiqueState>,
    Caller(caller): Caller<MusiqueCaller>,
) -> Result<Json<Revoked>> {
    keys::revoke(&state.core.db, &caller.key_id).await?;
    // The revocation watcher would evict it within a second; the client has just been told
    // it is revoked, so this server refuses it from the very next request.
    state.keys.evict_keys(&[caller.key_id.to_string()]);
    Ok(Json(Revoked {
        revoked: true,
        message: "The API key that made this request has been revoked; every further request with it is refused.",
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PerWindow<T> {
    pub per_minute: T,
    pub per_hour: T,
    pub per_day: T,
}

impl<T> PerWindow<T> {
    fn of(usage: &Usage, f: impl Fn(&WindowUsage) -> T) -> PerWindow<T> {
        PerWindow {
            per_minute: f(&usage.per_minute),
            per_hour: f(&usage.per_hour),
            per_day: f(&usage.per_day),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub limits: PerWindow<u32>,
    pub usage: PerWindow<u32>,
    pub remaining: PerWindow<u32>,
    pub reset_at: PerWindow<String>,
}

/// `GET /api/integration/limits`: the calling key's three windows.
///
/// This request is counted like any other before it gets here, so the numbers include it:
/// after three requests in a fresh minute `usage.perMinute` is 4 and `remaining.perMinute`
/// 96, as the `X-RateLimit-*` headers of any response count the request they answer. The
/// headers of this response are written from the same reading (see `authenticate`), so body
/// and headers agree even on a running clock. `usage` is `limit - remaining`: requests drip
/// back one by one (GCRA), so it is what counts against the window now, and `resetAt` is when
/// the window is whole again, to the second that `X-RateLimit-Reset` gives.
pub async fn limits(Caller(caller): Caller<MusiqueCaller>) -> Response {
    let usage = caller.limiter.usage();
    let mut response = Json(Limits {
        limits: PerWindow::of(&usage, |w| w.limit),
        usage: PerWindow::of(&usage, |w| w.used),
        remaining: PerWindow::of(&usage, |w| w.remaining),
        reset_at: PerWindow::of(&usage, |w| rfc3339_ms(w.reset_epoch_secs.saturating_mul(1000))),
    })
    .into_response();
    response.extensions_mut().insert(usage.rate_info());
    response
}

/// The legacy operations as the Musique document shows them. The routes run the V1 handlers
/// (or the ones above) on these operations' paths and methods (`super::served_by`); these
/// bodiless functions only carry their documentation.
#[allow(dead_code)]
pub mod docs {
    use super::*;

    #[utoipa::path(
        get, path = "/api/audio", tag = "Legacy", operation_id = "legacyListAudio",
        extensions(
            ("x-basis" = json!({
                "basis": "vendor_docs",
                "notes": "Legacy path of GET /api/v1/integration/audio: the same handler, state and body.",
                "v1_equivalent": "Legacy path; the V1 equivalent is GET /api/v1/integration/audio."
            })),
        ),
        description = "Legacy path of `GET /api/v1/integration/audio`, same behaviour.",
        params(("page" = Option<i64>, Query, minimum = 1, maximum = 1000000), ("limit" = Option<i64>, Query, minimum = 1, maximum = 100)),
        responses(
            (status = 200, description = "One page of the library.", body = crate::musique::audio::AudioList),
            (status = 400, description = "`page` or `limit` out of range.", body = crate::musique::docs::MusiqueError)
        )
    )]
    #[deprecated = "a legacy path; use the V1 path"]
    pub async fn legacy_list_audio() {}

    #[utoipa::path(
        post, path = "/api/audio", tag = "Legacy", operation_id = "legacyUploadAudio",
        extensions(
            ("x-basis" = json!({
                "basis": "vendor_docs",
                "notes": "Legacy path of POST /api/v1/integration/audio: the same handler, state and body.",
                "v1_equivalent": "Legacy path; the V1 equivalent is POST /api/v1/integration/audio."
            })),
        ),
        description = "Legacy path of `POST /api/v1/integration/audio`, same behaviour.",
        request_body(content = crate::musique::docs::UploadForm, content_type = "multipart/form-data"),
        responses(
            (status = 200, description = "The stored audio object.", body = crate::musique::audio::AudioObject),
            (status = 400, description = "No `file` part.", body = crate::musique::docs::MusiqueError),
            (status = 413, description = "Over 10 MB.", body = crate::musique::docs::MusiqueError),
            (status = 415, description = "Not a valid MP3.", body = crate::musique::docs::MusiqueError)
        )
    )]
    #[deprecated = "a legacy path; use the V1 path"]
    pub async fn legacy_upload_audio() {}

    #[utoipa::path(
        get, path = "/api/audio/{audioId}", tag = "Legacy", operation_id = "legacyGetAudio",
        extensions(
            ("x-basis" = json!({
                "basis": "vendor_docs",
                "notes": "Legacy path of GET /api/v1/integration/audio/{id}.",
                "v1_equivalent": "Legacy path; the V1 equivalent is GET /api/v1/integration/audio/{id}."
            })),
        ),
        description = "Legacy path of `GET /api/v1/integration/audio/{id}`.",
        params(("audioId" = String, Path, description = "The audio's id.")),
        responses(
            (status = 200, description = "The audio object with its stats.", body = crate::musique::audio::AudioObject),
            (status = 404, description = "No such audio.", body = crate::musique::docs::MusiqueError)
        )
    )]
    #[deprecated = "a legacy path; use the V1 path"]
    pub async fn legacy_get_audio() {}

    #[utoipa::path(
        delete, path = "/api/{audioId}", tag = "Legacy", operation_id = "legacyDeleteAudio",
        extensions(
            ("x-basis" = json!({
                "basis": "vendor_docs",
                "notes": "Legacy path of DELETE /api/v1/integration/audio/{id}; other methods on /api/{x} are 405.",
                "v1_equivalent": "Legacy path; the V1 equivalent is DELETE /api/v1/integration/audio/{id}."
            })),
        ),
        description = "Legacy path of `DELETE /api/v1/integration/audio/{id}`.",
        params(("audioId" = String, Path, description = "The audio's id.")),
        responses(
            (status = 200, description = "Deleted.", body = crate::musique::audio::Deleted),
            (status = 404, description = "No such audio.", body = crate::musique::docs::MusiqueError),
            (status = 409, description = "A scheduled send is pending.", body = crate::musique::docs::MusiqueError)
        )
    )]
    #[deprecated = "a legacy path; use the V1 path"]
    pub async fn legacy_delete_audio() {}

    #[utoipa::path(
        post, path = "/api/{audioId}/send", tag = "Legacy", operation_id = "legacySendAudio",
        extensions(
            ("x-basis" = json!({
                "basis": "vendor_docs",
                "notes": "Legacy path of POST /api/v1/integration/audio/{id}/send.",
                "v1_equivalent": "Legacy path; the V1 equivalent is POST /api/v1/integration/audio/{id}/send."
            })),
        ),
        description = "Legacy path of `POST /api/v1/integration/audio/{id}/send`.",
        params(("audioId" = String, Path, description = "The audio's id.")),
        request_body(content = crate::musique::docs::SendBody, content_type = "application/json"),
        responses(
            (status = 200, description = "The send.", body = crate::musique::sends::SendResponse),
            (status = 400, description = "A bad field or body.", body = crate::musique::docs::MusiqueError),
            (status = 404, description = "Unknown audio or External IDs.", body = crate::musique::docs::MusiqueError),
            (status = 413, description = "The body is over 256 KB.", body = crate::musique::docs::MusiqueError)
        )
    )]
    #[deprecated = "a legacy path; use the V1 path"]
    pub async fn legacy_send_audio() {}

    #[utoipa::path(
        get, path = "/api/integration", tag = "Legacy", operation_id = "legacyInfo",
        extensions(
            ("x-basis" = json!({
                "basis": "vendor_docs",
                "notes": "Legacy path of GET /api/v1/integration.",
                "v1_equivalent": "Legacy path; the V1 equivalent is GET /api/v1/integration."
            })),
        ),
        description = "Legacy path of `GET /api/v1/integration`.",
        responses(
            (status = 200, description = "About the API and this token.", body = crate::musique::system::Info)
        )
    )]
    #[deprecated = "a legacy path; use the V1 path"]
    pub async fn legacy_info() {}

    #[utoipa::path(
        get, path = "/api/integration/health", tag = "Legacy", operation_id = "legacyHealth",
        extensions(
            ("x-basis" = json!({
                "basis": "vendor_docs",
                "notes": "Legacy path of GET /api/v1/integration/health.",
                "v1_equivalent": "Legacy path; the V1 equivalent is GET /api/v1/integration/health."
            })),
        ),
        description = "Legacy path of `GET /api/v1/integration/health`.",
        responses(
            (status = 200, description = "Each service, really checked.", body = crate::musique::system::Health)
        )
    )]
    #[deprecated = "a legacy path; use the V1 path"]
    pub async fn legacy_health() {}

    #[utoipa::path(
        post, path = "/api/integration/auth", tag = "Legacy", operation_id = "legacyIssueToken",
        extensions(
            ("x-basis" = json!({
                "basis": "our_reading",
                "notes": "`{externalId, companyToken}` → `{token, expires_at: null}` is documented; a prod token with every permission scoped to that External ID, and 401/404 for a bad company token or External ID, are our reading.",
                "v1_equivalent": "Legacy path; V1 has no equivalent: V1 tokens are issued by Musique support."
            })),
        ),
        description = "A new prod token for one External ID, with every permission, from the company token (in the body; no `X-API-Key`). A missing or wrong company token is a 401, checked before the rest of the body (soundcheck's choice).",
        security(()),
        request_body(content = crate::musique::docs::LegacyAuthBody, content_type = "application/json"),
        responses(
            (status = 200, description = "The token, shown once.", body = IssuedToken),
            (status = 400, description = "The body is not JSON or a field is mistyped.", body = crate::musique::docs::MusiqueError),
            (status = 401, description = "The company token is missing or wrong.", body = crate::musique::docs::MusiqueError),
            (status = 404, description = "The External ID is not the company's.", body = crate::musique::docs::MusiqueError),
            (status = 413, description = "The body is over 256 KB.", body = crate::musique::docs::MusiqueError),
            (status = 429, description = "The company has `--legacy-auth-in-flight` (default 8) token requests in flight already, or the server's key hashing queue is full; `Retry-After` says when to come back (soundcheck's choice).", body = crate::musique::docs::MusiqueError)
        )
    )]
    #[deprecated = "a legacy path; use the V1 path"]
    pub async fn legacy_issue_token() {}

    #[utoipa::path(
        post, path = "/api/integration/test", tag = "Legacy", operation_id = "legacyTestToken",
        extensions(
            ("x-basis" = json!({
                "basis": "our_reading",
                "notes": "A token scoped to one External ID reports it and its userId; any other token reports null for both (ours).",
                "v1_equivalent": "Legacy path; the V1 equivalent is GET /api/v1/integration, whose `integration` block describes the token."
            })),
        ),
        description = "The calling token is valid; `externalId` and `userId` only for a token of exactly one store (soundcheck's choice).",
        responses(
            (status = 200, description = "The token.", body = TokenTest)
        )
    )]
    #[deprecated = "a legacy path; use the V1 path"]
    pub async fn legacy_test_token() {}

    #[utoipa::path(
        delete, path = "/api/integration/auth", tag = "Legacy", operation_id = "legacyRevokeToken",
        extensions(
            ("x-basis" = json!({
                "basis": "vendor_docs",
                "notes": "Revokes the calling key; this server refuses it from the next request.",
                "v1_equivalent": "Legacy path; V1 has no equivalent: V1 tokens are revoked by Musique support."
            })),
        ),
        description = "Revokes the calling token; the next request with it is refused.",
        responses(
            (status = 200, description = "Revoked.", body = Revoked)
        )
    )]
    #[deprecated = "a legacy path; use the V1 path"]
    pub async fn legacy_revoke_token() {}

    #[utoipa::path(
        get, path = "/api/integration/limits", tag = "Legacy", operation_id = "legacyLimits",
        extensions(
            ("x-basis" = json!({
                "basis": "our_reading",
                "notes": "Counts include the limits request itself, as the X-RateLimit-* headers do; usage is limit - remaining (GCRA).",
                "v1_equivalent": "Legacy path; the V1 equivalent is the X-RateLimit-* headers of every V1 response."
            })),
        ),
        description = "The calling key's three windows, this request included.",
        responses(
            (status = 200, description = "Limits, usage, remaining and reset instants.", body = Limits)
        )
    )]
    #[deprecated = "a legacy path; use the V1 path"]
    pub async fn legacy_limits() {}
}
