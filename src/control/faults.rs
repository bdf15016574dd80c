//! Faults on purpose: for a tenant's requests matching a method and a path pattern, answer
//! with a chosen status in the API's own error body, add latency, or drop the connection;
//! for the next N matches, or with a probability drawn from a seeded generator.
//!
//! Faults are checked once the key is known (a request's tenant is its key's) and before the
//! rate limit, so a faulted request consumes no quota.

use std::sync::Mutex;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::ControlState;
use super::page::{Page, cursor};
use super::tenants::{TenantPath, parse_body};
use crate::error::{Error, Result};
use crate::extract::{ApiPath, JsonValue, QueryPairs};
use crate::ids::random_alnum;
use crate::state::Core;

/// Ours: a fault may delay a request by at most a minute.
const MAX_LATENCY_MS: u64 = 60_000;
const MAX_FAULTS: usize = 100;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FaultSpec {
    /// `GET`, `POST`, …; absent or `*` for any.
    pub method: Option<String>,
    /// An absolute path; `*` matches one segment, `**` the rest.
    #[schema(pattern = "^/")]
    pub path: String,
    /// Answer with this error status, in the API's own error body.
    #[schema(minimum = 400, maximum = 599)]
    pub status: Option<u16>,
    /// The error code to put in the body; by default, the API's code for the status.
    pub code: Option<String>,
    pub message: Option<String>,
    /// Delay before answering (or before the request goes on, alone).
    #[serde(default)]
    #[schema(maximum = 60000)]
    pub latency_ms: u64,
    /// Drop the connection without an answer; excludes `status`.
    #[serde(default)]
    pub close: bool,
    /// Fire on the next N matches only.
    #[schema(minimum = 1)]
    pub times: Option<u32>,
    /// Fire on each match with this probability, drawn from `seed`.
    #[schema(exclusive_minimum = 0, maximum = 1)]
    pub probability: Option<f64>,
    #[serde(default)]
    pub seed: u64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    pub id: String,
    pub method: Option<String>,
    pub path: String,
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub latency_ms: u64,
    pub close: bool,
    pub times: Option<u32>,
    pub probability: Option<f64>,
    pub seed: u64,
    /// Requests that matched method and path.
    pub matched: u64,
    /// Requests the fault fired on.
    pub fired: u64,
    /// How many more times it fires; `null` for no limit.
    pub remaining: Option<u32>,
    #[serde(skip)]
    rng: SplitMix64,
    /// Its place in the tenant's list, for paging: deletions leave the others' places.
    #[serde(skip)]
    seq: u64,
}

impl Fault {
    fn from_spec(spec: FaultSpec) -> Result<Fault> {
        let method = match spec.method.as_deref().map(str::trim) {
            None | Some("*") | Some("") => None,
            Some(m) => Some(
                Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .map_err(|_| Error::validation(format!("`method` {m:?} is not an HTTP method.")))?
                    .to_string(),
            ),
        };
        if !spec.path.starts_with('/') {
            return Err(Error::validation("`path` must start with `/`."));
        }
        if let Some(status) = spec.status
            && !(400..=599).contains(&status)
        {
            return Err(Error::validation("`status` must be an error status, 400-599."));
        }
        if spec.latency_ms > MAX_LATENCY_MS {
            return Err(Error::validation(format!(
                "`latencyMs` must be at most {MAX_LATENCY_MS}."
            )));
        }
        if spec.status.is_none() && !spec.close && spec.latency_ms == 0 {
            return Err(Error::validation(
                "A fault needs an effect: `status`, `latencyMs` or `close`.",
            ));
        }
        if spec.status.is_some() && spec.close {
            return Err(Error::validation(
                "`status` and `close` exclude each other: a closed connection has no status.",
            ));
        }
        if spec.times == Some(0) {
            return Err(Error::validation("`times` must be at least 1."));
        }
        if let Some(p) = spec.probability
            && !(p > 0.0 && p <= 1.0)
        {
            return Err(Error::validation("`probability` must be in (0, 1]."));
        }
        Ok(Fault {
            id: format!("flt_{}", random_alnum(12)),
            method,
            path: spec.path,
            status: spec.status,
            code: spec.code,
            message: spec.message,
            latency_ms: spec.latency_ms,
            close: spec.close,
            times: spec.times,
            probability: spec.probability,
            seed: spec.seed,
            matched: 0,
            fired: 0,
            remaining: spec.times,
            rng: SplitMix64(spec.seed),
            seq: 0,
        })
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method.as_str()) && path_matches(&self.path, path)
    }
}

