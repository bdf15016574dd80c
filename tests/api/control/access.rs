//! Health, coverage, the admin token and `soundcheck healthcheck`.

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
