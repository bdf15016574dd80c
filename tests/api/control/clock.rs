//! `/_soundcheck/tenants/{id}/clock`: time that tests move instead of sleeping.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_clock_can_be_frozen_set_advanced_and_let_run() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let id = tenant.id();
    let body = app
        .move_clock(id, json!({"frozen": true, "at": "2027-02-28T23:59:00Z"}))
        .await;
    assert_eq!(body["now"], "2027-02-28T23:59:00.000Z");
    assert_eq!(body["frozen"], true);
    let body = app.move_clock(id, json!({"advance": "1h30m"})).await;
    assert_eq!(body["now"], "2027-03-01T01:29:00.000Z");
    let body = app.move_clock(id, json!({"advanceMs": -60000})).await;
    assert_eq!(body["now"], "2027-03-01T01:28:00.000Z");
    let body = app.move_clock(id, json!({"frozen": false})).await;
    assert_eq!(body["frozen"], false);
    let (_, read) = app
        .control_json(Method::GET, &format!("/tenants/{id}/clock"), None)
        .await;
    assert!(
        read["now"]
            .as_str()
            .is_some_and(|n| n.starts_with("2027-03-01T01:2")),
        "{read}"
    );
    // The default tenant's clock did not move.
    let (_, default) = app
        .control_json(Method::GET, "/tenants/default/clock", None)
        .await;
    assert!(
        default["now"]
            .as_str()
            .is_some_and(|n| n.starts_with("2026") || n.starts_with("2027"))
    );
    assert_ne!(default["now"], read["now"]);
}

#[tokio::test]
async fn a_moved_clock_survives_a_restart() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let id = tenant.id().to_owned();
    app.move_clock(&id, json!({"frozen": true, "at": T0})).await;
    let app = app.restart().await;
    let (_, clock) = app
        .control_json(Method::GET, &format!("/tenants/{id}/clock"), None)
        .await;
    assert_eq!(clock["now"], "2026-11-23T12:00:00.000Z");
}

#[tokio::test]
async fn a_quota_rolls_over_when_the_clock_crosses_the_month() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(
            json!({"musicark": {"keys": [{"tier": "free", "monthlyLimit": 1}]},
                              "clock": {"at": "2026-11-30T23:59:00Z", "frozen": true}}),
        )
        .await;
    let key = tenant.ark_key("free");
    assert_eq!(app.ark_json("/songs?limit=1", &key).await.0, 200);
    assert_eq!(app.ark_json("/songs?limit=1", &key).await.0, 429);
    app.move_clock(tenant.id(), json!({"advance": "1m"})).await;
    assert_eq!(app.ark_json("/songs?limit=1", &key).await.0, 200, "a new month");
}

#[tokio::test]
async fn bad_clock_changes_are_refused_and_name_the_field() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let path = format!("/tenants/{}/clock", tenant.id());
    let cases = [
        (json!({}), "Say what to change"),
        (json!({"advance": "soon"}), "`advance`"),
        (json!({"advance": "1h", "advanceMs": 5}), "not both"),
        (json!({"at": "tomorrow"}), "`at`"),
        (json!({"frozen": "yes"}), "frozen"),
        (json!({"speed": 2}), "speed"),
    ];
    for (change, names) in cases {
        let (status, body) = app.control_json(Method::POST, &path, Some(change.clone())).await;
        assert_eq!(status, 400, "{change}: {body}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains(names), "{change}: {message:?}");
    }
    let (status, _) = app
        .control_json(
            Method::POST,
            "/tenants/ten_missing/clock",
            Some(json!({"advance": "1s"})),
        )
        .await;
    assert_eq!(status, 404);
}
