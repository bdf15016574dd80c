//! `/_soundcheck/tenants/{id}/webhooks` and the outbox: signed send and delivery events,
//! in order, retried on the tenant's clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::helpers::*;

/// What a receiver got: the headers and the body of one POST.
struct Received {
    headers: HeaderMap,
    body: String,
}

/// A receiver on 127.0.0.1 that answers `fail_first` requests with 500, then 200.
async fn receiver(fail_first: usize) -> (String, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let seen = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let tx = tx.clone();
            let seen = seen.clone();
            async move {
                let _ = tx.send(Received { headers, body });
                if seen.fetch_add(1, Ordering::SeqCst) < fail_first {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver") });
    (format!("http://{addr}/hook"), rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event within 10 s")
        .expect("receiver open")
}

fn hmac_hex(secret: &str, message: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(message.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn events_arrive_signed_and_in_order_per_send() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(json!({"musique": {"stores": 2}, "clock": {"at": T0, "frozen": true}}))
        .await;
    let (url, mut rx) = receiver(0).await;
    let (status, hook) = app
        .control_json(
            Method::POST,
            &format!("/tenants/{}/webhooks", tenant.id()),
            Some(json!({"url": url, "secret": "whsec_integration_test_0001"})),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let token = tenant.token("prod");
    let audio = app.upload_tone(&token).await;
    let (_, send) = app.send(&token, &audio, json!({})).await;
    let send_id = send["sendId"].as_str().expect("send id");
    // The tone plays for a second: the played events come when the clock passes it.
    app.move_clock(tenant.id(), json!({"advance": "2s"})).await;

    let mut kinds = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for _ in 0..5 {
        let got = next(&mut rx).await;
        let timestamp = got.headers["soundcheck-timestamp"].to_str().expect("ascii");
        let signature = got.headers["soundcheck-signature"].to_str().expect("ascii");
        assert_eq!(
            signature,
            format!(
                "v1={}",
                hmac_hex(
                    "whsec_integration_test_0001",
                    &format!("{timestamp}.{}", got.body)
                )
            ),
            "a valid signature"
        );
        let event: Value = serde_json::from_str(&got.body).expect("json");
        assert_eq!(
            got.headers["soundcheck-event-id"],
            event["id"].as_str().expect("id")
        );
        assert!(
            ids.insert(event["id"].as_str().expect("id").to_owned()),
            "ids are unique"
        );
        let send_of = event["data"]["sendId"].as_str().expect("send id");
        assert_eq!(send_of, send_id);
        kinds.push(format!(
            "{} {}",
            event["type"].as_str().expect("type"),
            event["data"]["externalId"].as_str().unwrap_or("-")
        ));
    }
    assert_eq!(
        kinds,
        [
            "send.created -",
            "delivery.delivered store_001",
            "delivery.delivered store_002",
            "delivery.played store_001",
            "delivery.played store_002",
        ]
    );
    let (_, outbox) = app
        .control_json(
            Method::GET,
            &format!("/tenants/{}/outbox?status=delivered", tenant.id()),
            None,
        )
        .await;
    assert_eq!(outbox["events"].as_array().map(Vec::len), Some(5), "{outbox}");
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt_after_the_clock_moves() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(json!({"musique": {"stores": 1}, "clock": {"at": T0, "frozen": true}}))
        .await;
    let (url, mut rx) = receiver(2).await;
    app.control_json(
        Method::POST,
        &format!("/tenants/{}/webhooks", tenant.id()),
        Some(json!({"url": url, "events": ["send.created"]})),
    )
    .await;
    let token = tenant.token("prod");
    let audio = app.upload_tone(&token).await;
    app.send(&token, &audio, json!({})).await;
    let first: Value = serde_json::from_str(&next(&mut rx).await.body).expect("json");

    let outbox_path = format!("/tenants/{}/outbox", tenant.id());
    let (_, outbox) = app.control_json(Method::GET, &outbox_path, None).await;
    let entry = &outbox["events"][0];
    assert_eq!(entry["status"], "pending");
    assert_eq!(entry["attempts"], 1);
    assert_eq!(entry["attemptLog"][0]["status"], 500);
    assert_eq!(
        entry["nextAttemptAt"], "2026-11-23T12:00:10.000Z",
        "10 s later on the tenant's clock"
    );

    // Nothing happens until the tenant's clock reaches the retry.
    app.move_clock(tenant.id(), json!({"advance": "9s"})).await;
    assert!(rx.try_recv().is_err(), "no retry before its time");
    let moved = app.move_clock(tenant.id(), json!({"advance": "1s"})).await;
    assert_eq!(moved["ran"]["webhookAttempts"], 1);
    let second: Value = serde_json::from_str(&next(&mut rx).await.body).expect("json");
    assert_eq!(
        second["id"], first["id"],
        "the same event, so receivers can drop duplicates"
    );

    app.move_clock(tenant.id(), json!({"advance": "20s"})).await;
    let third: Value = serde_json::from_str(&next(&mut rx).await.body).expect("json");
    assert_eq!(third["id"], first["id"]);
    let (_, outbox) = app.control_json(Method::GET, &outbox_path, None).await;
    let entry = &outbox["events"][0];
    assert_eq!(entry["status"], "delivered", "{outbox}");
    assert_eq!(entry["attempts"], 3);
    assert_eq!(entry["nextAttemptAt"], Value::Null);
}

#[tokio::test]
async fn an_event_is_given_up_after_its_attempts_and_the_next_one_goes() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(json!({"musique": {"stores": 1}, "clock": {"at": T0, "frozen": true}}))
        .await;
    let (url, mut rx) = receiver(1).await;
    app.control_json(
        Method::POST,
        &format!("/tenants/{}/webhooks", tenant.id()),
        Some(json!({"url": url, "events": ["send.created"], "maxAttempts": 1})),
    )
    .await;
    let token = tenant.token("prod");
    let audio = app.upload_tone(&token).await;
    app.send(&token, &audio, json!({})).await;
    next(&mut rx).await;
    app.send(&token, &audio, json!({})).await;
    next(&mut rx).await;
    let (_, failed) = app
        .control_json(
            Method::GET,
            &format!("/tenants/{}/outbox?status=failed", tenant.id()),
            None,
        )
        .await;
    assert_eq!(failed["events"].as_array().map(Vec::len), Some(1), "{failed}");
    let (_, delivered) = app
        .control_json(
            Method::GET,
            &format!("/tenants/{}/outbox?status=delivered", tenant.id()),
            None,
        )
        .await;
    assert_eq!(
        delivered["events"].as_array().map(Vec::len),
        Some(1),
        "{delivered}"
    );
}

#[tokio::test]
async fn webhooks_are_listed_without_secrets_removed_and_validated() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let path = format!("/tenants/{}/webhooks", tenant.id());
    let (status, hook) = app
        .control_json(Method::POST, &path, Some(json!({"url": "http://127.0.0.1:9/x"})))
        .await;
    assert_eq!(status, 201);
    assert!(hook["secret"].as_str().is_some_and(|s| s.starts_with("whsec_")));
    let (_, listed) = app.control_json(Method::GET, &path, None).await;
    assert_eq!(listed["webhooks"].as_array().map(Vec::len), Some(1));
    assert!(listed["webhooks"][0].get("secret").is_none(), "{listed}");
    for body in [
        json!({"url": "https://example.com/x"}),
        json!({"url": "http://8.8.8.8/x"}),
        json!({"url": "http://no-such-host.invalid/x"}),
        json!({"url": "not a url"}),
        json!({"url": "http://127.0.0.1:9/x", "events": ["send.deleted"]}),
        json!({"url": "http://127.0.0.1:9/x", "events": []}),
        json!({"url": "http://127.0.0.1:9/x", "secret": "short"}),
        json!({"url": "http://127.0.0.1:9/x", "maxAttempts": 0}),
        json!({}),
    ] {
        let (status, answer) = app.control_json(Method::POST, &path, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
    }
    let (status, _) = app
        .control_json(
            Method::DELETE,
            &format!("{path}/{}", hook["id"].as_str().expect("id")),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .control_json(Method::DELETE, &format!("{path}/whk_missing"), None)
        .await;
    assert_eq!(status, 404);
}
