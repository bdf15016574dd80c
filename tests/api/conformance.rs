//! `soundcheck conformance`: against soundcheck itself every check passes; against a soundcheck
//! started differently, and a deliberately wrong server, the differences are the ones planted.

use axum::Router;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use soundcheck::config::Envelope;
use soundcheck::conformance::{self, Args, Options, Target, Verdict};

use crate::helpers::{ENTERPRISE, EXAMPLE_AUDIO, FIXTURE_AUDIO, FREE, MSK, PRO, TestApp};

fn args(musique: &str, musicark: &str, ark_key: &str) -> Args {
    Args {
        musique_url: Some(musique.to_string()),
        musique_key: Some(MSK.to_string()),
        musicark_url: Some(musicark.to_string()),
        musicark_key: Some(ark_key.to_string()),
        external_id: Some("store_001".into()),
        allow_writes: true,
        only: None,
        json: None,
        compare: false,
        compare_musique_url: None,
        compare_musique_key: None,
        compare_musicark_url: None,
        compare_musicark_key: None,
        baseline: None,
        max_calls: None,
        probe_limits: false,
    }
}

fn against(app: &TestApp, ark_key: &str) -> Args {
    let url = app.url("");
    args(&url, &url, ark_key)
}

/// The exit code and everything printed.
async fn run(args: &Args) -> (i32, String) {
    let mut out = Vec::new();
    let code = conformance::run(args, &mut out).await;
    (code, String::from_utf8(out).expect("output is UTF-8"))
}

/// The verdict word printed for a check, and its lines.
fn verdict_of<'a>(output: &'a str, id: &str) -> Option<&'a str> {
    output.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        let verdict = words.next()?;
        (words.next() == Some(id)).then_some(verdict)
    })
}

fn assert_no_key(output: &str) {
    for key in [MSK, FREE, PRO, ENTERPRISE] {
        assert!(!output.contains(key), "a key in the output:\n{output}");
    }
}

#[tokio::test]
async fn against_soundcheck_every_check_passes_and_the_upload_is_gone() {
    let app = TestApp::spawn().await;
    let (code, output) = run(&against(&app, PRO)).await;
    assert_eq!(code, 0, "{output}");
    assert!(!output.contains("\ndiffers "), "{output}");
    // Every check but the two limit probes ran.
    let passed = output.lines().filter(|l| l.starts_with("pass ")).count();
    let skipped: Vec<&str> = output.lines().filter(|l| l.starts_with("skipped ")).collect();
    assert_eq!(skipped.len(), 2, "{output}");
    assert!(skipped.iter().all(|l| l.contains(".exceeded")), "{output}");
    assert_eq!(passed, 33, "{output}");
    assert!(
        output.contains("at most 33 calls: musique 16, musicark 17"),
        "{output}"
    );
    assert!(
        output.contains("35 checks: 33 pass, 0 differ, 2 skipped; 33 calls made"),
        "{output}"
    );
    assert_no_key(&output);

    // What it uploaded it deleted; it sent to store_001 only.
    let (status, body) = app.get_json("/audio", MSK).await;
    assert_eq!(status, 200);
    assert_eq!(body["pagination"]["total"], FIXTURE_AUDIO, "{body}");
    assert_eq!(
        body["audio"][0]["id"], EXAMPLE_AUDIO,
        "only the example announcement is left"
    );
    // One send went out (the journal keeps the requests; the send left with its audio).
    let sends = sent(&app).await;
    assert_eq!(sends, 1, "one send succeeded");
}

/// How many `POST …/send` requests the default tenant's journal has answered 200.
async fn sent(app: &TestApp) -> usize {
    let (status, journal) = app
        .control_json(reqwest::Method::GET, "/tenants/default/requests?limit=1000", None)
        .await;
    assert_eq!(status, 200, "{journal}");
    let entries = journal
        .as_object()
        .and_then(|o| o.values().find_map(Value::as_array))
        .cloned()
        .unwrap_or_default();
    assert!(!entries.is_empty(), "{journal}");
    entries
        .iter()
        .filter(|e| {
            e["method"] == "POST"
                && e["path"].as_str().is_some_and(|p| p.ends_with("/send"))
                && e["status"] == 200
        })
        .count()
}

