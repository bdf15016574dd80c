//! Finished deliveries leave memory for SQLite: stats, sends, players' histories and a clock
//! moved back read them as before.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn company_of(app: &TestApp, tenant: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM companies WHERE tenant_id = ?")
        .bind(tenant)
        .fetch_one(&app.state.core.db.read)
        .await
        .expect("the tenant's company")
}

/// Writes every finished delivery behind now, as the background task does every 200 ms.
async fn settle(app: &TestApp) {
    app.state
        .musique
        .deliveries
        .write_behind(&app.state.core.db, true)
        .await
        .expect("write-behind");
}

async fn get(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.control_json(Method::GET, path, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[tokio::test]
async fn finished_deliveries_leave_memory_and_every_view_still_shows_them() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(json!({"musique": {"stores": 3}, "clock": {"at": T0, "frozen": true}}))
        .await;
    let company = company_of(&app, tenant.id()).await;
    let token = tenant.token("prod");
    let audio = app.upload_tone(&token).await;
    // The background write-behind could write the finished deliveries at any moment after
    // the clock moves: held off until the "nothing written yet" view has been checked.
    let hold = app.state.musique.deliveries.hold_write_behind().await;
    let (_, now) = app.send(&token, &audio, json!({"repeat": 2})).await;
    let (_, later) = app
        .send(
            &token,
            &audio,
            json!({"externalIds": ["store_002"], "scheduleAt": "2026-11-23T13:00:00Z"}),
        )
        .await;
    app.move_clock(tenant.id(), json!({"advance": "10s"})).await;
    let (_, before) = app.get_json(&format!("/audio/{audio}"), &token).await;
    let send_path = format!(
        "/tenants/{}/sends/{}",
        tenant.id(),
        now["sendId"].as_str().expect("id")
    );
    let sent_before = get(&app, &send_path).await;
    assert_eq!(
        app.state.musique.deliveries.held(company),
        (2, 4),
        "nothing written yet"
    );
    drop(hold);

    settle(&app).await;
    assert_eq!(
        app.state.musique.deliveries.held(company),
        (1, 1),
        "only the scheduled send is left in memory"
    );
    assert_eq!(app.count("delivery_outcomes").await, 3);
    let (_, after) = app.get_json(&format!("/audio/{audio}"), &token).await;
    assert_eq!(after["stats"], before["stats"]);
    assert_eq!(
        after["stats"],
        json!({"timesPlayed": 6, "lastPlayedAt": "2026-11-23T12:00:00.000Z", "totalRecipients": 3})
    );
    let sent = get(&app, &send_path).await;
    assert_eq!(
        sent, sent_before,
        "read back from SQLite as it was shown from memory"
    );
    assert!(
        sent["destinations"]
            .as_array()
            .expect("list")
            .iter()
            .all(|d| d["status"] == "played")
    );
    let player = get(
        &app,
        &format!("/tenants/{}/locations/store_002/player", tenant.id()),
    )
    .await;
    assert_eq!(player["history"][0]["sendId"], now["sendId"]);
    assert_eq!(player["history"][0]["playsCompleted"], 2);
    assert_eq!(player["queue"][0]["sendId"], later["sendId"]);
    assert_eq!(player["queueTotal"], 1);

    app.move_clock(tenant.id(), json!({"advance": "1h"})).await;
    settle(&app).await;
    assert_eq!(app.state.musique.deliveries.held(company), (0, 0));
    let list = get(&app, &format!("/tenants/{}/sends", tenant.id())).await;
    assert_eq!(list["total"], 2);
    assert_eq!(list["sends"][0]["sendId"], later["sendId"]);
    assert_eq!(list["sends"][0]["destinations"][0]["status"], "played");
    let (_, stats) = app.get_json(&format!("/audio/{audio}"), &token).await;
    assert_eq!(stats["stats"]["timesPlayed"], 7);

    // A restart replays the sends up to where they were made; a read takes the players on,
    // and what finishes again leaves memory without being written twice.
    let tenant_id = tenant.id().to_owned();
    let app = app.restart().await;
    assert_eq!(get(&app, &send_path).await, sent);
    settle(&app).await;
    assert_eq!(app.state.musique.deliveries.held(company), (0, 0));
    assert_eq!(app.count("delivery_outcomes").await, 4);
    let (_, restarted) = app.get_json(&format!("/audio/{audio}"), &token).await;
    assert_eq!(restarted["stats"], stats["stats"]);
    let player = get(&app, &format!("/tenants/{tenant_id}/locations/store_002/player")).await;
    assert_eq!(player["history"].as_array().map(Vec::len), Some(2), "{player}");
}

#[tokio::test]
async fn a_player_history_pages_newest_first_across_what_left_memory() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(json!({"musique": {"stores": 1}, "clock": {"at": T0, "frozen": true}}))
        .await;
    let token = tenant.token("prod");
    let audio = app.upload_tone(&token).await;
    let mut made = Vec::new();
    for _ in 0..5 {
        let (_, send) = app.send(&token, &audio, json!({})).await;
        made.push(send["sendId"].as_str().expect("id").to_owned());
    }
    // Three played and written behind; two played since, still in memory.
    app.move_clock(tenant.id(), json!({"advanceMs": 3500})).await;
    settle(&app).await;
    app.move_clock(tenant.id(), json!({"advance": "10s"})).await;
    let company = company_of(&app, tenant.id()).await;
    assert_eq!(app.state.musique.deliveries.held(company), (2, 2));

    let path = format!("/tenants/{}/locations/store_001/player?limit=2", tenant.id());
    let mut walked = Vec::new();
    let mut next = path.clone();
    loop {
        let body = get(&app, &next).await;
        walked.extend(body["history"].as_array().expect("history").iter().cloned());
        match body["nextCursor"].as_str() {
            Some(cursor) => next = format!("{path}&cursor={cursor}"),
            None => break,
        }
    }
    let ids: Vec<&str> = walked.iter().map(|d| d["sendId"].as_str().expect("id")).collect();
    let newest_first: Vec<&str> = made.iter().rev().map(String::as_str).collect();
    assert_eq!(ids, newest_first);
    let finished: Vec<&str> = walked
        .iter()
        .map(|d| d["finishedAt"].as_str().expect("at"))
        .collect();
    assert_eq!(
        finished,
        [
            "2026-11-23T12:00:05.000Z",
            "2026-11-23T12:00:04.000Z",
            "2026-11-23T12:00:03.000Z",
            "2026-11-23T12:00:02.000Z",
            "2026-11-23T12:00:01.000Z"
        ]
    );
    assert!(
        walked
            .iter()
            .all(|d| d["status"] == "played" && d["playsCompleted"] == 1)
    );
}

