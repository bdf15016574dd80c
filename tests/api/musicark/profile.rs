//! `GET /songs/{id}`: the nested profile cut to the key's tier, lookup by slug, and 404.

use serde_json::json;

use super::*;

const SONG_FIELDS_FREE: [&str; 8] = [
    "id",
    "title",
    "artist",
    "album",
    "release_year",
    "slug",
    "duration_seconds",
    "published_at",
];

/// Sections pro sees whole (spec §2–3).
const PRO_SECTIONS: [&str; 10] = [
    "song",
    "color",
    "temporal",
    "harmonic",
    "pitch",
    "timbre",
    "energy",
    "spatial",
    "arrangement",
    "ai_analysis",
];

/// What each tier should see of a fixture profile, written from the spec, not from the code.
fn view(profile: &Value, tier: &str) -> Value {
    match tier {
        "free" => json!({
            "song": pick(profile, "song", &SONG_FIELDS_FREE),
            "color": pick(profile, "color", &["hex"]),
            "temporal": pick(profile, "temporal", &["bpm"]),
            "harmonic": pick(profile, "harmonic", &["key", "mode"]),
            "emotional": pick(profile, "emotional", &["dominant_emotion"]),
        }),
        "pro" => {
            let mut view: serde_json::Map<String, Value> = PRO_SECTIONS
                .iter()
                .map(|s| ((*s).to_owned(), profile[*s].clone()))
                .collect();
            view.insert(
                "emotional".into(),
                pick(profile, "emotional", &["dominant_emotion"]),
            );
            Value::Object(view)
        }
        _ => profile.clone(),
    }
}

/// A spread of visible songs, including a grey (hue null) and an instrumental.
fn sample_songs() -> Vec<&'static Value> {
    let visible = visible_at(T0);
    let mut sample: Vec<&Value> = [0, 97, 293, visible.len() - 1]
        .iter()
        .map(|i| visible[*i])
        .collect();
    let grey = visible
        .iter()
        .find(|s| s["color"]["oklch_hue"].is_null())
        .expect("a grey song");
    let instrumental = visible
        .iter()
        .find(|s| s["arrangement"]["has_vocals"] == false)
        .expect("an instrumental song");
    sample.extend([*grey, *instrumental]);
    sample
}

#[tokio::test]
async fn each_tier_sees_exactly_its_sections_and_fields() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    for song in sample_songs() {
        let id = id_of(song);
        for (key, tier) in [(FREE, "free"), (PRO, "pro"), (ENTERPRISE, "enterprise")] {
            let (status, body) = app.ark_json(&format!("/songs/{id}"), key).await;
            assert_eq!(status, 200, "{tier} {id}: {body}");
            assert_envelope(&body);
            assert_eq!(body["meta"]["tier"], tier);
            assert_eq!(body["data"], view(song, tier), "{tier} view of {id}");
        }
    }
}

#[tokio::test]
async fn free_sees_five_small_sections_pro_ten_whole_ones_and_enterprise_all_fifteen() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let id = id_of(visible_at(T0)[0]);
    let sections = |body: &Value| {
        let mut names: Vec<String> = body["data"]
            .as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    };

    let (_, free) = app.ark_json(&format!("/songs/{id}"), FREE).await;
    assert_eq!(
        sections(&free),
        ["color", "emotional", "harmonic", "song", "temporal"]
    );
    assert_eq!(free["data"]["song"].as_object().map(|s| s.len()), Some(8));
    assert_eq!(
        free["data"]["emotional"].as_object().map(|s| s.len()),
        Some(1),
        "only dominant_emotion"
    );

    let (_, pro) = app.ark_json(&format!("/songs/{id}"), PRO).await;
    assert_eq!(sections(&pro).len(), 11);
    assert!(pro["data"]["ai_analysis"]["tempo_feel"].is_string());
    assert!(pro["data"]["color"]["oklch_lightness"].is_number());
    assert_eq!(pro["data"]["emotional"].as_object().map(|s| s.len()), Some(1));
    for hidden in ["contextual", "narrative", "cultural", "curves"] {
        assert!(
            pro["data"].get(hidden).is_none(),
            "pro: {hidden} is omitted, not null"
        );
    }

    let (_, enterprise) = app.ark_json(&format!("/songs/{id}"), ENTERPRISE).await;
    assert_eq!(sections(&enterprise).len(), 15);
    assert!(enterprise["data"]["emotional"]["valence"].is_u64());
    assert_eq!(
        enterprise["data"]["curves"]["energy_curve"]
            .as_array()
            .map(Vec::len),
        Some(32)
    );
}

#[tokio::test]
async fn a_song_is_found_by_its_slug_too() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let song = visible_at(T0)[42];
    let slug = str_of(&song["song"]["slug"]);

    let (status, by_slug) = app.ark_json(&format!("/songs/{slug}"), PRO).await;
    let (_, by_id) = app.ark_json(&format!("/songs/{}", id_of(song)), PRO).await;

    assert_eq!(status, 200, "{by_slug}");
    assert_eq!(by_slug, by_id);
}

#[tokio::test]
async fn an_unknown_song_is_404_in_the_envelope() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let slug = str_of(&visible_at(T0)[0]["song"]["slug"]);
    let cases = [
        (
            "a UUID no song has",
            "00000000-0000-4000-8000-000000000000".to_owned(),
        ),
        ("a word", "no-such-song".to_owned()),
        ("half a real slug", slug[..slug.len() / 2].to_owned()),
        ("a real slug with more after it", format!("{slug}-remix")),
    ];
    for (case, id) in cases {
        let (status, body) = app.ark_json(&format!("/songs/{id}"), ENTERPRISE).await;
        assert_eq!(status, 404, "{case}: {body}");
        assert_ark_error(&body, "not_found");
    }
}
