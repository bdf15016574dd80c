//! `/_soundcheck/tenants/{id}/faults`: failures on purpose.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_fault_fires_exactly_n_times_in_the_apis_own_envelope_then_stops() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let token = tenant.token("prod");
    let faults = format!("/tenants/{}/faults", tenant.id());
    let (status, fault) = app
        .control_json(
            Method::POST,
            &faults,
            Some(json!({"method": "GET", "path": "/api/v1/integration/audio", "status": 503, "times": 2})),
        )
        .await;
    assert_eq!(status, 201, "{fault}");

    for _ in 0..2 {
        let (status, body) = app.get_json("/audio", &token).await;
        assert_eq!(status, 503);
        assert_musique_error(&body, "service_unavailable", "api_error");
    }
    assert_eq!(app.get_json("/audio", &token).await.0, 200, "spent after two");
    assert_eq!(
        app.get_json("/audio", MSK).await.0,
        200,
        "other tenants are untouched"
    );

    let (_, listed) = app.control_json(Method::GET, &faults, None).await;
    assert_eq!(listed["faults"][0]["fired"], 2);
    assert_eq!(listed["faults"][0]["remaining"], 0);
    let (status, _) = app
        .control_json(
            Method::DELETE,
            &format!("{faults}/{}", fault["id"].as_str().expect("id")),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (_, listed) = app.control_json(Method::GET, &faults, None).await;
    assert_eq!(listed["faults"], json!([]));
}

#[tokio::test]
async fn musicark_faults_use_musicarks_envelope_and_patterns_match_segments() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let key = tenant.ark_key("enterprise");
    app.control_json(
        Method::POST,
        &format!("/tenants/{}/faults", tenant.id()),
        Some(json!({"path": "/api/v1/search/*", "status": 429, "times": 1})),
    )
    .await;
    assert_eq!(app.ark_json("/songs?limit=1", &key).await.0, 200, "not matched");
    let (status, body) = app.ark_json("/search/text?q=a", &key).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert_eq!(body["data"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_fault_can_drop_the_connection_or_add_latency() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let token = tenant.token("prod");
    let faults = format!("/tenants/{}/faults", tenant.id());
    app.control_json(
        Method::POST,
        &faults,
        Some(json!({"path": "/api/v1/integration/health", "close": true, "times": 1})),
    )
    .await;
    let result = app.musique(Method::GET, "/health", &token).send().await;
    match result {
        Err(err) => assert!(!err.is_timeout(), "{err}"),
        Ok(response) => assert!(response.text().await.is_err(), "the body must not arrive whole"),
    }
    assert_eq!(
        app.get_json("/health", &token).await.0,
        200,
        "the next request is served"
    );

    app.control_json(
        Method::POST,
        &faults,
        Some(json!({"path": "/api/v1/integration/health", "latencyMs": 300, "times": 1})),
    )
    .await;
    let started = Instant::now();
    assert_eq!(app.get_json("/health", &token).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_seeded_probability_fires_on_the_same_requests_every_run() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let app = TestApp::spawn().await;
        let tenant = app
            .create_tenant(json!({"musique": {"tokens": [{"limits": {"perMinute": 1000, "perHour": 1000, "perDay": 1000}}]}}))
            .await;
        app.control_json(
            Method::POST,
            &format!("/tenants/{}/faults", tenant.id()),
            Some(json!({"path": "/api/v1/integration/health", "status": 500, "probability": 0.5, "seed": 7})),
        )
        .await;
        let mut outcomes = Vec::new();
        for _ in 0..30 {
            outcomes.push(app.get_json("/health", &tenant.token("prod")).await.0);
        }
        runs.push(outcomes);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].contains(&500) && runs[0].contains(&200), "{:?}", runs[0]);
}

#[tokio::test]
async fn invalid_faults_are_refused() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let path = format!("/tenants/{}/faults", tenant.id());
    for body in [
        json!({"path": "/x"}),
        json!({"path": "x", "status": 500}),
        json!({"path": "/x", "status": 200}),
        json!({"path": "/x", "status": 500, "close": true}),
        json!({"path": "/x", "status": 500, "times": 0}),
        json!({"path": "/x", "status": 500, "probability": 2}),
        json!({"path": "/x", "latencyMs": 3600000}),
        json!({"path": "/x", "status": "500"}),
        json!({"status": 500}),
    ] {
        let (status, answer) = app.control_json(Method::POST, &path, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], "validation_error");
    }
    let (status, _) = app
        .control_json(Method::DELETE, &format!("{path}/flt_missing"), None)
        .await;
    assert_eq!(status, 404);
}
