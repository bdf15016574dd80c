//! Who may drive the control plane: without an admin token, no web page of another site (its
//! `Host`, `Origin` and `Sec-Fetch-Site` say so), and bodies only as declared JSON.
//!
//! The threat is a developer's browser: a page of any site can send simple requests (a
//! `text/plain` or form body, no preflight) to `127.0.0.1`, and through DNS rebinding can even
//! read the answers under its own name. So, without an admin token:
//! - `Host` must be a loopback name (`localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`), the
//!   bound IP (any IP literal when bound to `0.0.0.0`/`::`: a rebinding page always sends its
//!   own name), or a host of `--allowed-hosts`; the port is not compared;
//! - an `Origin`, when there is one, must be the server's own (the same host and port as
//!   `Host`: the `/docs` page) or a loopback origin on any port (a test runner's page on the
//!   same machine); `null` (sandboxed frames, `file:` pages) is refused;
//! - without an `Origin`, `Sec-Fetch-Site: cross-site` is refused (no-cors loads: `<img>`,
//!   `<script>`).
//!
//! With an admin token these checks are off: a page cannot know the token, and sending it
//! needs a preflight that soundcheck does not grant. In both cases a state-changing request
//! that carries a body must declare it `application/json`, which no page can send to another
//! origin without a preflight.

use axum::http::{HeaderMap, Method, Uri, header};

use super::error::ControlKind;
use crate::config::Config;
use crate::error::Error;
use crate::hosts::{Authority, Host, parse_origin};

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" { 443 } else { 80 }
}

/// A header value as it may appear in a message: visible ASCII, at most 100 characters.
fn shown(value: &axum::http::HeaderValue) -> String {
    match value.to_str() {
        Ok(text) => text.chars().take(100).collect(),
        Err(_) => "(not text)".to_owned(),
    }
}

fn host_allowed(config: &Config, host: &Host) -> bool {
    if host.is_loopback() {
        return true;
    }
    let bound = config.addr.ip().to_canonical();
    // Only a client that named an address of ours reaches us by an IP literal.
    let ours = matches!(host, Host::Ip(ip) if bound.is_unspecified() || *ip == bound);
    ours || {
        let host = host.to_string();
        config
            .allowed_hosts
            .iter()
            .any(|allowed| allowed.as_str() == host)
    }
}

/// Refuses a control request that a web page of another site could have sent (see the
/// module's rules). Called only when no admin token is configured.
pub fn check_site(config: &Config, headers: &HeaderMap, uri: &Uri) -> Result<(), Error> {
    let refuse_host = |shown: String| -> Error {
        ControlKind::HostNotAllowed(format!(
            "Host `{shown}` is not a name of this server. Without an admin token the control \
             plane answers only loopback names (localhost, 127.0.0.1, [::1]), the address it is \
             bound to and the hosts of --allowed-hosts (SOUNDCHECK_ALLOWED_HOSTS): add this \
             host there, or set --admin-token."
        ))
        .into()
    };
    let mut own = None;
    for value in headers.get_all(header::HOST) {
        let authority = value.to_str().ok().and_then(Authority::parse);
        match authority {
            Some(authority) if host_allowed(config, &authority.host) => own = Some(authority),
            _ => return Err(refuse_host(shown(value))),
        }
    }
    // An absolute request target names the host too, and wins over `Host` (RFC 9112 §3.2.2).
    if let Some(authority) = uri.authority() {
        let parsed = Authority::parse(authority.as_str());
        match parsed {
            Some(parsed) if host_allowed(config, &parsed.host) => own = Some(parsed),
            _ => return Err(refuse_host(authority.as_str().chars().take(100).collect())),
        }
    }

    let refuse_site = |what: String| -> Error {
        ControlKind::CrossSiteRequest(format!(
            "This control-plane request comes from another web site ({what}). Without an admin \
             token the control plane answers only its own pages, pages of loopback origins \
             (http://localhost:PORT, http://127.0.0.1:PORT, http://[::1]:PORT) and clients that \
             are not browsers."
        ))
        .into()
    };
    let mut origins = headers.get_all(header::ORIGIN).iter().peekable();
    if origins.peek().is_none() {
        let cross_site = headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
        if cross_site {
            return Err(refuse_site("Sec-Fetch-Site: cross-site".to_owned()));
        }
        return Ok(());
    }
    for value in origins {
        let Some((scheme, origin)) = value.to_str().ok().and_then(parse_origin) else {
            return Err(refuse_site(format!("Origin `{}`", shown(value))));
        };
        let same_as_host = own.as_ref().is_some_and(|own| {
            own.host == origin.host
                && own.port.unwrap_or(default_port(&scheme)) == origin.port.unwrap_or(default_port(&scheme))
        });
        if !(origin.host.is_loopback() || same_as_host) {
            return Err(refuse_site(format!("Origin `{}`", shown(value))));
        }
    }
    Ok(())
}