#[tokio::test]
async fn every_tier_passes_its_own_profile_check() {
    let app = TestApp::spawn().await;
    for key in [FREE, ENTERPRISE] {
        let mut args = against(&app, key);
        args.only = Some(conformance::Only::Musicark);
        let (code, output) = run(&args).await;
        assert_eq!(code, 0, "{output}");
        assert_eq!(
            verdict_of(&output, "musicark.songs.get"),
            Some("pass"),
            "{output}"
        );
    }
}

#[tokio::test]
async fn without_allow_writes_nothing_is_written() {
    let app = TestApp::spawn().await;
    let mut args = against(&app, PRO);
    args.allow_writes = false;
    args.only = Some(conformance::Only::Musique);
    let (code, output) = run(&args).await;
    assert_eq!(code, 0, "{output}");
    for id in ["musique.audio.upload", "musique.send", "musique.audio.delete"] {
        assert_eq!(verdict_of(&output, id), Some("skipped"), "{output}");
    }
    assert!(output.contains("needs --allow-writes"), "{output}");
    let (_, body) = app.get_json("/audio", MSK).await;
    assert_eq!(body["pagination"]["total"], FIXTURE_AUDIO, "{body}");
    assert_eq!(
        body["audio"][0]["id"], EXAMPLE_AUDIO,
        "only the example announcement is left"
    );
    assert_eq!(sent(&app).await, 0, "nothing was sent");
}

#[tokio::test]
async fn compare_reports_a_wrapped_envelope_and_another_tier_side_by_side() {
    let bare = TestApp::spawn().await;
    let wrapped = TestApp::spawn_with(|c| c.envelope = Envelope::Wrapped).await;
    let mut args = against(&bare, PRO);
    args.compare = true;
    args.compare_musique_url = Some(wrapped.url(""));
    args.compare_musicark_url = Some(wrapped.url(""));
    args.compare_musicark_key = Some(FREE.into());
    let (code, output) = run(&args).await;
    println!("{output}");
    assert_eq!(code, 1, "the two differ: {output}");
    let table = output
        .split("checks differ between the two runs:")
        .nth(1)
        .expect("a table");

    // Musique's success bodies move under `data`; its errors do not.
    let row = |id: &str| {
        table
            .lines()
            .skip_while(|l| !l.starts_with(&format!("{id} ")))
            .take_while({
                let mut first = true;
                move |l| std::mem::take(&mut first) || l.starts_with("  ")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let info = row("musique.info");
    assert!(info.contains("| pass ") && info.contains("| differs"), "{table}");
    assert!(
        info.contains("$.data ") && info.contains("| absent ") && info.contains("| object"),
        "{info}"
    );
    assert!(
        info.contains("$.name ") && info.contains("| string ") && info.contains("| absent"),
        "{info}"
    );
    assert!(
        !table.contains("musique.auth.missing_key"),
        "errors keep their envelope: {table}"
    );
    assert!(!table.contains("musique.audio.unknown"), "{table}");

    // The free key sees fewer sections: both pass their tier's check, and the shapes differ.
    let profile = row("musicark.songs.get");
    assert!(
        profile.contains("| pass ") && !profile.contains("differs"),
        "{profile}"
    );
    for section in ["$.data.pitch ", "$.data.ai_analysis "] {
        let line = profile.lines().find(|l| l.trim_start().starts_with(section));
        let line = line.unwrap_or_else(|| panic!("{section} in {profile}"));
        assert!(line.contains("| object ") && line.ends_with("| absent"), "{line}");
    }
    assert!(
        !table.contains("musicark.search.text "),
        "same shape for every tier: {table}"
    );
    assert_no_key(&output);
}

#[tokio::test]
async fn a_json_report_is_a_baseline_for_a_later_run() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("report.json");
    let mut args = against(&app, PRO);
    args.json = Some(path.clone());
    let (code, output) = run(&args).await;
    assert_eq!(code, 0, "{output}");
    let text = std::fs::read_to_string(&path).expect("the report");
    assert_no_key(&text);
    let report: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(report["format"], "soundcheck-conformance/1");
    assert_eq!(report["runs"][0]["checks"].as_array().map(Vec::len), Some(35));
    assert_eq!(report["runs"][0]["checks"][0]["seen"]["status"], 401, "{report}");

    // The same server again: no differences.
    let mut again = against(&app, PRO);
    again.baseline = Some(path.clone());
    let (code, output) = run(&again).await;
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("0 checks differ") && output.contains("(no differences)"),
        "{output}"
    );

    // A server started with the wrapped envelope differs from the baseline.
    let wrapped = TestApp::spawn_with(|c| c.envelope = Envelope::Wrapped).await;
    let mut later = against(&wrapped, PRO);
    later.baseline = Some(path);
    let (code, output) = run(&later).await;
    assert_eq!(code, 1, "{output}");
    let table = output.split("between the two runs:").nth(1).expect("a table");
    assert!(
        table.contains("baseline") && table.contains("musique.health"),
        "{table}"
    );
    assert!(!table.contains("musicark."), "MusicArk is the same: {table}");

    // A file that is not a report is refused.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{}").expect("write");
    let mut wrong = against(&app, PRO);
    wrong.baseline = Some(bad);
    let (code, output) = run(&wrong).await;
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("not a conformance report"), "{output}");
}

