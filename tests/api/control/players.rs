//! Store players: deliveries play by priority, for their repeats, on the tenant's clock; an
//! offline player's deliveries wait, then fail.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn player(app: &TestApp, tenant: &str, store: &str) -> Value {
    let (status, body) = app
        .control_json(
            Method::GET,
            &format!("/tenants/{tenant}/locations/{store}/player"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn send_ids(deliveries: &Value) -> Vec<String> {
    deliveries
        .as_array()
        .expect("array")
        .iter()
        .map(|d| d["sendId"].as_str().expect("send id").to_owned())
        .collect()
}

#[tokio::test]
async fn advancing_the_clock_plays_scheduled_sends_in_priority_order_and_updates_stats() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(json!({"musique": {"stores": 1}, "clock": {"at": T0, "frozen": true}}))
        .await;
    let token = tenant.token("prod");
    let audio = app.upload_tone(&token).await;
    let mut sends = std::collections::HashMap::new();
    for priority in ["low", "normal", "high", "urgent"] {
        let (status, body) = app
            .send(
                &token,
                &audio,
                json!({"scheduleAt": "2026-11-23T13:00:00Z", "priority": priority}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        sends.insert(priority, body["sendId"].as_str().expect("id").to_owned());
    }
    let (_, before) = app.get_json(&format!("/audio/{audio}"), &token).await;
    assert_eq!(before["stats"]["timesPlayed"], 0);

    let moved = app.move_clock(tenant.id(), json!({"advance": "1h"})).await;
    assert_eq!(moved["ran"]["deliveriesStarted"], 1, "{moved}");
    let view = player(&app, tenant.id(), "store_001").await;
    assert_eq!(view["nowPlaying"]["sendId"], sends["urgent"].as_str());
    assert_eq!(view["nowPlaying"]["status"], "playing");
    assert_eq!(
        send_ids(&view["queue"]),
        [
            sends["high"].clone(),
            sends["normal"].clone(),
            sends["low"].clone()
        ],
        "high plays next, low waits for the rest"
    );

    app.move_clock(tenant.id(), json!({"advance": "10s"})).await;
    let view = player(&app, tenant.id(), "store_001").await;
    assert!(view["nowPlaying"].is_null());
    let history = view["history"].as_array().expect("history");
    assert!(history.iter().all(|d| d["status"] == "played"));
    assert_eq!(
        send_ids(&view["history"]),
        [
            sends["low"].clone(),
            sends["normal"].clone(),
            sends["high"].clone(),
            sends["urgent"].clone()
        ],
        "newest first"
    );
    assert_eq!(
        history[0]["startedAt"], "2026-11-23T13:00:03.000Z",
        "each play takes the tone's second"
    );
    let (_, after) = app.get_json(&format!("/audio/{audio}"), &token).await;
    assert_eq!(
        after["stats"],
        json!({"timesPlayed": 4, "lastPlayedAt": "2026-11-23T13:00:03.000Z", "totalRecipients": 1})
    );
}

#[tokio::test]
async fn an_urgent_send_interrupts_a_normal_one_which_plays_again_afterwards() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(json!({"musique": {"stores": 1}, "clock": {"at": T0, "frozen": true}}))
        .await;
    let token = tenant.token("prod");
    let audio = app.upload_tone(&token).await;
    let (_, normal) = app.send(&token, &audio, json!({"repeat": 3})).await;
    app.move_clock(tenant.id(), json!({"advance": "1500ms"})).await;
    let (_, urgent) = app.send(&token, &audio, json!({"priority": "urgent"})).await;

    let view = player(&app, tenant.id(), "store_001").await;
    assert_eq!(view["nowPlaying"]["sendId"], urgent["sendId"]);
    assert_eq!(view["queue"][0]["sendId"], normal["sendId"]);
    assert_eq!(view["queue"][0]["status"], "delivered");
    assert_eq!(view["queue"][0]["playsCompleted"], 1);
    assert_eq!(view["queue"][0]["interruptions"], 1);

    // The urgent second, then the interrupted play again and the third: 2.5 s + 1 + 2.
    app.move_clock(tenant.id(), json!({"advanceMs": 3000})).await;
    let view = player(&app, tenant.id(), "store_001").await;
    let history = view["history"].as_array().expect("history");
    assert_eq!(history[0]["sendId"], normal["sendId"]);
    assert_eq!(history[0]["finishedAt"], "2026-11-23T12:00:04.500Z");
    assert_eq!(history[0]["playsCompleted"], 3);
}

#[tokio::test]
async fn an_offline_players_delivery_waits_then_fails_at_the_right_time() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(json!({"musique": {"stores": 2}, "clock": {"at": T0, "frozen": true}}))
        .await;
    let token = tenant.token("prod");
    let path = format!("/tenants/{}/locations/store_001/player", tenant.id());
    let (status, body) = app
        .control_json(
            Method::POST,
            &path,
            Some(json!({"online": false, "failAfter": "2m"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["online"], false);
    let audio = app.upload_tone(&token).await;
    let (_, send) = app
        .send(&token, &audio, json!({"externalIds": ["store_001", "store_002"]}))
        .await;
    let send_path = format!(
        "/tenants/{}/sends/{}",
        tenant.id(),
        send["sendId"].as_str().expect("id")
    );

    let view = player(&app, tenant.id(), "store_001").await;
    assert_eq!(view["queue"][0]["status"], "queued", "waiting for the player");
    app.move_clock(tenant.id(), json!({"advanceMs": 119_999})).await;
    let view = player(&app, tenant.id(), "store_001").await;
    assert_eq!(view["queue"][0]["status"], "queued", "one millisecond early");

    app.move_clock(tenant.id(), json!({"advanceMs": 1})).await;
    let view = player(&app, tenant.id(), "store_001").await;
    assert_eq!(view["history"][0]["status"], "failed");
    assert_eq!(view["history"][0]["finishedAt"], "2026-11-23T12:02:00.000Z");
    let (_, sent) = app.control_json(Method::GET, &send_path, None).await;
    assert_eq!(sent["status"], "sent", "store_002 played it: {sent}");
    assert_eq!(sent["destinations"][0]["status"], "failed");
    assert_eq!(sent["destinations"][1]["status"], "played");
    let (_, audio_view) = app.get_json(&format!("/audio/{audio}"), &token).await;
    assert_eq!(audio_view["stats"]["timesPlayed"], 1, "only store_002 played");

    // A send only to the offline store fails as a whole.
    let (_, lonely) = app
        .send(&token, &audio, json!({"externalIds": ["store_001"]}))
        .await;
    app.move_clock(tenant.id(), json!({"advance": "2m"})).await;
    let (_, view) = app
        .control_json(
            Method::GET,
            &format!(
                "/tenants/{}/sends/{}",
                tenant.id(),
                lonely["sendId"].as_str().expect("id")
            ),
            None,
        )
        .await;
    assert_eq!(view["status"], "failed", "{view}");
}

#[tokio::test]
async fn a_player_that_comes_back_in_time_plays_what_waited() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(json!({"musique": {"stores": 1}, "clock": {"at": T0, "frozen": true}}))
        .await;
    let token = tenant.token("prod");
    let path = format!("/tenants/{}/locations/store_001/player", tenant.id());
    app.control_json(Method::POST, &path, Some(json!({"online": false})))
        .await;
    let audio = app.upload_tone(&token).await;
    app.send(&token, &audio, json!({})).await;
    app.move_clock(tenant.id(), json!({"advance": "4m"})).await;
    let (_, view) = app
        .control_json(Method::POST, &path, Some(json!({"online": true})))
        .await;
    assert_eq!(
        view["nowPlaying"]["deliveredAt"], "2026-11-23T12:04:00.000Z",
        "{view}"
    );
    let (_, audio_view) = app.get_json(&format!("/audio/{audio}"), &token).await;
    assert_eq!(audio_view["stats"]["lastPlayedAt"], "2026-11-23T12:04:00.000Z");
}

#[tokio::test]
async fn player_requests_name_what_is_wrong() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({"musique": {"stores": 1}})).await;
    let path = format!("/tenants/{}/locations/store_001/player", tenant.id());
    for (body, names) in [
        (json!({}), "online"),
        (json!({"online": "no"}), "online"),
        (json!({"online": false, "failAfter": "later"}), "failAfter"),
        (json!({"online": false, "failAfterMs": 0}), "failAfter"),
    ] {
        let (status, answer) = app.control_json(Method::POST, &path, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(names)),
            "{answer}"
        );
    }
    let (status, _) = app
        .control_json(Method::GET, &format!("{path}?environment=staging"), None)
        .await;
    assert_eq!(status, 400);
    let (status, _) = app
        .control_json(
            Method::GET,
            &format!("/tenants/{}/locations/store_009/player", tenant.id()),
            None,
        )
        .await;
    assert_eq!(status, 404);
}
