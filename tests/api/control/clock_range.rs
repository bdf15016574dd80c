//! The clock's accepted range, edge to edge: every endpoint of both APIs and the control
//! plane's reads answer at every instant the control plane accepts, and it refuses the rest.

use chrono::DateTime;
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use soundcheck::clock::{FIRST_INSTANT_MS, LAST_INSTANT_MS, rfc3339_ms};

use crate::helpers::*;

const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;
const RANGE: &str = "1970-01-01T00:00:00.000Z to 2499-12-31T23:59:59.999Z";

/// The edges, points near them, and a few seeded points between.
fn instants_inside() -> Vec<i64> {
    let mut instants = vec![
        FIRST_INSTANT_MS,
        FIRST_INSTANT_MS + 1,
        FIRST_INSTANT_MS + DAY,
        LAST_INSTANT_MS - 32 * DAY,
        LAST_INSTANT_MS - DAY,
        LAST_INSTANT_MS - MINUTE,
        LAST_INSTANT_MS - 1,
        LAST_INSTANT_MS,
    ];
    // A small LCG, seeded: the same points on every run, spread over the whole range.
    let mut seed: u64 = 0x5eed_c10c;
    for _ in 0..3 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        instants.push((seed >> 20) as i64 % (LAST_INSTANT_MS + 1));
    }
    instants
}

/// A request's outcome, checked: never a 5xx, JSON where JSON is due, rate-limit headers that
/// parse where they are due.
struct Seen {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

async fn call(what: &str, request: RequestBuilder) -> Seen {
    let response = request.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let text = response.text().await.unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(status < 500, "{what}: {status} {text}");
    let body = if is_json {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"))
    } else {
        Value::Null
    };
    Seen {
        status,
        headers,
        body,
    }
}

fn header<'a>(seen: &'a Seen, name: &str, what: &str) -> &'a str {
    seen.headers
        .get(name)
        .unwrap_or_else(|| panic!("{what}: no {name} ({} {})", seen.status, seen.body))
        .to_str()
        .expect("ascii")
}

/// Musique's triple: whole numbers, the reset in Unix seconds no earlier than now and no later
/// than a day past it; and `Retry-After` on a 429.
fn assert_musique_limits(seen: &Seen, now_ms: i64, what: &str) {
    if seen.status == 401 {
        return;
    }
    header(seen, "x-ratelimit-limit", what)
        .parse::<u32>()
        .expect("limit");
    header(seen, "x-ratelimit-remaining", what)
        .parse::<u32>()
        .expect("remaining");
    let reset: i64 = header(seen, "x-ratelimit-reset", what).parse().expect("reset");
    let now_secs = now_ms / 1000;
    assert!(
        (now_secs..=now_secs + 86_401).contains(&reset),
        "{what}: reset {reset} at {now_secs}"
    );
    if seen.status == 429 {
        header(seen, "retry-after", what)
            .parse::<u64>()
            .expect("retry-after");
    }
}

/// MusicArk's triple: the reset is the first of next month, as ISO 8601.
fn assert_ark_limits(seen: &Seen, now_ms: i64, what: &str) {
    header(seen, "x-ratelimit-limit", what)
        .parse::<u64>()
        .expect("limit");
    header(seen, "x-ratelimit-remaining", what)
        .parse::<u64>()
        .expect("remaining");
    let reset = header(seen, "x-ratelimit-reset", what);
    let reset_ms = DateTime::parse_from_rfc3339(reset)
        .unwrap_or_else(|e| panic!("{what}: reset {reset:?}: {e}"))
        .timestamp_millis();
    assert!(
        reset_ms > now_ms && reset_ms <= now_ms + 31 * DAY + 1,
        "{what}: reset {reset} at {}",
        rfc3339_ms(now_ms)
    );
}

fn upload_form(name: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(fixture("tone_1s.mp3"))
            .file_name(name.to_owned())
            .mime_str("audio/mpeg")
            .expect("mime"),
    )
}