fn target(app: &TestApp) -> Target {
    let url = app.url("");
    let args = args(&url, &url, PRO);
    conformance::targets(&args).expect("targets").remove(0)
}

#[tokio::test]
async fn max_calls_stops_the_run_but_still_deletes_the_upload() {
    let app = TestApp::spawn().await;
    let mut out = Vec::new();
    let options = Options {
        max_calls: Some(5),
        ..Options::default()
    };
    let run = conformance::run_target(
        &target(&app),
        &options,
        &mut conformance::Out::new(&mut out, vec![]),
    )
    .await;
    assert_eq!(run.calls, 5);
    assert_eq!(run.count(Verdict::Pass), 5);
    let output = String::from_utf8(out).expect("UTF-8");
    assert!(output.contains("--max-calls reached (5 made)"), "{output}");

    // Ten musique reads, then the upload, with one call kept back to delete it.
    let options = Options {
        max_calls: Some(12),
        allow_writes: true,
        external_id: Some("store_001".into()),
        ..Options::default()
    };
    let mut out = Vec::new();
    let run = conformance::run_target(
        &target(&app),
        &options,
        &mut conformance::Out::new(&mut out, vec![]),
    )
    .await;
    let output = String::from_utf8(out).expect("UTF-8");
    assert_eq!(run.calls, 12, "{output}");
    assert!(output.contains("cleanup: deleted aud_"), "{output}");
    let (_, body) = app.get_json("/audio", MSK).await;
    assert_eq!(body["pagination"]["total"], FIXTURE_AUDIO, "{body}");
    assert_eq!(
        body["audio"][0]["id"], EXAMPLE_AUDIO,
        "only the example announcement is left"
    );
}

#[tokio::test]
async fn probe_limits_exceeds_the_limits_only_when_asked() {
    let app = TestApp::spawn().await;
    // A frozen clock: the minute's window does not refill while the probe runs.
    app.clock().freeze();
    let mut args = against(&app, FREE);
    args.allow_writes = false;
    args.probe_limits = true;
    let (code, output) = run(&args).await;
    assert_eq!(code, 0, "{output}");
    assert_eq!(
        verdict_of(&output, "musique.rate_limit.exceeded"),
        Some("pass"),
        "{output}"
    );
    assert_eq!(
        verdict_of(&output, "musicark.quota.exceeded"),
        Some("pass"),
        "{output}"
    );
    // The free key's month is used up now: a run that does not probe stops at Remaining 0.
    args.probe_limits = false;
    args.only = Some(conformance::Only::Musicark);
    let (_, output) = run(&args).await;
    assert!(output.contains("X-RateLimit-Remaining is 0"), "{output}");
}

