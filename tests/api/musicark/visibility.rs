//! Songs published after the tenant's clock do not exist yet, anywhere, until the clock passes.

use chrono::{Duration, SecondsFormat};
use serde_json::json;

use super::*;

/// The newest song of the fixture that is still in the future at T0.
fn future_song() -> &'static Value {
    catalogue()
        .iter()
        .filter(|s| ms(str_of(&s["song"]["published_at"])) > ms(T0))
        .max_by_key(|s| ms(str_of(&s["song"]["published_at"])))
        .expect("the fixture publishes some songs after T0")
}

async fn listed_ids(app: &TestApp) -> Vec<String> {
    every_song(app, "")
        .await
        .iter()
        .map(|s| str_of(&s["id"]).to_owned())
        .collect()
}

async fn found_by_title(app: &TestApp, title: &str) -> bool {
    let path = format!("/search/text?{}", query(&[("q", title), ("max_results", "100")]));
    let (status, body) = app.ark_json(&path, ENTERPRISE).await;
    assert_eq!(status, 200, "{body}");
    items(&body).iter().any(|s| s["title"] == title)
}

#[tokio::test]
async fn a_future_song_appears_once_the_clock_reaches_its_publication() {
    let app = TestApp::spawn().await;
    let song = future_song();
    let id = id_of(song);
    let slug = str_of(&song["song"]["slug"]);
    let title = str_of(&song["song"]["title"]);
    let published = DateTime::parse_from_rfc3339(str_of(&song["song"]["published_at"])).expect("rfc3339");
    let a_second_before = (published - Duration::seconds(1)).to_rfc3339_opts(SecondsFormat::Secs, true);

    app.freeze_at(T0);
    for path in [format!("/songs/{id}"), format!("/songs/{slug}")] {
        let (status, body) = app.ark_json(&path, ENTERPRISE).await;
        assert_eq!(status, 404, "{path} at T0: {body}");
        assert_ark_error(&body, "not_found");
    }
    assert!(!listed_ids(&app).await.contains(&id), "not listed at T0");
    assert!(!found_by_title(&app, title).await, "not found by its title at T0");
    let (_, emotional) = app.ark_json("/search/emotional", ENTERPRISE).await;
    assert_eq!(emotional["meta"]["total"], visible_at(T0).len());

    app.freeze_at(&a_second_before);
    let (status, _) = app.ark_json(&format!("/songs/{id}"), ENTERPRISE).await;
    assert_eq!(status, 404, "a second before its publication");

    app.freeze_at(&published.to_rfc3339());
    let (status, body) = app.ark_json(&format!("/songs/{id}"), ENTERPRISE).await;
    assert_eq!(status, 200, "at its publication instant: {body}");
    assert_eq!(body["data"]["song"]["id"], json!(id));
    let listed = listed_ids(&app).await;
    assert_eq!(listed.first(), Some(&id), "the newest song heads the list");
    assert_eq!(listed.len(), visible_at(&published.to_rfc3339()).len());
    assert!(found_by_title(&app, title).await, "found by its title");
}
