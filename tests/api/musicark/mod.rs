//! The MusicArk API, by concern; what they share: the fixture catalogue as the oracle, the
//! envelope and summary checks, paging through `/songs`, and keys made by the CLI.

mod auth;
mod params;
mod profile;
mod quota;
mod search_color;
mod search_emotional;
mod search_text;
mod songs;
mod visibility;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::DateTime;
use serde_json::{Map, Value, json};
use unicode_normalization::UnicodeNormalization;

use crate::helpers::*;

/// The 13 basic fields of a summary item, flat (spec §3).
pub const SUMMARY_FIELDS: [&str; 13] = [
    "id",
    "title",
    "artist",
    "album",
    "release_year",
    "slug",
    "color_hex",
    "bpm",
    "key",
    "mode",
    "duration_seconds",
    "dominant_emotion",
    "published_at",
];

/// The catalogue the server seeds from, read independently of it: the tests' oracle.
pub fn catalogue() -> &'static [Value] {
    static CATALOGUE: OnceLock<Vec<Value>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/catalogue.jsonl");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        text.lines()
            .map(|line| serde_json::from_str(line).expect("a JSON song per line"))
            .collect()
    })
}

/// The fixture profile of a song by id.
pub fn fixture(id: &str) -> &'static Value {
    static BY_ID: OnceLock<HashMap<String, &'static Value>> = OnceLock::new();
    BY_ID
        .get_or_init(|| {
            catalogue()
                .iter()
                .map(|s| (str_of(&s["song"]["id"]).to_owned(), s))
                .collect()
        })
        .get(id)
        .copied()
        .unwrap_or_else(|| panic!("{id} is not in the fixture catalogue"))
}

pub fn ms(instant: &str) -> i64 {
    DateTime::parse_from_rfc3339(instant)
        .unwrap_or_else(|e| panic!("{instant:?}: {e}"))
        .timestamp_millis()
}

/// Fixture songs published at or before `instant`, newest first (ties by id).
pub fn visible_at(instant: &str) -> Vec<&'static Value> {
    let now = ms(instant);
    let mut songs: Vec<&Value> = catalogue()
        .iter()
        .filter(|s| ms(str_of(&s["song"]["published_at"])) <= now)
        .collect();
    songs.sort_by(|a, b| {
        ms(str_of(&b["song"]["published_at"]))
            .cmp(&ms(str_of(&a["song"]["published_at"])))
            .then_with(|| str_of(&a["song"]["id"]).cmp(str_of(&b["song"]["id"])))
    });
    songs
}

pub fn str_of(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("not a string: {value}"))
}

pub fn id_of(song: &Value) -> String {
    str_of(&song["song"]["id"]).to_owned()
}

/// Lowercase without Latin diacritics, the folding the spec's "case-insensitive" gets here.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The summary item a fixture song should be listed as.
pub fn expected_summary(song: &Value) -> Value {
    let s = &song["song"];
    json!({
        "id": s["id"],
        "title": s["title"],
        "artist": s["artist"],
        "album": s["album"],
        "release_year": s["release_year"],
        "slug": s["slug"],
        "color_hex": song["color"]["hex"],
        "bpm": song["temporal"]["bpm"],
        "key": song["harmonic"]["key"],
        "mode": song["harmonic"]["mode"],
        "duration_seconds": s["duration_seconds"],
        "dominant_emotion": song["emotional"]["dominant_emotion"],
        "published_at": s["published_at"],
    })
}

