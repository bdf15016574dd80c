//! `GET /_soundcheck/ui`: the live page of a tenant's sandbox (tenants, stores and their
//! timeline, library, journal, limits, controls). Plain HTML, CSS and JavaScript modules under
//! `assets/ui/`, embedded in the binary: no build step, no outside request.
//!
//! The assets are open to all like `/docs`: they hold no data. Every read and change the page
//! makes goes through the control plane's checks (the admin token, which the page asks for and
//! keeps in the tab's `sessionStorage`; or no other web site), and its live updates come from
//! [`super::events`].

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::Error;

/// Where the page is.
pub const PATH: &str = "/_soundcheck/ui";

/// Every asset: its name under [`PATH`], content type and bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/ui/app.js"),
    ),
    (
        "view.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/ui/view.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/ui/app.css"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_bytes!("../../assets/ui/icon.svg"),
    ),
];

const INDEX: &str = include_str!("../../assets/ui/index.html");

/// Only this server's own scripts, styles, media and API; never framed by another page.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                      media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; \
                      frame-ancestors 'none'";

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(PATH, get(page))
        .route(&format!("{PATH}/"), get(page))
        .route(&format!("{PATH}/{{file}}"), get(asset))
}

fn with_headers(content_type: &'static str, body: &'static [u8]) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `GET /_soundcheck/ui`
pub async fn page() -> Response {
    with_headers("text/html; charset=utf-8", INDEX.as_bytes())
}

/// `GET /_soundcheck/ui/{file}`
pub async fn asset(Path(file): Path<String>) -> Result<Response, Error> {
    ASSETS
        .iter()
        .find(|(name, _, _)| *name == file)
        .map(|(_, content_type, bytes)| with_headers(content_type, bytes))
        .ok_or_else(|| Error::ResourceNotFound(format!("The live page has no asset `{file}`.")))
}