#[tokio::test]
async fn the_binary_never_prints_a_key() {
    let app = TestApp::spawn().await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_soundcheck"))
        .args([
            "conformance",
            "--musique-url",
            &app.url(""),
            "--musicark-url",
            &app.url(""),
        ])
        .env("SOUNDCHECK_CONFORMANCE_MUSIQUE_KEY", MSK)
        .env("SOUNDCHECK_CONFORMANCE_MUSICARK_KEY", PRO)
        .output()
        .await
        .expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("pass "), "{text}");
    assert_no_key(&text);

    let help = tokio::process::Command::new(env!("CARGO_BIN_EXE_soundcheck"))
        .args(["conformance", "--help"])
        .env("SOUNDCHECK_CONFORMANCE_MUSIQUE_KEY", MSK)
        .output()
        .await
        .expect("runs");
    assert!(help.status.success());
    assert_no_key(&String::from_utf8_lossy(&help.stdout));
}

// ---- a deliberately wrong server: each planted difference must be caught ----

fn reply(status: u16, headers: &[(&str, &str)], body: Value) -> Response {
    let mut response = (StatusCode::from_u16(status).expect("status"), axum::Json(body)).into_response();
    for (name, value) in headers {
        response.headers_mut().insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            value.parse().expect("value"),
        );
    }
    response
}

fn error(code: &str, kind: &str) -> Value {
    json!({"error": {"code": code, "message": "m", "type": kind}})
}

const MUSIQUE_LIMITS: &[(&str, &str)] = &[
    ("x-ratelimit-limit", "100"),
    ("x-ratelimit-remaining", "99"),
    ("x-ratelimit-reset", "1764590400"),
];

async fn wrong(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let query = uri.query().unwrap_or("");
    if let Some(rest) = path.strip_prefix("/api/v1/integration") {
        match headers.get("x-api-key").and_then(|k| k.to_str().ok()) {
            // Planted: no `type` in the error.
            None => {
                return reply(
                    401,
                    &[],
                    json!({"error": {"code": "missing_api_key", "message": "m"}}),
                );
            }
            Some(MSK) => {}
            Some(_) => return reply(401, &[], error("invalid_api_key", "authentication_error")),
        }
        return match (method.as_str(), rest) {
            // Planted: the reset as ISO 8601 instead of epoch seconds.
            ("GET", "/") => reply(
                200,
                &[
                    ("x-ratelimit-limit", "100"),
                    ("x-ratelimit-remaining", "99"),
                    ("x-ratelimit-reset", "2026-12-01T00:00:00Z"),
                ],
                json!({"name": "Musique Partner API", "version": "1", "documentation": "d"}),
            ),
            // Planted: no `services.messaging`.
            ("GET", "/health") => reply(
                200,
                MUSIQUE_LIMITS,
                json!({"status": "healthy", "version": "1", "timestamp": "t", "services": {"database": "up", "storage": "up"}}),
            ),
            // Planted: `hasMore` a string, and `limit=0` accepted.
            ("GET", "/audio") => reply(
                200,
                MUSIQUE_LIMITS,
                json!({"audio": [], "pagination": {"page": 1, "limit": 5, "total": 0, "totalPages": 0, "hasMore": "no"}}),
            ),
            ("DELETE", "/health") => reply(405, &[], error("method_not_allowed", "invalid_request_error")),
            (_, p) if p.ends_with("/send") => reply(400, &[], error("invalid_json", "invalid_request_error")),
            (_, p) if p.starts_with("/audio/") => {
                reply(404, &[], error("audio_not_found", "not_found_error"))
            }
            _ => reply(404, &[], error("not_found", "not_found_error")),
        };
    }
    let Some(rest) = path.strip_prefix("/api/v1") else {
        return reply(404, &[], json!({}));
    };
    let ark_error = |status, code: &str, headers: &[(&str, &str)]| {
        reply(
            status,
            headers,
            json!({"data": null, "meta": {}, "error": {"code": code, "message": "m"}}),
        )
    };
    match headers.get("authorization").and_then(|k| k.to_str().ok()) {
        // Planted: no WWW-Authenticate.
        None if !query.contains("api_key=") => return ark_error(401, "unauthorized", &[]),
        Some(k) if k != format!("Bearer {PRO}") => {
            let challenge = [(
                "www-authenticate",
                "Bearer realm=\"musicark\", error=\"invalid_token\"",
            )];
            return ark_error(401, "unauthorized", &challenge);
        }
        _ => {}
    }
    // Planted: the reset as epoch seconds instead of ISO 8601.
    let quota = [
        ("x-ratelimit-limit", "5000"),
        ("x-ratelimit-remaining", "4999"),
        ("x-ratelimit-reset", "1764547200"),
    ];
    let song = json!({
        "id": "s1", "title": "t", "artist": "a", "album": "b", "release_year": 2020, "slug": "t",
        // Planted: upper case.
        "color_hex": "#FFAA00", "bpm": 120, "key": "C", "mode": "major", "duration_seconds": 200,
        "dominant_emotion": "joy", "published_at": "2026-01-01T00:00:00Z",
    });
    let limit = if query.contains("limit=101") { 101 } else { 2 };
    if method != Method::GET {
        return ark_error(405, "method_not_allowed", &[]);
    }
    match rest {
        // Planted: limit=101 is not capped; limit=0 is fine.
        "/songs" => reply(
            200,
            &quota,
            json!({"data": [song], "meta": {"total": 1, "limit": limit, "offset": 0, "has_more": false}, "error": null}),
        ),
        _ => ark_error(404, "not_found", &[]),
    }
}

