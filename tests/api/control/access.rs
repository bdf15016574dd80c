//! Health, coverage, the admin token, `soundcheck healthcheck`, and the rules that keep web
//! pages of other sites (and DNS rebinding) off the control plane.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn health_needs_no_key_and_names_both_apis() {
    let app = TestApp::spawn().await;
    let (status, body) = app.control_json(Method::GET, "/health", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let names: Vec<&str> = body["apis"]
        .as_array()
        .expect("apis")
        .iter()
        .map(|a| a["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["Musique Partner API", "MusicArk API"]);
}

#[tokio::test]
async fn every_operation_in_the_coverage_list_is_served() {
    let app = TestApp::spawn().await;
    let (status, body) = app.control_json(Method::GET, "/coverage", None).await;
    assert_eq!(status, 200);
    let operations = body["operations"].as_array().expect("operations");
    assert!(operations.len() >= 13);
    for op in operations {
        assert!(
            ["vendor_docs", "our_reading", "our_choice"].contains(&op["basis"].as_str().expect("basis")),
            "{op}"
        );
        let path = op["path"]
            .as_str()
            .expect("path")
            .replace("{id}", "x")
            .replace("{audioId}", "x")
            .replace("{file}", "x.mp3");
        let method = Method::from_bytes(op["method"].as_str().expect("method").as_bytes()).expect("method");
        let response = app
            .client
            .request(method, app.url(&path))
            .send()
            .await
            .expect("request");
        // Served means routed: a missing key (401) or a missing thing (404 with its own
        // code), never the router's `not_found` or 405.
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert_ne!(status, 405, "{path}");
        assert!(
            status != 404 || body["error"]["code"] != "not_found" || path.starts_with("/media"),
            "{path} is not routed: {body}"
        );
    }
}

#[tokio::test]
async fn with_an_admin_token_the_control_plane_requires_it_but_health_does_not() {
    let app = TestApp::spawn_with(|c| {
        c.admin_token = Some("s3cret-admin-token".parse().expect("token"));
    })
    .await;
    let (status, body) = app.control_json(Method::POST, "/tenants", Some(json!({}))).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "missing_admin_token");
    let response = app
        .control(Method::GET, "/tenants")
        .bearer_auth("wrong-token-value")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
    let response = app
        .control(Method::GET, "/tenants")
        .bearer_auth("s3cret-admin-token")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let (status, _) = app.control_json(Method::GET, "/health", None).await;
    assert_eq!(status, 200);
    // The APIs themselves are not behind the admin token.
    assert_eq!(app.get_json("/audio", MSK).await.0, 200);
}

#[tokio::test]
async fn the_healthcheck_command_exits_zero_for_a_healthy_server_and_not_otherwise() {
    let app = TestApp::spawn().await;
    let run = |addr: String| async move {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_soundcheck"))
            .args(["healthcheck", "--addr", &addr])
            .output()
            .await
            .expect("run healthcheck")
    };
    let ok = run(app.addr.to_string()).await;
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("\"status\":\"ok\""));
    // Nothing listens on a port just released.
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = free.local_addr().expect("addr").to_string();
    drop(free);
    let down = run(addr).await;
    assert!(!down.status.success());
    assert!(String::from_utf8_lossy(&down.stderr).contains("unhealthy"));
}

#[tokio::test]
async fn bound_to_every_interface_without_a_token_the_server_warns_loudly() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = tempfile::tempdir().expect("dir");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_soundcheck"))
        .args(["serve", "--addr", "0.0.0.0:0", "--hash-cost", "fast", "--db"])
        .arg(dir.path().join("s.db"))
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let found = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("WARNING: the control plane") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    child.kill().await.expect("stop");
    assert!(found, "no warning on stderr");
}

/// What a page of another site makes a browser send: its `Origin` and a `text/plain` body,
/// a "simple" request that needs no preflight.
fn from_evil(app: &TestApp, method: Method, path: &str, body: &'static str) -> reqwest::RequestBuilder {
    app.control(method, path)
        .header("Origin", "http://evil.example")
        .header("Sec-Fetch-Site", "cross-site")
        .header("Content-Type", "text/plain;charset=UTF-8")
        .body(body)
}

