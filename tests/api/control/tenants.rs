//! `/_soundcheck/tenants`: isolated sandboxes, their reset and deletion.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_new_tenant_gets_a_company_stores_tokens_and_keys_that_work_at_once() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(json!({"name": "checkout", "musique": {"company": "shop", "stores": 3}}))
        .await;
    let body = &tenant.0;
    assert!(tenant.id().starts_with("ten_"), "{body}");
    assert_eq!(body["name"], "checkout");
    assert_eq!(body["musique"]["company"], "shop");
    let stores: Vec<&str> = body["musique"]["locations"]
        .as_array()
        .expect("locations")
        .iter()
        .map(|l| l["externalId"].as_str().expect("id"))
        .collect();
    assert_eq!(stores, ["store_001", "store_002", "store_003"]);
    assert!(tenant.token("prod").starts_with("shop_prod_"));
    assert!(tenant.token("dev").starts_with("shop_dev_"));
    assert_eq!(body["musicark"]["keys"].as_array().expect("keys").len(), 3);
    assert!(
        body["musique"]["baseUrl"]
            .as_str()
            .is_some_and(|u| u.ends_with("/api/v1/integration"))
    );

    let (status, info) = app.get_json("/", &tenant.token("prod")).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["integration"]["company"], "shop");
    assert_eq!(info["integration"]["locations"], 3);
    let (status, songs) = app.ark_json("/songs?limit=1", &tenant.ark_key("pro")).await;
    assert_eq!(status, 200, "{songs}");

    let (status, view) = app
        .control_json(Method::GET, &format!("/tenants/{}", tenant.id()), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(view["companies"][0]["prefix"], "shop");
    assert!(
        !view.to_string().contains(&tenant.token("prod")),
        "no secret in the view"
    );
}

#[tokio::test]
async fn two_tenants_used_in_parallel_never_see_each_others_data_limits_clock_or_journal() {
    let app = TestApp::spawn().await;
    let spec = |limit: u32| {
        json!({"musique": {"stores": 2, "tokens": [{"limits": {"perMinute": limit, "perHour": 1000, "perDay": 1000}}]},
               "clock": {"at": T0, "frozen": true}})
    };
    let (a, b) = tokio::join!(app.create_tenant(spec(3)), app.create_tenant(spec(50)));
    let (ta, tb) = (a.token("prod"), b.token("prod"));

    let (audio_a, audio_b) = tokio::join!(app.upload_tone(&ta), app.upload_tone(&tb));
    let (_, list_a) = app.get_json("/audio", &ta).await;
    assert_eq!(list_a["pagination"]["total"], 1);
    assert_eq!(list_a["audio"][0]["id"], audio_a.as_str());
    let (status, _) = app.get_json(&format!("/audio/{audio_b}"), &ta).await;
    assert_eq!(status, 404, "another tenant's audio is not found");

    // A's 3 a minute are spent (upload, list, get); B's 50 are not.
    let (status, _) = app.get_json("/audio", &ta).await;
    assert_eq!(status, 429);
    let (status, _) = app.get_json("/audio", &tb).await;
    assert_eq!(status, 200);

    app.move_clock(a.id(), json!({"advance": "1d"})).await;
    let (_, clock_b) = app
        .control_json(Method::GET, &format!("/tenants/{}/clock", b.id()), None)
        .await;
    assert_eq!(
        clock_b["now"], "2026-11-23T12:00:00.000Z",
        "B's clock did not move"
    );
    let (status, _) = app.get_json("/audio", &ta).await;
    assert_eq!(status, 200, "A's window reopened on A's clock");

    let (_, journal_b) = app
        .control_json(Method::GET, &format!("/tenants/{}/requests", b.id()), None)
        .await;
    let entries = journal_b["requests"].as_array().expect("entries");
    assert_eq!(entries.len(), 2, "B's upload and list: {journal_b}");
    assert!(entries.iter().all(|e| !e.to_string().contains(&audio_a)));
}

