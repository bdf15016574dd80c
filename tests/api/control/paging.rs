//! Every control-plane list pages: `limit` (default 100, at most 1000) items from `cursor`
//! on, with `total` and `nextCursor`; a walk meets each item once, in order, while new ones
//! are added.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn page(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.control_json(Method::GET, path, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// `path` with `name=value` added to its query.
fn with(path: &str, name: &str, value: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{name}={value}")
}

/// Reads `first`, then follows `nextCursor` on `rest` to the end, returning every page's
/// items in turn; `between` runs after each page.
async fn walk_from(
    app: &TestApp,
    first: &str,
    rest: &str,
    field: &str,
    mut between: impl AsyncFnMut(),
) -> Vec<Value> {
    let mut items = Vec::new();
    let mut path = first.to_owned();
    loop {
        let body = page(app, &path).await;
        items.extend(body[field].as_array().expect("a list").iter().cloned());
        between().await;
        match body["nextCursor"].as_str() {
            Some(cursor) => path = with(rest, "cursor", cursor),
            None => return items,
        }
    }
}

async fn walk(app: &TestApp, path: &str, field: &str, between: impl AsyncFnMut()) -> Vec<Value> {
    walk_from(app, path, path, field, between).await
}

fn ids(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[key].as_str().expect("an id").to_owned())
        .collect()
}

#[tokio::test]
async fn every_list_takes_a_limit_from_1_to_1000_and_names_a_bad_one_or_a_bad_cursor() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({"musique": {"stores": 1}})).await;
    let t = tenant.id();
    let lists = [
        "/tenants".to_owned(),
        format!("/tenants/{t}/sends"),
        format!("/tenants/{t}/sends?audioId=aud_x"),
        format!("/tenants/{t}/requests"),
        format!("/tenants/{t}/faults"),
        format!("/tenants/{t}/webhooks"),
        format!("/tenants/{t}/outbox"),
        format!("/tenants/{t}/locations/store_001/player"),
    ];
    for list in &lists {
        for limit in ["1", "1000"] {
            page(&app, &with(list, "limit", limit)).await;
        }
        for limit in ["0", "1001", "ten", "-1", "", "2.5", "99999999999999999999"] {
            let (status, body) = app
                .control_json(Method::GET, &with(list, "limit", limit), None)
                .await;
            assert_eq!(status, 400, "{list} limit={limit}: {body}");
            assert_eq!(body["error"]["code"], "validation_error", "{body}");
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains("`limit`"), "{list} limit={limit}: {message}");
        }
        for cursor in ["nonsense", "7468697320697320", ""] {
            let (status, body) = app
                .control_json(Method::GET, &with(list, "cursor", cursor), None)
                .await;
            assert_eq!(status, 400, "{list} cursor={cursor:?}: {body}");
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains("`cursor`"), "{list}: {message}");
        }
    }
    // One list's cursor is not another's.
    app.create_tenant(json!({})).await;
    let tenants = page(&app, "/tenants?limit=1").await;
    let cursor = tenants["nextCursor"].as_str().expect("more tenants");
    let (status, _) = app
        .control_json(Method::GET, &format!("/tenants/{t}/sends?cursor={cursor}"), None)
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_page_holds_100_by_default() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let path = format!("/tenants/{}/webhooks", tenant.id());
    for _ in 0..101 {
        let (status, body) = app
            .control_json(Method::POST, &path, Some(json!({"url": "http://127.0.0.1:9/x"})))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let first = page(&app, &path).await;
    assert_eq!(first["webhooks"].as_array().map(Vec::len), Some(100));
    assert_eq!(first["total"], 101);
    let cursor = first["nextCursor"].as_str().expect("a second page");
    let second = page(&app, &with(&path, "cursor", cursor)).await;
    assert_eq!(second["webhooks"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["nextCursor"], Value::Null);
    let all = page(&app, &with(&path, "limit", "1000")).await;
    assert_eq!(all["webhooks"].as_array().map(Vec::len), Some(101));
    assert_eq!(all["nextCursor"], Value::Null);
    let mut walked = ids(first["webhooks"].as_array().expect("list"), "id");
    walked.extend(ids(second["webhooks"].as_array().expect("list"), "id"));
    assert_eq!(walked, ids(all["webhooks"].as_array().expect("list"), "id"));
}

#[tokio::test]
async fn a_walk_through_the_sends_meets_each_once_newest_first_while_sends_are_made() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(json!({"musique": {"stores": 2}, "clock": {"at": T0, "frozen": true}}))
        .await;
    let token = tenant.token("prod");
    let audio = app.upload_tone(&token).await;
    let other = app.upload_tone(&token).await;
    let mut made = Vec::new();
    for i in 0..7 {
        let (status, body) = app.send(&token, &audio, json!({})).await;
        assert_eq!(status, 200, "{body}");
        made.push(body["sendId"].as_str().expect("id").to_owned());
        // Some in the same millisecond, some apart.
        if i % 3 == 0 {
            app.move_clock(tenant.id(), json!({"advanceMs": 1})).await;
        }
    }
    app.send(&token, &other, json!({})).await;

    let path = format!("/tenants/{}/sends?audioId={audio}&limit=3", tenant.id());
    let first = page(&app, &path).await;
    assert_eq!(first["total"], 7);
    assert_eq!(first["sends"].as_array().map(Vec::len), Some(3));
    let mut newer = Vec::new();
    let walked = walk(&app, &path, "sends", async || {
        let (_, body) = app.send(&token, &audio, json!({})).await;
        newer.push(body["sendId"].as_str().expect("id").to_owned());
    })
    .await;
    let expected: Vec<String> = made.iter().rev().cloned().collect();
    assert_eq!(ids(&walked, "sendId"), expected, "newest first, each once");
    assert!(
        walked
            .iter()
            .all(|s| s["destinations"].as_array().map(Vec::len) == Some(2))
    );

    // The sends made meanwhile are newer: they head the next walk.
    let everything = page(&app, &format!("/tenants/{}/sends?limit=1000", tenant.id())).await;
    assert_eq!(everything["total"], 7 + 1 + newer.len());
    let listed = ids(everything["sends"].as_array().expect("list"), "sendId");
    let heads: Vec<String> = newer.iter().rev().cloned().collect();
    assert_eq!(listed[..newer.len()], heads[..]);
    assert_eq!(everything["nextCursor"], Value::Null);
}

