//! The request journal: every request to either API, per tenant, capped, queryable and
//! clearable, with a note wherever the real service would have treated it differently.
//!
//! Keys never reach it: headers are not recorded, `api_key` in a query and anything that looks
//! like a token in a body are replaced by `[redacted]`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use super::ControlState;
use super::tenants::TenantPath;
use crate::auth::{company_token_prefix, musicark_lookup, parse_musique_token};
use crate::clock::rfc3339_ms;
use crate::error::{Error, REQUEST, Result};
use crate::extract::QueryPairs;

/// The longest body summary kept.
const BODY_CHARS: usize = 1_000;
const REDACTED: &str = "[redacted]";

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: u64,
    /// On the tenant's clock.
    pub at: String,
    #[serde(skip)]
    pub at_ms: i64,
    pub api: &'static str,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub latency_ms: f64,
    pub request_id: String,
    pub key_id: Option<String>,
    pub body: Option<String>,
    pub notes: Vec<String>,
}

#[derive(Debug)]
pub struct Journal {
    cap: usize,
    inner: Mutex<(VecDeque<Entry>, u64)>,
}

impl Journal {
    pub fn new(cap: usize) -> Journal {
        Journal {
            cap,
            inner: Mutex::new((VecDeque::new(), 1)),
        }
    }

    pub fn push(&self, mut entry: Entry) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (entries, next) = &mut *inner;
        entry.id = *next;
        *next += 1;
        if entries.len() == self.cap {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    pub fn clear(&self) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).0.clear();
    }

    /// Matching entries, oldest first: after `filter.after_id`, the first `limit` of them and
    /// whether more follow; without it, the newest `limit`. The total counts every match.
    pub fn page(&self, filter: &Filter, limit: usize) -> (Vec<Entry>, usize, bool) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let matching = || inner.0.iter().filter(|e| filter.matches(e));
        let total = matching().count();
        let skip = match filter.after_id {
            Some(_) => 0,
            None => total.saturating_sub(limit),
        };
        let entries: Vec<Entry> = matching().skip(skip).take(limit).cloned().collect();
        let more = skip + entries.len() < total;
        (entries, total, more)
    }
}

#[derive(Debug, Default)]
pub struct Filter {
    pub api: Option<String>,
    pub method: Option<String>,
    /// A prefix of the path, or a pattern with `*` (one segment) and `**` (the rest).
    pub path: Option<String>,
    pub status: Option<u16>,
    pub since_ms: Option<i64>,
    pub after_id: Option<u64>,
}

impl Filter {
    fn matches(&self, e: &Entry) -> bool {
        self.api.as_deref().is_none_or(|a| a == e.api)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(&e.method))
            && self.path.as_deref().is_none_or(|p| {
                if p.contains('*') {
                    super::faults::path_matches(p, &e.path)
                } else {
                    e.path.starts_with(p)
                }
            })
            && self.status.is_none_or(|s| s == e.status)
            && self.since_ms.is_none_or(|s| e.at_ms >= s)
            && self.after_id.is_none_or(|id| e.id > id)
    }
}

/// What the handlers of one request tell the journal, through the request's context.
#[derive(Debug, Default)]
pub struct Draft {
    pub tenant: Option<String>,
    pub key_id: Option<String>,
    pub body: Option<String>,
    pub notes: Vec<String>,
}

pub type SharedDraft = Arc<Mutex<Draft>>;

fn with_draft(f: impl FnOnce(&mut Draft)) {
    let _ = REQUEST.try_with(|ctx| {
        if let Some(draft) = &ctx.journal {
            f(&mut draft.lock().unwrap_or_else(|e| e.into_inner()));
        }
    });
}

/// The request belongs to this tenant (its key's).
pub fn attribute(tenant: &str, key_id: &str) {
    with_draft(|d| {
        d.tenant = Some(tenant.to_owned());
        d.key_id = Some(key_id.to_owned());
    });
}

/// The request belongs to this tenant, though no key of it was used (the legacy token
/// endpoint, which a company token authenticates).
pub fn attribute_tenant(tenant: &str) {
    with_draft(|d| d.tenant = Some(tenant.to_owned()));
}

