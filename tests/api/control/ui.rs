//! The live page: its embedded assets, the reads it makes in one call (stores, library,
//! limits), and its event stream (what it says, when it ends, how many may be open).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// An open event stream and what it has sent so far that was not read yet.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(app: &TestApp, tenant: &str) -> Events {
        let response = app
            .control(Method::GET, &format!("/tenants/{tenant}/events"))
            .send()
            .await
            .expect("events request");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "{:?}",
            response.headers()
        );
        Events {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (not a comment) as `(name, data)`; `None` when the stream ended. A test
    /// that waits for one that never comes fails after 10 s instead of hanging.
    async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(at) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..at + 2).collect();
                if block.starts_with(':') {
                    continue;
                }
                let mut name = String::new();
                let mut data = Value::Null;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        name = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = serde_json::from_str(v).expect("event data is JSON");
                    }
                }
                return Some((name, data));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.response.chunk())
                .await
                .expect("an event within 10 s")
                .expect("stream reads");
            match chunk {
                Some(bytes) => self.buffer.push_str(std::str::from_utf8(&bytes).expect("utf-8")),
                None => return None,
            }
        }
    }
}

async fn three_stores(app: &TestApp) -> (Tenant, String, String) {
    let tenant = app
        .create_tenant(json!({"musique": {"stores": 3}, "clock": {"at": T0, "frozen": true}}))
        .await;
    let token = tenant.token("prod");
    let audio = app.upload_tone(&token).await;
    (tenant, token, audio)
}

#[tokio::test]
async fn the_page_and_its_assets_are_embedded_and_served_under_a_strict_policy() {
    let app = TestApp::spawn().await;
    let page = app.control(Method::GET, "/ui").send().await.expect("page");
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let policy = headers["content-security-policy"].to_str().expect("policy");
    assert!(
        policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"),
        "{policy}"
    );
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let html = page.text().await.expect("html");
    assert!(html.contains("/_soundcheck/ui/app.js"), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from elsewhere"
    );
    for (asset, kind) in [
        ("app.js", "text/javascript"),
        ("view.js", "text/javascript"),
        ("app.css", "text/css"),
        ("icon.svg", "image/svg+xml"),
    ] {
        let response = app
            .control(Method::GET, &format!("/ui/{asset}"))
            .send()
            .await
            .expect("asset");
        assert_eq!(response.status(), 200, "{asset}");
        let got = response.headers()["content-type"]
            .to_str()
            .expect("type")
            .to_owned();
        assert!(got.starts_with(kind), "{asset}: {got}");
        let text = response.text().await.expect("text");
        assert!(!text.contains("https://"), "{asset} loads nothing from elsewhere");
    }
    let (status, body) = app.control_json(Method::GET, "/ui/nope.js", None).await;
    assert_eq!(status, 404);
    assert_musique_error(&body, "not_found", "not_found_error");
}

