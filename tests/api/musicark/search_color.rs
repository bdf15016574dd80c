//! `GET /search/color`: distances, order, cut-off, the echoed query, and hue wrap-around.

use serde_json::json;
use soundcheck::musicark::color::{self, Oklch};

use super::*;

/// 100 × ΔEOK computed the long way, through OKLab's a and b: an oracle independent of the
/// closed form the server uses, where the hue wraps by trigonometry alone.
fn delta_e(a: (f64, f64, f64), b: (f64, f64, f64)) -> f64 {
    let lab = |(l, c, h): (f64, f64, f64)| {
        let (sin, cos) = h.to_radians().sin_cos();
        (l, c * cos, c * sin)
    };
    let (l1, a1, b1) = lab(a);
    let (l2, a2, b2) = lab(b);
    100.0 * ((l1 - l2).powi(2) + (a1 - a2).powi(2) + (b1 - b2).powi(2)).sqrt()
}

/// A fixture song's OKLCH; a grey's null hue is any hue.
fn oklch_of(song: &Value) -> (f64, f64, f64) {
    let c = &song["color"];
    (
        c["oklch_lightness"].as_f64().expect("l"),
        c["oklch_chroma"].as_f64().expect("c"),
        c["oklch_hue"].as_f64().unwrap_or(0.0),
    )
}

/// Visible fixture songs within `max_distance` of the target, nearest first, with distances.
fn expected_within(target: (f64, f64, f64), max_distance: f64) -> Vec<(f64, String)> {
    let mut found: Vec<(f64, String)> = visible_at(T0)
        .into_iter()
        .map(|s| (delta_e(target, oklch_of(s)), id_of(s)))
        .filter(|(d, _)| *d <= max_distance)
        .collect();
    found.sort_by(|a, b| a.0.total_cmp(&b.0));
    found
}

fn distance_of(item: &Value) -> f64 {
    item["distance"]
        .as_f64()
        .unwrap_or_else(|| panic!("no distance: {item}"))
}

/// The item without its distance: a summary like any other.
fn summary_part(item: &Value) -> Value {
    let mut item = item.clone();
    item.as_object_mut().expect("object").remove("distance");
    item
}

#[tokio::test]
async fn colour_search_answers_the_nearest_songs_with_their_distances() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let target = (0.5, 0.15, 280.0);
    let expected = expected_within(target, 12.0);
    assert!(
        (5..=100).contains(&expected.len()),
        "a query with a handful of answers: {}",
        expected.len()
    );

    let (status, body) = app
        .ark_json(
            "/search/color?h=280&l=0.5&c=0.15&max_distance=12&max_results=100",
            FREE,
        )
        .await;

    assert_eq!(status, 200, "{body}");
    assert_envelope(&body);
    assert_eq!(
        body["meta"],
        json!({
            "total": expected.len(),
            "max_results": 100,
            "query": {"h": 280.0, "l": 0.5, "c": 0.15, "max_distance": 12.0},
        })
    );
    let expected_ids: Vec<String> = expected.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(ids(&body), expected_ids, "nearest first");

    let mut previous = 0.0;
    for (item, (oracle, _)) in items(&body).iter().zip(&expected) {
        assert_summary(&summary_part(item));
        let d = distance_of(item);
        assert!(
            ((d * 100.0).round() - d * 100.0).abs() < 1e-6,
            "two decimals: {d}"
        );
        assert!(d >= previous, "ascending: {previous} then {d}");
        assert!(d <= 12.0, "within max_distance: {d}");
        assert!((d - oracle).abs() <= 0.0051, "{d} vs ΔEOK {oracle}");
        previous = d;

        // The same distance again, from the item's own hex through the library's colour maths.
        let rgb = color::parse_hex(str_of(&item["color_hex"])).expect("hex");
        let recomputed = color::distance(
            Oklch {
                l: 0.5,
                c: 0.15,
                h: 280.0,
            },
            color::hex_to_oklch(rgb),
        );
        assert!(
            (d - recomputed).abs() <= 0.006,
            "{d} vs {recomputed} from {}",
            item["color_hex"]
        );
    }
}

#[tokio::test]
async fn colour_search_defaults_are_echoed_in_meta() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let expected = expected_within((0.5, 0.15, 280.0), 50.0);

    let (status, body) = app.ark_json("/search/color?h=280", PRO).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["meta"],
        json!({
            "total": expected.len(),
            "max_results": 20,
            "query": {"h": 280.0, "l": 0.5, "c": 0.15, "max_distance": 50.0},
        })
    );
    assert_eq!(items(&body).len(), 20);
    assert!(items(&body).iter().all(|i| distance_of(i) <= 50.0));
}

#[tokio::test]
async fn hue_wraps_around_zero() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let hue_of = |item: &Value| fixture(str_of(&item["id"]))["color"]["oklch_hue"].as_f64();
    // From just below 360 the nearest pinks include hues just above 0, and the other way round.
    let cases = [
        (355.0, 0.0..10.0, "a hue just above 0"),
        (5.0, 350.0..360.0, "a hue just below 360"),
    ];
    for (h, across_zero, what) in cases {
        let expected = expected_within((0.6, 0.13, h), 6.0);
        let (status, body) = app
            .ark_json(
                &format!("/search/color?h={h}&l=0.6&c=0.13&max_distance=6&max_results=100"),
                PRO,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["meta"]["total"], expected.len(), "h={h}");
        assert!(
            items(&body)
                .iter()
                .filter_map(hue_of)
                .any(|hue| across_zero.contains(&hue)),
            "h={h} finds {what}: {body}"
        );
        for (item, (oracle, id)) in items(&body).iter().zip(&expected) {
            assert_eq!(item["id"], json!(id), "h={h}");
            assert!((distance_of(item) - oracle).abs() <= 0.0051, "h={h}: {item}");
        }
    }

    let (_, at_zero) = app.ark_json("/search/color?h=0&l=0.6&c=0.13", PRO).await;
    let (_, at_360) = app.ark_json("/search/color?h=360&l=0.6&c=0.13", PRO).await;
    assert!(!items(&at_zero).is_empty());
    assert_eq!(
        at_zero["data"], at_360["data"],
        "hue 0 and hue 360 are one colour"
    );
}

#[tokio::test]
async fn a_grey_target_has_no_hue_to_compare() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let (_, red_side) = app
        .ark_json("/search/color?h=0&l=0.5&c=0&max_distance=8", PRO)
        .await;
    let (_, blue_side) = app
        .ark_json("/search/color?h=250&l=0.5&c=0&max_distance=8", PRO)
        .await;
    assert!(!items(&red_side).is_empty());
    assert_eq!(red_side["data"], blue_side["data"]);
    assert_eq!(red_side["meta"]["total"], blue_side["meta"]["total"]);
}

#[tokio::test]
async fn max_results_keeps_the_nearest_and_the_total() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let (_, all) = app.ark_json("/search/color?h=140&max_results=100", PRO).await;
    let (_, three) = app.ark_json("/search/color?h=140&max_results=3", PRO).await;
    assert_eq!(items(&three).len(), 3);
    assert_eq!(items(&three)[..], items(&all)[..3]);
    assert_eq!(three["meta"]["total"], all["meta"]["total"]);
}