/// Where soundcheck accepted something the real service might not, or ignored something.
pub fn note(text: impl Into<String>) {
    with_draft(|d| d.notes.push(text.into()));
}

/// A summary of the body, when the handler knows better than its bytes (a multipart upload).
pub fn describe_body(text: impl Into<String>) {
    with_draft(|d| d.body = Some(text.into()));
}

/// Whether a string is shaped like a key of either API.
fn looks_like_key(s: &str) -> bool {
    parse_musique_token(s).is_some() || musicark_lookup(s).is_some() || company_token_prefix(s).is_some()
}

fn redact_value(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (name, v) in map.iter_mut() {
                let lower = name.to_ascii_lowercase();
                if lower.contains("token") || lower.contains("key") && !lower.ends_with("ids") {
                    if v.is_string() {
                        *v = Value::String(REDACTED.to_owned());
                    }
                } else {
                    redact_value(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        Value::String(s) if looks_like_key(s) => *s = REDACTED.to_owned(),
        _ => {}
    }
}

/// A JSON body as the journal keeps it: compact, redacted, truncated.
pub fn summarize_json(bytes: &[u8]) -> String {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut value) => {
            redact_value(&mut value);
            truncate(value.to_string())
        }
        Err(_) => format!("(not valid JSON, {} bytes)", bytes.len()),
    }
}

fn truncate(mut s: String) -> String {
    if s.chars().count() > BODY_CHARS {
        s = s.chars().take(BODY_CHARS).collect();
        s.push('…');
    }
    s
}

/// The query string with `api_key` and anything shaped like a key replaced.
pub fn redact_query(query: &str) -> String {
    let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(query) else {
        return "(malformed query string)".to_owned();
    };
    let pairs: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(k, v)| {
            if k == "api_key" || looks_like_key(&v) {
                (k, REDACTED.to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

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
    TenantPath(tenant): TenantPath,
    query: QueryPairs,
) -> Result<Json<Listing>> {
    let tenant = super::tenants::existing(&state, &tenant).await?;
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
pub async fn clear(State(state): State<ControlState>, TenantPath(tenant): TenantPath) -> Result<StatusCode> {
    let tenant = super::tenants::existing(&state, &tenant).await?;
    state.core.runtimes.get(&tenant).journal.clear();
    Ok(StatusCode::NO_CONTENT)
}

/// Builds the entry of a finished request.
#[allow(clippy::too_many_arguments)]
pub fn entry(
    api: &'static str,
    method: String,
    path: String,
    query: Option<String>,
    status: u16,
    latency_ms: f64,
    request_id: String,
    at_ms: i64,
    draft: Draft,
) -> Entry {
    Entry {
        id: 0,
        at: rfc3339_ms(at_ms),
        at_ms,
        api,
        method,
        path,
        query,
        status,
        latency_ms,
        request_id,
        key_id: draft.key_id,
        body: draft.body,
        notes: draft.notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_redacted_from_queries_and_bodies() {
        let q = redact_query("q=love&api_key=mk_live_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&limit=5");
        assert_eq!(q, "q=love&api_key=%5Bredacted%5D&limit=5");
        let body = summarize_json(
            br#"{"externalId":"s1","companyToken":"abc","nested":["msk_prod_1234567890abcdef"],"externalIds":["a"]}"#,
        );
        assert!(!body.contains("abc\""), "{body}");
        assert!(!body.contains("1234567890abcdef"), "{body}");
        assert!(body.contains("\"externalIds\":[\"a\"]"), "{body}");
        assert_eq!(summarize_json(b"{nope"), "(not valid JSON, 5 bytes)");
    }

    #[test]
    fn the_journal_keeps_the_newest_entries_up_to_its_cap() {
        let journal = Journal::new(2);
        for n in 0..3 {
            journal.push(entry(
                "musique",
                "GET".into(),
                format!("/p{n}"),
                None,
                200,
                1.0,
                String::new(),
                n,
                Draft::default(),
            ));
        }
        let (entries, total, _) = journal.page(&Filter::default(), 10);
        assert_eq!(total, 2);
        assert_eq!(entries[0].path, "/p1");
        assert_eq!(entries[1].id, 3);
        let (one, _, _) = journal.page(&Filter::default(), 1);
        assert_eq!(one[0].path, "/p2");
    }
}