#[tokio::test]
async fn resetting_a_tenant_empties_it_keeps_its_tokens_and_leaves_the_other_alone() {
    let app = TestApp::spawn().await;
    let a = app
        .create_tenant(json!({"clock": {"at": T0, "frozen": true}}))
        .await;
    let b = app.create_tenant(json!({})).await;
    let (ta, tb) = (a.token("prod"), b.token("prod"));
    let id_a = app.upload_tone(&ta).await;
    app.send(&ta, &id_a, json!({"externalIds": ["store_001"]})).await;
    app.upload_tone(&tb).await;
    app.move_clock(a.id(), json!({"advance": "3h"})).await;

    let (status, _) = app
        .control_json(Method::POST, &format!("/tenants/{}/reset", a.id()), None)
        .await;
    assert_eq!(status, 200);

    let (status, list_a) = app.get_json("/audio", &ta).await;
    assert_eq!(status, 200, "the same token still works: {list_a}");
    assert_eq!(list_a["pagination"]["total"], 0);
    let (_, clock) = app
        .control_json(Method::GET, &format!("/tenants/{}/clock", a.id()), None)
        .await;
    assert_eq!(
        clock["now"], "2026-11-23T12:00:00.000Z",
        "back to its first clock"
    );
    let (_, journal) = app
        .control_json(Method::GET, &format!("/tenants/{}/requests", a.id()), None)
        .await;
    assert_eq!(
        journal["requests"].as_array().map(|r| r.len()),
        Some(1),
        "only the list after reset"
    );
    let (_, list_b) = app.get_json("/audio", &tb).await;
    assert_eq!(list_b["pagination"]["total"], 1, "B keeps its audio");
}

#[tokio::test]
async fn resetting_the_default_tenant_restores_the_fixtures_and_touches_no_other() {
    let app = TestApp::spawn().await;
    let other = app.create_tenant(json!({})).await;
    app.upload_tone(MSK).await;
    app.upload_tone(&other.token("prod")).await;
    let (_, info) = app.get_json("/", MSK).await;
    assert_eq!(info["integration"]["locations"], 50);

    let (status, body) = app.control_json(Method::POST, "/reset", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.library_ids(MSK).await,
        [EXAMPLE_AUDIO],
        "the upload is gone, the example announcement is back"
    );
    let (status, _) = app.get_json("/audio", ACME).await;
    assert_eq!(status, 200, "fixture tokens still work");
    let (_, list) = app.get_json("/audio", &other.token("prod")).await;
    assert_eq!(list["pagination"]["total"], 1);
}