/// What a fired fault does to the request.
#[derive(Debug)]
pub struct Action {
    pub fault_id: String,
    pub latency: Duration,
    pub status: Option<(StatusCode, Option<String>, Option<String>)>,
    pub close: bool,
}

#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<Fault>>,
    /// The next fault's `seq`.
    next_seq: std::sync::atomic::AtomicU64,
    /// Whether any fault is listed: every request of the tenant asks, most when none is.
    any: std::sync::atomic::AtomicBool,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the list, keeping `any` in step.
    fn edit<R>(&self, f: impl FnOnce(&mut Vec<Fault>) -> R) -> R {
        let mut rules = self.lock();
        let result = f(&mut rules);
        self.any
            .store(!rules.is_empty(), std::sync::atomic::Ordering::Release);
        result
    }

    /// The first fault that matches and fires, counted.
    pub fn take(&self, method: &Method, path: &str) -> Option<Action> {
        if !self.any.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        let mut rules = self.lock();
        for fault in rules.iter_mut() {
            if fault.remaining == Some(0) || !fault.matches(method, path) {
                continue;
            }
            fault.matched += 1;
            if let Some(p) = fault.probability
                && fault.rng.next_f64() >= p
            {
                continue;
            }
            fault.fired += 1;
            if let Some(left) = &mut fault.remaining {
                *left -= 1;
            }
            return Some(Action {
                fault_id: fault.id.clone(),
                latency: Duration::from_millis(fault.latency_ms),
                status: fault.status.map(|s| {
                    (
                        StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                        fault.code.clone(),
                        fault.message.clone(),
                    )
                }),
                close: fault.close,
            });
        }
        None
    }

    pub fn list(&self) -> Vec<Fault> {
        self.lock().clone()
    }

    /// Up to `limit` faults after the one whose `seq` is `after`, in the order they were
    /// made; the total; and whether more follow.
    pub fn page(&self, after: Option<u64>, limit: usize) -> (Vec<Fault>, usize, bool) {
        let rules = self.lock();
        let mut page: Vec<Fault> = (rules.iter())
            .filter(|f| after.is_none_or(|a| f.seq > a))
            .take(limit + 1)
            .cloned()
            .collect();
        let more = page.len() > limit;
        page.truncate(limit);
        (page, rules.len(), more)
    }

    pub fn clear(&self) {
        self.edit(Vec::clear);
    }
}

/// Applies the tenant's faults to a request; `Some` is the whole answer.
pub async fn intercept(core: &Core, tenant: &str, method: &Method, path: &str) -> Option<Response> {
    let action = core.runtimes.existing(tenant)?.faults.take(method, path)?;
    super::journal::note(format!("fault {} injected", action.fault_id));
    if !action.latency.is_zero() {
        tokio::time::sleep(action.latency).await;
    }
    if action.close {
        // A body that fails before its first byte makes hyper drop the connection without
        // writing the response head.
        let failing = futures_util::stream::once(async {
            Err::<bytes::Bytes, std::io::Error>(std::io::Error::other("connection closed by a fault"))
        });
        return Some(Body::from_stream(failing).into_response());
    }
    let (status, code, message) = action.status?;
    Some(
        Error::Injected {
            status,
            code,
            message: message.unwrap_or_else(|| {
                format!(
                    "Injected by soundcheck fault {}: {}.",
                    action.fault_id,
                    status.canonical_reason().unwrap_or("error")
                )
            }),
        }
        .into_response(),
    )
}

