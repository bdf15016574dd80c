//! The request journal: every request to either API, per tenant, capped, queryable and
//! clearable, with a note wherever the real service would have treated it differently.
//! The journal layer ([`crate::middleware`]) gives each API request a [`Notes`] in its
//! extensions; handlers and API middleware write to it, the layer records the entry.
//!
//! Keys never reach it: headers are not recorded, `api_key` in a query and anything that looks
//! like a token in a body are replaced by `[redacted]`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;
use serde::Serialize;
use serde_json::Value;

use crate::auth::{company_token_prefix, musicark_lookup, parse_musique_token};
use crate::clock::Rfc3339Ms;
use crate::error::{Error, RequestId};
use crate::sync::MutexExt;
use crate::warnings::{MAX_PER_REQUEST, Warning};

/// The longest body summary kept.
const BODY_CHARS: usize = 1_000;
const REDACTED: &str = "[redacted]";

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: u64,
    /// On the tenant's clock.
    #[schema(value_type = String)]
    pub at: Rfc3339Ms,
    #[serde(skip)]
    pub at_ms: i64,
    pub api: &'static str,
    #[serde(serialize_with = "method_name")]
    #[schema(value_type = String)]
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub latency_ms: f64,
    #[schema(value_type = String)]
    pub request_id: RequestId,
    // Shared with the key's cached caller: no copy per request.
    #[schema(value_type = Option<String>)]
    pub key_id: Option<Arc<str>>,
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
        let mut inner = self.inner.locked();
        let (entries, next) = &mut *inner;
        entry.id = *next;
        *next += 1;
        if entries.len() == self.cap {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    pub fn clear(&self) {
        self.inner.locked().0.clear();
    }

    /// Matching entries, oldest first: after `filter.after_id`, the first `limit` of them and
    /// whether more follow; without it, the newest `limit`. The total counts every match.
    pub fn page(&self, filter: &Filter, limit: usize) -> (Vec<Entry>, usize, bool) {
        let inner = self.inner.locked();
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
                .is_none_or(|m| m.eq_ignore_ascii_case(e.method.as_str()))
            && self.path.as_deref().is_none_or(|p| {
                if p.contains('*') {
                    path_matches(p, &e.path)
                } else {
                    e.path.starts_with(p)
                }
            })
            && self.status.is_none_or(|s| s == e.status)
            && self.since_ms.is_none_or(|s| e.at_ms >= s)
            && self.after_id.is_none_or(|id| e.id > id)
    }
}

/// A journal filter's and a fault's path pattern: `*` matches one path segment, `**` any number (as the last segment); anything else
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

/// What the handlers of one request tell the journal, through its [`Notes`].
#[derive(Debug, Default)]
pub struct Draft {
    pub tenant: Option<Arc<str>>,
    pub key_id: Option<Arc<str>>,
    pub body: Option<String>,
    pub notes: Vec<String>,
    /// The `Soundcheck-Warning`s of the response (also among `notes`), at most
    /// [`crate::warnings::MAX_PER_REQUEST`] and one that says how many more there were.
    pub warnings: Vec<String>,
    pub left_out: usize,
    /// Warnings are refused (`--strict`, or the caller's tenant was created strict).
    pub strict: bool,
}

/// The journal's handle on one request, in its extensions: an API request's draft entry;
/// empty for requests the journal does not record (the control plane's), where every note
/// is dropped. Extracted by handlers, read from the request by middleware, passed on by
/// argument to what they call.
#[derive(Clone, Debug, Default)]
pub struct Notes(Option<Arc<Mutex<Draft>>>);

impl Notes {
    /// A fresh draft, for the journal layer to insert and read back.
    pub fn recording() -> Notes {
        Notes(Some(Arc::default()))
    }

    /// The request's notes; empty when the journal does not record it.
    pub fn of(extensions: &axum::http::Extensions) -> Notes {
        extensions.get::<Notes>().cloned().unwrap_or_default()
    }

    fn with(&self, f: impl FnOnce(&mut Draft)) {
        if let Some(draft) = &self.0 {
            f(&mut draft.locked());
        }
    }

    /// The request belongs to this tenant (its key's): the ids are shared with the key's
    /// cached caller, not copied.
    pub fn attribute(&self, tenant: &Arc<str>, key_id: &Arc<str>) {
        self.with(|d| {
            d.tenant = Some(tenant.clone());
            d.key_id = Some(key_id.clone());
        });
    }

