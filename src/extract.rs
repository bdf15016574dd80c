//! Request extractors whose rejections are our errors: handlers never see axum's plain text.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// The largest JSON body any endpoint accepts.
pub const JSON_BODY_LIMIT: usize = 256 * 1024;

/// A JSON body parsed to a `serde_json::Value`, for handlers that validate field by field
/// and name the failing field. An empty body is an empty object.
#[derive(Debug)]
pub struct JsonValue(pub serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for JsonValue {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let JsonBytes(bytes) = JsonBytes::from_request(req, state).await?;
        parse_json(&bytes).map(JsonValue)
    }
}

/// A body of at most [`JSON_BODY_LIMIT`] bytes.
struct JsonBytes(Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = Error;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Error> {
        axum::body::to_bytes(req.into_body(), JSON_BODY_LIMIT)
            .await
            .map(JsonBytes)
            .map_err(|e| match crate::serve::body_timeout(&e) {
                Some(timeout) => Error::BodyTimeout(timeout),
                None => Error::PayloadTooLarge {
                    limit_kb: (JSON_BODY_LIMIT / 1024) as u64,
                },
            })
    }
}

/// A JSON body that may be blank (`value` is `None`), for handlers that read blank
/// differently from `{}` (a send: both broadcast, only one was written by the client), and
/// the `Content-Type` it came with when that is not JSON (the real service's parser may not
/// read it at all). Nothing is allocated for a labelled, non-blank body.
#[derive(Debug)]
pub struct OptionalJson {
    pub value: Option<serde_json::Value>,
    /// `Some("")` when there was no `Content-Type`; `None` when it was JSON.
    pub unlabelled: Option<String>,
}

impl<S: Send + Sync> FromRequest<S> for OptionalJson {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let content_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("(not text)"));
        let unlabelled = match content_type {
            Some(t) if is_json_type(t) => None,
            Some(t) => Some(t.to_owned()),
            None => Some(String::new()),
        };
        let JsonBytes(bytes) = JsonBytes::from_request(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson {
                value: None,
                unlabelled: None,
            });
        }
        Ok(OptionalJson {
            value: Some(parse_json(&bytes)?),
            unlabelled,
        })
    }
}

/// `application/json`, or a `+json` type, with any parameters.
fn is_json_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence
            .rsplit_once('+')
            .is_some_and(|(_, suffix)| suffix.eq_ignore_ascii_case("json"))
}

pub fn parse_json(bytes: &Bytes) -> Result<serde_json::Value, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Object(serde_json::Map::new()));
    }
    serde_json::from_slice(bytes).map_err(|e| Error::InvalidJson(e.to_string()))
}

/// The query string as ordered pairs; a parameter's first occurrence wins.
#[derive(Debug, Default)]
pub struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A query as unit tests write it.
impl From<&[(&str, &str)]> for QueryPairs {
    fn from(pairs: &[(&str, &str)]) -> Self {
        QueryPairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::validation(format!("The query string is malformed: {}", e.body_text())))?;
        Ok(QueryPairs(pairs))
    }
}

/// Path parameters.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let Path(value) = Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::validation(format!("A path parameter is invalid: {}", e.body_text())))?;
        Ok(ApiPath(value))
    }
}

/// The caller an API's key middleware authenticated the request as, which it put in the
/// request's extensions: `Caller<MusiqueCaller>`, `Caller<ArkCaller>`.
#[derive(Debug)]
pub struct Caller<T>(pub Arc<T>);

impl<T> Clone for Caller<T> {
    fn clone(&self) -> Self {
        Caller(self.0.clone())
    }
}

impl<T: Send + Sync + 'static> Caller<T> {
    /// The caller the key layer put in `extensions`; its absence is a routing mistake of ours.
    pub fn of(extensions: &axum::http::Extensions) -> Result<Self, Error> {
        extensions
            .get::<Caller<T>>()
            .cloned()
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("route is missing the key middleware")))
    }
}

impl<S: Send + Sync, T: Send + Sync + 'static> FromRequestParts<S> for Caller<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Error> {
        Caller::of(&parts.extensions)
    }
}