#[tokio::test]
async fn deleting_a_tenant_removes_everything_it_owns_and_refuses_its_keys() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let token = tenant.token("prod");
    let id = app.upload_tone(&token).await;
    app.send(&token, &id, json!({})).await;

    let (status, _) = app
        .control_json(Method::DELETE, &format!("/tenants/{}", tenant.id()), None)
        .await;
    assert_eq!(status, 204);
    let (status, body) = app.get_json("/audio", &token).await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = app.ark_json("/songs", &tenant.ark_key("free")).await;
    assert_eq!(status, 401);
    // What is left is the default tenant's example announcement.
    for (table, left) in [
        ("audio", FIXTURE_AUDIO),
        ("audio_blobs", FIXTURE_AUDIO),
        ("sends", 0),
        ("send_destinations", 0),
    ] {
        assert_eq!(app.count(table).await, left, "{table}");
    }
    let (status, body) = app
        .control_json(Method::GET, &format!("/tenants/{}", tenant.id()), None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn bad_tenant_requests_are_clear_400s_404s_and_409s() {
    let app = TestApp::spawn().await;
    app.create_tenant(json!({"musique": {"company": "taken"}})).await;
    let cases = [
        (json!({"musique": {"stores": 0}}), 400, "stores"),
        (json!({"musique": {"stores": "3"}}), 400, "musique.stores"),
        (
            json!({"musique": {"stores": 2, "externalIds": ["a"]}}),
            400,
            "not both",
        ),
        (json!({"musique": {"externalIds": ["a", "a"]}}), 400, "repeats"),
        (
            json!({"musique": {"company": "Bad-Prefix"}}),
            400,
            "musique.company",
        ),
        (
            json!({"musique": {"tokens": [{"environment": "staging"}]}}),
            400,
            "environment",
        ),
        (
            json!({"musique": {"tokens": [{"permissions": ["audio.admin"]}]}}),
            400,
            "permissions",
        ),
        (
            json!({"musique": {"tokens": [{"externalIds": ["nope"]}]}}),
            400,
            "externalIds",
        ),
        (json!({"musicark": {"keys": [{"tier": "gold"}]}}), 400, "tier"),
        (
            json!({"musicark": {"keys": [{"tier": "free", "monthlyLimit": 0}]}}),
            400,
            "monthlyLimit",
        ),
        (json!({"clock": {"at": "noon"}}), 400, "clock.at"),
        (json!({"colour": "blue"}), 400, "colour"),
        (json!([]), 400, ""),
        (json!({"musique": {"company": "taken"}}), 409, "taken"),
    ];
    for (spec, status, names) in cases {
        let (got, body) = app
            .control_json(Method::POST, "/tenants", Some(spec.clone()))
            .await;
        assert_eq!(got, status, "{spec}: {body}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains(names), "{spec}: {message:?} should name {names}");
        assert!(
            body["error"]["requestId"]
                .as_str()
                .is_some_and(|r| r.starts_with("req_"))
        );
    }
    let response = app
        .control(Method::POST, "/tenants")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    let (status, body) = json(response).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );
    let (status, body) = app.control_json(Method::DELETE, "/tenants/default", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("conflict")));
    let (status, _) = app
        .control_json(Method::POST, "/tenants/ten_nope/reset", None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_client_with_its_creations_in_flight_gets_429_in_the_control_envelope() {
    let app = TestApp::spawn_with(|c| c.tenant_creations_in_flight = 2).await;
    let loopback = Some(std::net::IpAddr::from([127, 0, 0, 1]));
    let limits = app.state.core.admission.tenant_creations.clone();

    let first = limits.try_acquire(loopback).expect("a free slot");
    app.create_tenant(json!({})).await;

    let second = limits.try_acquire(loopback).expect("the second slot");
    let response = app
        .control(Method::POST, "/tenants")
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let (status, body) = json(response).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded", "{body}");
    assert_eq!(body["error"]["type"], "rate_limit_error", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("at most 2"))
    );
    assert!(
        body["error"]["requestId"]
            .as_str()
            .is_some_and(|r| r.starts_with("req_"))
    );
    // A refused creation leaves nothing behind.
    let (_, list) = app.control_json(Method::GET, "/tenants", None).await;
    assert_eq!(list["tenants"].as_array().map(Vec::len), Some(2), "{list}");

    drop((first, second));
    app.create_tenant(json!({})).await;
    assert_eq!(limits.held(&loopback), 0, "every creation gave its slot back");
}

/// The stored argon2id parameters of every secret of a tenant, company token included.
async fn stored_parameters(app: &TestApp, tenant: &str) -> Vec<String> {
    let hashes: Vec<String> = sqlx::query_scalar(
        "SELECT hash FROM api_keys WHERE tenant_id = ?1
         UNION ALL SELECT company_token_hash FROM companies WHERE tenant_id = ?1",
    )
    .bind(tenant)
    .fetch_all(&app.state.core.db.read)
    .await
    .expect("hashes");
    hashes
        .iter()
        .map(|h| h.split('$').take(4).collect::<Vec<_>>().join("$"))
        .collect()
}

#[tokio::test]
async fn a_tenant_says_how_its_secrets_are_hashed_and_is_stored_so() {
    let app = TestApp::spawn_with(|c| c.hash_cost = soundcheck::hasher::HashCost::Default).await;
    // Throwaway tenants get the cheap preset unless they ask, whatever `--hash-cost` says.
    let cheap = app.create_tenant(json!({})).await;
    assert_eq!(cheap.0["hashCost"], "fast", "{}", cheap.0);
    assert_eq!(
        cheap.0["hashParameters"],
        json!({"algorithm": "argon2id", "memoryKib": 8, "iterations": 1, "parallelism": 1})
    );
    let stored = stored_parameters(&app, cheap.id()).await;
    assert_eq!(stored.len(), 6, "2 tokens, 3 keys, the company token");
    assert!(
        stored.iter().all(|p| p == "$argon2id$v=19$m=8,t=1,p=1"),
        "{stored:?}"
    );

    // The default preset, asked for (few secrets: it is slow in a debug build).
    let strong = app
        .create_tenant(json!({
            "hashCost": "default",
            "musique": {"tokens": [{"environment": "prod"}]},
            "musicark": {"keys": [{"tier": "pro"}]}
        }))
        .await;
    assert_eq!(strong.0["hashCost"], "default");
    assert_eq!(
        strong.0["hashParameters"],
        json!({"algorithm": "argon2id", "memoryKib": 7168, "iterations": 5, "parallelism": 1})
    );
    let stored = stored_parameters(&app, strong.id()).await;
    assert_eq!(stored.len(), 3);
    assert!(
        stored.iter().all(|p| p == "$argon2id$v=19$m=7168,t=5,p=1"),
        "{stored:?}"
    );
    let (status, body) = app.get_json("/health", &strong.token("prod")).await;
    assert_eq!(status, 200, "a default-cost token verifies: {body}");
    let stats = app.state.core.hasher.stats();
    assert!(
        stats.blocks_held <= 2 * 7168,
        "two workers, one block each: {stats:?}"
    );

    let (status, body) = app
        .control_json(Method::POST, "/tenants", Some(json!({"hashCost": "cheap"})))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("hashCost"))
    );
}

