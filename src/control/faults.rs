//! The fault admin endpoints: create, list, clear and remove a tenant's faults, and the
//! parsing of a fault's definition. The faults themselves, and the layer that applies them,
//! are shared machinery ([`crate::faults`]).

use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use super::ControlState;
use super::page::{Page, cursor};
use super::tenants::{ExistingTenant, TenantBody, parse_body};
use crate::error::{Error, Result};
use crate::extract::{ApiPath, JsonValue, QueryPairs};
use crate::faults::{Definition, Fault};
use crate::ids::random_alnum;

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

/// A fault from its definition as a client sent it, checked.
pub(crate) fn from_spec(spec: FaultSpec) -> Result<Fault> {
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
    Ok(Fault::new(
        format!("flt_{}", random_alnum(12)),
        Definition {
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
        },
    ))
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
    TenantBody(tenant, JsonValue(body)): TenantBody<JsonValue>,
) -> Result<(StatusCode, Json<Fault>)> {
    let fault = from_spec(parse_body(body)?)?;
    let fault = state
        .core
        .runtimes
        .get(&tenant)
        .faults
        .add(fault, MAX_FAULTS)
        .ok_or_else(|| {
            Error::validation(format!(
                "A tenant may hold at most {MAX_FAULTS} faults; remove some first."
            ))
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
    ExistingTenant(tenant): ExistingTenant,
    query: QueryPairs,
) -> Result<Json<FaultList>> {
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
pub async fn clear(
    State(state): State<ControlState>,
    ExistingTenant(tenant): ExistingTenant,
) -> Result<StatusCode> {
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
    ApiPath((_tenant, fault)): ApiPath<(String, String)>,
    ExistingTenant(tenant): ExistingTenant,
) -> Result<StatusCode> {
    if !state.core.runtimes.get(&tenant).faults.remove(&fault) {
        return Err(Error::ResourceNotFound(format!("Fault `{fault}` was not found.")));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn faults_without_an_effect_or_with_bad_values_are_refused() {
        let mut s = spec(None, None);
        s.status = None;
        assert!(from_spec(s).is_err());
        assert!(from_spec(spec(Some(0), None)).is_err());
        assert!(from_spec(spec(None, Some(1.5))).is_err());
        let mut s = spec(None, None);
        s.status = Some(302);
        assert!(from_spec(s).is_err());
    }

    #[test]
    fn a_spec_makes_a_fault_with_its_method_upper_cased() {
        let fault = from_spec(spec(Some(2), None)).expect("valid");
        assert_eq!(fault.method.as_deref(), Some("GET"));
        assert_eq!(fault.remaining, Some(2));
    }
}
