//! A real server process killed with SIGKILL while many clients send: every send it answered
//! 200 is there after a restart on the same file, with the deliveries and plays it answered.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

/// Clients sending at once.
const CLIENTS: usize = 16;
/// Sends answered 200 before the kill.
const ACKNOWLEDGED: usize = 400;
const STORES: usize = 8;

/// A send as its 200 answered it.
#[derive(Debug)]
struct Acknowledged {
    id: String,
    stores: Vec<String>,
    repeat: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_under_send_load_loses_no_acknowledged_send() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("s.db");
    let first = Server::start(&db).await;
    let limit = 1_000_000;
    let (status, tenant) = first
        .json(
            reqwest::Method::POST,
            "/_soundcheck/tenants",
            Some(
                json!({"musique": {"stores": STORES, "tokens": [{"environment": "prod",
                          "limits": {"perMinute": limit, "perHour": limit, "perDay": limit}}]},
                        "clock": {"at": T0, "frozen": true}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{tenant}");
    let tenant = Tenant(tenant);
    let token = tenant.token("prod");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(fixture("tone_1s.mp3"))
            .file_name("tone.mp3")
            .mime_str("audio/mpeg")
            .expect("mime"),
    );
    let uploaded: Value = first
        .client
        .post(first.url("/api/v1/integration/audio"))
        .header("X-API-Key", &token)
        .multipart(form)
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    let audio = uploaded["id"].as_str().expect("id").to_owned();

    let acknowledged = Arc::new(Mutex::new(Vec::<Acknowledged>::new()));
    let enough = Arc::new(tokio::sync::Notify::new());
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let (acknowledged, enough) = (acknowledged.clone(), enough.clone());
        let url = first.url(&format!("/api/v1/integration/audio/{audio}/send"));
        let token = token.clone();
        clients.push(tokio::spawn(async move {
            let http = crate::helpers::http();
            for n in 0.. {
                // Two or three stores, repeated one to three times: deliveries differ by send.
                let stores: Vec<String> = (0..2 + (n + client) % 2)
                    .map(|i| format!("store_{:03}", 1 + (n * 3 + client + i) % STORES))
                    .collect();
                let repeat = 1 + (n + client) as u64 % 3;
                let answered = http
                    .post(&url)
                    .header("X-API-Key", &token)
                    .json(&json!({"externalIds": stores, "repeat": repeat}))
                    .send()
                    .await;
                // The server is gone: whatever was in flight was never answered.
                let Ok(response) = answered else { return };
                let status = response.status().as_u16();
                let Ok(body) = response.json::<Value>().await else {
                    return;
                };
                assert_eq!(status, 200, "{body}");
                let mut acknowledged = acknowledged.lock().expect("lock");
                acknowledged.push(Acknowledged {
                    id: body["sendId"].as_str().expect("sendId").to_owned(),
                    stores: (body["destinations"].as_array().expect("destinations").iter())
                        .map(|d| d["externalId"].as_str().expect("externalId").to_owned())
                        .collect(),
                    repeat: body["repeat"].as_u64().expect("repeat"),
                });
                if acknowledged.len() == ACKNOWLEDGED {
                    enough.notify_one();
                }
            }
        }));
    }
    tokio::time::timeout(Duration::from_secs(120), enough.notified())
        .await
        .expect("enough sends answered");
    // Mid-load: every client has a send in flight.
    first.kill().await;
    for client in clients {
        client.await.expect("client");
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().expect("lock"));
    assert!(acknowledged.len() >= ACKNOWLEDGED);

    let second = Server::start(&db).await;
    let sends = format!("/_soundcheck/tenants/{}/sends", tenant.id());
    // Every delivery played: the restarted players ran a day on from the instant of the sends.
    let (status, body) = second
        .json(
            reqwest::Method::POST,
            &format!("/_soundcheck/tenants/{}/clock", tenant.id()),
            Some(json!({"advanceMs": 86_400_000})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for send in &acknowledged {
        let (status, view) = second
            .json(reqwest::Method::GET, &format!("{sends}/{}", send.id), None)
            .await;
        assert_eq!(status, 200, "an acknowledged send is gone: {send:?}");
        let destinations = view["destinations"].as_array().expect("destinations");
        let stores: Vec<&str> = (destinations.iter())
            .map(|d| d["externalId"].as_str().expect("externalId"))
            .collect();
        assert_eq!(stores, send.stores, "{view}");
        assert_eq!(view["repeat"], send.repeat, "{view}");
        assert!(destinations.iter().all(|d| d["status"] == "played"), "{view}");
    }

    // Its plays are counted with those of the sends written but never answered.
    let (status, list) = second
        .json(reqwest::Method::GET, &format!("{sends}?limit=1000"), None)
        .await;
    assert_eq!(status, 200, "{list}");
    let written = list["sends"].as_array().expect("sends");
    assert_eq!(list["total"], written.len(), "one page holds them all");
    let ids: BTreeSet<&str> = written.iter().filter_map(|s| s["sendId"].as_str()).collect();
    assert!(acknowledged.iter().all(|s| ids.contains(s.id.as_str())));
    let plays: u64 = (written.iter())
        .map(|s| {
            s["repeat"].as_u64().expect("repeat") * s["destinations"].as_array().expect("d").len() as u64
        })
        .sum();
    let acknowledged_plays: u64 = acknowledged
        .iter()
        .map(|s| s.repeat * s.stores.len() as u64)
        .sum();
    assert!(plays >= acknowledged_plays);
    let audio: Value = second
        .client
        .get(second.url(&format!("/api/v1/integration/audio/{audio}")))
        .header("X-API-Key", &token)
        .send()
        .await
        .expect("audio")
        .json()
        .await
        .expect("json");
    assert_eq!(audio["stats"]["timesPlayed"], plays, "{audio}");
    assert_eq!(audio["stats"]["totalRecipients"], STORES, "{audio}");
    second.kill().await;
}
