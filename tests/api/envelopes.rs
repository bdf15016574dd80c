//! Every error soundcheck produces, whatever the path, carries its API's envelope and an
//! `X-Request-Id` equal to the body's request id.

use axum::routing::get;
use reqwest::Method;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::helpers::*;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Api {
    Musique,
    MusicArk,
    Control,
}

/// Asserts a non-2xx response's envelope; returns the body (`Null` for HEAD).
async fn assert_envelope(what: &str, api: Api, response: reqwest::Response, head: bool) -> Value {
    let status = response.status();
    assert!(!status.is_success(), "{what}: {status}");
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{what}: no X-Request-Id"));
    assert!(request_id.starts_with("req_"), "{what}: {request_id}");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = response.text().await.expect("body");
    if head {
        assert!(text.is_empty(), "{what}: a HEAD answer has no body");
        return Value::Null;
    }
    assert!(
        content_type.starts_with("application/json"),
        "{what}: {content_type:?}, {text:?}"
    );
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text:?}"));
    let error = &body["error"];
    assert!(
        error["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{what}: {body}"
    );
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {body}"
    );
    match api {
        Api::Musique | Api::Control => {
            assert!(
                error["type"].as_str().is_some_and(|t| t.ends_with("_error")),
                "{what}: {body}"
            );
            assert_eq!(error["requestId"], request_id.as_str(), "{what}: {body}");
        }
        Api::MusicArk => {
            assert_eq!(
                (&body["data"], &body["meta"]),
                (&Value::Null, &serde_json::json!({})),
                "{what}: {body}"
            );
            assert_eq!(error["request_id"], request_id.as_str(), "{what}: {body}");
        }
    }
    body
}