async fn refused_with(response: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (got, body) = json(response).await;
    assert_eq!(
        (got, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    assert_eq!(
        body["error"]["requestId"].as_str(),
        request_id.as_deref(),
        "{body}"
    );
    body
}

#[tokio::test]
async fn a_page_of_another_site_cannot_create_a_tenant_move_a_clock_or_reset() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let before_ms = app.clock().now_ms();
    app.upload_tone(MSK).await;
    let tenants = app.count("tenants").await;

    let response = from_evil(&app, Method::POST, "/tenants", r#"{"musique": {"stores": 1}}"#)
        .send()
        .await
        .expect("request");
    let body = refused_with(response, 403, "cross_site_request").await;
    assert_eq!(body["error"]["type"], "permission_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("http://evil.example")),
        "{body}"
    );
    let response = from_evil(
        &app,
        Method::POST,
        "/tenants/default/clock",
        r#"{"advance": "30d"}"#,
    )
    .send()
    .await
    .expect("request");
    refused_with(response, 403, "cross_site_request").await;
    let response = from_evil(&app, Method::POST, "/reset", "")
        .send()
        .await
        .expect("request");
    refused_with(response, 403, "cross_site_request").await;
    // A form post, and a bodiless one: browsers send Origin on every POST.
    let response = app
        .control(Method::POST, "/reset")
        .header("Origin", "http://evil.example")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("a=b")
        .send()
        .await
        .expect("request");
    refused_with(response, 403, "cross_site_request").await;
    let response = app
        .control(Method::POST, "/reset")
        .header("Origin", "null")
        .send()
        .await
        .expect("request");
    refused_with(response, 403, "cross_site_request").await;
    // No Origin (an <img>, a no-cors load): Sec-Fetch-Site tells.
    let response = app
        .control(Method::GET, "/tenants")
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .expect("request");
    refused_with(response, 403, "cross_site_request").await;

    assert_eq!(app.count("tenants").await, tenants, "a tenant was created");
    assert_eq!(app.clock().now_ms(), before_ms, "the clock moved");
    assert_eq!(
        app.count("audio").await,
        FIXTURE_AUDIO + 1,
        "the default tenant was reset"
    );
}

#[tokio::test]
async fn a_rebound_host_name_is_refused_with_a_message_naming_the_flag() {
    let app = TestApp::spawn().await;
    let tenants = app.count("tenants").await;
    let evil = format!("evil.example:{}", app.addr.port());
    let response = app
        .control(Method::GET, "/tenants")
        .header("Host", &evil)
        .send()
        .await
        .expect("request");
    let body = refused_with(response, 403, "host_not_allowed").await;
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.contains(&evil) && message.contains("--allowed-hosts"),
        "{message}"
    );
    assert!(message.contains("SOUNDCHECK_ALLOWED_HOSTS"), "{message}");
    // The page's own origin is the rebound name: same-origin to the browser, still refused.
    let response = app
        .control(Method::POST, "/tenants")
        .header("Host", &evil)
        .header("Origin", format!("http://{evil}"))
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    refused_with(response, 403, "host_not_allowed").await;
    assert_eq!(app.count("tenants").await, tenants);
    // Read-only and secret-free: health, the documents and the docs page answer any Host.
    for path in ["/_soundcheck/health", "/openapi/control.json", "/docs/"] {
        let response = app
            .client
            .get(app.url(path))
            .header("Host", &evil)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "{path}");
    }
    // The APIs are not the control plane: real clients call them by any name.
    let response = app
        .musique(Method::GET, "/audio", MSK)
        .header("Host", &evil)
        .header("Origin", "http://evil.example")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn loopback_hosts_and_origins_on_any_port_are_allowed() {
    let app = TestApp::spawn().await;
    let port = app.addr.port();
    let cases = [
        (format!("127.0.0.1:{port}"), None),
        (format!("LocalHost.:{port}"), None),
        (format!("[::1]:{port}"), None),
        (format!("app.localhost:{port}"), None),
        // The docs page's "Try it out": its own origin.
        (
            format!("127.0.0.1:{port}"),
            Some(format!("http://127.0.0.1:{port}")),
        ),
        // A test runner's page served by another local server.
        (
            format!("127.0.0.1:{port}"),
            Some("http://localhost:3000".to_owned()),
        ),
        (format!("localhost:{port}"), Some("http://[::1]:5173".to_owned())),
    ];
    for (host, origin) in cases {
        let mut request = app
            .control(Method::POST, "/tenants")
            .header("Host", &host)
            .header("Sec-Fetch-Site", "same-origin")
            .json(&json!({"musique": {"stores": 1}}));
        if let Some(origin) = &origin {
            request = request.header("Origin", origin);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 201, "Host {host}, Origin {origin:?}");
    }
}

#[tokio::test]
async fn allowed_hosts_let_a_configured_name_through_and_no_other() {
    let app = TestApp::spawn_with(|c| {
        c.allowed_hosts = vec!["soundcheck".parse().expect("host")];
    })
    .await;
    let response = app
        .control(Method::POST, "/tenants")
        .header("Host", "Soundcheck:8080")
        .header("Origin", "http://soundcheck:8080")
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
    let response = app
        .control(Method::GET, "/tenants")
        .header("Host", "soundcheck.evil.example:8080")
        .send()
        .await
        .expect("request");
    refused_with(response, 403, "host_not_allowed").await;
    // An allowed host's page on another port is another origin.
    let response = app
        .control(Method::POST, "/reset")
        .header("Host", "soundcheck:8080")
        .header("Origin", "http://soundcheck:3000")
        .send()
        .await
        .expect("request");
    refused_with(response, 403, "cross_site_request").await;
}

#[tokio::test]
async fn the_allowed_hosts_env_twin_reaches_the_server_and_a_host_with_a_port_is_refused() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = tempfile::tempdir().expect("dir");
    let bad = tokio::process::Command::new(env!("CARGO_BIN_EXE_soundcheck"))
        .args(["serve", "--allowed-hosts", "soundcheck,soundcheck:8080", "--db"])
        .arg(dir.path().join("bad.db"))
        .output()
        .await
        .expect("run");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && stderr.contains("without its port"),
        "{stderr}"
    );

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_soundcheck"))
        .args(["serve", "--addr", "127.0.0.1:0", "--hash-cost", "fast", "--db"])
        .arg(dir.path().join("s.db"))
        .env("SOUNDCHECK_ALLOWED_HOSTS", "Soundcheck,ci-runner.internal.")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut addr, mut config) = (None, None);
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(at) = line.split("listening on http://").nth(1) {
                addr = Some(at.trim().to_owned());
            }
            if let Some(json) = line.strip_prefix("config: ") {
                config = Some(serde_json::from_str::<serde_json::Value>(json).expect("config JSON"));
                return;
            }
        }
    })
    .await
    .expect("the server printed its configuration");
    let config = config.expect("config");
    assert_eq!(
        config["allowed_hosts"],
        json!(["soundcheck", "ci-runner.internal"])
    );
    let url = format!("http://{}/_soundcheck/tenants", addr.expect("addr"));
    let status = |host: &'static str| {
        let request = crate::helpers::http().get(&url).header("Host", host);
        async move { request.send().await.expect("request").status().as_u16() }
    };
    let (allowed, other) = (
        status("ci-runner.internal:8080").await,
        status("ci-runner.example:8080").await,
    );
    child.kill().await.expect("stop");
    assert_eq!((allowed, other), (200, 403));
}

