//! The default sandbox's example announcement: there from the first start, like an upload in
//! every way, and back after a reset.

use base64::Engine;
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

const WELCOME: &[u8] = include_bytes!("../../../fixtures/welcome.mp3");

async fn media(app: &TestApp, file: &str) -> (u16, Vec<u8>) {
    let response = app
        .client
        .get(app.url(&format!("/media/audio/{file}")))
        .send()
        .await
        .expect("file");
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("bytes").to_vec())
}

async fn delete(app: &TestApp, id: &str) -> u16 {
    let response = app
        .musique(Method::DELETE, &format!("/audio/{id}"), MSK)
        .send()
        .await
        .expect("delete");
    response.status().as_u16()
}

#[tokio::test]
async fn the_example_announcement_is_listed_fetched_downloaded_sent_and_deleted_like_an_upload() {
    let app = TestApp::spawn().await;
    assert_eq!(app.library_ids(MSK).await, [EXAMPLE_AUDIO]);

    let (status, audio) = app.get_json(&format!("/audio/{EXAMPLE_AUDIO}"), MSK).await;
    assert_eq!(status, 200, "{audio}");
    assert_eq!(audio["name"], "Welcome announcement");
    assert_eq!(audio["duration"], 2.0);
    assert_eq!(audio["size"], WELCOME.len());
    assert_eq!(audio["createdAt"], "2025-01-01T00:00:00.000Z");
    assert_eq!(
        audio["stats"],
        json!({"timesPlayed": 0, "lastPlayedAt": null, "totalRecipients": 0})
    );
    let url = audio["url"].as_str().expect("url");
    assert!(
        url.ends_with(&format!("/media/audio/{EXAMPLE_AUDIO}.mp3")),
        "{url}"
    );
    assert_eq!(
        media(&app, &format!("{EXAMPLE_AUDIO}.mp3")).await,
        (200, WELCOME.to_vec())
    );

    app.freeze_at(T0);
    let (status, sent) = app
        .send(MSK, EXAMPLE_AUDIO, json!({"externalIds": ["store_001"]}))
        .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["destinations"][0]["externalId"], "store_001");
    app.clock().advance_ms(60_000);
    let (_, audio) = app.get_json(&format!("/audio/{EXAMPLE_AUDIO}"), MSK).await;
    assert_eq!(audio["stats"]["timesPlayed"], 1, "{audio}");
    assert_eq!(audio["stats"]["totalRecipients"], 1, "{audio}");

    // Only its own company's prod library holds it.
    for key in [MSK_DEV, ACME] {
        let (status, _) = app.get_json(&format!("/audio/{EXAMPLE_AUDIO}"), key).await;
        assert_eq!(status, 404, "{key}");
    }

    assert_eq!(delete(&app, EXAMPLE_AUDIO).await, 200);
    assert_eq!(app.library_ids(MSK).await, Vec::<String>::new());
    assert_eq!(media(&app, &format!("{EXAMPLE_AUDIO}.mp3")).await.0, 404);
    assert_eq!(app.count("sends").await, 0, "its sends went with it");
}

#[tokio::test]
async fn a_reset_of_the_default_tenant_brings_the_example_back_and_a_restart_does_not() {
    let app = TestApp::spawn().await;
    assert_eq!(delete(&app, EXAMPLE_AUDIO).await, 200);
    let app = app.restart().await;
    assert_eq!(
        app.library_ids(MSK).await,
        Vec::<String>::new(),
        "deleted, it stays deleted across a restart"
    );

    let (status, body) = app.control_json(Method::POST, "/reset", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.library_ids(MSK).await,
        [EXAMPLE_AUDIO],
        "the reset put it back"
    );
    assert_eq!(
        media(&app, &format!("{EXAMPLE_AUDIO}.mp3")).await,
        (200, WELCOME.to_vec())
    );
    let (status, body) = app
        .control_json(Method::POST, "/tenants/default/reset", None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.library_ids(MSK).await,
        [EXAMPLE_AUDIO],
        "once, however often reset"
    );
    let app = app.restart().await;
    assert_eq!(app.library_ids(MSK).await, [EXAMPLE_AUDIO], "and it is in SQLite");

    // A tenant made by the control plane starts, and resets, empty.
    let other = app.create_tenant(json!({})).await;
    let token = other.token("prod");
    app.upload_tone(&token).await;
    let (status, _) = app
        .control_json(Method::POST, &format!("/tenants/{}/reset", other.id()), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.library_ids(&token).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_database_seeded_before_the_example_existed_gets_it_once() {
    let app = TestApp::spawn().await;
    // What a database of an older soundcheck holds: no example, no library in the creation state.
    for sql in [
        "DELETE FROM audio WHERE id = 'aud_welcome0000001'",
        "UPDATE tenants SET seed = json_remove(seed, '$.audio') WHERE id = 'default'",
    ] {
        sqlx::query(sql)
            .execute(&app.state.core.db.write)
            .await
            .expect("an older database");
    }
    let app = app.restart().await;
    assert_eq!(
        app.library_ids(MSK).await,
        [EXAMPLE_AUDIO],
        "given on the next start"
    );

    assert_eq!(delete(&app, EXAMPLE_AUDIO).await, 200);
    let app = app.restart().await;
    assert_eq!(
        app.library_ids(MSK).await,
        Vec::<String>::new(),
        "given once only"
    );
    let (status, _) = app.control_json(Method::POST, "/reset", None).await;
    assert_eq!(status, 200);
    assert_eq!(app.library_ids(MSK).await, [EXAMPLE_AUDIO], "a reset restores it");
}

#[tokio::test]
async fn the_default_tenants_scenario_holds_the_example_with_its_bytes() {
    let app = TestApp::spawn().await;
    let (status, scenario) = app
        .control_json(Method::GET, "/tenants/default/scenario", None)
        .await;
    assert_eq!(status, 200, "{scenario}");
    let msk = scenario["companies"]
        .as_array()
        .expect("companies")
        .iter()
        .find(|c| c["prefix"] == "msk")
        .expect("msk");
    let audio = msk["audio"].as_array().expect("audio");
    assert_eq!(audio.len(), 1, "{audio:?}");
    assert_eq!(audio[0]["id"], EXAMPLE_AUDIO);
    assert_eq!(audio[0]["name"], "Welcome announcement");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(audio[0]["bytes"].as_str().expect("bytes"))
        .expect("base64");
    assert_eq!(bytes, WELCOME);
}