/// Exactly the 13 basic fields, shaped as the spec says, and equal to the fixture's song.
pub fn assert_summary(item: &Value) {
    let fields = item
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {item}"));
    let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut expected = SUMMARY_FIELDS.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected, "summary fields of {item}");

    let id = str_of(&item["id"]);
    let uuid_shape = id.len() == 36
        && id.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit() && !c.is_ascii_uppercase(),
        });
    assert!(uuid_shape, "id {id:?} is not a lowercase UUID");
    let hex = str_of(&item["color_hex"]);
    assert!(
        hex.len() == 7
            && hex.starts_with('#')
            && hex[1..]
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "color_hex {hex:?} is not #rrggbb lowercase"
    );
    assert!(
        soundcheck::musicark::catalogue::KEYS.contains(&str_of(&item["key"])),
        "key of {item}"
    );
    assert!(
        ["major", "minor"].contains(&str_of(&item["mode"])),
        "mode of {item}"
    );
    let published = str_of(&item["published_at"]);
    assert!(
        published.ends_with('Z') && DateTime::parse_from_rfc3339(published).is_ok(),
        "published_at {published:?} is not RFC 3339 UTC"
    );
    for number in ["release_year", "bpm", "duration_seconds"] {
        assert!(item[number].is_u64(), "{number} of {item} is not an integer");
    }
    assert_eq!(
        *item,
        expected_summary(fixture(id)),
        "summary of {id} differs from the fixture"
    );
}

/// `{"data", "meta", "error": null}` and nothing else.
pub fn assert_envelope(body: &Value) {
    let mut keys: Vec<&String> = body.as_object().expect("an object").keys().collect();
    keys.sort();
    assert_eq!(keys, ["data", "error", "meta"], "envelope: {body}");
    assert!(body["error"].is_null(), "error is null on success: {body}");
    assert!(body["meta"].is_object(), "meta is an object: {body}");
}

/// `{"data": null, "meta": {}, "error": {"code", "message"}}`; returns the message.
pub fn assert_ark_error<'a>(body: &'a Value, code: &str) -> &'a str {
    assert!(body["data"].is_null(), "data is null on error: {body}");
    assert_eq!(body["meta"], json!({}), "meta is empty on error: {body}");
    assert_eq!(body["error"]["code"], code, "body: {body}");
    let message = str_of(&body["error"]["message"]);
    assert!(!message.is_empty(), "body: {body}");
    message
}

pub fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii header").to_owned())
}

pub fn items(body: &Value) -> &Vec<Value> {
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("data is not a list: {body}"))
}

pub fn ids(body: &Value) -> Vec<String> {
    items(body).iter().map(|i| str_of(&i["id"]).to_owned()).collect()
}

/// Every song `/songs?{query}` lists, page by page (100 at a time, enterprise key).
pub async fn every_song(app: &TestApp, query: &str) -> Vec<Value> {
    let mut songs = Vec::new();
    loop {
        let path = format!("/songs?{query}&limit=100&offset={}", songs.len());
        let (status, body) = app.ark_json(&path, ENTERPRISE).await;
        assert_eq!(status, 200, "{path}: {body}");
        let page = items(&body).clone();
        let total = body["meta"]["total"].as_u64().expect("total") as usize;
        songs.extend(page);
        assert_eq!(
            body["meta"]["has_more"],
            songs.len() < total,
            "{path}: has_more with {} of {total}",
            songs.len()
        );
        if songs.len() >= total || items(&body).is_empty() {
            assert_eq!(songs.len(), total, "{path}: pages add up to the total");
            return songs;
        }
    }
}

/// `soundcheck keys create --api musicark --tier … --monthly-limit …`; returns the key.
pub async fn create_key(app: &TestApp, tier: &str, monthly_limit: u32) -> String {
    let limit = monthly_limit.to_string();
    let out = crate::cli::run_cli(
        app,
        &[
            "keys",
            "create",
            "--api",
            "musicark",
            "--tier",
            tier,
            "--monthly-limit",
            &limit,
        ],
    )
    .await;
    let key = out.lines().last().expect("key line").trim().to_owned();
    assert!(key.starts_with("mk_live_") && key.len() == 40, "{out}");
    key
}

/// A profile cut down to `fields` of `section`.
pub fn pick(profile: &Value, section: &str, fields: &[&str]) -> Value {
    let source = profile[section].as_object().expect("section");
    let cut: Map<String, Value> = fields
        .iter()
        .map(|f| {
            let value = source
                .get(*f)
                .unwrap_or_else(|| panic!("{section}.{f} missing in the fixture"));
            ((*f).to_owned(), value.clone())
        })
        .collect();
    Value::Object(cut)
}

/// A query string, percent-encoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).expect("encodable")
}
