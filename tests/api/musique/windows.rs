//! Musique's minute/hour/day windows survive a restart: written behind to SQLite, read back
//! when the key is first used, cleared by a reset or a deletion.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// A tenant frozen at T0 whose prod token allows `limits` (minute, hour, day).
async fn limited_tenant(app: &TestApp, (minute, hour, day): (u32, u32, u32)) -> Tenant {
    app.create_tenant(json!({
        "musique": {"stores": 1, "tokens": [{"environment": "prod",
            "limits": {"perMinute": minute, "perHour": hour, "perDay": day}}]},
        "clock": {"at": T0, "frozen": true},
    }))
    .await
}

/// `GET /audio`: status, `X-RateLimit-Limit`, `-Remaining`, and `Retry-After` on a 429.
async fn list(app: &TestApp, token: &str) -> (u16, u32, u32, Option<u64>) {
    let response = app
        .musique(Method::GET, "/audio", token)
        .send()
        .await
        .expect("request");
    let number = |name: &str| -> Option<u64> {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().expect("ascii").parse().expect("a number"))
    };
    let limit = number("x-ratelimit-limit").expect("limit") as u32;
    let remaining = number("x-ratelimit-remaining").expect("remaining") as u32;
    (
        response.status().as_u16(),
        limit,
        remaining,
        number("retry-after"),
    )
}

/// How many saved windows the database holds for the tenant's keys.
async fn saved_rows(app: &TestApp, tenant: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM musique_windows w JOIN api_keys k ON k.id = w.key_id
         WHERE k.tenant_id = ?",
    )
    .bind(tenant)
    .fetch_one(&app.state.core.db.read)
    .await
    .expect("count")
}

async fn saved_rows_anywhere(app: &TestApp) -> i64 {
    app.count("musique_windows").await
}

#[tokio::test]
async fn a_graceful_restart_continues_every_window_where_it_stood() {
    let app = TestApp::spawn().await;
    let tenant = limited_tenant(&app, (3, 100, 1000)).await;
    let token = tenant.token("prod");
    assert_eq!(list(&app, &token).await, (200, 3, 2, None));
    assert_eq!(list(&app, &token).await, (200, 3, 1, None));

    let app = app.restart().await;
    assert_eq!(
        list(&app, &token).await,
        (200, 3, 0, None),
        "not a fresh allowance"
    );
    let refused = list(&app, &token).await;
    assert_eq!(
        refused,
        (429, 3, 0, Some(20)),
        "one request drips back every 20 s"
    );

    let app = app.restart().await;
    assert_eq!(
        list(&app, &token).await,
        (429, 3, 0, Some(20)),
        "the 429 persists"
    );
    app.move_clock(tenant.id(), json!({"advance": "1m"})).await;
    assert_eq!(list(&app, &token).await, (200, 3, 2, None), "the minute reopened");

    // All three windows, read before and after a restart at the same instant: each counts
    // one more request (the reading itself), nothing less.
    let before = limits(&app, &token).await;
    let app = app.restart().await;
    let after = limits(&app, &token).await;
    for window in ["perMinute", "perHour", "perDay"] {
        let used = |body: &Value| body["usage"][window].as_u64().expect("usage");
        assert_eq!(used(&after), used(&before) + 1, "{window}: {before} then {after}");
    }
    assert!(before["usage"]["perHour"].as_u64() > Some(1), "{before}");
}