    /// The request belongs to this tenant, though no key of it was used (the legacy token
    /// endpoint, which a company token authenticates; a key that was refused).
    pub fn attribute_tenant(&self, tenant: impl Into<Arc<str>>) {
        self.with(|d| d.tenant = Some(tenant.into()));
    }

    /// Where soundcheck accepted something the real service might not, or ignored something.
    pub fn note(&self, text: impl Into<String>) {
        self.with(|d| d.notes.push(text.into()));
    }

    /// Refuse this request's warnings from now on: the server or the caller's tenant is
    /// strict. Takes no lock when `strict` is false.
    pub fn strict_if(&self, strict: bool) {
        if strict {
            self.with(|d| d.strict = true);
        }
    }

    /// Whether this request's warnings are refused.
    pub fn is_strict(&self) -> bool {
        let mut strict = false;
        self.with(|d| strict = d.strict);
        strict
    }

    /// Something was accepted that the real service might treat differently: lenient, it
    /// becomes a `Soundcheck-Warning` of the response and a note of its entry; strict, a 400
    /// that names it (and a note too).
    pub fn warn(&self, warning: Warning) -> Result<(), Error> {
        let mut refused = None;
        self.with(|d| {
            if d.strict {
                let line = warning.strict_line();
                d.notes.push(line.clone());
                refused = Some(line);
            } else {
                // Bounded: a body of a thousand unknown fields gets eight lines and a count.
                if d.warnings.len() < MAX_PER_REQUEST {
                    let line = warning.lenient_line();
                    d.notes.push(line.clone());
                    d.warnings.push(line);
                } else {
                    d.left_out += 1;
                }
            }
        });
        match refused {
            Some(line) => Err(Error::Validation(line)),
            None => Ok(()),
        }
    }

    /// Each of `warnings`, as [`Notes::warn`]; the first refused stops it.
    pub fn warn_all(&self, warnings: Vec<Warning>) -> Result<(), Error> {
        warnings.into_iter().try_for_each(|w| self.warn(w))
    }

    /// A summary of the body, when the handler knows better than its bytes (a multipart upload).
    pub fn describe_body(&self, text: impl Into<String>) {
        self.with(|d| d.body = Some(text.into()));
    }

    /// `f` of the tenant the request was attributed to, if any, without copying its id.
    pub fn with_tenant<T>(&self, f: impl FnOnce(&str) -> Option<T>) -> Option<T> {
        let draft = self.0.as_ref()?;
        let draft = draft.locked();
        f(draft.tenant.as_deref()?)
    }

    /// What was told, leaving the draft empty.
    pub fn take(&self) -> Draft {
        match &self.0 {
            Some(draft) => std::mem::take(&mut *draft.locked()),
            None => Draft::default(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Notes {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Notes::of(&parts.extensions))
    }
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

// A method and an id are kept as they came (a standard method and the id's bytes are copied,
// not allocated) and written out as text only when the journal is read.
fn method_name<S: serde::Serializer>(method: &Method, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(method.as_str())
}

/// Builds the entry of a finished request.
#[allow(clippy::too_many_arguments)]
pub fn entry(
    api: &'static str,
    method: Method,
    path: String,
    query: Option<String>,
    status: u16,
    latency_ms: f64,
    request_id: RequestId,
    at_ms: i64,
    draft: Draft,
) -> Entry {
    Entry {
        id: 0,
        at: Rfc3339Ms(at_ms),
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
    fn path_patterns_match_segments() {
        let send = "/api/v1/integration/audio/aud_x/send";
        assert!(path_matches("/api/v1/integration/audio/*/send", send));
        assert!(path_matches("/api/v1/integration/**", send));
        assert!(!path_matches("/api/v1/integration/audio/*", send));
        assert!(path_matches("/api/v1/songs", "/api/v1/songs"));
        assert!(path_matches("/api/v1/songs/", "/api/v1/songs"));
        assert!(!path_matches("/api/v1/songs", "/api/v1/songs/x"));
    }

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
                Method::GET,
                format!("/p{n}"),
                None,
                200,
                1.0,
                RequestId::generate(),
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