#[tokio::test]
async fn every_difference_planted_in_a_wrong_server_is_caught() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        axum::serve(listener, Router::new().fallback(wrong))
            .await
            .expect("serves");
    });
    let mut args = args(&url, &url, PRO);
    args.allow_writes = false;
    let (code, output) = run(&args).await;
    assert_eq!(code, 1, "{output}");
    let planted = [
        (
            "musique.auth.missing_key",
            "$.error.type: expected \"authentication_error\", saw absent",
        ),
        (
            "musique.info",
            "header x-ratelimit-reset: expected Unix epoch seconds, saw iso8601",
        ),
        (
            "musique.health",
            "$.services.messaging: expected string, saw absent",
        ),
        (
            "musique.audio.list",
            "$.pagination.hasMore: expected boolean, saw string",
        ),
        ("musique.audio.list.bad_limit", "status: expected 400, saw 200"),
        ("musicark.auth.missing_key", "header www-authenticate: missing"),
        (
            "musicark.songs.list",
            "$.data[].color_hex: expected #rrggbb, lowercase, saw string",
        ),
        (
            "musicark.songs.list",
            "header x-ratelimit-reset: expected the first of a month",
        ),
        ("musicark.songs.limit_zero", "status: expected 400, saw 200"),
        (
            "musicark.songs.limit_capped",
            "$.meta.limit: expected 100, saw integer",
        ),
    ];
    for (id, note) in planted {
        assert_eq!(verdict_of(&output, id), Some("differs"), "{id}:\n{output}");
        let block: String = output
            .lines()
            .skip_while(|l| !l.contains(&format!(" {id} ")))
            .skip(1)
            .take_while(|l| l.starts_with("           "))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(block.contains(note), "{id}: {note:?} not in\n{block}");
    }
    // What the wrong server gets right passes.
    for id in [
        "musique.auth.invalid_key",
        "musique.audio.unknown",
        "musique.method.not_allowed",
        "musicark.auth.invalid_key",
    ] {
        assert_eq!(verdict_of(&output, id), Some("pass"), "{id}:\n{output}");
    }
    assert_no_key(&output);
}
