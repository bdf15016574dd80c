//! `GET /songs`: the envelope, summary items, paging, the three sorts and the two filters.

use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::json;

use super::*;

#[tokio::test]
async fn the_list_is_an_envelope_of_summaries_newest_first() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let visible = visible_at(T0);

    let (status, body) = app.ark_json("/songs", FREE).await;

    assert_eq!(status, 200, "{body}");
    assert_envelope(&body);
    assert_eq!(
        body["meta"],
        json!({"total": visible.len(), "limit": 20, "offset": 0, "has_more": true})
    );
    items(&body).iter().for_each(assert_summary);
    let newest: Vec<String> = visible.iter().take(20).map(|s| id_of(s)).collect();
    assert_eq!(ids(&body), newest);
}

#[tokio::test]
async fn every_tier_gets_the_same_summary_items() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let (_, free) = app.ark_json("/songs?limit=50&sort=title", FREE).await;
    let (_, pro) = app.ark_json("/songs?limit=50&sort=title", PRO).await;
    let (_, enterprise) = app.ark_json("/songs?limit=50&sort=title", ENTERPRISE).await;
    assert_eq!(items(&free).len(), 50);
    assert_eq!(free["data"], pro["data"]);
    assert_eq!(free["data"], enterprise["data"]);
}

#[tokio::test]
async fn paging_visits_every_visible_song_once_newest_first() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let expected: Vec<String> = visible_at(T0).iter().map(|s| id_of(s)).collect();

    let listed: Vec<String> = every_song(&app, "")
        .await
        .iter()
        .map(|s| str_of(&s["id"]).to_owned())
        .collect();

    assert_eq!(
        listed.iter().collect::<HashSet<_>>().len(),
        listed.len(),
        "no song twice"
    );
    assert_eq!(listed, expected, "newest first, ties by id");

    let total = expected.len();
    let (status, body) = app.ark_json(&format!("/songs?offset={total}"), PRO).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["meta"],
        json!({"total": total, "limit": 20, "offset": total, "has_more": false})
    );
    assert_eq!(
        body["data"],
        json!([]),
        "past the end is an empty page, not an error"
    );
}

#[tokio::test]
async fn limit_is_honoured_up_to_100_and_clamped_above() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    for (asked, given) in [("1", 1), ("37", 37), ("100", 100), ("101", 100), ("500", 100)] {
        let (status, body) = app.ark_json(&format!("/songs?limit={asked}"), PRO).await;
        assert_eq!(status, 200, "limit={asked}: {body}");
        assert_eq!(body["meta"]["limit"], given, "limit={asked}");
        assert_eq!(items(&body).len(), given, "limit={asked}");
    }
}

/// Ids of the visible fixture songs in the order `cmp` gives, ties by id.
fn ordered_by(cmp: impl Fn(&Value, &Value) -> Ordering) -> Vec<String> {
    let mut songs = visible_at(T0);
    songs.sort_by(|a, b| cmp(&a["song"], &b["song"]).then_with(|| id_of(a).cmp(&id_of(b))));
    songs.iter().map(|s| id_of(s)).collect()
}

fn text(song: &Value, field: &str) -> String {
    str_of(&song[field]).to_owned()
}

#[tokio::test]
async fn sort_title_is_a_to_z_ignoring_case_with_ties_by_id() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let expected = ordered_by(|a, b| fold(&text(a, "title")).cmp(&fold(&text(b, "title"))));
    let case_sensitive = ordered_by(|a, b| text(a, "title").cmp(&text(b, "title")));
    assert_ne!(expected, case_sensitive, "the fixture tells the two orders apart");

    let listed = every_song(&app, "sort=title").await;

    let listed: Vec<String> = listed.iter().map(|s| text(s, "id")).collect();
    assert_eq!(listed, expected);
}

#[tokio::test]
async fn sort_artist_is_a_to_z_ignoring_case_with_ties_by_title_then_id() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let expected = ordered_by(|a, b| {
        fold(&text(a, "artist"))
            .cmp(&fold(&text(b, "artist")))
            .then_with(|| fold(&text(a, "title")).cmp(&fold(&text(b, "title"))))
    });
    // "CRYSTAL FRIEND" sorts after "Chidi & the Islands" only when case is ignored.
    let case_sensitive = ordered_by(|a, b| {
        text(a, "artist")
            .cmp(&text(b, "artist"))
            .then_with(|| text(a, "title").cmp(&text(b, "title")))
    });
    assert_ne!(expected, case_sensitive, "the fixture tells the two orders apart");

    let listed = every_song(&app, "sort=artist").await;

    let listed: Vec<String> = listed.iter().map(|s| text(s, "id")).collect();
    assert_eq!(listed, expected);
}

#[tokio::test]
async fn sort_published_at_is_the_default_order() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let (_, default) = app.ark_json("/songs?limit=100", PRO).await;
    let (_, explicit) = app.ark_json("/songs?limit=100&sort=published_at", PRO).await;
    assert_eq!(default, explicit);
    let dates: Vec<&str> = items(&default)
        .iter()
        .map(|s| str_of(&s["published_at"]))
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first: {dates:?}");
}

#[tokio::test]
async fn filters_narrow_the_list_and_the_total_counts_after_them() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let cases = [
        ("tempo_feel=groove", Some("groove"), None),
        ("energy_shape=burst", None, Some("burst")),
        ("tempo_feel=stillness&sort=title", Some("stillness"), None),
        (
            "tempo_feel=bounce&energy_shape=wave&sort=artist",
            Some("bounce"),
            Some("wave"),
        ),
    ];
    for (query, feel, shape) in cases {
        let matches = |s: &Value| {
            feel.is_none_or(|f| s["ai_analysis"]["tempo_feel"] == f)
                && shape.is_none_or(|e| s["temporal"]["energy_shape"] == e)
        };
        let expected: HashSet<String> = visible_at(T0)
            .into_iter()
            .filter(|s| matches(s))
            .map(id_of)
            .collect();
        assert!(!expected.is_empty(), "{query}: the fixture has such songs");

        let (status, first_page) = app.ark_json(&format!("/songs?{query}&limit=5"), FREE).await;
        assert_eq!(status, 200, "{query}: {first_page}");
        assert_eq!(first_page["meta"]["total"], expected.len(), "{query}");

        let listed: HashSet<String> = every_song(&app, query)
            .await
            .iter()
            .map(|s| text(s, "id"))
            .collect();
        assert_eq!(listed, expected, "{query}");
    }
}

#[tokio::test]
async fn unknown_query_parameters_are_ignored() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let (_, plain) = app.ark_json("/songs?limit=5&sort=artist", PRO).await;
    let (status, extra) = app
        .ark_json(
            "/songs?limit=5&sort=artist&page=9&fields=all&format=xml&limit_=0",
            PRO,
        )
        .await;
    assert_eq!(status, 200, "{extra}");
    assert_eq!(extra, plain);
}
