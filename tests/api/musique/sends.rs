//! Sends: targeted, broadcast, atomic, scheduled, validated; stats follow the clock.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

fn external_ids(body: &Value) -> Vec<String> {
    body["destinations"]
        .as_array()
        .expect("destinations")
        .iter()
        .map(|d| d["externalId"].as_str().expect("externalId").to_owned())
        .collect()
}

#[tokio::test]
async fn a_targeted_send_goes_to_exactly_the_listed_stores() {
    let app = TestApp::spawn().await;
    let id = app.upload_tone(MSK).await;
    let (status, body) = app
        .send(MSK, &id, json!({"externalIds": ["store_003", "store_001", "store_003"], "priority": "high", "repeat": 2, "volume": 80}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["sendId"].as_str().is_some_and(|s| s.starts_with("snd_")));
    assert_eq!(body["audioId"], id.as_str());
    assert_eq!(body["status"], "sent");
    assert_eq!(body["scheduled"], false);
    assert_eq!(body["scheduleAt"], Value::Null);
    assert_eq!(
        external_ids(&body),
        ["store_003", "store_001"],
        "duplicates collapse, order kept"
    );
    assert_eq!(
        body["destinations"][0],
        json!({"externalId": "store_003", "userId": 4303, "status": "queued"})
    );
}

#[tokio::test]
async fn a_broadcast_reaches_every_store_in_the_tokens_scope() {
    let app = TestApp::spawn().await;
    let id = app.upload_tone(MSK).await;
    let (status, body) = app.send(MSK, &id, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(external_ids(&body).len(), 50);

    let (status, body) = app.send(MSK_SCOPED, &id, json!({"priority": "low"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        external_ids(&body),
        ["store_001", "store_002", "store_003", "store_004", "store_005"]
    );

    // An empty body is a broadcast with every default.
    let response = app
        .musique(Method::POST, &format!("/audio/{id}/send"), MSK)
        .send()
        .await
        .expect("send");
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(external_ids(&body).len(), 50);
}

#[tokio::test]
async fn one_bad_external_id_and_nothing_is_sent() {
    let app = TestApp::spawn().await;
    let id = app.upload_tone(MSK).await;
    let (status, body) = app
        .send(
            MSK,
            &id,
            json!({"externalIds": ["store_001", "store_999", "acme_001", "store_002"]}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_musique_error(&body, "external_id_not_found", "not_found_error");
    assert_eq!(body["error"]["externalIds"], json!(["store_999", "acme_001"]));
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("store_999") && message.contains("acme_001"),
        "{message}"
    );
    assert_eq!(app.count("sends").await, 0);
    assert_eq!(app.count("send_destinations").await, 0);

    // Outside a scoped token's stores is the same as unknown.
    let (status, body) = app
        .send(
            MSK_SCOPED,
            &id,
            json!({"externalIds": ["store_001", "store_006"]}),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["externalIds"], json!(["store_006"]));
    assert_eq!(app.count("sends").await, 0);
}

#[tokio::test]
async fn sending_unknown_audio_is_404() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .send(MSK, "aud_00000000000000", json!({"externalIds": ["store_001"]}))
        .await;
    assert_eq!(status, 404);
    assert_musique_error(&body, "audio_not_found", "not_found_error");
}

#[tokio::test]
async fn malformed_bodies_are_400_invalid_json() {
    let app = TestApp::spawn().await;
    let id = app.upload_tone(MSK).await;
    let bodies: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"{\"externalIds\": [\"store_001\",]}".to_vec(),
        b"externalIds=store_001".to_vec(),
        // Invalid UTF-8 inside an External ID string.
        b"{\"externalIds\": [\"store_\xff\xfe\"]}".to_vec(),
    ];
    for raw in bodies {
        let response = app
            .musique(Method::POST, &format!("/audio/{id}/send"), MSK)
            .header("content-type", "application/json")
            .body(raw.clone())
            .send()
            .await
            .expect("send");
        let (status, body) = json(response).await;
        assert_eq!(status, 400, "{:?}", String::from_utf8_lossy(&raw));
        assert_musique_error(&body, "invalid_json", "invalid_request_error");
    }
    assert_eq!(app.count("sends").await, 0);
}

#[tokio::test]
async fn invalid_fields_are_400_validation_error_naming_the_field() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let id = app.upload_tone(MSK).await;
    let cases = [
        (json!([]), "object"),
        (json!("store_001"), "object"),
        (json!({"externalIds": []}), "externalIds"),
        (json!({"externalIds": "store_001"}), "externalIds"),
        (json!({"externalIds": [1, 2]}), "externalIds[0]"),
        (json!({"scheduleAt": "next tuesday"}), "scheduleAt"),
        (json!({"scheduleAt": "2026-11-23T11:59:59Z"}), "scheduleAt"),
        (json!({"scheduleAt": "2026-11-23T12:00:00Z"}), "scheduleAt"),
        (json!({"priority": "ASAP"}), "priority"),
        (json!({"repeat": 0}), "repeat"),
        (json!({"repeat": 11}), "repeat"),
        (json!({"repeat": 1.5}), "repeat"),
        (json!({"repeat": "3"}), "repeat"),
        (json!({"volume": 101}), "volume"),
        (json!({"volume": -5}), "volume"),
        (json!({"volume": 18446744073709551616u128 as f64}), "volume"),
    ];
    for (body, field) in cases {
        let (status, response) = app.send(MSK, &id, body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert_musique_error(&response, "validation_error", "invalid_request_error");
        let message = response["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{body}: {message:?} should name {field}");
    }
    assert_eq!(app.count("sends").await, 0);
}

#[tokio::test]
async fn unknown_fields_are_ignored_like_the_real_service() {
    let app = TestApp::spawn().await;
    let id = app.upload_tone(MSK).await;
    let (status, body) = app
        .send(MSK, &id, json!({"externalIds": ["store_001"], "colour": "blue"}))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = TestApp::spawn().await;
    let id = app.upload_tone(MSK).await;
    let huge = format!("{{\"note\": \"{}\"}}", "x".repeat(300 * 1024));
    let response = app
        .musique(Method::POST, &format!("/audio/{id}/send"), MSK)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .expect("send");
    let (status, body) = json(response).await;
    assert_eq!(status, 413);
    assert_musique_error(&body, "payload_too_large", "invalid_request_error");
}

#[tokio::test]
async fn a_scheduled_send_is_pending_until_the_clock_passes_it_then_counts_as_played() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let id = app.upload_tone(MSK).await;
    let (status, body) = app
        .send(MSK, &id, json!({"externalIds": ["store_001", "store_002"], "scheduleAt": "2026-11-23T14:30:00+01:00", "repeat": 3}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "scheduled");
    assert_eq!(body["scheduled"], true);
    assert_eq!(body["scheduleAt"], "2026-11-23T13:30:00.000Z", "echoed in UTC");
    assert!(
        body["destinations"]
            .as_array()
            .expect("array")
            .iter()
            .all(|d| d["status"] == "scheduled")
    );

    let path = format!("/audio/{id}");
    let stats = || async { app.get_json(&path, MSK).await.1["stats"].clone() };
    assert_eq!(stats().await["timesPlayed"], 0, "nothing has played yet");

    app.clock().advance_ms(90 * 60 * 1000 - 1);
    assert_eq!(stats().await["timesPlayed"], 0, "one millisecond early");

    app.clock().advance_ms(1);
    let played = stats().await;
    assert_eq!(
        played,
        json!({"timesPlayed": 6, "lastPlayedAt": "2026-11-23T13:30:00.000Z", "totalRecipients": 2})
    );
}

#[tokio::test]
async fn immediate_sends_play_at_once_and_stats_add_up() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let id = app.upload_tone(MSK).await;
    app.send(
        MSK,
        &id,
        json!({"externalIds": ["store_001", "store_002"], "repeat": 2}),
    )
    .await;
    app.clock().advance_ms(5_000);
    app.send(MSK, &id, json!({"externalIds": ["store_002", "store_003"]}))
        .await;
    let (_, body) = app.get_json(&format!("/audio/{id}"), MSK).await;
    assert_eq!(
        body["stats"],
        json!({"timesPlayed": 6, "lastPlayedAt": "2026-11-23T12:00:05.000Z", "totalRecipients": 3})
    );
}
