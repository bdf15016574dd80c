//! What an upload refuses: no file, not MP3, too large, malformed parts.

use reqwest::Method;
use reqwest::multipart::{Form, Part};

use crate::helpers::*;

#[tokio::test]
async fn content_that_is_not_mp3_is_415_whatever_its_name() {
    let app = TestApp::spawn().await;
    let truncated_head = fixture("tone_1s.mp3")[..3].to_vec();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("renamed text", fixture("not_audio.mp3")),
        ("a WAV file", fixture("wave.wav")),
        ("an empty file", Vec::new()),
        ("three bytes of an MP3", truncated_head),
        (
            "random bytes",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
        ),
    ];
    for (what, bytes) in cases {
        let (status, body) = app.upload(MSK, "song.mp3", bytes, &[]).await;
        assert_eq!(status, 415, "{what}: {body}");
        assert_musique_error(&body, "unsupported_format", "invalid_request_error");
    }
    assert_eq!(app.count("audio").await, FIXTURE_AUDIO, "nothing was stored");
}

#[tokio::test]
async fn a_truncated_mp3_keeps_only_its_complete_frames() {
    let app = TestApp::spawn().await;
    let (status, body) = app.upload(MSK, "cut.mp3", fixture("truncated.mp3"), &[]).await;
    assert_eq!(status, 200, "{body}");
    let duration = body["duration"].as_f64().expect("duration");
    assert!(duration > 0.5 && duration < 2.0, "a 40% cut of 3 s: {duration}");
}

#[tokio::test]
async fn an_upload_without_a_file_part_is_400_missing_file() {
    let app = TestApp::spawn().await;
    let form = Form::new().text("name", "no file here");
    let response = app
        .musique(Method::POST, "/audio", MSK)
        .multipart(form)
        .send()
        .await
        .expect("request");
    let (status, body) = json(response).await;
    assert_eq!(status, 400);
    assert_musique_error(&body, "missing_file", "invalid_request_error");

    let response = app
        .musique(Method::POST, "/audio", MSK)
        .header("content-type", "application/json")
        .body(r#"{"file": "song.mp3"}"#)
        .send()
        .await
        .expect("request");
    let (status, body) = json(response).await;
    assert_eq!(status, 400, "a JSON body is not a multipart upload");
    assert_musique_error(&body, "missing_file", "invalid_request_error");

    let response = app
        .musique(Method::POST, "/audio", MSK)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 400, "an empty body");
}

#[tokio::test]
async fn a_file_over_10_mb_is_413_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    // A real MP3 head, then padding past the limit: refused by size, not by format.
    let mut bytes = fixture("speech_like_1mb.mp3");
    bytes.resize(10 * 1024 * 1024 + 1, 0);
    let (status, body) = app.upload(MSK, "big.mp3", bytes, &[]).await;
    assert_eq!(status, 413, "{body}");
    assert_musique_error(&body, "file_too_large", "invalid_request_error");

    let mut huge = fixture("speech_like_1mb.mp3");
    huge.resize(40 * 1024 * 1024, 0);
    let (status, body) = app.upload(MSK, "huge.mp3", huge, &[]).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(app.count("audio").await, FIXTURE_AUDIO, "nothing was stored");
}

#[tokio::test]
async fn a_file_of_exactly_10_mb_is_accepted() {
    let app = TestApp::spawn().await;
    let one = fixture("speech_like_1mb.mp3");
    let mut bytes = Vec::with_capacity(10 * 1024 * 1024);
    while bytes.len() + one.len() <= 10 * 1024 * 1024 {
        bytes.extend_from_slice(&one);
    }
    let (status, body) = app.upload(MSK, "long.mp3", bytes.clone(), &[]).await;
    assert_eq!(status, 200, "{}", body["error"]);
    assert_eq!(body["size"], bytes.len());
}

#[tokio::test]
async fn bad_text_parts_are_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let long_name = "n".repeat(256);
    for (field, value, what) in [
        ("name", long_name.as_bytes().to_vec(), "too long"),
        ("description", vec![0xff, 0xfe, 0x41], "not UTF-8"),
        ("category", "c".repeat(101).into_bytes(), "too long"),
    ] {
        let form = Form::new()
            .part("file", Part::bytes(fixture("tone_1s.mp3")).file_name("a.mp3"))
            .part(field, Part::bytes(value));
        let response = app
            .musique(Method::POST, "/audio", MSK)
            .multipart(form)
            .send()
            .await
            .expect("request");
        let (status, body) = json(response).await;
        assert_eq!(status, 400, "{field} {what}");
        assert_musique_error(&body, "validation_error", "invalid_request_error");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(field),
            "{body}"
        );
    }
}

#[tokio::test]
async fn two_file_parts_are_refused() {
    let app = TestApp::spawn().await;
    let form = Form::new()
        .part("file", Part::bytes(fixture("tone_1s.mp3")).file_name("a.mp3"))
        .part("file", Part::bytes(fixture("tone_1s.mp3")).file_name("b.mp3"));
    let response = app
        .musique(Method::POST, "/audio", MSK)
        .multipart(form)
        .send()
        .await
        .expect("request");
    let (status, body) = json(response).await;
    assert_eq!(status, 400);
    assert_musique_error(&body, "validation_error", "invalid_request_error");
}

#[tokio::test]
async fn the_name_defaults_to_the_file_name_and_other_formats_of_mp3_work() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .upload(MSK, "morning-announcement.mp3", fixture("tone_2s_22k.mp3"), &[])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "morning-announcement");
    let duration = body["duration"].as_f64().expect("duration");
    assert!((duration - 2.0).abs() < 0.06, "MPEG-2 duration {duration}");

    let (status, body) = app
        .upload(MSK, "x.bin", fixture("tone_3s_vbr.mp3"), &[("name", "Named")])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Named");
    let duration = body["duration"].as_f64().expect("duration");
    assert!((duration - 3.0).abs() < 0.06, "VBR duration {duration}");
}