/// A state-changing request that carries a body must declare it as JSON: a page can send
/// `text/plain`, a form or multipart to any origin without a preflight, but not JSON.
pub fn check_body(method: &Method, headers: &HeaderMap) -> Result<(), Error> {
    if !matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        return Ok(());
    }
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()) != Some(0));
    if !has_body {
        return Ok(());
    }
    let declared = headers.get(header::CONTENT_TYPE);
    let is_json = declared
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    if is_json {
        return Ok(());
    }
    let got = match declared {
        Some(value) => format!("got `{}`", shown(value)),
        None => "got no Content-Type".to_owned(),
    };
    Err(Error::UnsupportedMediaType(format!(
        "A control-plane {method} with a body must send it as `Content-Type: application/json`; \
         {got}. A request without a body needs no Content-Type."
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn site(config: &Config, pairs: &[(&'static str, &'static str)]) -> Result<(), String> {
        check_site(config, &headers(pairs), &Uri::from_static("/_soundcheck/tenants"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_site_rules_table() {
        let mut config = Config::for_tests(":memory:");
        config.allowed_hosts = vec!["soundcheck".parse().expect("host")];
        let ok: &[&[(&str, &str)]] = &[
            &[],
            &[("host", "127.0.0.1:8080")],
            &[("host", "LOCALHOST.:8080")],
            &[("host", "[::1]:8080"), ("origin", "http://[::1]:8080")],
            &[("host", "127.0.0.1:8080"), ("origin", "http://localhost:3000")],
            &[("host", "soundcheck:8080"), ("origin", "http://soundcheck:8080")],
            &[("host", "soundcheck"), ("origin", "http://soundcheck:80")],
            &[("host", "127.0.0.1:8080"), ("sec-fetch-site", "same-origin")],
            &[("host", "127.0.0.1:8080"), ("sec-fetch-site", "none")],
            // A loopback origin decides, though the browser calls localhost → 127.0.0.1
            // cross-site.
            &[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://localhost:3000"),
                ("sec-fetch-site", "cross-site"),
            ],
        ];
        for pairs in ok {
            assert_eq!(site(&config, pairs), Ok(()), "{pairs:?}");
        }
        let refused: &[(&[(&str, &str)], &str)] = &[
            (&[("host", "evil.example:8080")], "Host `evil.example:8080`"),
            (&[("host", "localhost.evil.example")], "--allowed-hosts"),
            (&[("host", "10.0.0.1:8080")], "Host `10.0.0.1:8080`"),
            (
                &[("host", "127.0.0.1"), ("host", "evil.example")],
                "Host `evil.example`",
            ),
            (&[("host", "bad host")], "Host `bad host`"),
            (
                &[("host", "127.0.0.1:8080"), ("origin", "http://evil.example")],
                "Origin `http://evil.example`",
            ),
            (&[("host", "127.0.0.1:8080"), ("origin", "null")], "Origin `null`"),
            (
                &[("host", "soundcheck:8080"), ("origin", "http://soundcheck:3000")],
                "Origin",
            ),
            (
                &[
                    ("host", "soundcheck:8080"),
                    ("origin", "https://soundcheck:8080.evil"),
                ],
                "Origin",
            ),
            (
                &[
                    ("host", "127.0.0.1:8080"),
                    ("origin", "http://localhost:3000"),
                    ("origin", "http://evil.example"),
                ],
                "evil.example",
            ),
            (
                &[("host", "127.0.0.1:8080"), ("sec-fetch-site", "cross-site")],
                "Sec-Fetch-Site",
            ),
        ];
        for (pairs, says) in refused {
            let err = site(&config, pairs).expect_err(&format!("{pairs:?} must be refused"));
            assert!(err.contains(says), "{pairs:?}: {err}");
        }
    }

    #[test]
    fn the_bound_address_is_a_host_and_every_ip_literal_when_bound_to_all() {
        let mut config = Config::for_tests(":memory:");
        config.addr = "192.168.1.5:8080".parse().expect("addr");
        assert_eq!(site(&config, &[("host", "192.168.1.5:8080")]), Ok(()));
        assert!(site(&config, &[("host", "192.168.1.6:8080")]).is_err());
        assert!(site(&config, &[("host", "soundcheck:8080")]).is_err());
        config.allowed_hosts = vec![
            "192.168.1.6".parse().expect("host"),
            "fd00::1".parse().expect("host"),
        ];
        assert_eq!(site(&config, &[("host", "192.168.1.6:8080")]), Ok(()));
        assert_eq!(site(&config, &[("host", "[fd00:0::1]:8080")]), Ok(()));
        config.allowed_hosts.clear();
        config.addr = "0.0.0.0:8080".parse().expect("addr");
        assert_eq!(site(&config, &[("host", "172.17.0.2:8080")]), Ok(()));
        assert_eq!(site(&config, &[("host", "[fd00::2]:8080")]), Ok(()));
        assert!(site(&config, &[("host", "evil.example:8080")]).is_err());
        config.addr = "[::]:8080".parse().expect("addr");
        assert_eq!(site(&config, &[("host", "10.1.2.3")]), Ok(()));
    }

    #[test]
    fn an_absolute_target_is_checked_like_host() {
        let config = Config::for_tests(":memory:");
        let uri = Uri::from_static("http://evil.example/_soundcheck/reset");
        let err = check_site(&config, &headers(&[("host", "127.0.0.1")]), &uri).expect_err("refused");
        assert!(
            matches!(err.api::<ControlKind>(), Some(ControlKind::HostNotAllowed(_))),
            "{err}"
        );
    }

    #[test]
    fn a_state_changing_body_must_be_json() {
        let body = |method: Method, pairs: &[(&'static str, &'static str)]| {
            check_body(&method, &headers(pairs)).is_ok()
        };
        assert!(body(Method::POST, &[]));
        assert!(body(Method::POST, &[("content-length", "0")]));
        assert!(body(
            Method::POST,
            &[("content-length", "0"), ("content-type", "text/plain")]
        ));
        assert!(body(
            Method::POST,
            &[("content-length", "2"), ("content-type", "application/json")]
        ));
        assert!(body(
            Method::PUT,
            &[
                ("content-length", "2"),
                ("content-type", "Application/JSON; charset=utf-8")
            ]
        ));
        assert!(body(
            Method::GET,
            &[("content-length", "2"), ("content-type", "text/plain")]
        ));
        assert!(!body(
            Method::POST,
            &[("content-length", "2"), ("content-type", "text/plain")]
        ));
        assert!(!body(Method::POST, &[("content-length", "2")]));
        assert!(!body(
            Method::DELETE,
            &[
                ("transfer-encoding", "chunked"),
                ("content-type", "application/x-www-form-urlencoded")
            ]
        ));
        assert!(!body(
            Method::PATCH,
            &[("content-length", "2"), ("content-type", "application/jsonp")]
        ));
        assert!(!body(
            Method::POST,
            &[("content-length", "x"), ("content-type", "multipart/form-data")]
        ));
    }
}