/// `*` matches one path segment, `**` any number (as the last segment); anything else
/// matches itself.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let mut want = pattern.trim_end_matches('/').split('/');
    let mut have = path.trim_end_matches('/').split('/');
    loop {
        match (want.next(), have.next()) {
            (Some("**"), _) => return true,
            (Some(w), Some(h)) if w == "*" || w == h => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// A tiny seeded generator (SplitMix64): the same seed fires on the same matches every run.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[utoipa::path(
    post, path = "/_soundcheck/tenants/{tenant}/faults", tag = "Faults", operation_id = "createFault",
    description = "For the tenant's requests matching method and path: answer `status` in the API's error body, add `latencyMs`, or `close` the connection; `times` matches, or with `probability` from `seed`. Checked after the key, before the rate limit.",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`.")),
    request_body(content = FaultSpec, content_type = "application/json"),
    responses(
        (status = 201, description = "The fault.", body = Fault),
        (status = 400, description = "The body is not JSON, or a field is missing, mistyped or out of range.", body = crate::musique::docs::MusiqueError),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `POST /_soundcheck/tenants/{id}/faults`
pub async fn create(
    State(state): State<ControlState>,
    TenantPath(tenant): TenantPath,
    JsonValue(body): JsonValue,
) -> Result<(StatusCode, Json<Fault>)> {
    let tenant = super::tenants::existing(&state, &tenant).await?;
    let mut fault = Fault::from_spec(parse_body(body)?)?;
    let runtime = state.core.runtimes.get(&tenant);
    runtime.faults.edit(|rules| {
        if rules.len() >= MAX_FAULTS {
            return Err(Error::validation(format!(
                "A tenant may hold at most {MAX_FAULTS} faults; remove some first."
            )));
        }
        fault.seq = runtime
            .faults
            .next_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        rules.push(fault.clone());
        Ok(())
    })?;
    Ok((StatusCode::CREATED, Json(fault)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FaultList {
    /// A page of faults, in the order they were made.
    pub faults: Vec<Fault>,
    /// How many faults the tenant has.
    pub total: usize,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/_soundcheck/tenants/{tenant}/faults", tag = "Faults", operation_id = "listFaults",
    description = "Faults in the order they were made, with how often they fired, `limit` at a time (a tenant holds at most 100).",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`."), ("limit" = Option<usize>, Query, minimum = 1, maximum = 1000, description = "Faults per page; default 100."), ("cursor" = Option<String>, Query, description = "The `nextCursor` of the previous page.")),
    responses(
        (status = 200, description = "Faults, with how often they fired.", body = FaultList),
        (status = 400, description = "A bad `limit` or `cursor`.", body = crate::musique::docs::MusiqueError),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `GET /_soundcheck/tenants/{id}/faults?limit=&cursor=`
pub async fn list(
    State(state): State<ControlState>,
    TenantPath(tenant): TenantPath,
    query: QueryPairs,
) -> Result<Json<FaultList>> {
    let tenant = super::tenants::existing(&state, &tenant).await?;
    let page = Page::of(&query, "faults", 1)?;
    let after = page.number(0)?.map(|n| n as u64);
    let (faults, total, more) = state.core.runtimes.get(&tenant).faults.page(after, page.limit);
    let next_cursor = more
        .then(|| faults.last())
        .flatten()
        .map(|f| cursor("faults", &[&f.seq]));
    Ok(Json(FaultList {
        faults,
        total,
        next_cursor,
    }))
}

#[utoipa::path(
    delete, path = "/_soundcheck/tenants/{tenant}/faults", tag = "Faults", operation_id = "clearFaults",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`.")),
    responses(
        (status = 204, description = "Removed."),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `DELETE /_soundcheck/tenants/{id}/faults`
pub async fn clear(State(state): State<ControlState>, TenantPath(tenant): TenantPath) -> Result<StatusCode> {
    let tenant = super::tenants::existing(&state, &tenant).await?;
    state.core.runtimes.get(&tenant).faults.clear();
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete, path = "/_soundcheck/tenants/{tenant}/faults/{fault}", tag = "Faults", operation_id = "deleteFault",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`."), ("fault" = String, Path)),
    responses(
        (status = 204, description = "Removed."),
        (status = 404, description = "No such tenant or fault.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `DELETE /_soundcheck/tenants/{id}/faults/{faultId}`
pub async fn remove(
    State(state): State<ControlState>,
    ApiPath((tenant, fault)): ApiPath<(String, String)>,
) -> Result<StatusCode> {
    let tenant = super::tenants::existing(&state, &tenant).await?;
    let runtime = state.core.runtimes.get(&tenant);
    let removed = runtime.faults.edit(|rules| {
        let before = rules.len();
        rules.retain(|f| f.id != fault);
        rules.len() != before
    });
    if !removed {
        return Err(Error::ResourceNotFound(format!("Fault `{fault}` was not found.")));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_patterns_match_segments() {
        let send = "/api/v1/integration/audio/aud_x/send";
        assert!(path_matches("/api/v1/integration/audio/*/send", send));
        assert!(path_matches("/api/v1/integration/**", send));
        assert!(!path_matches("/api/v1/integration/audio/*", send));
        assert!(path_matches("/api/v1/songs", "/api/v1/songs"));
        assert!(path_matches("/api/v1/songs/", "/api/v1/songs"));
        assert!(!path_matches("/api/v1/songs", "/api/v1/songs/x"));
    }

    fn spec(times: Option<u32>, probability: Option<f64>) -> FaultSpec {
        FaultSpec {
            method: Some("get".into()),
            path: "/a/*".into(),
            status: Some(503),
            code: None,
            message: None,
            latency_ms: 0,
            close: false,
            times,
            probability,
            seed: 42,
        }
    }

    #[test]
    fn a_fault_fires_exactly_n_times_on_matching_requests() {
        let faults = Faults::default();
        faults.edit(|r| r.push(Fault::from_spec(spec(Some(2), None)).expect("valid")));
        assert!(faults.take(&Method::POST, "/a/b").is_none(), "method differs");
        assert!(faults.take(&Method::GET, "/a/b").is_some());
        assert!(faults.take(&Method::GET, "/x").is_none(), "path differs");
        assert!(faults.take(&Method::GET, "/a/c").is_some());
        assert!(faults.take(&Method::GET, "/a/d").is_none(), "spent");
        let listed = &faults.list()[0];
        assert_eq!((listed.matched, listed.fired, listed.remaining), (2, 2, Some(0)));
    }

    #[test]
    fn a_seeded_probability_fires_the_same_way_every_run() {
        let run = || {
            let faults = Faults::default();
            faults.edit(|r| r.push(Fault::from_spec(spec(None, Some(0.3))).expect("valid")));
            (0..200)
                .map(|_| faults.take(&Method::GET, "/a/b").is_some())
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        let fired = first.iter().filter(|f| **f).count();
        assert!((40..=80).contains(&fired), "about 30% of 200, got {fired}");
    }

    #[test]
    fn faults_without_an_effect_or_with_bad_values_are_refused() {
        let mut s = spec(None, None);
        s.status = None;
        assert!(Fault::from_spec(s).is_err());
        assert!(Fault::from_spec(spec(Some(0), None)).is_err());
        assert!(Fault::from_spec(spec(None, Some(1.5))).is_err());
        let mut s = spec(None, None);
        s.status = Some(302);
        assert!(Fault::from_spec(s).is_err());
    }
}
