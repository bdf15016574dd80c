//! Upload, list, get, delete, and the bytes at each object's `url`.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn an_upload_returns_the_audio_object_with_duration_from_the_frames() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let bytes = fixture("tone_1s.mp3");
    let (status, body) = app
        .upload(
            MSK,
            "Summer Sale.mp3",
            bytes.clone(),
            &[("description", "10% off"), ("category", "promo")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().expect("id");
    assert!(id.starts_with("aud_") && id.len() == 18, "{id}");
    assert!(
        id[4..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    assert_eq!(body["audioId"], id);
    assert_eq!(body["name"], "Summer Sale");
    assert_eq!(body["format"], "mp3");
    assert_eq!(body["size"], bytes.len());
    assert_eq!(body["createdAt"], "2026-11-23T12:00:00.000Z");
    let duration = body["duration"].as_f64().expect("duration");
    assert!((duration - 1.0).abs() < 0.06, "duration {duration}");
    assert_eq!(body["url"], app.url(&format!("/media/audio/{id}.mp3")));

    let (status, full) = app.get_json(&format!("/audio/{id}"), MSK).await;
    assert_eq!(status, 200);
    assert_eq!(full["description"], "10% off");
    assert_eq!(full["category"], "promo");
    assert_eq!(
        full["stats"],
        json!({"timesPlayed": 0, "lastPlayedAt": null, "totalRecipients": 0})
    );
}

#[tokio::test]
async fn the_url_serves_the_same_bytes_as_audio_mpeg_with_ranges() {
    let app = TestApp::spawn().await;
    let bytes = fixture("tone_3s_vbr.mp3");
    let (_, body) = app.upload(MSK, "vbr.mp3", bytes.clone(), &[]).await;
    let url = body["url"].as_str().expect("url").to_owned();

    let response = app.client.get(&url).send().await.expect("file");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "audio/mpeg");
    assert_eq!(response.headers()["accept-ranges"], "bytes");
    assert_eq!(response.bytes().await.expect("bytes").to_vec(), bytes);

    let partial = app
        .client
        .get(&url)
        .header("Range", "bytes=10-19")
        .send()
        .await
        .expect("range");
    assert_eq!(partial.status().as_u16(), 206);
    let total = bytes.len();
    assert_eq!(
        partial.headers()["content-range"],
        format!("bytes 10-19/{total}").as_str()
    );
    assert_eq!(
        partial.bytes().await.expect("bytes").to_vec(),
        bytes[10..20].to_vec()
    );

    let beyond = app
        .client
        .get(&url)
        .header("Range", format!("bytes={total}-"))
        .send()
        .await
        .expect("range");
    assert_eq!(beyond.status().as_u16(), 416);
}

#[tokio::test]
async fn the_list_is_newest_first_and_paginated() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(app.upload_tone(MSK).await);
        app.clock().advance_ms(1_000);
    }
    let (status, body) = app.get_json("/audio?page=1&limit=2", MSK).await;
    assert_eq!(status, 200);
    let page1: Vec<&str> = body["audio"]
        .as_array()
        .expect("array")
        .iter()
        .map(|a| a["id"].as_str().expect("id"))
        .collect();
    assert_eq!(page1, vec![ids[4].as_str(), ids[3].as_str()]);
    assert_eq!(
        body["pagination"],
        json!({"page": 1, "limit": 2, "total": 6, "totalPages": 3, "hasMore": true}),
        "the five uploads and the example announcement"
    );
    assert!(body["audio"][0]["stats"].is_object(), "list items carry stats");

    let (_, last) = app.get_json("/audio?page=3&limit=2", MSK).await;
    assert_eq!(last["audio"].as_array().map(Vec::len), Some(2));
    assert_eq!(last["audio"][0]["id"], ids[0].as_str());
    assert_eq!(last["audio"][1]["id"], EXAMPLE_AUDIO, "created before any upload");
    assert_eq!(last["pagination"]["hasMore"], false);

    let (_, beyond) = app.get_json("/audio?page=9&limit=2", MSK).await;
    assert_eq!(beyond["audio"], json!([]));

    let (_, defaults) = app.get_json("/audio", MSK).await;
    assert_eq!(defaults["pagination"]["limit"], 20);
    assert_eq!(defaults["pagination"]["page"], 1);
}

#[tokio::test]
async fn bad_pagination_parameters_are_400_naming_the_parameter() {
    let app = TestApp::spawn().await;
    for (query, name) in [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=1.5", "page"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=", "limit"),
        ("limit=99999999999999999999", "limit"),
    ] {
        let (status, body) = app.get_json(&format!("/audio?{query}"), MSK).await;
        assert_eq!(status, 400, "{query}");
        assert_musique_error(&body, "validation_error", "invalid_request_error");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(&format!("`{name}`")), "{query}: {message}");
    }
}

#[tokio::test]
async fn unknown_audio_is_404_audio_not_found() {
    let app = TestApp::spawn().await;
    for id in ["aud_00000000000000", "whatever", "%F0%9F%8E%B5"] {
        let (status, body) = app.get_json(&format!("/audio/{id}"), MSK).await;
        assert_eq!(status, 404, "{id}");
        assert_musique_error(&body, "audio_not_found", "not_found_error");
    }
}

#[tokio::test]
async fn delete_removes_the_object_and_its_bytes() {
    let app = TestApp::spawn().await;
    let id = app.upload_tone(MSK).await;
    let (_, _) = app.send(MSK, &id, json!({"externalIds": ["store_001"]})).await;

    let response = app
        .musique(Method::DELETE, &format!("/audio/{id}"), MSK)
        .send()
        .await
        .expect("delete");
    let (status, body) = json(response).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"deleted": true, "audioId": id, "id": id}));

    let (status, _) = app.get_json(&format!("/audio/{id}"), MSK).await;
    assert_eq!(status, 404);
    let file = app
        .client
        .get(app.url(&format!("/media/audio/{id}.mp3")))
        .send()
        .await
        .expect("file");
    assert_eq!(file.status().as_u16(), 404);
    assert_eq!(
        app.count("audio_blobs").await,
        FIXTURE_AUDIO,
        "the example's are left"
    );
    assert_eq!(app.count("sends").await, 0, "its send history goes with it");

    let response = app
        .musique(Method::DELETE, &format!("/audio/{id}"), MSK)
        .send()
        .await
        .expect("again");
    let (status, body) = json(response).await;
    assert_eq!(status, 404);
    assert_musique_error(&body, "audio_not_found", "not_found_error");
}

#[tokio::test]
async fn delete_is_409_while_a_scheduled_send_is_pending_and_allowed_once_it_has_gone() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let id = app.upload_tone(MSK).await;
    let (status, _) = app
        .send(
            MSK,
            &id,
            json!({"externalIds": ["store_002"], "scheduleAt": "2026-11-23T13:00:00Z"}),
        )
        .await;
    assert_eq!(status, 200);

    let delete = || app.musique(Method::DELETE, &format!("/audio/{id}"), MSK).send();
    let (status, body) = json(delete().await.expect("delete")).await;
    assert_eq!(status, 409);
    assert_musique_error(&body, "audio_has_scheduled_sends", "conflict_error");
    assert_eq!(app.count("audio").await, FIXTURE_AUDIO + 1, "nothing was deleted");

    app.clock().advance_ms(3_600_000);
    let (status, _) = json(delete().await.expect("delete")).await;
    assert_eq!(status, 200);
}