#[tokio::test]
async fn every_error_response_has_its_apis_envelope_and_request_id() {
    let app = TestApp::spawn().await;
    let audio = app.upload_tone(MSK).await;
    let media = format!("/media/audio/{audio}.mp3");
    let big_json = format!("{{\"x\": \"{}\"}}", "a".repeat(300 * 1024));
    let port = app.addr.port();
    type Tweak = Box<dyn Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder>;
    let none = || -> Tweak { Box::new(|r| r) };
    let key = |k: &'static str| -> Tweak { Box::new(move |r| r.header("X-API-Key", k)) };
    let header =
        |name: &'static str, value: String| -> Tweak { Box::new(move |r| r.header(name, value.clone())) };
    let json_body = |body: String| -> Tweak {
        Box::new(move |r| {
            r.header("X-API-Key", MSK)
                .header("Content-Type", "application/json")
                .body(body.clone())
        })
    };
    let cases: Vec<(Method, String, Tweak, Api, u16, &str)> = vec![
        // The docs page's own router.
        (
            Method::GET,
            "/docs/nope.js".into(),
            none(),
            Api::Control,
            404,
            "not_found",
        ),
        (
            Method::GET,
            "/docs/a/b/c".into(),
            none(),
            Api::Control,
            404,
            "not_found",
        ),
        (
            Method::HEAD,
            "/docs/nope.js".into(),
            none(),
            Api::Control,
            404,
            "",
        ),
        (
            Method::DELETE,
            "/docs/index.html".into(),
            none(),
            Api::Control,
            405,
            "method_not_allowed",
        ),
        (
            Method::GET,
            "/openapi/unknown.json".into(),
            none(),
            Api::Control,
            404,
            "not_found",
        ),
        (
            Method::POST,
            "/openapi/musique.json".into(),
            none(),
            Api::Control,
            405,
            "method_not_allowed",
        ),
        (Method::GET, "/".into(), none(), Api::Control, 404, "not_found"),
        (
            Method::GET,
            "/favicon.ico".into(),
            none(),
            Api::Control,
            404,
            "not_found",
        ),
        // Media belongs to Musique.
        (
            Method::GET,
            media.clone(),
            header("Range", "bytes=999999-".into()),
            Api::Musique,
            416,
            "range_not_satisfiable",
        ),
        (
            Method::HEAD,
            media.clone(),
            header("Range", "bytes=999999-".into()),
            Api::Musique,
            416,
            "",
        ),
        (
            Method::GET,
            "/media/audio/nope.mp3".into(),
            none(),
            Api::Musique,
            404,
            "audio_not_found",
        ),
        (
            Method::PUT,
            media.clone(),
            none(),
            Api::Musique,
            405,
            "method_not_allowed",
        ),
        (
            Method::GET,
            "/media/nope".into(),
            none(),
            Api::Musique,
            404,
            "not_found",
        ),
        // Musique.
        (
            Method::GET,
            "/api/v1/integration/nope".into(),
            key(MSK),
            Api::Musique,
            404,
            "not_found",
        ),
        (
            Method::GET,
            "/api/v1/integration/audio".into(),
            none(),
            Api::Musique,
            401,
            "missing_api_key",
        ),
        (
            Method::HEAD,
            "/api/v1/integration/audio".into(),
            none(),
            Api::Musique,
            401,
            "",
        ),
        (
            Method::PATCH,
            "/api/v1/integration/audio".into(),
            key(MSK),
            Api::Musique,
            405,
            "method_not_allowed",
        ),
        (
            Method::OPTIONS,
            "/api/v1/integration/audio".into(),
            none(),
            Api::Musique,
            405,
            "method_not_allowed",
        ),
        (
            Method::POST,
            "/api/v1/integration/audio".into(),
            key(MSK),
            Api::Musique,
            400,
            "missing_file",
        ),
        (
            Method::GET,
            "/api/v1/integration/audio/%FF".into(),
            key(MSK),
            Api::Musique,
            400,
            "validation_error",
        ),
        (
            Method::POST,
            format!("/api/v1/integration/audio/{audio}/send"),
            json_body("{".into()),
            Api::Musique,
            400,
            "invalid_json",
        ),
        (
            Method::POST,
            format!("/api/v1/integration/audio/{audio}/send"),
            json_body(big_json.clone()),
            Api::Musique,
            413,
            "payload_too_large",
        ),
        (
            Method::GET,
            "/api/audio".into(),
            none(),
            Api::Musique,
            401,
            "missing_api_key",
        ),
        (
            Method::GET,
            "/api/nope/deeper".into(),
            key(MSK),
            Api::Musique,
            404,
            "not_found",
        ),
        // MusicArk.
        (
            Method::GET,
            "/api/v1/songs".into(),
            none(),
            Api::MusicArk,
            401,
            "unauthorized",
        ),
        (
            Method::PUT,
            "/api/v1/songs".into(),
            none(),
            Api::MusicArk,
            405,
            "method_not_allowed",
        ),
        (
            Method::GET,
            "/api/v1/nope".into(),
            none(),
            Api::MusicArk,
            404,
            "not_found",
        ),
        (
            Method::GET,
            "/api/v1/songs/%FF".into(),
            header("Authorization", format!("Bearer {FREE}")),
            Api::MusicArk,
            400,
            "bad_request",
        ),
        // The control plane.
        (
            Method::GET,
            "/_soundcheck/nope".into(),
            none(),
            Api::Control,
            404,
            "not_found",
        ),
        (
            Method::POST,
            "/_soundcheck/health".into(),
            none(),
            Api::Control,
            405,
            "method_not_allowed",
        ),
        (
            Method::OPTIONS,
            "/_soundcheck/tenants".into(),
            none(),
            Api::Control,
            405,
            "method_not_allowed",
        ),
        (
            Method::GET,
            "/_soundcheck/tenants/nope".into(),
            none(),
            Api::Control,
            404,
            "not_found",
        ),
        (
            Method::POST,
            "/_soundcheck/tenants".into(),
            header("Content-Type", "text/plain".into()),
            Api::Control,
            415,
            "unsupported_media_type",
        ),
        (
            Method::POST,
            "/_soundcheck/reset".into(),
            header("Origin", "http://evil.example".into()),
            Api::Control,
            403,
            "cross_site_request",
        ),
        (
            Method::GET,
            "/_soundcheck/tenants".into(),
            header("Host", format!("evil.example:{port}")),
            Api::Control,
            403,
            "host_not_allowed",
        ),
        (
            Method::POST,
            "/_soundcheck/tenants".into(),
            Box::new(move |r| {
                r.header("Content-Type", "application/json")
                    .body(format!("{{\"x\": \"{}\"}}", "a".repeat(300 * 1024)))
            }),
            Api::Control,
            413,
            "payload_too_large",
        ),
    ];
    for (method, path, tweak, api, status, code) in cases {
        let what = format!("{method} {path}");
        let head = method == Method::HEAD;
        let mut request = app.client.request(method, app.url(&path));
        // The 415 case needs a body; the others ignore one they did not ask for.
        if code == "unsupported_media_type" {
            request = request.body("{}");
        }
        let response = tweak(request).send().await.expect("request");
        assert_eq!(response.status().as_u16(), status, "{what}");
        let content_range = response
            .headers()
            .get("content-range")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = assert_envelope(&what, api, response, head).await;
        if !head {
            assert_eq!(body["error"]["code"], code, "{what}: {body}");
        }
        if status == 416 {
            // RFC 9110 §15.5.17: the length it could have served.
            let length = fixture("tone_1s.mp3").len();
            assert_eq!(content_range, Some(format!("bytes */{length}")), "{what}");
        }
    }
}