#[tokio::test]
async fn moving_the_clock_back_replays_deliveries_that_left_memory() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(json!({"musique": {"stores": 1}, "clock": {"at": T0, "frozen": true}}))
        .await;
    let company = company_of(&app, tenant.id()).await;
    let token = tenant.token("prod");
    let audio = app.upload_tone(&token).await;
    let (_, send) = app
        .send(&token, &audio, json!({"scheduleAt": "2026-11-23T13:00:00Z"}))
        .await;
    let send_path = format!(
        "/tenants/{}/sends/{}",
        tenant.id(),
        send["sendId"].as_str().expect("id")
    );
    app.move_clock(tenant.id(), json!({"advance": "1h5s"})).await;
    settle(&app).await;
    assert_eq!(app.state.musique.deliveries.held(company), (0, 0));
    assert_eq!(get(&app, &send_path).await["destinations"][0]["status"], "played");

    // Back before it was due: scheduled again, and not counted, as before it left memory.
    let moved = app.move_clock(tenant.id(), json!({"at": T0})).await;
    assert_eq!(moved["ran"]["deliveriesStarted"], 0);
    let view = get(&app, &send_path).await;
    assert_eq!(view["status"], "scheduled", "{view}");
    assert_eq!(view["destinations"][0]["status"], "scheduled");
    assert_eq!(
        app.count("delivery_outcomes").await,
        0,
        "no stale outcome is left"
    );
    let (_, audio_view) = app.get_json(&format!("/audio/{audio}"), &token).await;
    assert_eq!(audio_view["stats"]["timesPlayed"], 0);
    assert_eq!(app.state.musique.deliveries.held(company), (1, 1));

    // And forward again: it plays again.
    let moved = app.move_clock(tenant.id(), json!({"advance": "1h5s"})).await;
    assert_eq!(moved["ran"]["deliveriesStarted"], 1);
    let (_, audio_view) = app.get_json(&format!("/audio/{audio}"), &token).await;
    assert_eq!(audio_view["stats"]["timesPlayed"], 1);
    assert_eq!(get(&app, &send_path).await["destinations"][0]["status"], "played");
}

#[tokio::test]
async fn a_deleted_audio_takes_its_sends_and_their_outcomes_along() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(json!({"musique": {"stores": 2}, "clock": {"at": T0, "frozen": true}}))
        .await;
    let company = company_of(&app, tenant.id()).await;
    let token = tenant.token("prod");
    let gone = app.upload_tone(&token).await;
    let kept = app.upload_tone(&token).await;
    app.send(&token, &gone, json!({})).await;
    app.send(&token, &kept, json!({})).await;
    app.move_clock(tenant.id(), json!({"advance": "500ms"})).await;
    let response = app
        .musique(Method::DELETE, &format!("/audio/{gone}"), &token)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status().as_u16(), 200);
    app.move_clock(tenant.id(), json!({"advance": "10s"})).await;
    settle(&app).await;
    assert_eq!(app.state.musique.deliveries.held(company), (0, 0));
    assert_eq!(app.count("delivery_outcomes").await, 2, "the kept audio's two");
    let list = get(&app, &format!("/tenants/{}/sends", tenant.id())).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["sends"][0]["audioId"], kept.as_str());
    let (_, view) = app.get_json(&format!("/audio/{kept}"), &token).await;
    assert_eq!(view["stats"]["totalRecipients"], 2);
}

#[tokio::test]
async fn a_reset_or_deleted_tenant_leaves_no_outcome_behind() {
    let app = TestApp::spawn().await;
    let tenants = [
        app.create_tenant(json!({"musique": {"stores": 2}, "clock": {"at": T0, "frozen": true}}))
            .await,
        app.create_tenant(json!({"musique": {"stores": 2}, "clock": {"at": T0, "frozen": true}}))
            .await,
    ];
    for tenant in &tenants {
        let token = tenant.token("prod");
        let audio = app.upload_tone(&token).await;
        app.send(&token, &audio, json!({})).await;
        app.move_clock(tenant.id(), json!({"advance": "5s"})).await;
    }
    settle(&app).await;
    assert_eq!(app.count("delivery_outcomes").await, 4);
    let (status, _) = app
        .control_json(Method::POST, &format!("/tenants/{}/reset", tenants[0].id()), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.count("delivery_outcomes").await, 2);
    let (status, _) = app
        .control_json(Method::DELETE, &format!("/tenants/{}", tenants[1].id()), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(app.count("delivery_outcomes").await, 0);
    let list = get(&app, &format!("/tenants/{}/sends", tenants[0].id())).await;
    assert_eq!(
        (list["total"].clone(), list["sends"].clone()),
        (json!(0), json!([]))
    );
}
