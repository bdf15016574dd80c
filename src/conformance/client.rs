//! The HTTP side: one target's endpoints and keys, one request sent and its response read
//! (bounded), the key put where each API wants it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::checks::{Api, Auth, Body, Request};
use super::shape::HEADERS;

/// A key, never printed: its `Debug` is redacted, and every line the kit writes has the keys
/// it was given replaced (`Out`).
#[derive(Clone)]
pub struct Key(pub String);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key([redacted])")
    }
}

/// One API of one target.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub api: Api,
    /// The API's base URL, without a trailing slash (`https://api.musique.app/api/v1/integration`).
    pub base: String,
    pub key: Key,
}

impl Endpoint {
    /// `url` is the service's origin, or already its API base.
    pub fn new(api: Api, url: &str, key: String) -> Result<Endpoint, String> {
        let url = url.trim_end_matches('/');
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("{} URL {url:?}: {e}", api.name()))?;
        if !matches!(parsed.scheme(), "http" | "https")
            || parsed.query().is_some()
            || !parsed.username().is_empty()
        {
            return Err(format!(
                "{} URL must be http(s), without a query or user info",
                api.name()
            ));
        }
        let base = if url.ends_with(api.base()) {
            url.to_string()
        } else {
            format!("{url}{}", api.base())
        };
        Ok(Endpoint {
            api,
            base,
            key: Key(key),
        })
    }
}

/// The largest body read; a longer one is reported as too large.
pub const MAX_BODY: usize = 1 << 20;
/// The MP3 uploaded by the write checks (1 s of tone, 8.8 KB), deleted at the end of the run.
pub const MP3: &[u8] = include_bytes!("../../tests/fixtures/tone_1s.mp3");
/// Well-formed keys no one was issued.
const INVALID_MUSIQUE_KEY: &str = "conformance_prod_0000000000000000";
const INVALID_MUSICARK_KEY: &str = "mk_live_conformance000000000000000000000";

pub struct Response {
    pub status: u16,
    /// The recorded headers (`HEADERS`), raw values.
    pub headers: BTreeMap<String, String>,
    pub body: Option<Value>,
}

pub fn client() -> Result<reqwest::Client, String> {
    // rustls on ring (Cargo.toml says why); installing twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("soundcheck-conformance/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

pub async fn send(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    request: &Request,
) -> Result<Response, String> {
    let mut url = format!("{}{}", endpoint.base, request.path);
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|e| e.to_string())?;
    let key = match (request.auth, endpoint.api) {
        (Auth::None, _) => None,
        (Auth::Invalid, Api::Musique) => Some(INVALID_MUSIQUE_KEY),
        (Auth::Invalid, Api::Musicark) => Some(INVALID_MUSICARK_KEY),
        (Auth::Key | Auth::Query, _) => Some(endpoint.key.0.as_str()),
    };
    if request.auth == Auth::Query {
        let sep = if url.contains('?') { '&' } else { '?' };
        let encoded: String = url::form_urlencoded_byte_serialize(endpoint.key.0.as_bytes());
        url = format!("{url}{sep}api_key={encoded}");
    }
    let mut builder = http.request(method, url);
    if let (Some(key), false) = (key, request.auth == Auth::Query) {
        builder = match endpoint.api {
            Api::Musique => builder.header("X-API-Key", key),
            Api::Musicark => builder.header("Authorization", format!("Bearer {key}")),
        };
    }
    builder = match &request.body {
        Body::Empty => builder,
        Body::Json(value) => builder.json(value),
        Body::Raw(text) => builder.header("Content-Type", "application/json").body(*text),
        Body::Upload => {
            let part = reqwest::multipart::Part::bytes(MP3)
                .file_name("soundcheck-conformance.mp3")
                .mime_str("audio/mpeg")
                .map_err(|e| e.to_string())?;
            let form = reqwest::multipart::Form::new()
                .part("file", part)
                .text("name", "soundcheck conformance (deleted at the end of the run)");
            builder.multipart(form)
        }
    };
    // `without_url`: the URL may carry the key (`?api_key=`).
    let mut response = builder
        .send()
        .await
        .map_err(|e| format!("request failed: {}", e.without_url()))?;
    let status = response.status().as_u16();
    let headers = HEADERS
        .iter()
        .filter_map(|name| {
            let value = response.headers().get(*name)?.to_str().ok()?;
            Some((name.to_string(), value.to_string()))
        })
        .collect();
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("reading the body: {}", e.without_url()))?
    {
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(format!("the body is over {MAX_BODY} bytes"));
        }
        bytes.extend_from_slice(&chunk);
    }
    let body = serde_json::from_slice(&bytes).ok();
    Ok(Response {
        status,
        headers,
        body,
    })
}

mod url {
    /// `application/x-www-form-urlencoded` bytes, as a query value.
    pub fn form_urlencoded_byte_serialize(bytes: &[u8]) -> String {
        bytes
            .iter()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (*b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
}