#[tokio::test]
async fn the_journal_walks_from_its_oldest_entry_once_each_while_requests_arrive() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let token = tenant.token("prod");
    for _ in 0..5 {
        app.get_json("/audio", &token).await;
    }
    let rest = format!("/tenants/{}/requests?limit=2", tenant.id());
    let walked = walk_from(&app, &with(&rest, "after", "0"), &rest, "requests", async || {
        app.get_json("/audio", &token).await;
    })
    .await;
    let numbers: Vec<u64> = walked.iter().map(|e| e["id"].as_u64().expect("id")).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "in order: {numbers:?}");
    // Every entry, the ones that arrived during the walk too, up to the last page's.
    let all = page(&app, &format!("/tenants/{}/requests?limit=1000", tenant.id())).await;
    let every: Vec<u64> = all["requests"]
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(numbers[..], every[..numbers.len()]);
    assert!(numbers.len() >= 7, "{numbers:?}");

    // Without `after`, the newest page, and nothing follows it.
    let tail = page(&app, &format!("/tenants/{}/requests?limit=2", tenant.id())).await;
    assert_eq!(tail["requests"][1]["id"], *every.last().expect("entries"));
    assert_eq!(tail["nextCursor"], Value::Null);
    let (status, body) = app
        .control_json(
            Method::GET,
            &format!("/tenants/{}/requests?after=1&cursor={}", tenant.id(), "00"),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn tenants_page_oldest_first_and_new_ones_come_at_the_end() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.create_tenant(json!({})).await;
    }
    let first = page(&app, "/tenants?limit=2").await;
    assert_eq!(first["total"], 4, "the default tenant and three");
    let mut late = Vec::new();
    let walked = walk(&app, "/tenants?limit=2", "tenants", async || {
        if late.is_empty() {
            late.push(app.create_tenant(json!({})).await.id().to_owned());
        }
    })
    .await;
    let all = page(&app, "/tenants?limit=1000").await;
    let every = ids(all["tenants"].as_array().expect("list"), "id");
    assert_eq!(
        ids(&walked, "id"),
        every,
        "each once, oldest first, the new one last"
    );
    assert_eq!(every[0], "default");
    assert_eq!(every.last(), late.last());
    assert_eq!(all["total"], 5);
}

#[tokio::test]
async fn faults_and_the_outbox_page_in_the_order_they_were_made() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let path = format!("/tenants/{}/faults", tenant.id());
    let mut made = Vec::new();
    for i in 0..5 {
        let (_, fault) = app
            .control_json(
                Method::POST,
                &path,
                Some(json!({"path": format!("/x/{i}"), "status": 503})),
            )
            .await;
        made.push(fault["id"].as_str().expect("id").to_owned());
    }
    // A deletion during the walk leaves the others where they were.
    let mut deleted = false;
    let walked = walk(&app, &with(&path, "limit", "2"), "faults", async || {
        if !deleted {
            deleted = true;
            app.control_json(Method::DELETE, &format!("{path}/{}", made[0]), None)
                .await;
        }
    })
    .await;
    assert_eq!(ids(&walked, "id"), made);
    assert_eq!(page(&app, &path).await["total"], 4);

    let outbox = page(&app, &format!("/tenants/{}/outbox", tenant.id())).await;
    assert_eq!(outbox["total"], 0);
    assert_eq!(outbox["events"], json!([]));
    assert_eq!(outbox["nextCursor"], Value::Null);
}
