//! Many clients at once: counts and stats stay consistent.

use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_uploads_and_sends_leave_consistent_counts_and_stats() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    app.freeze_at(T0);
    let target = app.upload_tone(MSK).await;

    let mut tasks = Vec::new();
    for n in 0..32 {
        let app = app.clone();
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            if n % 2 == 0 {
                let (status, body) = app
                    .upload(MSK, &format!("u{n}.mp3"), fixture("tone_1s.mp3"), &[])
                    .await;
                assert_eq!(status, 200, "{body}");
            } else {
                let store = format!("store_{:03}", n);
                let (status, body) = app
                    .send(MSK, &target, json!({"externalIds": [store], "repeat": 2}))
                    .await;
                assert_eq!(status, 200, "{body}");
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }

    assert_eq!(app.count("audio").await, FIXTURE_AUDIO + 17);
    assert_eq!(app.count("audio_blobs").await, FIXTURE_AUDIO + 17);
    assert_eq!(app.count("sends").await, 16);
    let (_, list) = app.get_json("/audio?limit=100", MSK).await;
    assert_eq!(list["pagination"]["total"], FIXTURE_AUDIO + 17);
    let (_, audio) = app.get_json(&format!("/audio/{target}"), MSK).await;
    assert_eq!(audio["stats"]["timesPlayed"], 32);
    assert_eq!(audio["stats"]["totalRecipients"], 16);
}
