//! `/_soundcheck/tenants/{id}/requests`: what the client really sent.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn journal(app: &TestApp, tenant: &str, query: &str) -> Value {
    let (status, body) = app
        .control_json(Method::GET, &format!("/tenants/{tenant}/requests{query}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn every_api_request_is_recorded_with_its_outcome_and_filters_find_it() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(json!({"clock": {"at": T0, "frozen": true}}))
        .await;
    let token = tenant.token("prod");
    let audio = app.upload_tone(&token).await;
    app.send(
        &token,
        &audio,
        json!({"externalIds": ["store_001"], "volume": 40}),
    )
    .await;
    app.get_json("/audio/aud_missing", &token).await;
    app.ark_json("/search/text?q=love", &tenant.ark_key("free")).await;

    let all = journal(&app, tenant.id(), "").await;
    assert_eq!(all["total"], 4, "{all}");
    let send = &all["requests"][1];
    assert_eq!(send["method"], "POST");
    assert_eq!(send["api"], "musique");
    assert_eq!(send["path"], format!("/api/v1/integration/audio/{audio}/send"));
    assert_eq!(send["status"], 200);
    assert_eq!(send["at"], "2026-11-23T12:00:00.000Z", "on the tenant's clock");
    assert!(
        send["body"].as_str().is_some_and(|b| b.contains("\"volume\":40")),
        "{send}"
    );
    assert!(send["requestId"].as_str().is_some_and(|r| r.starts_with("req_")));
    assert!(
        all["requests"][0]["body"]
            .as_str()
            .is_some_and(|b| b.contains("multipart/form-data"))
    );

    let missing = journal(&app, tenant.id(), "?status=404").await;
    assert_eq!(missing["total"], 1);
    let ark = journal(&app, tenant.id(), "?api=musicark").await;
    assert_eq!(ark["requests"][0]["query"], "q=love");
    let posts = journal(
        &app,
        tenant.id(),
        "?method=post&path=/api/v1/integration/audio/*/send",
    )
    .await;
    assert_eq!(posts["total"], 1);
    let since = journal(&app, tenant.id(), "?since=2026-11-23T12:00:01Z").await;
    assert_eq!(since["total"], 0);

    let (status, _) = app
        .control_json(
            Method::DELETE,
            &format!("/tenants/{}/requests", tenant.id()),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(journal(&app, tenant.id(), "").await["total"], 0);
    let (status, _) = app
        .control_json(
            Method::GET,
            &format!("/tenants/{}/requests?status=abc", tenant.id()),
            None,
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_journal_never_contains_a_key() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let token = tenant.token("prod");
    let ark = tenant.ark_key("pro");
    app.get_json("/audio", &token).await;
    // A wrong key of the tenant's company still lands in its journal.
    // The last character changed (to `x`, or `y` when it is already `x`: 1 token in 36).
    let last = if token.ends_with('x') { 'y' } else { 'x' };
    let wrong = format!("{}{last}", &token[..token.len() - 1]);
    assert_eq!(app.get_json("/audio", &wrong).await.0, 401);
    let response = app
        .client
        .get(app.url(&format!("/api/v1/songs?api_key={ark}&limit=1")))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let response = app
        .musique(Method::POST, "/audio/aud_x/send", &token)
        .json(&json!({"externalIds": ["store_001"], "note": token, "apiKey": "anything"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 404);

    let everything = journal(&app, tenant.id(), "").await.to_string();
    // The api_key request lands in the key's tenant: its journal is this one too.
    for secret in [
        &token[..],
        &wrong,
        &ark,
        &token[token.len() - 24..],
        &ark[ark.len() - 24..],
    ] {
        assert!(
            !everything.contains(secret),
            "journal leaks {secret}: {everything}"
        );
    }
    assert!(everything.contains("[redacted]"));
    let entries = journal(&app, tenant.id(), "").await;
    assert_eq!(entries["total"], 4, "{entries}");
}

#[tokio::test]
async fn leniency_is_noted_where_the_real_service_may_differ() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let token = tenant.token("prod");
    let audio = app.upload_tone(&token).await;
    app.send(
        &token,
        &audio,
        json!({"externalIds": ["store_001", "store_001"], "colour": "red"}),
    )
    .await;
    app.get_json("/audio?page=1&limit=5", &token).await;
    let body = journal(&app, tenant.id(), "").await;
    let notes = |i: usize| body["requests"][i]["notes"].to_string();
    assert!(notes(1).contains("colour"), "{}", notes(1));
    assert!(notes(1).contains("store_001"), "{}", notes(1));
    assert!(notes(2).contains("roadmap"), "{}", notes(2));
}

#[tokio::test]
async fn a_request_no_key_layer_checked_goes_to_the_journal_of_the_company_its_token_names() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let token = tenant.token("prod");
    let client = crate::helpers::http();
    // An unknown path, a method a path does not serve, and a keyless route: no key layer ran.
    for (method, path) in [
        (Method::GET, "/api/v1/integration/nope"),
        (Method::PUT, "/api/v1/integration/audio"),
        (Method::GET, "/media/audio/missing.mp3"),
    ] {
        let response = client
            .request(method, app.url(path))
            .header("X-API-Key", &token)
            .send()
            .await
            .expect("request");
        assert!(response.status().is_client_error(), "{path}");
    }
    let wrong = token.replace("prod_", "prod_x");
    let (status, _) = app.get_json("/audio", &wrong).await;
    assert_eq!(status, 401);

    let filed = journal(&app, tenant.id(), "").await;
    let paths: Vec<&str> = filed["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "/api/v1/integration/nope",
            "/api/v1/integration/audio",
            "/media/audio/missing.mp3",
            "/api/v1/integration/audio",
        ],
        "{filed}"
    );
    let default = journal(&app, "default", "?path=/media").await;
    assert_eq!(default["total"], 0, "{default}");
}