#[tokio::test]
async fn a_range_of_another_unit_or_grammar_is_ignored_and_a_satisfiable_one_served() {
    let app = TestApp::spawn().await;
    let audio = app.upload_tone(MSK).await;
    let length = fixture("tone_1s.mp3").len();
    for (range, status, content_range) in [
        ("items=0-1", 200, None),
        ("bytes=abc", 200, None),
        ("bytes=5-4", 200, None),
        ("bytes=0-3", 206, Some(format!("bytes 0-3/{length}"))),
        (
            "bytes=-10",
            206,
            Some(format!("bytes {}-{}/{length}", length - 10, length - 1)),
        ),
        (
            &format!("bytes={length}-") as &str,
            416,
            Some(format!("bytes */{length}")),
        ),
    ] {
        let response = app
            .client
            .get(app.url(&format!("/media/audio/{audio}.mp3")))
            .header("Range", range)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), status, "{range}");
        let got = response
            .headers()
            .get("content-range")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        assert_eq!(got, content_range, "{range}");
        assert!(response.headers().contains_key("x-request-id"), "{range}");
    }
}

/// A panic in any handler is a 500 in its API's envelope, with nothing of the panic in it.
#[tokio::test]
async fn a_panic_is_an_opaque_500_in_the_envelope_of_its_api() {
    let app = TestApp::spawn().await;
    async fn boom() -> &'static str {
        panic!("a secret cause")
    }
    let router = axum::Router::new()
        .route("/api/v1/integration/boom", get(boom))
        .route("/api/v1/boom", get(boom))
        .route("/_soundcheck/boom", get(boom));
    let stacked = soundcheck::stack(router, app.state.core.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, stacked).await });
    for (path, api) in [
        ("/api/v1/integration/boom", Api::Musique),
        ("/api/v1/boom", Api::MusicArk),
        ("/_soundcheck/boom", Api::Control),
    ] {
        let response = app
            .client
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 500, "{path}");
        let body = assert_envelope(path, api, response, false).await;
        assert_eq!(body["error"]["code"], "internal_error", "{path}");
        assert!(!body.to_string().contains("secret"), "{path}: {body}");
    }
    server.abort();
}