/// A tenant whose clock stands at `at_ms`, having counted requests at real time first (the
/// issue's case: a limiter made now, then a clock moved centuries on).
async fn tenant_at(app: &TestApp, at_ms: i64) -> Tenant {
    let tenant = app
        .create_tenant(json!({"musique": {"stores": 2}, "musicark": {"keys": [{"tier": "enterprise"}]}}))
        .await;
    let token = tenant.token("prod");
    let warm = call("warm-up", app.musique(Method::GET, "/audio", &token)).await;
    assert_eq!(warm.status, 200);
    assert_eq!(
        call(
            "warm-up",
            app.musicark("/songs?limit=1", &tenant.ark_key("enterprise"))
        )
        .await
        .status,
        200
    );
    // A receiver that is not there: every event fails and is retried, dated from the clock.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let (status, body) = app
        .control_json(
            Method::POST,
            &format!("/tenants/{}/webhooks", tenant.id()),
            Some(json!({"url": format!("http://127.0.0.1:{port}/hook")})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let moved = app
        .move_clock(tenant.id(), json!({"frozen": true, "at": rfc3339_ms(at_ms)}))
        .await;
    assert_eq!(moved["nowMs"], at_ms);
    tenant
}

/// Every Musique (V1 and legacy) and MusicArk endpoint, and every control-plane read, at the
/// tenant's current instant.
async fn every_endpoint(app: &TestApp, tenant: &Tenant, now_ms: i64) {
    let at = rfc3339_ms(now_ms);
    let token = tenant.token("prod");
    let id = tenant.id();
    let v1 = |method: Method, path: &str| app.musique(method, path, &token);
    let legacy = |method: Method, path: &str| {
        app.client
            .request(method, app.url(path))
            .header("X-API-Key", &token)
    };
    let musique = async |what: &str, request: RequestBuilder| {
        let what = format!("{what} at {at}");
        let seen = call(&what, request).await;
        assert_musique_limits(&seen, now_ms, &what);
        seen
    };

    for path in ["", "/", "/health", "/audio"] {
        musique(&format!("GET v1{path}"), v1(Method::GET, path)).await;
    }
    let uploaded = musique(
        "upload",
        v1(Method::POST, "/audio").multipart(upload_form("a.mp3")),
    )
    .await;
    assert_eq!(uploaded.status, 200, "{}", uploaded.body);
    let audio = uploaded.body["id"].as_str().expect("id").to_owned();
    assert_eq!(uploaded.body["createdAt"], at, "createdAt is the clock's instant");
    musique("GET audio", v1(Method::GET, &format!("/audio/{audio}"))).await;
    let sent = musique(
        "send",
        v1(Method::POST, &format!("/audio/{audio}/send"))
            .json(&json!({"externalIds": ["store_001"], "repeat": 3})),
    )
    .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let send_id = sent.body["sendId"].as_str().map(str::to_owned);
    let later = now_ms + 3_600_000;
    let scheduled = musique(
        "scheduled send",
        v1(Method::POST, &format!("/audio/{audio}/send")).json(&json!({"scheduleAt": rfc3339_ms(later)})),
    )
    .await;
    if later <= LAST_INSTANT_MS {
        assert_eq!(scheduled.status, 200, "{}", scheduled.body);
    } else {
        assert_eq!(scheduled.status, 400, "{}", scheduled.body);
        assert_eq!(scheduled.body["error"]["code"], "validation_error");
        assert!(
            scheduled.body["error"]["message"]
                .as_str()
                .expect("message")
                .contains("`scheduleAt`")
        );
    }
    let beyond = musique(
        "send scheduled past the range",
        v1(Method::POST, &format!("/audio/{audio}/send"))
            .json(&json!({"scheduleAt": "2500-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(beyond.status, 400, "{}", beyond.body);
    assert_eq!(beyond.body["error"]["code"], "validation_error");
    let media = uploaded.body["url"].as_str().expect("url").to_owned();
    let file = call(&format!("media at {at}"), app.client.get(media)).await;
    assert_eq!(file.status, 200);
    // Refused while the send scheduled above is pending; otherwise the audio goes, and its
    // sends with it (the control plane reads sends from SQLite).
    let kept = musique(
        "delete with a schedule",
        v1(Method::DELETE, &format!("/audio/{audio}")),
    )
    .await
    .status
        == 409;
    let spare = musique(
        "upload",
        v1(Method::POST, "/audio").multipart(upload_form("b.mp3")),
    )
    .await;
    let spare = spare.body["id"].as_str().expect("id").to_owned();
    let deleted = musique("delete", v1(Method::DELETE, &format!("/audio/{spare}"))).await;
    assert!(deleted.status < 300, "{}", deleted.body);

    // The legacy paths.
    for path in [
        "/api/audio",
        "/api/integration",
        "/api/integration/health",
        "/api/integration/limits",
    ] {
        musique(&format!("GET {path}"), legacy(Method::GET, path)).await;
    }
    let old = musique(
        "legacy upload",
        legacy(Method::POST, "/api/audio").multipart(upload_form("c.mp3")),
    )
    .await;
    assert_eq!(old.status, 200, "{}", old.body);
    let old = old.body["id"].as_str().expect("id").to_owned();
    musique(
        "legacy GET audio",
        legacy(Method::GET, &format!("/api/audio/{old}")),
    )
    .await;
    musique(
        "legacy send",
        legacy(Method::POST, &format!("/api/{old}/send")).json(&json!({"externalIds": ["store_002"]})),
    )
    .await;
    musique("legacy test", legacy(Method::POST, "/api/integration/test")).await;
    let company_token = tenant.0["musique"]["companyToken"]
        .as_str()
        .expect("company token");
    let issued = call(
        &format!("legacy issue at {at}"),
        app.client
            .post(app.url("/api/integration/auth"))
            .json(&json!({"externalId": "store_001", "companyToken": company_token})),
    )
    .await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    let issued_token = issued.body["token"].as_str().expect("token");
    musique(
        "legacy revoke",
        app.client
            .delete(app.url("/api/integration/auth"))
            .header("X-API-Key", issued_token),
    )
    .await;
    musique("legacy delete", legacy(Method::DELETE, &format!("/api/{old}"))).await;

    // Whatever became due runs (as far as the range lets the clock go), then MusicArk.
    let step = (LAST_INSTANT_MS - now_ms).min(10_000);
    if step > 0 {
        app.move_clock(id, json!({"advanceMs": step})).await;
    }
    let now_ms = now_ms + step;
    let key = tenant.ark_key("enterprise");
    let ark = async |what: &str, path: &str| {
        let what = format!("{what} at {}", rfc3339_ms(now_ms));
        let seen = call(&what, app.musicark(path, &key)).await;
        assert_ark_limits(&seen, now_ms, &what);
        seen
    };
    let songs = ark("songs", "/songs?limit=2").await;
    let song = songs.body["data"][0]["id"]
        .as_str()
        .unwrap_or("no-such-song")
        .to_owned();
    ark("song", &format!("/songs/{song}")).await;
    ark("text", "/search/text?q=love").await;
    ark("color", "/search/color?h=280&l=0.5&c=0.15").await;
    ark("emotional", "/search/emotional?min_valence=1&max_valence=1000").await;
    let by_query = call(
        "api_key",
        app.client
            .get(app.url(&format!("/api/v1/songs?limit=1&api_key={key}"))),
    )
    .await;
    assert_ark_limits(&by_query, now_ms, "api_key");

    // The control plane's reads.
    let mut reads = vec![
        "/tenants".to_owned(),
        format!("/tenants/{id}"),
        format!("/tenants/{id}/clock"),
        format!("/tenants/{id}/locations/store_001/player"),
        format!("/tenants/{id}/sends"),
        format!("/tenants/{id}/requests"),
        format!("/tenants/{id}/faults"),
        format!("/tenants/{id}/webhooks"),
        format!("/tenants/{id}/outbox"),
        "/health".to_owned(),
        "/coverage".to_owned(),
    ];
    if let Some(send) = send_id.filter(|_| kept) {
        reads.push(format!("/tenants/{id}/sends/{send}"));
    }
    for path in reads {
        let seen = call(&format!("GET {path} at {at}"), app.control(Method::GET, &path)).await;
        assert_eq!(seen.status, 200, "{path}: {}", seen.body);
    }
}

#[tokio::test]
async fn every_endpoint_answers_at_every_instant_the_clock_accepts() {
    let app = TestApp::spawn().await;
    for at_ms in instants_inside() {
        let tenant = tenant_at(&app, at_ms).await;
        every_endpoint(&app, &tenant, at_ms).await;
    }
}

#[tokio::test]
async fn one_tenant_walks_the_range_up_and_down_without_a_500() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(json!({"musique": {"stores": 1, "tokens": [{"limits": {"perMinute": 100000, "perHour": 100000, "perDay": 100000}}]},
                              "musicark": {"keys": [{"tier": "free"}]}}))
        .await;
    let token = tenant.token("prod");
    let mut instants = instants_inside();
    instants.sort_unstable();
    let back: Vec<i64> = instants.iter().rev().copied().collect();
    for at_ms in instants.into_iter().chain(back) {
        app.move_clock(tenant.id(), json!({"frozen": true, "at": rfc3339_ms(at_ms)}))
            .await;
        let what = format!("GET /audio at {}", rfc3339_ms(at_ms));
        let seen = call(&what, app.musique(Method::GET, "/audio", &token)).await;
        assert_musique_limits(&seen, at_ms, &what);
        let seen = call(&what, app.musicark("/songs?limit=1", &tenant.ark_key("free"))).await;
        assert_ark_limits(&seen, at_ms, &what);
    }
}

#[tokio::test]
async fn the_issue_case_is_refused_and_the_last_instant_works() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let token = tenant.token("prod");
    assert_eq!(
        call("before", app.musique(Method::GET, "/audio", &token))
            .await
            .status,
        200
    );
    let path = format!("/tenants/{}/clock", tenant.id());
    let (status, body) = app
        .control_json(
            Method::POST,
            &path,
            Some(json!({"at": "2612-01-01T00:00:00Z", "frozen": true})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "validation_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains(RANGE),
        "{body}"
    );
    // Refused as a whole: not even `frozen` was applied.
    let (_, clock) = app.control_json(Method::GET, &path, None).await;
    assert_eq!(clock["frozen"], false);
    assert_eq!(
        call("after", app.musique(Method::GET, "/audio", &token))
            .await
            .status,
        200
    );

    // A running clock set to the last instant stays there, and everything still answers.
    let moved = app
        .move_clock(tenant.id(), json!({"at": rfc3339_ms(LAST_INSTANT_MS)}))
        .await;
    assert_eq!(moved["frozen"], false);
    assert_eq!(moved["nowMs"], LAST_INSTANT_MS);
    let seen = call("at the end", app.musique(Method::GET, "/audio", &token)).await;
    assert_eq!(seen.status, 200);
    assert_musique_limits(&seen, LAST_INSTANT_MS, "at the end");
}

#[tokio::test]
async fn instants_and_moves_outside_the_range_are_refused_and_name_it() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let path = format!("/tenants/{}/clock", tenant.id());
    let last = rfc3339_ms(LAST_INSTANT_MS);
    let outside_at = [
        rfc3339_ms(FIRST_INSTANT_MS - 1),
        rfc3339_ms(LAST_INSTANT_MS + 1),
        "2499-12-31T23:59:59.999-00:01".to_owned(),
        "1970-01-01T00:59:59+01:00".to_owned(),
        "2612-01-01T00:00:00Z".to_owned(),
        "9999-12-31T23:59:59Z".to_owned(),
        "0000-01-01T00:00:00Z".to_owned(),
    ];
    for at in &outside_at {
        let (status, body) = app
            .control_json(Method::POST, &path, Some(json!({"frozen": true, "at": at})))
            .await;
        assert_eq!(status, 400, "{at}: {body}");
        assert_eq!(body["error"]["code"], "validation_error", "{at}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(
            message.contains("`at`") && message.contains(RANGE),
            "{at}: {message}"
        );

        let (status, body) = app
            .control_json(Method::POST, "/tenants", Some(json!({"clock": {"at": at}})))
            .await;
        assert_eq!(status, 400, "tenant at {at}: {body}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(
            message.contains("`clock.at`") && message.contains(RANGE),
            "{at}: {message}"
        );
    }
    for at in [rfc3339_ms(FIRST_INSTANT_MS), last.clone()] {
        let (status, body) = app
            .control_json(
                Method::POST,
                "/tenants",
                Some(json!({"clock": {"at": at, "frozen": true}})),
            )
            .await;
        assert_eq!(status, 201, "tenant at {at}: {body}");
    }

    // Moves: one step inside is fine, one past the edge is refused and moves nothing.
    let edge = |ms: i64| json!({"frozen": true, "at": rfc3339_ms(ms)});
    let cases = [
        (LAST_INSTANT_MS - 1, json!({"advance": "1ms"}), true, "advance"),
        (LAST_INSTANT_MS - 1, json!({"advance": "2ms"}), false, "`advance`"),
        (LAST_INSTANT_MS, json!({"advanceMs": 1}), false, "`advanceMs`"),
        (LAST_INSTANT_MS - DAY, json!({"advance": "1d"}), true, "advance"),
        (
            LAST_INSTANT_MS - DAY,
            json!({"advance": "1d1ms"}),
            false,
            "`advance`",
        ),
        (FIRST_INSTANT_MS + 1, json!({"advanceMs": -1}), true, "advanceMs"),
        (FIRST_INSTANT_MS, json!({"advanceMs": -1}), false, "`advanceMs`"),
        (FIRST_INSTANT_MS, json!({"advance": "-1ms"}), false, "`advance`"),
        (
            FIRST_INSTANT_MS,
            json!({"advanceMs": i64::MAX}),
            false,
            "`advanceMs`",
        ),
        (
            LAST_INSTANT_MS,
            json!({"advanceMs": i64::MIN}),
            false,
            "`advanceMs`",
        ),
    ];
    for (from, change, accepted, names) in cases {
        app.move_clock(tenant.id(), edge(from)).await;
        let (status, body) = app.control_json(Method::POST, &path, Some(change.clone())).await;
        let (_, clock) = app.control_json(Method::GET, &path, None).await;
        if accepted {
            assert_eq!(status, 200, "{change} from {}: {body}", rfc3339_ms(from));
        } else {
            assert_eq!(status, 400, "{change} from {}: {body}", rfc3339_ms(from));
            let message = body["error"]["message"].as_str().expect("message");
            assert!(
                message.contains(names) && message.contains(RANGE),
                "{change}: {message}"
            );
            assert_eq!(clock["nowMs"], from, "{change}: the clock did not move");
        }
    }
    // The control document names the range where a client reads about the clock.
    let document: Value = app
        .client
        .get(app.url("/openapi/control.json"))
        .send()
        .await
        .expect("document")
        .json()
        .await
        .expect("JSON");
    let described = document["paths"]["/tenants/{tenant}/clock"]["post"]["description"]
        .as_str()
        .expect("description");
    assert!(described.contains(RANGE), "{described}");

    // `at` and `advance` together are judged where they land.
    let (status, body) = app
        .control_json(Method::POST, &path, Some(json!({"at": last, "advance": "-1d"})))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["nowMs"], LAST_INSTANT_MS - DAY);
}

#[tokio::test]
async fn a_clock_stored_outside_the_range_loads_at_the_nearest_edge() {
    let app = TestApp::spawn().await;
    let ahead = app.create_tenant(json!({})).await;
    let behind = app.create_tenant(json!({})).await;
    // As an older version could have left them: frozen in 2612, running 60 years before 1970.
    for (tenant, offset, frozen) in [
        (ahead.id(), 0_i64, Some(20_259_504_000_000_i64)),
        (behind.id(), -4_000_000_000_000, None),
    ] {
        sqlx::query("UPDATE tenants SET clock_offset_ms = ?, clock_frozen_ms = ? WHERE id = ?")
            .bind(offset)
            .bind(frozen)
            .bind(tenant)
            .execute(&app.state.core.db.write)
            .await
            .expect("update");
    }
    let app = app.restart().await;
    for (tenant, edge) in [(&ahead, LAST_INSTANT_MS), (&behind, FIRST_INSTANT_MS)] {
        let (status, clock) = app
            .control_json(Method::GET, &format!("/tenants/{}/clock", tenant.id()), None)
            .await;
        assert_eq!(status, 200);
        let now = clock["nowMs"].as_i64().expect("nowMs");
        assert!((now - edge).abs() < MINUTE, "{clock}");
        let what = format!("GET /audio at {}", clock["now"]);
        let seen = call(&what, app.musique(Method::GET, "/audio", &tenant.token("prod"))).await;
        assert_eq!(seen.status, 200, "{}", seen.body);
        assert_musique_limits(&seen, now, &what);
        let seen = call(&what, app.musicark("/songs?limit=1", &tenant.ark_key("free"))).await;
        assert_eq!(seen.status, 200, "{}", seen.body);
    }
}