#[tokio::test]
async fn the_readme_and_the_control_document_name_the_cheaper_tenant_hash_cost() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    for needle in ["`--tenant-hash-cost`", "`hashCost`", "m=8 KiB"] {
        assert!(readme.contains(needle), "README lacks {needle}");
    }
    let control: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("openapi/control.json")).expect("control.json"),
    )
    .expect("json");
    let schemas = &control["components"]["schemas"];
    for (schema, field) in [
        ("TenantSpec", "hashCost"),
        ("Created", "hashCost"),
        ("Created", "hashParameters"),
    ] {
        assert!(
            schemas[schema]["properties"][field].is_object(),
            "{schema}.{field} is not documented"
        );
    }
    let create = &control["paths"]["/tenants"]["post"];
    assert!(
        create["description"]
            .as_str()
            .is_some_and(|d| d.contains("hashCost"))
    );
    assert!(create["responses"]["429"].is_object());
}

#[tokio::test]
async fn a_post_without_a_body_makes_a_tenant_of_defaults_and_the_document_says_the_body_is_optional() {
    let app = TestApp::spawn().await;
    let response = app
        .control(Method::POST, "/tenants")
        .send()
        .await
        .expect("request");
    let (status, body) = json(response).await;
    assert_eq!(status, 201, "{body}");
    assert!(
        body["id"].as_str().is_some_and(|id| id.starts_with("ten_")),
        "{body}"
    );

    let response = app
        .client
        .get(app.url("/openapi/control.json"))
        .send()
        .await
        .expect("request");
    let (_, document) = json(response).await;
    let body = &document["paths"]["/tenants"]["post"]["requestBody"];
    assert_eq!(body["required"], false, "{body}");
}
