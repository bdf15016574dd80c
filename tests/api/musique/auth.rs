//! Keys: missing, malformed, unknown, revoked, legacy words, permissions.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn bad_keys_are_401_with_the_right_code() {
    let app = TestApp::spawn().await;
    let cases = [
        (None, "missing_api_key"),
        (Some(""), "missing_api_key"),
        (Some("not-a-token"), "invalid_api_key"),
        (Some("msk_staging_1234567890abcdef"), "invalid_api_key"),
        (Some("msk_prod_1234567890abcdeX"), "invalid_api_key"),
        (Some("zzz_prod_1234567890abcdef"), "invalid_api_key"),
        (
            Some("mk_live_pro00000000000000000000000000000"),
            "invalid_api_key",
        ),
    ];
    for (key, code) in cases {
        let mut request = app.client.get(app.url("/api/v1/integration/audio"));
        if let Some(key) = key {
            request = request.header("X-API-Key", key);
        }
        let response = request.send().await.expect("request");
        assert!(
            response.headers().get("x-ratelimit-limit").is_none(),
            "{key:?}: 401s carry no quota"
        );
        let (status, body) = json(response).await;
        assert_eq!(status, 401, "{key:?}");
        assert_musique_error(&body, code, "authentication_error");
    }
}

#[tokio::test]
async fn a_non_ascii_key_header_is_refused_not_crashed() {
    let app = TestApp::spawn().await;
    let value = reqwest::header::HeaderValue::from_bytes(b"msk_prod_\xff\xfe").expect("opaque bytes");
    let response = app
        .client
        .get(app.url("/api/v1/integration/audio"))
        .header("X-API-Key", value)
        .send()
        .await
        .expect("request");
    let (status, body) = json(response).await;
    assert_eq!(status, 401);
    assert_musique_error(&body, "invalid_api_key", "authentication_error");
}

#[tokio::test]
async fn the_legacy_live_word_is_the_same_prod_library() {
    let app = TestApp::spawn().await;
    let id = app.upload_tone(MSK).await;
    let (status, body) = app.get_json(&format!("/audio/{id}"), MSK_LIVE).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_token_without_the_permission_gets_403_and_keeps_read_access() {
    let app = TestApp::spawn().await;
    let id = app.upload_tone(MSK).await;

    let (status, _) = app.get_json(&format!("/audio/{id}"), MSK_READONLY).await;
    assert_eq!(status, 200);

    let (status, body) = app
        .upload(MSK_READONLY, "a.mp3", fixture("tone_1s.mp3"), &[])
        .await;
    assert_eq!(status, 403);
    assert_musique_error(&body, "insufficient_permissions", "permission_error");
    assert_eq!(body["error"]["requiredPermission"], "audio.write");

    let (status, body) = app.send(MSK_READONLY, &id, json!({})).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["requiredPermission"], "audio.send");

    let response = app
        .musique(Method::DELETE, &format!("/audio/{id}"), MSK_READONLY)
        .send()
        .await
        .expect("delete");
    let (status, body) = json(response).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["requiredPermission"], "audio.delete");
    assert_eq!(app.count("sends").await, 0);
}

#[tokio::test]
async fn a_key_revoked_in_the_database_is_refused_within_a_second() {
    let app = TestApp::spawn().await;
    let (status, _) = app.get_json("/audio", MSK_DEV).await;
    assert_eq!(status, 200, "the key works and is now cached");

    let id: String = sqlx::query_scalar("SELECT id FROM api_keys WHERE lookup = 'msk_dev_fedcba09'")
        .fetch_one(&app.state.core.db.read)
        .await
        .expect("fixture key");
    assert!(
        soundcheck::keys::revoke(&app.state.core.db, &id)
            .await
            .expect("revoke")
    );

    let revoked_at = Instant::now();
    let status = loop {
        let (status, _) = app.get_json("/audio", MSK_DEV).await;
        if status == 401 || revoked_at.elapsed() > Duration::from_secs(3) {
            break status;
        }
        // Polling for the watcher, with a deadline: the property is "within a second".
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status, 401);
    assert!(
        revoked_at.elapsed() < Duration::from_millis(1_000),
        "took {:?}",
        revoked_at.elapsed()
    );
}
