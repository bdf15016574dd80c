//! `GET /search/emotional`: inclusive bounds 1–1000 on eight dimensions, newest first.

use serde_json::json;

use super::*;

/// Query name → the profile field it bounds (spec §3).
const DIMENSIONS: [(&str, &str); 8] = [
    ("valence", "valence"),
    ("arousal", "arousal"),
    ("nostalgia", "nostalgia_index"),
    ("melancholy", "melancholy_index"),
    ("sensuality", "sensuality_index"),
    ("triumph", "triumph_index"),
    ("mystery", "mystery_index"),
    ("inspirational", "inspirational_quality"),
];

fn value(song: &Value, field: &str) -> i64 {
    song["emotional"][field]
        .as_i64()
        .unwrap_or_else(|| panic!("emotional.{field} of {}", id_of(song)))
}

#[tokio::test]
async fn the_widest_bounds_find_every_visible_song() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let widest: Vec<String> = DIMENSIONS
        .iter()
        .map(|(name, _)| format!("min_{name}=1&max_{name}=1000"))
        .collect();

    let (status, body) = app
        .ark_json(&format!("/search/emotional?{}", widest.join("&")), FREE)
        .await;
    let (_, list) = app.ark_json("/songs", FREE).await;

    assert_eq!(status, 200, "{body}");
    assert_envelope(&body);
    assert_eq!(body["meta"]["total"], list["meta"]["total"]);
    assert_eq!(
        body["meta"],
        json!({"total": visible_at(T0).len(), "max_results": 20})
    );
    assert_eq!(body["data"], list["data"], "newest first, like the list");
}

#[tokio::test]
async fn every_result_lies_within_the_bounds() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let bounds = [
        ("valence", 550, 800),
        ("arousal", 300, 500),
        ("nostalgia", 200, 700),
        ("melancholy", 150, 650),
        ("sensuality", 400, 900),
        ("triumph", 300, 700),
        ("mystery", 200, 700),
        ("inspirational", 350, 800),
    ];
    let field = |name: &str| {
        DIMENSIONS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
            .expect("a dimension")
    };
    let inside = |song: &Value| {
        bounds
            .iter()
            .all(|(name, lo, hi)| (*lo..=*hi).contains(&value(song, field(name))))
    };
    let expected: Vec<String> = visible_at(T0)
        .into_iter()
        .filter(|s| inside(s))
        .map(id_of)
        .collect();
    assert!((10..=100).contains(&expected.len()), "{}", expected.len());
    let query: Vec<String> = bounds
        .iter()
        .map(|(name, lo, hi)| format!("min_{name}={lo}&max_{name}={hi}"))
        .collect();

    let (status, body) = app
        .ark_json(
            &format!("/search/emotional?{}&max_results=100", query.join("&")),
            PRO,
        )
        .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["meta"], json!({"total": expected.len(), "max_results": 100}));
    assert_eq!(ids(&body), expected, "newest first");
    items(&body).iter().for_each(assert_summary);
    // Each result checked against what the server itself says of it at the enterprise tier.
    for id in ids(&body) {
        let (status, profile) = app.ark_json(&format!("/songs/{id}"), ENTERPRISE).await;
        assert_eq!(status, 200, "{id}");
        assert!(
            inside(&profile["data"]),
            "{id}: {} is outside the bounds",
            profile["data"]["emotional"]
        );
    }
}

#[tokio::test]
async fn bounds_are_inclusive_and_each_names_its_own_field() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let song = visible_at(T0)[7];
    for (name, field) in DIMENSIONS {
        let v = value(song, field);
        let expected: Vec<String> = visible_at(T0)
            .into_iter()
            .filter(|s| value(s, field) == v)
            .map(id_of)
            .collect();

        let (status, body) = app
            .ark_json(
                &format!("/search/emotional?min_{name}={v}&max_{name}={v}&max_results=100"),
                PRO,
            )
            .await;

        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(ids(&body), expected, "{name} = {v} exactly ({field})");
        assert!(expected.contains(&id_of(song)));
    }
}
