//! The monthly quota per key: the header triple, the boundary, what counts, the 429, a restart,
//! and the first of the month.

use super::*;

/// From T0 (2026-11-23T12:00:00Z) to 2026-12-01T00:00:00Z: seven days and twelve hours.
const SECONDS_FROM_T0_TO_DECEMBER: &str = "648000";

async fn call(app: &TestApp, path: &str, key: &str) -> reqwest::Response {
    app.musicark(path, key).send().await.expect("request")
}

fn assert_quota(response: &reqwest::Response, limit: &str, remaining: &str, reset: &str, what: &str) {
    assert_eq!(
        header(response, "x-ratelimit-limit").as_deref(),
        Some(limit),
        "{what}"
    );
    assert_eq!(
        header(response, "x-ratelimit-remaining").as_deref(),
        Some(remaining),
        "{what}"
    );
    assert_eq!(
        header(response, "x-ratelimit-reset").as_deref(),
        Some(reset),
        "{what}"
    );
}

/// The counts SQLite holds for `month`, one per key used, after writing them behind now.
async fn stored_counts(app: &TestApp, month: &str) -> Vec<i64> {
    app.state
        .musicark
        .quotas
        .flush(&app.state.core.db)
        .await
        .expect("flush");
    sqlx::query_scalar("SELECT count FROM musicark_usage WHERE month = ? ORDER BY count")
        .bind(month)
        .fetch_all(&app.state.core.db.read)
        .await
        .expect("usage")
}

#[tokio::test]
async fn with_a_limit_of_three_the_third_call_leaves_zero_and_the_fourth_is_429() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let key = create_key(&app, "pro", 3).await;

    for (n, remaining) in [(1, "2"), (2, "1"), (3, "0")] {
        let response = call(&app, "/songs?limit=1", &key).await;
        assert_eq!(response.status(), 200, "call {n}");
        assert_quota(
            &response,
            "3",
            remaining,
            "2026-12-01T00:00:00Z",
            &format!("call {n}"),
        );
        assert_eq!(header(&response, "retry-after"), None, "call {n}");
    }

    let response = call(&app, "/songs?limit=1", &key).await;
    assert_quota(&response, "3", "0", "2026-12-01T00:00:00Z", "call 4");
    assert_eq!(
        header(&response, "retry-after").as_deref(),
        Some(SECONDS_FROM_T0_TO_DECEMBER)
    );
    let (status, body) = json(response).await;
    assert_eq!(status, 429);
    let message = assert_ark_error(&body, "rate_limit_exceeded");
    assert_eq!(message, "Rate limit exceeded. Resets first of next month.");

    // The quota is checked before parameters and lookups (spec §2: 401 → 429 → 400 → 404).
    for path in ["/songs?limit=0", "/songs/no-such-song", "/search/text"] {
        let response = call(&app, path, &key).await;
        assert_eq!(response.status(), 429, "{path}");
        assert_quota(&response, "3", "0", "2026-12-01T00:00:00Z", path);
    }

    // Refusals are not counted: the month still holds three calls.
    assert_eq!(stored_counts(&app, "2026-11").await, [3]);

    let other = call(&app, "/songs?limit=1", PRO).await;
    assert_eq!(other.status(), 200, "another key has its own quota");
}

#[tokio::test]
async fn calls_answered_400_or_404_count_and_401s_count_for_nothing() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let key = create_key(&app, "free", 3).await;

    let response = call(&app, "/songs?limit=0", &key).await;
    assert_eq!(response.status(), 400);
    assert_quota(&response, "3", "2", "2026-12-01T00:00:00Z", "a 400 counts");

    let response = call(&app, "/songs/no-such-song", &key).await;
    assert_eq!(response.status(), 404);
    assert_quota(&response, "3", "1", "2026-12-01T00:00:00Z", "a 404 counts");

    // The valid key rides in the query, but the invalid header decides: a 401, uncounted.
    for _ in 0..5 {
        let response = call(
            &app,
            &format!("/songs?api_key={key}"),
            "mk_live_nobody00000000000000000000000000",
        )
        .await;
        assert_eq!(response.status(), 401);
        assert_eq!(header(&response, "x-ratelimit-limit"), None);
        assert_eq!(header(&response, "x-ratelimit-remaining"), None);
        assert_eq!(header(&response, "x-ratelimit-reset"), None);
    }

    let response = call(&app, "/songs?limit=1", &key).await;
    assert_eq!(response.status(), 200);
    assert_quota(
        &response,
        "3",
        "0",
        "2026-12-01T00:00:00Z",
        "the last call of the month",
    );
    assert_eq!(call(&app, "/songs?limit=1", &key).await.status(), 429);
}

#[tokio::test]
async fn a_restart_keeps_the_months_count() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let key = create_key(&app, "pro", 3).await;
    for _ in 0..2 {
        assert_eq!(call(&app, "/songs?limit=1", &key).await.status(), 200);
    }

    let app = app.restart().await;
    app.freeze_at(T0);
    let response = call(&app, "/songs?limit=1", &key).await;
    assert_eq!(response.status(), 200);
    assert_quota(
        &response,
        "3",
        "0",
        "2026-12-01T00:00:00Z",
        "the third call, after a restart",
    );
    assert_eq!(call(&app, "/songs?limit=1", &key).await.status(), 429);
}

#[tokio::test]
async fn the_quota_starts_again_on_the_first_of_the_month() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let key = create_key(&app, "enterprise", 3).await;
    for _ in 0..3 {
        assert_eq!(call(&app, "/songs?limit=1", &key).await.status(), 200);
    }

    app.freeze_at("2026-11-30T23:59:00Z");
    let response = call(&app, "/songs?limit=1", &key).await;
    assert_eq!(response.status(), 429, "still November");
    assert_eq!(header(&response, "retry-after").as_deref(), Some("60"));

    app.freeze_at("2026-12-01T00:00:00Z");
    let response = call(&app, "/songs?limit=1", &key).await;
    assert_eq!(response.status(), 200, "December has a fresh allowance");
    assert_quota(
        &response,
        "3",
        "2",
        "2027-01-01T00:00:00Z",
        "the first call of December",
    );
}

#[tokio::test]
async fn each_tier_has_its_documented_monthly_limit() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    for (key, limit, remaining) in [
        (FREE, "100", "99"),
        (PRO, "5000", "4999"),
        (ENTERPRISE, "100000", "99999"),
    ] {
        let response = call(&app, "/songs?limit=1", key).await;
        assert_eq!(response.status(), 200, "{key}");
        assert_quota(&response, limit, remaining, "2026-12-01T00:00:00Z", key);
    }
}
