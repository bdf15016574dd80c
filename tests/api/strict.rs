//! `Soundcheck-Warning` and strict mode: what the real service might treat differently is
//! accepted with a warning (header and journal note), or refused with a 400 when strict.

use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

use crate::helpers::{ENTERPRISE, MSK, MSK_LIVE, TestApp, assert_musique_error, json as read_json};

/// A raw send body (`None`: no body at all) as JSON; status, warnings and body.
async fn send_raw(app: &TestApp, key: &str, audio: &str, body: Option<&str>) -> (u16, Vec<String>, Value) {
    let mut request = app.musique(Method::POST, &format!("/audio/{audio}/send"), key);
    if let Some(body) = body {
        request = request
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_owned());
    }
    answered(request.send().await.expect("send")).await
}

async fn answered(response: reqwest::Response) -> (u16, Vec<String>, Value) {
    let warnings = response
        .headers()
        .get_all("soundcheck-warning")
        .iter()
        .map(|v| v.to_str().expect("visible ASCII").to_owned())
        .collect();
    let (status, body) = read_json(response).await;
    (status, warnings, body)
}

/// The notes of the tenant's latest journal entry.
async fn last_notes(app: &TestApp, tenant: &str) -> Vec<String> {
    let (status, body) = app
        .control_json(Method::GET, &format!("/tenants/{tenant}/requests"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let entries = body["requests"].as_array().expect("entries");
    entries.last().expect("an entry")["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .map(|n| n.as_str().expect("note").to_owned())
        .collect()
}

/// The bodies of the issue that each reached all 50 stores without a word, and what each now
/// says.
const BROADCASTS: [(Option<&str>, &str); 6] = [
    (
        Some(r#"{"external_ids":["store_001"]}"#),
        r#"unknown field "external_ids" ignored; did you mean "externalIds"? this send went to all 50 stores"#,
    ),
    (
        Some(r#"{"externalId":"store_001"}"#),
        r#"unknown field "externalId" ignored; did you mean "externalIds"? this send went to all 50 stores"#,
    ),
    (
        Some(r#"{"stores":["store_001","store_002"]}"#),
        r#"unknown field "stores" ignored; did you mean "externalIds"? this send went to all 50 stores"#,
    ),
    (
        Some(r#"{"externalIds":null}"#),
        r#"field "externalIds" is null; read as absent; this send went to all 50 stores"#,
    ),
    (
        None,
        "empty body; read as {}, a broadcast; this send went to all 50 stores",
    ),
    (
        Some("{}"),
        "the body names no field; read as a broadcast; this send went to all 50 stores",
    ),
];

#[tokio::test]
async fn a_send_that_broadcasts_by_mistake_says_so_in_its_header_and_journal_note() {
    let app = TestApp::spawn().await;
    let audio = app.upload_tone(MSK).await;
    for (body, expected) in BROADCASTS {
        let (status, warnings, answer) = send_raw(&app, MSK, &audio, body).await;
        assert_eq!(status, 200, "{body:?}: {answer}");
        assert_eq!(
            answer["destinations"].as_array().expect("destinations").len(),
            50,
            "{body:?} went where it went"
        );
        assert_eq!(warnings, [expected], "{body:?}");
        assert_eq!(last_notes(&app, "default").await, [expected], "{body:?}");
    }
    assert_eq!(app.count("sends").await, BROADCASTS.len() as i64);
}

#[tokio::test]
async fn strict_mode_refuses_each_of_them_in_the_musique_envelope_and_writes_nothing() {
    let app = TestApp::spawn_with(|config| config.strict = true).await;
    let audio = app.upload_tone(MSK).await;
    let cases: [(Option<&str>, &[&str]); 6] = [
        (
            Some(r#"{"external_ids":["store_001"]}"#),
            &["\"external_ids\"", "did you mean \"externalIds\"?"],
        ),
        (
            Some(r#"{"externalId":"store_001"}"#),
            &["\"externalId\"", "did you mean \"externalIds\"?"],
        ),
        (
            Some(r#"{"stores":["store_001"]}"#),
            &["\"stores\"", "did you mean \"externalIds\"?"],
        ),
        (
            Some(r#"{"externalIds":null}"#),
            &["field \"externalIds\" is null"],
        ),
        (None, &["empty body"]),
        (Some("{}"), &["names no field"]),
    ];
    for (body, words) in cases {
        let (status, warnings, answer) = send_raw(&app, MSK, &audio, body).await;
        assert_eq!(status, 400, "{body:?}: {answer}");
        assert_musique_error(&answer, "validation_error", "invalid_request_error");
        let message = answer["error"]["message"].as_str().expect("message");
        assert!(message.contains("strict mode"), "{message}");
        for word in words {
            assert!(message.contains(word), "{body:?}: {message}");
        }
        assert!(
            warnings.is_empty(),
            "a refusal is not also a warning: {warnings:?}"
        );
        assert_eq!(last_notes(&app, "default").await, [message], "{body:?}");
    }
    assert_eq!(app.count("sends").await, 0, "nothing was written");
    // A deliberate broadcast names a field; a targeted send is clean.
    let (status, _, answer) = send_raw(&app, MSK, &audio, Some(r#"{"priority":"normal"}"#)).await;
    assert_eq!(status, 200, "{answer}");
    let (status, _, _) = send_raw(&app, MSK, &audio, Some(r#"{"externalIds":["store_001"]}"#)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_tenant_created_strict_is_strict_alone_and_says_so() {
    let app = TestApp::spawn().await;
    let strict = app.create_tenant(json!({"strict": true})).await;
    let lenient = app.create_tenant(json!({})).await;
    assert_eq!(strict.0["strict"], true);
    assert_eq!(lenient.0["strict"], false);
    let (_, view) = app
        .control_json(Method::GET, &format!("/tenants/{}", strict.id()), None)
        .await;
    assert_eq!(view["strict"], true, "{view}");
    let (_, view) = app
        .control_json(Method::GET, &format!("/tenants/{}", lenient.id()), None)
        .await;
    assert_eq!(view["strict"], false, "{view}");
    let (status, body) = app
        .control_json(Method::POST, "/tenants", Some(json!({"strict": "yes"})))
        .await;
    assert_eq!(status, 400, "{body}");

    let body = Some(r#"{"external_ids":["store_001"]}"#);
    let token = strict.token("prod");
    let audio = app.upload_tone(&token).await;
    let (status, _, answer) = send_raw(&app, &token, &audio, body).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("did you mean \"externalIds\"?")),
        "{answer}"
    );
    assert_eq!(app.count("sends").await, 0);

    let token = lenient.token("prod");
    let audio = app.upload_tone(&token).await;
    let (status, warnings, _) = send_raw(&app, &token, &audio, body).await;
    assert_eq!(status, 200);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].ends_with("this send went to all 5 stores"),
        "{warnings:?}"
    );
}

#[tokio::test]
async fn a_clean_request_has_no_warning() {
    let app = TestApp::spawn().await;
    let audio = app.upload_tone(MSK).await;
    let (status, warnings, _) = send_raw(
        &app,
        MSK,
        &audio,
        Some(r#"{"externalIds":["store_001"],"priority":"high"}"#),
    )
    .await;
    assert_eq!((status, warnings.len()), (200, 0));
    for path in ["/audio", "/audio?page=1&limit=5", &format!("/audio/{audio}")] {
        let response = app.musique(Method::GET, path, MSK).send().await.expect("get");
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers().get("soundcheck-warning").is_none(), "{path}");
    }
    for path in [
        "/songs?limit=5&sort=title",
        "/search/emotional?min_nostalgia=900",
        "/search/text?q=love&max_results=3",
        "/search/color?h=120",
    ] {
        let response = app.musicark(path, ENTERPRISE).send().await.expect("get");
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers().get("soundcheck-warning").is_none(), "{path}");
    }
    assert!(last_notes(&app, "default").await.is_empty());
}

#[tokio::test]
async fn a_misspelt_musicark_filter_is_named_with_the_one_meant() {
    let app = TestApp::spawn().await;
    let path = "/search/emotional?min_nostalgia_index=900";
    let (status, warnings, body) = answered(app.musicark(path, ENTERPRISE).send().await.expect("get")).await;
    assert_eq!(status, 200, "{body}");
    let expected = r#"unknown query parameter "min_nostalgia_index" ignored; did you mean "min_nostalgia"?"#;
    assert_eq!(warnings, [expected]);
    assert_eq!(last_notes(&app, "default").await, [expected]);
    // Ignored, so the whole catalogue came back: what the warning is for.
    let (_, unfiltered) = app.ark_json("/search/emotional", ENTERPRISE).await;
    assert_eq!(body["meta"]["total"], unfiltered["meta"]["total"]);

    let app = TestApp::spawn_with(|config| config.strict = true).await;
    let (status, warnings, body) = answered(app.musicark(path, ENTERPRISE).send().await.expect("get")).await;
    assert_eq!(status, 400, "{body}");
    assert!(warnings.is_empty());
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_eq!(body["error"]["code"], "bad_request", "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("\"min_nostalgia_index\"") && message.contains("did you mean \"min_nostalgia\"?"),
        "{message}"
    );
}

#[tokio::test]
async fn other_leniencies_warn_too() {
    let app = TestApp::spawn().await;
    let audio = app.upload_tone(MSK).await;
    // The legacy env word.
    let (status, warnings, _) = answered(
        app.musique(Method::GET, "/audio", MSK_LIVE)
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("\"live\"") && warnings[0].contains("did you mean \"prod\"?"),
        "{warnings:?}"
    );
    // Unknown, repeated and padded query parameters.
    let (status, warnings, _) = answered(
        app.musique(Method::GET, "/audio?per_page=5&page=1&page=2&limit=%205", MSK)
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        warnings,
        [
            r#"unknown query parameter "per_page" ignored; did you mean "limit"?"#,
            r#"query parameter "page" given more than once; the first was used"#,
            r#"the value of query parameter "limit" has spaces around it; read trimmed"#,
        ]
    );
    // Repeated External IDs, and a body not labelled JSON.
    let response = app
        .musique(Method::POST, &format!("/audio/{audio}/send"), MSK)
        .header(CONTENT_TYPE, "text/plain")
        .body(r#"{"externalIds":["store_001","store_001"]}"#)
        .send()
        .await
        .expect("send");
    let (status, warnings, body) = answered(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        warnings,
        [
            r#"Content-Type "text/plain" is not application/json; the body was read as JSON anyway"#,
            r#"External ID "store_001" listed more than once; its store gets it once"#,
        ]
    );
    // The legacy path's send is the same handler.
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/{audio}/send")))
        .header("X-API-Key", MSK)
        .json(&json!({"Stores": ["store_001"]}))
        .send()
        .await
        .expect("legacy send");
    let (status, warnings, _) = answered(response).await;
    assert_eq!(status, 200);
    assert_eq!(
        warnings,
        [r#"unknown field "Stores" ignored; did you mean "externalIds"? this send went to all 50 stores"#]
    );
}

#[tokio::test]
async fn warnings_are_bounded_and_visible_ascii() {
    let app = TestApp::spawn().await;
    let audio = app.upload_tone(MSK).await;
    let mut body = serde_json::Map::new();
    body.insert("externalIds".into(), json!(["store_001"]));
    for i in 0..1_000 {
        body.insert(format!("caf\u{e9}_{i}\n"), json!(i));
    }
    let (status, warnings, _) = send_raw(&app, MSK, &audio, Some(&Value::Object(body).to_string())).await;
    assert_eq!(status, 200);
    assert_eq!(warnings.len(), 9, "eight and a count: {warnings:?}");
    assert_eq!(warnings[8], "992 more warnings left out");
    assert!(warnings[0].contains(r#""caf\u{e9}_"#), "{warnings:?}");
    assert_eq!(last_notes(&app, "default").await.len(), 9);
}