#[tokio::test]
async fn a_state_changing_body_must_be_declared_json_and_a_bodiless_call_needs_no_type() {
    let app = TestApp::spawn().await;
    let tenants = app.count("tenants").await;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut request = app
            .control(Method::POST, "/tenants")
            .body(r#"{"musique": {"stores": 1}}"#);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let response = request.send().await.expect("request");
        let body = refused_with(response, 415, "unsupported_media_type").await;
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("Content-Type: application/json")),
            "{body}"
        );
    }
    assert_eq!(app.count("tenants").await, tenants);
    // `curl -X POST …/reset` and `curl -X DELETE …/requests`: no body, no type.
    let (status, _) = app.control_json(Method::POST, "/reset", None).await;
    assert_eq!(status, 200);
    let (status, _) = app
        .control_json(Method::DELETE, "/tenants/default/requests", None)
        .await;
    assert_eq!(status, 204);
    let response = app
        .control(Method::POST, "/tenants")
        .header("Content-Type", "Application/JSON; charset=utf-8")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn with_an_admin_token_the_token_is_the_guard_and_bodies_are_still_json() {
    let app = TestApp::spawn_with(|c| {
        c.admin_token = Some("s3cret-admin-token".parse().expect("token"));
    })
    .await;
    // A page of another site cannot know the token: without it, 401 as before.
    let response = from_evil(&app, Method::POST, "/reset", "")
        .send()
        .await
        .expect("request");
    refused_with(response, 401, "missing_admin_token").await;
    // With it, Host and Origin are not checked (a CI service reached by its name).
    let response = app
        .control(Method::POST, "/tenants")
        .bearer_auth("s3cret-admin-token")
        .header("Host", "soundcheck:8080")
        .header("Origin", "http://ci.example")
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
    let response = app
        .control(Method::POST, "/tenants")
        .bearer_auth("s3cret-admin-token")
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("request");
    refused_with(response, 415, "unsupported_media_type").await;
}