/// `GET /api/integration/limits`: the key's three windows (counting this request).
async fn limits(app: &TestApp, token: &str) -> Value {
    let response = app
        .client
        .get(app.url("/api/integration/limits"))
        .header("X-API-Key", token)
        .send()
        .await
        .expect("request");
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn the_day_window_survives_restarts_and_moves_of_the_clock() {
    let app = TestApp::spawn().await;
    let tenant = limited_tenant(&app, (100, 100, 3)).await;
    let token = tenant.token("prod");
    for remaining in [2, 1, 0] {
        assert_eq!(list(&app, &token).await, (200, 3, remaining, None));
    }
    // One of the three drips back every 8 hours.
    assert_eq!(list(&app, &token).await, (429, 3, 0, Some(28_800)));

    let app = app.restart().await;
    app.move_clock(tenant.id(), json!({"advance": "7h"})).await;
    let app = app.restart().await;
    assert_eq!(
        list(&app, &token).await,
        (429, 3, 0, Some(3_600)),
        "7 of the 8 hours gone"
    );
    app.move_clock(tenant.id(), json!({"advance": "1h"})).await;
    assert_eq!(
        list(&app, &token).await,
        (200, 3, 0, None),
        "one back after 8 hours"
    );
    assert_eq!(list(&app, &token).await.0, 429);
}

#[tokio::test]
async fn a_reset_gives_the_allowance_back_and_a_restart_keeps_it_given() {
    let app = TestApp::spawn().await;
    let tenant = limited_tenant(&app, (3, 100, 1000)).await;
    let token = tenant.token("prod");
    for _ in 0..3 {
        assert_eq!(list(&app, &token).await.0, 200);
    }
    assert_eq!(list(&app, &token).await.0, 429);
    app.state.musique.flush_windows().await.expect("flush");
    assert_eq!(saved_rows(&app, tenant.id()).await, 1);

    let (status, body) = app
        .control_json(Method::POST, &format!("/tenants/{}/reset", tenant.id()), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        saved_rows(&app, tenant.id()).await,
        0,
        "the reset cleared the saved windows"
    );
    let app = app.restart().await;
    assert_eq!(
        list(&app, &token).await,
        (200, 3, 2, None),
        "the whole allowance, after a restart too"
    );
    let app = app.restart().await;
    assert_eq!(
        list(&app, &token).await,
        (200, 3, 1, None),
        "and it counts on from there"
    );
}

#[tokio::test]
async fn a_reset_before_the_key_is_used_again_leaves_nothing_to_come_back() {
    let app = TestApp::spawn().await;
    let tenant = limited_tenant(&app, (3, 100, 1000)).await;
    let token = tenant.token("prod");
    for _ in 0..3 {
        list(&app, &token).await;
    }
    // After a restart the saved windows wait in memory for the key's first use; a reset then
    // must drop them too.
    let app = app.restart().await;
    let (status, _) = app
        .control_json(Method::POST, &format!("/tenants/{}/reset", tenant.id()), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list(&app, &token).await, (200, 3, 2, None));
}

#[tokio::test]
async fn deleting_a_tenant_deletes_its_saved_windows() {
    let app = TestApp::spawn().await;
    let kept = limited_tenant(&app, (3, 100, 1000)).await;
    let gone = limited_tenant(&app, (3, 100, 1000)).await;
    list(&app, &kept.token("prod")).await;
    list(&app, &gone.token("prod")).await;
    app.state.musique.flush_windows().await.expect("flush");
    assert_eq!(saved_rows_anywhere(&app).await, 2);
    let (status, _) = app
        .control_json(Method::DELETE, &format!("/tenants/{}", gone.id()), None)
        .await;
    assert_eq!(status, 204);
    app.state.musique.flush_windows().await.expect("flush");
    assert_eq!(saved_rows_anywhere(&app).await, 1);
    assert_eq!(saved_rows(&app, kept.id()).await, 1);
}

#[tokio::test]
async fn windows_are_written_behind_without_a_shutdown_and_a_hard_kill_keeps_them() {
    // A real process, killed with SIGKILL once the write-behind has run.
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("s.db");
    let first = Server::start(&db).await;
    let tenant: Value = first
        .client
        .post(first.url("/_soundcheck/tenants"))
        .json(
            &json!({"musique": {"stores": 1, "tokens": [{"environment": "prod",
                         "limits": {"perMinute": 5, "perHour": 100, "perDay": 1000}}]},
                      "clock": {"at": T0, "frozen": true}}),
        )
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let token = Tenant(tenant).token("prod");
    for _ in 0..4 {
        first.get_audio(&token).await;
    }
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", db.display()))
        .await
        .expect("read the file");
    let mut every = tokio::time::interval(Duration::from_millis(20));
    let written = async {
        loop {
            let ahead: Option<i64> =
                sqlx::query_scalar("SELECT minute_ns FROM musique_windows WHERE at_ms > 0")
                    .fetch_optional(&pool)
                    .await
                    .expect("read")
                    .flatten();
            // Four requests at one instant, 12 s each: whole again 48 s on.
            if ahead == Some(48_000_000_000) {
                return;
            }
            every.tick().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), written)
        .await
        .expect("written behind within the bound");
    pool.close().await;
    first.kill().await;

    let second = Server::start(&db).await;
    assert_eq!(
        second.get_audio(&token).await,
        0,
        "the fifth and last of the minute"
    );
    second.kill().await;
}

impl Server {
    /// `GET /audio`, answered with `X-RateLimit-Remaining`.
    async fn get_audio(&self, token: &str) -> u32 {
        let response = self
            .client
            .get(self.url("/api/v1/integration/audio"))
            .header("X-API-Key", token)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 200);
        response.headers()["x-ratelimit-remaining"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("a number")
    }
}
