//! The request journal's admin endpoints: list a tenant's recorded requests, clear them.
//! The journal itself is shared machinery ([`crate::journal`]).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::ControlState;
use super::tenants::ExistingTenant;
use crate::error::{Error, Result};
use crate::extract::QueryPairs;
use crate::journal::{Entry, Filter};

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    /// How many entries match (after `after` or `cursor`, if given).
    pub total: usize,
    pub requests: Vec<Entry>,
    /// Pass it as `cursor` for the entries after this page; `null` when none follow (always,
    /// without `after` or `cursor`: that page is the newest).
    pub next_cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/_soundcheck/tenants/{tenant}/requests", tag = "Journal", operation_id = "listRequests",
    description = "Recorded requests, oldest first: the newest `limit`; or, after `after` (an entry id) or `cursor`, the first `limit` after it, with `nextCursor` to walk on. To walk the whole journal: `after=0`, then follow `nextCursor`. Keys are never recorded.",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`."), ("api" = Option<String>, Query, description = "`musique` or `musicark`."), ("method" = Option<String>, Query), ("path" = Option<String>, Query, description = "A path prefix, or a pattern with `*` (one segment) and `**`."), ("status" = Option<u16>, Query, minimum = 100, maximum = 599), ("since" = Option<String>, Query, description = "RFC 3339, on the tenant's clock."), ("after" = Option<u64>, Query, description = "Entries after this id."), ("cursor" = Option<String>, Query, description = "The `nextCursor` of the previous page (instead of `after`)."), ("limit" = Option<usize>, Query, minimum = 1, maximum = 1000, description = "Entries per page; default 100.")),
    responses(
        (status = 200, description = "Matching entries.", body = Listing),
        (status = 400, description = "A bad filter.", body = crate::musique::docs::MusiqueError),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `GET /_soundcheck/tenants/{id}/requests?api=&method=&path=&status=&since=&after=&limit=`
pub async fn list(
    State(state): State<ControlState>,
    ExistingTenant(tenant): ExistingTenant,
    query: QueryPairs,
) -> Result<Json<Listing>> {
    let api = query.get("api").map(str::to_owned);
    if let Some(api) = &api
        && api != "musique"
        && api != "musicark"
    {
        return Err(Error::validation("`api` must be musique or musicark."));
    }
    let status = query
        .get("status")
        .map(|s| {
            s.parse::<u16>()
                .ok()
                .filter(|s| (100..=599).contains(s))
                .ok_or_else(|| Error::validation("`status` must be an HTTP status code, 100-599."))
        })
        .transpose()?;
    let since_ms = query
        .get("since")
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|d| d.timestamp_millis())
                .map_err(|_| Error::validation("`since` must be an RFC 3339 instant."))
        })
        .transpose()?;
    let page = super::page::Page::of(&query, "requests", 1)?;
    let after_id = match (query.get("after"), page.text(0)) {
        (Some(_), Some(_)) => {
            return Err(Error::validation("Give `after` or `cursor`, not both."));
        }
        (Some(s), None) | (None, Some(s)) => Some(
            s.parse::<u64>()
                .map_err(|_| Error::validation("`after` must be a journal entry id."))?,
        ),
        (None, None) => None,
    };
    let limit = page.limit;
    let filter = Filter {
        api,
        method: query.get("method").map(str::to_owned),
        path: query.get("path").map(str::to_owned),
        status,
        since_ms,
        after_id,
    };
    let (requests, total, more) = state.core.runtimes.get(&tenant).journal.page(&filter, limit);
    let next_cursor = more
        .then(|| requests.last())
        .flatten()
        .map(|e| super::page::cursor("requests", &[&e.id]));
    Ok(Json(Listing {
        total,
        requests,
        next_cursor,
    }))
}

#[utoipa::path(
    delete, path = "/_soundcheck/tenants/{tenant}/requests", tag = "Journal", operation_id = "clearRequests",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`.")),
    responses(
        (status = 204, description = "Cleared."),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `DELETE /_soundcheck/tenants/{id}/requests`
pub async fn clear(
    State(state): State<ControlState>,
    ExistingTenant(tenant): ExistingTenant,
) -> Result<StatusCode> {
    state.core.runtimes.get(&tenant).journal.clear();
    Ok(StatusCode::NO_CONTENT)
}