#[tokio::test]
async fn stores_lists_every_player_in_one_call_and_pages() {
    let app = TestApp::spawn().await;
    let (tenant, token, audio) = three_stores(&app).await;
    let (status, body) = app
        .send(
            &token,
            &audio,
            json!({"externalIds": ["store_001", "store_002"], "scheduleAt": "2026-11-23T12:00:30Z"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let send = body["sendId"].as_str().expect("send id").to_owned();

    let (status, all) = app
        .control_json(Method::GET, &format!("/tenants/{}/stores", tenant.id()), None)
        .await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["total"], 3);
    assert!(all["nextCursor"].is_null());
    let stores = all["stores"].as_array().expect("stores");
    let ids: Vec<&str> = stores
        .iter()
        .map(|s| s["externalId"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["store_001", "store_002", "store_003"]);
    for store in &stores[..2] {
        assert_eq!(store["queueTotal"], 1, "{store}");
        assert_eq!(store["queue"][0]["sendId"], send.as_str());
        assert_eq!(store["queue"][0]["status"], "scheduled");
        assert!(store["company"].is_string());
    }
    assert_eq!(stores[2]["queueTotal"], 0);

    let (_, first) = app
        .control_json(
            Method::GET,
            &format!("/tenants/{}/stores?limit=2", tenant.id()),
            None,
        )
        .await;
    assert_eq!(first["stores"].as_array().expect("page").len(), 2);
    let cursor = first["nextCursor"].as_str().expect("a next page");
    let (_, rest) = app
        .control_json(
            Method::GET,
            &format!("/tenants/{}/stores?limit=2&cursor={cursor}", tenant.id()),
            None,
        )
        .await;
    assert_eq!(rest["stores"][0]["externalId"], "store_003");
    assert!(rest["nextCursor"].is_null());

    let (status, body) = app
        .control_json(
            Method::GET,
            &format!("/tenants/{}/stores?environment=qa", tenant.id()),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = app
        .control_json(Method::GET, "/tenants/ten_nope/stores", None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn library_shows_each_audio_with_its_stats_and_media_url() {
    let app = TestApp::spawn().await;
    let (tenant, token, audio) = three_stores(&app).await;
    app.send(&token, &audio, json!({"externalIds": ["store_001"]}))
        .await;
    app.move_clock(tenant.id(), json!({"advance": "5s"})).await;

    let (status, body) = app
        .control_json(Method::GET, &format!("/tenants/{}/library", tenant.id()), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total"], 1);
    let item = &body["audio"][0];
    assert_eq!(item["id"], audio.as_str());
    assert_eq!(item["environment"], "prod");
    assert_eq!(item["stats"]["timesPlayed"], 1, "{item}");
    assert!(item["duration"].as_f64().expect("duration") > 0.9);
    assert!(item["size"].as_i64().expect("size") > 0);
    let url = item["url"].as_str().expect("url");
    assert_eq!(url, app.url(&format!("/media/audio/{audio}.mp3")));
    let media = app.client.get(url).send().await.expect("media");
    assert_eq!(media.status(), 200, "the page's <audio> plays it without a key");
}

#[tokio::test]
async fn limits_show_every_window_and_never_a_secret() {
    let app = TestApp::spawn().await;
    let (tenant, token, _) = three_stores(&app).await;
    let (status, _) = app.get_json("/audio", &token).await;
    assert_eq!(status, 200);
    let path = format!("/tenants/{}/limits", tenant.id());
    let response = app.control(Method::GET, &path).send().await.expect("limits");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    assert!(!text.contains(&token), "no secret in {text}");
    let body: Value = serde_json::from_str(&text).expect("json");
    let keys = body["keys"].as_array().expect("keys");
    let prod = keys
        .iter()
        .find(|k| k["api"] == "musique" && k["environment"] == "prod")
        .expect("the prod key");
    let windows: Vec<&str> = prod["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .map(|w| w["window"].as_str().expect("name"))
        .collect();
    assert_eq!(windows, ["minute", "hour", "day"]);
    // The upload and the list counted; reading the limits counts nothing.
    assert_eq!(prod["windows"][0]["used"], 2, "{prod}");
    let (_, again) = app.control_json(Method::GET, &path, None).await;
    let prod_again = again["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["id"] == prod["id"])
        .cloned()
        .expect("same key");
    assert_eq!(prod_again["windows"][0]["used"], 2);
    for ark in keys.iter().filter(|k| k["api"] == "musicark") {
        assert_eq!(ark["windows"][0]["window"], "month", "{ark}");
        assert_eq!(ark["windows"][0]["used"], 0);
        assert_eq!(ark["windows"][0]["resetAt"], "2026-12-01T00:00:00.000Z");
    }
}

#[tokio::test]
async fn the_event_stream_says_hello_then_each_change_and_gone_when_the_tenant_goes() {
    let app = TestApp::spawn().await;
    let (tenant, token, _) = three_stores(&app).await;
    let mut events = Events::open(&app, tenant.id()).await;
    let (name, hello) = events.next().await.expect("hello");
    assert_eq!(name, "hello");
    let start = hello["version"].as_u64().expect("version");
    assert_eq!(hello["nowMs"], 1_795_435_200_000_i64, "the tenant's clock: T0");

    // A request of the tenant's key reaches its journal: one change.
    app.get_json("/audio", &token).await;
    let (name, change) = events.next().await.expect("change");
    assert_eq!(name, "change");
    assert!(change["version"].as_u64().expect("version") > start);

    // A control-plane change: the clock moved; the event carries the new time.
    app.move_clock(tenant.id(), json!({"advance": "1m"})).await;
    let (name, change) = events.next().await.expect("change");
    assert_eq!(name, "change");
    assert_eq!(change["nowMs"], 1_795_435_260_000_i64);

    // A burst is coalesced: however many events it took, the last says every change.
    let before = change["version"].as_u64().expect("version");
    for _ in 0..20 {
        app.get_json("/audio", &token).await;
    }
    let mut seen = 0;
    let mut version = before;
    while version < before + 20 {
        let (_, change) = events.next().await.expect("change");
        version = change["version"].as_u64().expect("version");
        seen += 1;
    }
    assert_eq!(version, before + 20);
    assert!(seen <= 20, "{seen} events for 20 changes");

    // A read changes nothing; another tenant's request is not this tenant's news.
    app.control_json(Method::GET, &format!("/tenants/{}/stores", tenant.id()), None)
        .await;
    app.get_json("/audio", MSK).await;
    app.control_json(
        Method::POST,
        &format!("/tenants/{}/faults", tenant.id()),
        Some(json!({"path": "/x", "status": 500})),
    )
    .await;
    let (_, change) = events.next().await.expect("change");
    assert_eq!(
        change["version"].as_u64(),
        Some(before + 21),
        "only the fault counted"
    );

    let (status, _) = app
        .control_json(Method::DELETE, &format!("/tenants/{}", tenant.id()), None)
        .await;
    assert_eq!(status, 204);
    let (name, gone) = events.next().await.expect("gone");
    assert_eq!(name, "gone");
    assert_eq!(gone["tenant"], tenant.id());
    assert!(events.next().await.is_none(), "the stream ends");
    let (status, _) = app
        .control_json(Method::GET, &format!("/tenants/{}/events", tenant.id()), None)
        .await;
    assert_eq!(status, 404, "no stream of a tenant that is gone");
}

#[tokio::test]
async fn at_most_16_streams_are_open_and_shutdown_ends_them() {
    let mut app = TestApp::spawn().await;
    let mut open = Vec::new();
    for _ in 0..16 {
        let mut events = Events::open(&app, "default").await;
        assert_eq!(events.next().await.expect("hello").0, "hello");
        open.push(events);
    }
    assert_eq!(app.state.control.streams.open(), 16);
    let (status, body) = app
        .control_json(Method::GET, "/tenants/default/events", None)
        .await;
    assert_eq!(status, 429, "{body}");
    assert_musique_error(&body, "rate_limit_exceeded", "rate_limit_error");
    assert!(body["error"]["message"].as_str().expect("message").contains("16"));

    // Shutdown ends every stream, so the server can stop.
    app.signal_shutdown();
    for mut events in open {
        assert!(events.next().await.is_none(), "the stream ends at shutdown");
    }
    tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .expect("the server stops with streams open");
}

#[tokio::test]
async fn the_page_reads_with_the_admin_token_and_other_sites_are_refused() {
    let app = TestApp::spawn_with(|c| {
        c.admin_token = Some("s3cret-admin-token".parse().expect("token"));
    })
    .await;
    // The page itself holds no data: it loads without the token, then asks for it.
    let page = app.control(Method::GET, "/ui").send().await.expect("page");
    assert_eq!(page.status(), 200);
    for path in [
        "/tenants/default/events",
        "/tenants/default/stores",
        "/tenants/default/library",
        "/tenants/default/limits",
    ] {
        let (status, body) = app.control_json(Method::GET, path, None).await;
        assert_eq!(status, 401, "{path}: {body}");
        let with = app
            .control(Method::GET, path)
            .bearer_auth("s3cret-admin-token")
            .send()
            .await
            .expect("with token");
        assert_eq!(with.status(), 200, "{path}");
    }

    let open = TestApp::spawn().await;
    for path in [
        "/tenants/default/events",
        "/tenants/default/stores",
        "/tenants/default/limits",
    ] {
        let refused = open
            .control(Method::GET, path)
            .header("origin", "http://evil.example")
            .send()
            .await
            .expect("cross-site");
        assert_eq!(refused.status(), 403, "{path}");
        let own = open
            .control(Method::GET, path)
            .header("origin", format!("http://{}", open.addr))
            .send()
            .await
            .expect("same site");
        assert_eq!(own.status(), 200, "{path}");
    }
}
