//! A restart on the same database file keeps every upload and send.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_restart_keeps_uploads_sends_and_stats() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let id = app.upload_tone(MSK).await;
    app.send(MSK, &id, json!({"externalIds": ["store_001", "store_002"]}))
        .await;
    app.send(
        MSK,
        &id,
        json!({"externalIds": ["store_003"], "scheduleAt": "2026-11-24T09:00:00Z"}),
    )
    .await;
    let (_, before) = app.get_json(&format!("/audio/{id}"), MSK).await;
    let bytes_before = app
        .client
        .get(before["url"].as_str().expect("url"))
        .send()
        .await
        .expect("file")
        .bytes()
        .await
        .expect("bytes");

    let app = app.restart().await;
    app.freeze_at(T0);
    let (status, after) = app.get_json(&format!("/audio/{id}"), MSK).await;
    assert_eq!(status, 200);
    assert_eq!(after["stats"], before["stats"]);
    assert_eq!(after["name"], before["name"]);
    assert_eq!(app.count("sends").await, 2);
    let url = app.url(&format!("/media/audio/{id}.mp3"));
    let bytes_after = app
        .client
        .get(url)
        .send()
        .await
        .expect("file")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(bytes_after, bytes_before);

    // The scheduled send survived too: it still blocks deletion, then plays.
    let response = app
        .musique(reqwest::Method::DELETE, &format!("/audio/{id}"), MSK)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status().as_u16(), 409);
    app.clock().advance_ms(86_400_000);
    let (_, later) = app.get_json(&format!("/audio/{id}"), MSK).await;
    assert_eq!(later["stats"]["totalRecipients"], 3);
}
