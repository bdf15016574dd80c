//! `GET /search/text`: ranking, case and accent folding, `max_results`.

use serde_json::json;

use super::*;

/// Where `q` (folded) matches a fixture song, best first, per spec §3.
fn rank(song: &Value, q: &str) -> Option<u8> {
    let s = &song["song"];
    let (title, artist, album) = (
        fold(str_of(&s["title"])),
        fold(str_of(&s["artist"])),
        fold(str_of(&s["album"])),
    );
    if title == q {
        Some(0)
    } else if title.starts_with(q) {
        Some(1)
    } else if title.contains(q) {
        Some(2)
    } else if artist.contains(q) {
        Some(3)
    } else if album.contains(q) {
        Some(4)
    } else {
        None
    }
}

/// Ranked fixture matches: by rank, then newest first (visible_at's order is kept).
fn expected_matches(q: &str) -> Vec<(u8, String)> {
    let mut found: Vec<(u8, String)> = visible_at(T0)
        .into_iter()
        .filter_map(|s| rank(s, q).map(|r| (r, id_of(s))))
        .collect();
    found.sort_by_key(|(r, _)| *r);
    found
}

#[tokio::test]
async fn text_search_ranks_exact_title_then_prefix_then_contains_then_artist_then_album() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    // "星" (star) is the one query the fixture answers at all five ranks: the title 星, the title
    // 星城市, the title 夏の星, songs by 星野 葵, and the album 星与夏天.
    let expected = expected_matches("星");
    let ranks: Vec<u8> = expected.iter().map(|(r, _)| *r).collect();
    for r in 0..5 {
        assert!(ranks.contains(&r), "rank {r} is represented: {ranks:?}");
    }

    let (status, body) = app.ark_json("/search/text?q=%E6%98%9F", FREE).await;

    assert_eq!(status, 200, "{body}");
    assert_envelope(&body);
    assert_eq!(body["meta"], json!({"total": expected.len(), "max_results": 20}));
    items(&body).iter().for_each(assert_summary);
    let expected_ids: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids(&body), expected_ids);
}

/// `Café` → `Cafe`: the Latin letters without their marks.
fn strip_accents(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .collect()
}

#[tokio::test]
async fn text_search_ignores_case_and_accents() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    // A real accented title, found through the API: the first whose plain form is ASCII and
    // that no other song shares once folded.
    let songs = every_song(&app, "sort=title").await;
    let titles: Vec<&str> = songs.iter().map(|s| str_of(&s["title"])).collect();
    let accented = titles
        .iter()
        .copied()
        .find(|t| {
            let plain = strip_accents(t);
            plain != *t && plain.is_ascii() && titles.iter().filter(|o| fold(o) == fold(t)).count() == 1
        })
        .expect("an accented title");
    let search = strip_accents(accented).to_uppercase();
    assert_ne!(search, accented);

    let path = format!("/search/text?{}", query(&[("q", &search)]));
    let (status, body) = app.ark_json(&path, PRO).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        items(&body).first().map(|s| &s["title"]),
        Some(&json!(accented)),
        "{search:?} finds {accented:?} first, as an exact title: {body}"
    );

    // Folding is not only for Latin letters' case: Cyrillic upper case finds lower case.
    let cyrillic = titles
        .iter()
        .copied()
        .find(|t| t.chars().any(|c| ('\u{400}'..='\u{4ff}').contains(&c)) && t.to_uppercase() != *t)
        .expect("a Cyrillic title");
    let path = format!("/search/text?{}", query(&[("q", &cyrillic.to_uppercase())]));
    let (_, body) = app.ark_json(&path, PRO).await;
    assert!(
        items(&body).iter().any(|s| s["title"] == cyrillic),
        "{cyrillic:?} in upper case: {body}"
    );
}

#[tokio::test]
async fn max_results_caps_the_items_but_not_the_total() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let expected = expected_matches("a");
    assert!(expected.len() > 100, "a common letter matches many songs");

    let (_, default) = app.ark_json("/search/text?q=a", PRO).await;
    let (_, three) = app.ark_json("/search/text?q=a&max_results=3", PRO).await;
    let (_, clamped) = app.ark_json("/search/text?q=A&max_results=500", PRO).await;

    assert_eq!(
        default["meta"],
        json!({"total": expected.len(), "max_results": 20})
    );
    assert_eq!(items(&default).len(), 20);
    assert_eq!(three["meta"], json!({"total": expected.len(), "max_results": 3}));
    assert_eq!(ids(&three), ids(&default)[..3]);
    assert_eq!(
        clamped["meta"],
        json!({"total": expected.len(), "max_results": 100})
    );
    let expected_ids: Vec<String> = expected.into_iter().take(100).map(|(_, id)| id).collect();
    assert_eq!(ids(&clamped), expected_ids);
}

#[tokio::test]
async fn a_search_that_matches_nothing_is_an_empty_list() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let (status, body) = app.ark_json("/search/text?q=zzqxjv", PRO).await;
    assert_eq!(status, 200);
    assert_envelope(&body);
    assert_eq!(body["data"], json!([]));
    assert_eq!(body["meta"], json!({"total": 0, "max_results": 20}));
}
