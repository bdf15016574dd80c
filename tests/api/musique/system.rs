//! `GET /`, `GET /health`, unknown routes, wrong methods, request ids, the wrapped envelope.

use reqwest::Method;
use soundcheck::config::Envelope;

use crate::helpers::*;

#[tokio::test]
async fn info_names_the_api_and_the_callers_integration_on_both_base_paths() {
    let app = TestApp::spawn().await;
    for path in ["", "/"] {
        let (status, body) = app.get_json(path, MSK).await;
        assert_eq!(status, 200, "{path:?}: {body}");
        assert_eq!(body["name"], "Musique Partner API");
        assert!(body["version"].is_string() && body["documentation"].is_string());
        assert_eq!(body["integration"]["company"], "msk");
        assert_eq!(body["integration"]["environment"], "prod");
        assert_eq!(body["integration"]["externalIds"], "all");
        assert_eq!(body["integration"]["locations"], 50);
        assert_eq!(
            body["integration"]["permissions"].as_array().map(Vec::len),
            Some(4)
        );
    }
    let (_, scoped) = app.get_json("/", MSK_SCOPED).await;
    assert_eq!(scoped["integration"]["externalIds"][4], "store_005");
    assert_eq!(scoped["integration"]["locations"], 5);
}

#[tokio::test]
async fn health_checks_each_service_and_needs_a_key() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get_json("/health", MSK).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["services"]["database"], "up");
    assert_eq!(body["services"]["storage"], "up");
    assert_eq!(body["services"]["messaging"], "up");
    assert!(body["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));

    let response = app
        .client
        .get(app.url("/api/v1/integration/health"))
        .send()
        .await
        .expect("request");
    let (status, body) = json(response).await;
    assert_eq!(status, 401);
    assert_musique_error(&body, "missing_api_key", "authentication_error");
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_in_the_envelope() {
    let app = TestApp::spawn().await;
    let response = app
        .musique(Method::GET, "/playlists", MSK)
        .send()
        .await
        .expect("request");
    let (status, body) = json(response).await;
    assert_eq!(status, 404);
    assert_musique_error(&body, "not_found", "not_found_error");

    let response = app
        .musique(Method::PUT, "/audio", MSK)
        .send()
        .await
        .expect("request");
    let (status, body) = json(response).await;
    assert_eq!(status, 405);
    assert_musique_error(&body, "method_not_allowed", "invalid_request_error");

    let response = app
        .musique(Method::PATCH, "/audio/aud_00000000000000", MSK)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 405);
}

#[tokio::test]
async fn every_response_carries_a_request_id_that_matches_the_error_body() {
    let app = TestApp::spawn().await;
    let ok = app
        .musique(Method::GET, "/audio", MSK)
        .send()
        .await
        .expect("request");
    let ok_id = ok.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    assert!(ok_id.starts_with("req_") && ok_id.len() > 10);

    let bad = app
        .musique(Method::GET, "/audio/nope", MSK)
        .send()
        .await
        .expect("request");
    let header = bad.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    let (_, body) = json(bad).await;
    assert_eq!(body["error"]["requestId"], header);
    assert_ne!(header, ok_id, "ids are per request");
}

#[tokio::test]
async fn the_wrapped_envelope_puts_success_bodies_under_data_with_a_timestamp() {
    let app = TestApp::spawn_with(|c| c.envelope = Envelope::Wrapped).await;
    app.freeze_at(T0);
    let (status, body) = app.get_json("/audio", MSK).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["pagination"]["total"], FIXTURE_AUDIO);
    assert_eq!(body["data"]["audio"][0]["id"], EXAMPLE_AUDIO);
    assert_eq!(body["timestamp"], "2026-11-23T12:00:00.000Z");
    // Errors keep their own envelope.
    let (status, body) = app.get_json("/audio/aud_missing0000000", MSK).await;
    assert_eq!(status, 404);
    assert_musique_error(&body, "audio_not_found", "not_found_error");
}
