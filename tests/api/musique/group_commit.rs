//! Sends, uploads and deletes committed together by the one writer: each is answered as if it
//! had been alone, and a full queue answers 429 at once.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::helpers::*;

/// Lets the server run until `done` holds: a wait for a state, never for a time.
async fn until(done: impl Fn() -> bool) {
    let wait = async {
        while !done() {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), wait)
        .await
        .expect("the writer got there");
}

type Answer = JoinHandle<(u16, Value)>;

fn send(app: &Arc<TestApp>, key: &'static str, audio: &str, body: Value) -> Answer {
    let (app, audio) = (app.clone(), audio.to_owned());
    tokio::spawn(async move { app.send(key, &audio, body).await })
}

fn delete(app: &Arc<TestApp>, audio: &str) -> Answer {
    let (app, audio) = (app.clone(), audio.to_owned());
    tokio::spawn(async move {
        let response = app
            .musique(Method::DELETE, &format!("/audio/{audio}"), MSK)
            .send()
            .await
            .expect("delete");
        json(response).await
    })
}

fn upload(app: &Arc<TestApp>) -> Answer {
    let app = app.clone();
    tokio::spawn(async move { app.upload(MSK, "late.mp3", fixture("tone_1s.mp3"), &[]).await })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_transaction_answers_each_write_as_if_it_had_been_alone() {
    let app = Arc::new(TestApp::spawn().await);
    app.freeze_at(T0);
    let (played, deleted, pending) = (
        app.upload_tone(MSK).await,
        app.upload_tone(MSK).await,
        app.upload_tone(MSK).await,
    );
    let writer = &app.state.musique.writer;
    let batches = writer.batches();

    // The connection held elsewhere: every write waits, in the order given, for one transaction.
    let held = app.state.core.db.write.acquire().await.expect("connection");
    let mut answers = Vec::new();
    let mut queue = |answer: Answer| {
        answers.push(answer);
        answers.len()
    };
    let writes: Vec<Box<dyn Fn() -> Answer>> = vec![
        Box::new(|| {
            send(
                &app,
                MSK,
                &played,
                json!({"externalIds": ["store_001", "store_002"]}),
            )
        }),
        // One bad External ID: nothing of this send, whatever else the transaction holds.
        Box::new(|| {
            send(
                &app,
                MSK,
                &played,
                json!({"externalIds": ["store_003", "store_999"]}),
            )
        }),
        Box::new(|| delete(&app, &deleted)),
        // Deleted by the write before it, in the same transaction.
        Box::new(|| send(&app, MSK, &deleted, json!({"externalIds": ["store_004"]}))),
        Box::new(|| send(&app, MSK, "aud_00000000000000", json!({}))),
        Box::new(|| send(&app, MSK_SCOPED, &played, json!({}))),
        Box::new(|| send(&app, MSK_SCOPED, &played, json!({"externalIds": ["store_006"]}))),
        Box::new(|| {
            send(
                &app,
                MSK,
                &pending,
                json!({"externalIds": ["store_010"], "scheduleAt": "2026-11-24T09:00:00Z"}),
            )
        }),
        // Refused: the scheduled send before it is pending.
        Box::new(|| delete(&app, &pending)),
        Box::new(|| upload(&app)),
    ];
    for write in &writes {
        let submitted = queue(write());
        until(|| writer.pending() == submitted).await;
    }
    drop(held);
    let mut answered = Vec::new();
    for answer in answers {
        answered.push(answer.await.expect("request"));
    }
    assert_eq!(writer.batches(), batches + 1, "one transaction");

    let status: Vec<u16> = answered.iter().map(|(status, _)| *status).collect();
    assert_eq!(
        status,
        [200, 404, 200, 404, 404, 200, 404, 200, 409, 200],
        "{answered:?}"
    );
    assert_musique_error(&answered[1].1, "external_id_not_found", "not_found_error");
    assert_eq!(answered[1].1["error"]["externalIds"], json!(["store_999"]));
    assert_musique_error(&answered[3].1, "audio_not_found", "not_found_error");
    assert_musique_error(&answered[4].1, "audio_not_found", "not_found_error");
    assert_eq!(answered[6].1["error"]["externalIds"], json!(["store_006"]));
    let stores = |body: &Value| -> Vec<String> {
        (body["destinations"].as_array().expect("destinations").iter())
            .map(|d| d["externalId"].as_str().expect("id").to_owned())
            .collect()
    };
    assert_eq!(stores(&answered[0].1), ["store_001", "store_002"]);
    assert_eq!(
        stores(&answered[5].1),
        ["store_001", "store_002", "store_003", "store_004", "store_005"]
    );

    // Exactly the three sends that were answered 200, with their eight destinations.
    assert_eq!(app.count("sends").await, 3);
    assert_eq!(app.count("send_destinations").await, 8);
    let (status, _) = app.get_json(&format!("/audio/{deleted}"), MSK).await;
    assert_eq!(status, 404);
    let uploaded = answered[9].1["id"].as_str().expect("id");
    let (status, _) = app.get_json(&format!("/audio/{uploaded}"), MSK).await;
    assert_eq!(status, 200);
    let (_, list) = app.get_json("/audio", MSK).await;
    assert_eq!(
        list["pagination"]["total"],
        FIXTURE_AUDIO + 3,
        "and the example announcement"
    );

    // The players have both sends in the order they were written.
    app.clock().advance_ms(86_400_000);
    let (_, audio) = app.get_json(&format!("/audio/{played}"), MSK).await;
    assert_eq!(audio["stats"]["timesPlayed"], 7);
    assert_eq!(audio["stats"]["totalRecipients"], 5);
    let (_, audio) = app.get_json(&format!("/audio/{pending}"), MSK).await;
    assert_eq!(audio["stats"]["timesPlayed"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_write_queue_answers_429_at_once_in_the_envelope() {
    let app = Arc::new(TestApp::spawn_with(|c| c.write_queue = 2).await);
    let audio = app.upload_tone(MSK).await;
    let writer = &app.state.musique.writer;
    assert_eq!(writer.bound(), 2);

    let held = app.state.core.db.write.acquire().await.expect("connection");
    let body = || json!({"externalIds": ["store_001"]});
    // The first is taken by the writer, which waits for the connection; two more wait for it.
    let mut answers = vec![send(&app, MSK, &audio, body())];
    until(|| writer.pending() == 1 && writer.waiting() == 0).await;
    answers.push(send(&app, MSK, &audio, body()));
    answers.push(send(&app, MSK, &audio, body()));
    until(|| writer.waiting() == 2).await;

    let refused = app
        .musique(Method::POST, &format!("/audio/{audio}/send"), MSK)
        .json(&body())
        .send()
        .await
        .expect("send");
    assert_eq!(refused.headers()["retry-after"], "1");
    let (status, error) = json(refused).await;
    assert_eq!(status, 429);
    assert_musique_error(&error, "rate_limit_exceeded", "rate_limit_error");
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("at most 2")),
        "{error}"
    );
    // Uploads and deletes wait in the same queue.
    let (status, error) = app.upload(MSK, "t.mp3", fixture("tone_1s.mp3"), &[]).await;
    assert_eq!(status, 429, "{error}");
    let (status, _) = delete(&app, &audio).await.expect("request");
    assert_eq!(status, 429);

    drop(held);
    for answer in answers {
        let (status, body) = answer.await.expect("request");
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(app.count("sends").await, 3);
    let (status, body) = app.send(MSK, &audio, body()).await;
    assert_eq!(status, 200, "{body}");
}
