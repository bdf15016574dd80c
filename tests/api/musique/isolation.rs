//! One company never sees another's audio or stores; prod and dev are separate libraries.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn another_companys_audio_is_not_found_everywhere() {
    let app = TestApp::spawn().await;
    let id = app.upload_tone(MSK).await;

    let (status, body) = app.get_json(&format!("/audio/{id}"), ACME).await;
    assert_eq!(status, 404);
    assert_musique_error(&body, "audio_not_found", "not_found_error");

    let (_, list) = app.get_json("/audio", ACME).await;
    assert_eq!(list["pagination"]["total"], 0);

    let (status, _) = app.send(ACME, &id, json!({"externalIds": ["acme_001"]})).await;
    assert_eq!(status, 404);

    let response = app
        .musique(Method::DELETE, &format!("/audio/{id}"), ACME)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(
        app.count("audio").await,
        FIXTURE_AUDIO + 1,
        "still there for its owner"
    );
}

#[tokio::test]
async fn another_companys_stores_are_unknown_external_ids() {
    let app = TestApp::spawn().await;
    let id = app.upload_tone(ACME).await;
    let (status, body) = app.send(ACME, &id, json!({"externalIds": ["store_001"]})).await;
    assert_eq!(status, 404);
    assert_musique_error(&body, "external_id_not_found", "not_found_error");

    let (status, body) = app.send(ACME, &id, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["destinations"].as_array().map(Vec::len),
        Some(10),
        "acme's broadcast reaches acme's 10 stores"
    );
}

#[tokio::test]
async fn prod_and_dev_keep_separate_libraries() {
    let app = TestApp::spawn().await;
    let prod = app.upload_tone(MSK).await;
    let dev = app.upload_tone(MSK_DEV).await;

    let (_, prod_list) = app.get_json("/audio", MSK).await;
    let (_, dev_list) = app.get_json("/audio", MSK_DEV).await;
    assert_eq!(prod_list["audio"][0]["id"], prod.as_str());
    assert_eq!(
        prod_list["audio"][1]["id"], EXAMPLE_AUDIO,
        "the example is prod's"
    );
    assert_eq!(prod_list["pagination"]["total"], 2);
    assert_eq!(dev_list["audio"][0]["id"], dev.as_str());
    assert_eq!(dev_list["pagination"]["total"], 1);

    let (status, _) = app.get_json(&format!("/audio/{prod}"), MSK_DEV).await;
    assert_eq!(status, 404);
    let (status, _) = app.send(MSK_DEV, &prod, json!({})).await;
    assert_eq!(status, 404);
}
