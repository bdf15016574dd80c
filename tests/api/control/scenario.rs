//! Scenarios: a tenant exported as one document, loaded into a new tenant all or nothing,
//! and the same document exported again; bad scenarios name the JSON path of the problem.

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn export(app: &TestApp, tenant: &str) -> Value {
    let (status, body) = app
        .control_json(Method::GET, &format!("/tenants/{tenant}/scenario"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn load(app: &TestApp, scenario: &Value) -> (u16, Value) {
    app.control_json(Method::POST, "/tenants", Some(json!({"scenario": scenario})))
        .await
}

/// The document with every id the load changed replaced by its new one.
fn mapped(scenario: &Value, mapping: &Value) -> Value {
    let mut text = scenario.to_string();
    for kind in ["companies", "keys", "audio", "sends", "webhooks"] {
        for (old, new) in mapping[kind].as_object().expect("mapping") {
            let new = new.as_str().expect("id");
            text = text.replace(&format!("\"{old}\""), &format!("\"{new}\""));
        }
    }
    serde_json::from_str(&text).expect("json")
}

/// Where two documents first differ.
fn difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                difference(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{path}.{k}"),
                )
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => (x.iter().zip(y))
            .enumerate()
            .find_map(|(i, (p, q))| difference(p, q, &format!("{path}[{i}]"))),
        _ => (a != b).then(|| format!("{path}: {a} != {b}")),
    }
}

fn example() -> Value {
    serde_json::from_slice(&fixture("scenario-example.json")).expect("example scenario")
}

#[tokio::test]
async fn export_load_export_gives_the_same_document_modulo_the_id_mapping() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(
            json!({"musique": {"stores": 3, "companyName": "Shop"}, "clock": {"at": T0, "frozen": true}}),
        )
        .await;
    let id = tenant.id();
    let token = tenant.token("prod");
    let audio = app.upload_tone(&token).await;
    let (status, body) = app
        .control_json(
            Method::POST,
            &format!("/tenants/{id}/locations/store_003/player"),
            Some(json!({"online": false, "failAfter": "1m"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for (stores, extra) in [
        (json!(["store_001"]), json!({})),
        (
            json!(["store_002"]),
            json!({"scheduleAt": "2026-11-23T13:00:00Z", "priority": "high"}),
        ),
        (json!(["store_003"]), json!({})),
    ] {
        let mut body = json!({"externalIds": stores});
        body.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        let (status, answer) = app.send(&token, &audio, body).await;
        assert_eq!(status, 200, "{answer}");
    }
    let (status, body) = app
        .control_json(
            Method::POST,
            &format!("/tenants/{id}/faults"),
            Some(json!({"path": "/api/v1/songs/missing", "status": 503, "times": 3})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = app.ark_json("/songs/missing", &tenant.ark_key("free")).await;
    assert_eq!(status, 503);
    let (status, _) = app.ark_json("/songs?limit=1", &tenant.ark_key("free")).await;
    assert_eq!(status, 200);
    let (status, body) = app
        .control_json(
            Method::POST,
            &format!("/tenants/{id}/webhooks"),
            Some(json!({"url": "http://127.0.0.1:9/hook", "events": ["delivery.played"]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    app.move_clock(id, json!({"advance": "2m"})).await;

    let first = export(&app, id).await;
    let company = &first["companies"][0];
    let statuses: Vec<&str> = company["sends"]
        .as_array()
        .expect("sends")
        .iter()
        .map(|s| s["destinations"][0]["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["played", "scheduled", "failed"], "{first}");
    assert_eq!(company["players"][0]["externalId"], "store_003");
    assert_eq!(company["players"][0]["online"], false);
    assert_eq!(
        first["clock"],
        json!({"now": "2026-11-23T12:02:00.000Z", "frozen": true})
    );
    assert_eq!(first["faults"][0]["fired"], 1);
    assert_eq!(first["faults"][0]["remaining"], 2);
    assert_eq!(first["musicarkKeys"][0]["usage"][0]["count"], 1, "{first}");
    assert!(
        first["webhooks"][0].get("secret").is_none(),
        "no signing secret in a scenario"
    );
    assert!(
        company["tokens"][0].get("token").is_none(),
        "a generated token is a secret and stays out"
    );
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(company["audio"][0]["bytes"].as_str().expect("bytes"))
        .expect("base64");
    assert_eq!(bytes, fixture("tone_1s.mp3"));

    let (status, loaded) = load(&app, &first).await;
    assert_eq!(status, 201, "{loaded}");
    // The original still holds every id, so each was given a new one.
    assert_eq!(
        loaded["mapping"]["audio"].as_object().expect("map").len(),
        1,
        "{loaded}"
    );
    assert_eq!(loaded["mapping"]["sends"].as_object().expect("map").len(), 3);
    assert_eq!(loaded["mapping"]["companies"].as_object().expect("map").len(), 1);
    let second = export(&app, loaded["id"].as_str().expect("id")).await;
    let expected = mapped(&first, &loaded["mapping"]);
    assert_eq!(difference(&second, &expected, "$"), None);
}

#[tokio::test]
async fn a_scenario_committed_beside_a_test_loads_in_one_call_and_behaves() {
    let app = TestApp::spawn().await;
    let scenario = example();
    let (status, loaded) = load(&app, &scenario).await;
    assert_eq!(status, 201, "{loaded}");
    let tenant = loaded["id"].as_str().expect("id");
    let token = loaded["companies"][0]["tokens"][0]["secret"]
        .as_str()
        .expect("token");
    assert!(
        token.starts_with("shop_prod_"),
        "a new token for the defined key: {token}"
    );

    let (status, list) = app.get_json("/audio", token).await;
    assert_eq!(status, 200, "{list}");
    let object = &list["audio"][0];
    assert_eq!(object["id"], "aud_examplejingle1", "{list}");
    let media = app
        .client
        .get(object["url"].as_str().expect("url"))
        .send()
        .await
        .expect("media");
    assert_eq!(media.status(), 200);
    assert_eq!(
        media.bytes().await.expect("bytes").to_vec(),
        fixture("tone_1s.mp3")
    );

    let sends = |v: &Value| v["sends"][0]["destinations"][0]["status"].clone();
    let (_, before) = app
        .control_json(Method::GET, &format!("/tenants/{tenant}/sends"), None)
        .await;
    assert_eq!(sends(&before), "scheduled", "{before}");
    app.move_clock(tenant, json!({"advance": "1h"})).await;
    let (_, after) = app
        .control_json(Method::GET, &format!("/tenants/{tenant}/sends"), None)
        .await;
    assert_eq!(sends(&after), "playing", "{after}");

    let key = loaded["musicarkKeys"][0]["secret"].as_str().expect("key");
    let response = app.musicark("/songs?limit=1", key).send().await.expect("songs");
    assert_eq!(
        response.headers()["x-ratelimit-remaining"]
            .to_str()
            .expect("header"),
        "92",
        "the quota goes on from the scenario's 7 calls"
    );
}

/// A change that spoils the example.
type Mutation = Box<dyn Fn(&mut Value)>;

#[tokio::test]
async fn a_bad_scenario_is_a_400_naming_the_json_path_and_leaves_nothing() {
    let app = TestApp::spawn().await;
    let before = app.count("tenants").await;
    let cases: Vec<(&str, Mutation, &str)> = vec![
        (
            "version",
            Box::new(|s| s["scenarioVersion"] = json!(2)),
            "$.scenarioVersion:",
        ),
        (
            "a mistyped field",
            Box::new(|s| s["companies"][0]["stores"][0]["userId"] = json!("x")),
            "$.companies[0].stores[0].userId: invalid type",
        ),
        (
            "an unknown field",
            Box::new(|s| s["companies"][0]["colour"] = json!("red")),
            "$.companies[0].colour: unknown field `colour`",
        ),
        (
            "a destination that is no store",
            Box::new(|s| s["companies"][0]["sends"][0]["destinations"][0]["externalId"] = json!("nowhere")),
            "$.companies[0].sends[0].destinations[0].externalId: unknown store",
        ),
        (
            "a send of unknown audio",
            Box::new(|s| s["companies"][0]["sends"][0]["audioId"] = json!("aud_00000000000000")),
            "$.companies[0].sends[0].audioId: unknown audio",
        ),
        (
            "bytes that are no MP3",
            Box::new(|s| s["companies"][0]["audio"][0]["bytes"] = json!("aGVsbG8=")),
            "$.companies[0].audio[0].bytes: is not an MP3 file",
        ),
        (
            "a bad instant",
            Box::new(|s| s["clock"]["now"] = json!("noon")),
            "$.clock.now: must be an RFC 3339 instant",
        ),
        (
            "a webhook to the internet",
            Box::new(
                |s| s["webhooks"] = json!([{"id": "whk_1", "url": "http://93.184.215.14/hook", "events": ["send.created"], "maxAttempts": 1, "createdAt": T0}]),
            ),
            "$.webhooks[0].url: must name a loopback or private-network host",
        ),
        (
            "a fault without effect",
            Box::new(|s| s["faults"] = json!([{"id": "flt_1", "path": "/x"}])),
            "$.faults[0]:",
        ),
    ];
    for (what, mutate, expected) in cases {
        let mut scenario = example();
        mutate(&mut scenario);
        let (status, body) = load(&app, &scenario).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert_musique_error(&body, "validation_error", "invalid_request_error");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.starts_with(expected), "{what}: {message}");
    }
    assert_eq!(
        app.count("tenants").await,
        before,
        "no bad scenario made a tenant"
    );
    let (status, body) = app
        .control_json(
            Method::POST,
            "/tenants",
            Some(json!({"scenario": example(), "name": "x"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

/// The example with `n` copies of its audio (new ids), `stores` stores and `sends` sends.
fn sized(audio: usize, stores: usize, sends: usize) -> Value {
    let mut s = example();
    let company = &mut s["companies"][0];
    let one = company["audio"][0].clone();
    company["audio"] = (0..audio)
        .map(|i| {
            let mut a = one.clone();
            a["id"] = json!(format!("aud_{i:014}"));
            a
        })
        .collect();
    company["stores"] = (0..stores)
        .map(|i| json!({"externalId": format!("s{i}"), "userId": 9000 + i}))
        .collect();
    let send = company["sends"][0].clone();
    company["sends"] = (0..sends)
        .map(|i| {
            let mut x = send.clone();
            x["id"] = json!(format!("snd_{i:014}"));
            x["audioId"] = json!("aud_00000000000000");
            x["destinations"] = json!([{"externalId": "s0"}]);
            x
        })
        .collect();
    s
}

#[tokio::test]
async fn scenarios_are_bounded_and_each_bound_is_tested() {
    let app = TestApp::spawn().await;
    for (what, at_bound, over, message) in [
        (
            "audio",
            sized(100, 1, 0),
            sized(101, 1, 0),
            "$.companies: hold 101 audio items; at most 100.",
        ),
        (
            "stores",
            sized(1, 1000, 0),
            sized(1, 1001, 0),
            "$.companies[0].stores: may list at most 1000; got 1001.",
        ),
        (
            "sends",
            sized(1, 1, 1000),
            sized(1, 1, 1001),
            "$.companies: hold 1001 sends; at most 1000.",
        ),
    ] {
        let (status, body) = load(&app, &at_bound).await;
        assert_eq!(status, 201, "{what} at the bound: {body}");
        let (status, body) = load(&app, &over).await;
        assert_eq!(status, 400, "{what} over the bound: {body}");
        assert_eq!(body["error"]["message"], message);
    }
    let mut faults = example();
    faults["faults"] = (0..101)
        .map(|i| json!({"id": format!("flt_{i}"), "path": "/x", "status": 500}))
        .collect();
    let (status, body) = load(&app, &faults).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["message"],
        "$.faults: may list at most 100; got 101."
    );
    faults["faults"].as_array_mut().expect("faults").pop();
    let (status, body) = load(&app, &faults).await;
    assert_eq!(status, 201, "{body}");

    // The body: 32 MiB with a scenario (padding is JSON whitespace), one byte more is 413.
    let limit = 32 * 1024 * 1024;
    let text = json!({"scenario": example()}).to_string();
    for (size, expected) in [(limit, 201), (limit + 1, 413)] {
        let body = format!("{text}{}", " ".repeat(size - text.len()));
        let response = app
            .control(Method::POST, "/tenants")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("post");
        assert_eq!(response.status().as_u16(), expected, "a body of {size} bytes");
    }
    // Without a scenario, the control plane's 256 KiB holds as before.
    let body = format!("{{}}{}", " ".repeat(256 * 1024));
    let response = app
        .control(Method::POST, "/tenants")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 413);
}

#[tokio::test]
async fn the_cli_loads_a_scenario_file_that_a_server_started_on_the_database_serves() {
    let app = TestApp::spawn().await;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/scenario-example.json"
    );
    let out = crate::cli::run_cli(&app, &["tenants", "create", "--scenario", path]).await;
    let loaded: Value = serde_json::from_str(&out).expect("the CLI prints the answer as JSON");
    let token = loaded["companies"][0]["tokens"][0]["secret"]
        .as_str()
        .expect("token")
        .to_owned();
    let app = app.restart().await;
    let (status, list) = app.get_json("/audio", &token).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["audio"][0]["id"], "aud_examplejingle1", "{list}");

    let mut faults = example();
    faults["faults"] = json!([{"id": "flt_1", "path": "/x", "status": 500}]);
    let file = std::env::temp_dir().join(format!("scenario-faults-{}.json", std::process::id()));
    std::fs::write(&file, faults.to_string()).expect("write");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_soundcheck"))
        .args(["tenants", "create", "--scenario"])
        .arg(&file)
        .arg("--db")
        .arg(app.db_path())
        .output()
        .await
        .expect("run soundcheck");
    let _ = std::fs::remove_file(&file);
    assert!(
        !output.status.success(),
        "faults cannot be written to the database"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("POST the scenario"));
}

#[tokio::test]
async fn a_fixed_public_token_is_kept_and_exported_again_unless_another_tenant_can_hold_it() {
    let app = TestApp::spawn().await;
    let mut scenario = example();
    scenario["companies"][0]["prefix"] = json!("fixd");
    scenario["companies"][0]["tokens"][0]["token"] = json!("fixd_prod_1234567890abcdef");
    scenario["musicarkKeys"][0]["token"] = json!("mk_live_fixedpublictestkey0001");
    let (status, loaded) = load(&app, &scenario).await;
    assert_eq!(status, 201, "{loaded}");
    let issued = &loaded["companies"][0]["tokens"][0];
    assert_eq!(issued["secret"], "fixd_prod_1234567890abcdef");
    assert_eq!(issued["fixed"], true);
    assert_eq!(loaded["musicarkKeys"][0]["fixed"], true);
    let (status, _) = app.get_json("/audio", "fixd_prod_1234567890abcdef").await;
    assert_eq!(status, 200);
    let exported = export(&app, loaded["id"].as_str().expect("id")).await;
    assert_eq!(
        exported["companies"][0]["tokens"][0]["token"],
        "fixd_prod_1234567890abcdef"
    );
    assert_eq!(
        exported["musicarkKeys"][0]["token"],
        "mk_live_fixedpublictestkey0001"
    );

    // Loaded again, the prefix and the MusicArk key are another tenant's: new ones are issued.
    let (status, again) = load(&app, &scenario).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["companies"][0]["tokens"][0]["fixed"], false);
    assert_eq!(again["musicarkKeys"][0]["fixed"], false);
    assert_ne!(again["companies"][0]["prefix"], "fixd");
    assert_eq!(
        again["mapping"]["companies"]["fixd"],
        again["companies"][0]["prefix"]
    );
}

#[tokio::test]
async fn the_default_sandbox_exports_with_its_public_tokens_and_loads_beside_itself() {
    let app = TestApp::spawn().await;
    let scenario = export(&app, "default").await;
    let tokens: Vec<&str> = scenario["companies"]
        .as_array()
        .expect("companies")
        .iter()
        .flat_map(|c| c["tokens"].as_array().expect("tokens"))
        .filter_map(|t| t["token"].as_str())
        .collect();
    assert!(tokens.contains(&"msk_prod_1234567890abcdef"), "{tokens:?}");
    let (status, loaded) = load(&app, &scenario).await;
    assert_eq!(status, 201, "{loaded}");
    assert!(
        loaded["companies"]
            .as_array()
            .expect("companies")
            .iter()
            .all(|c| c["tokens"]
                .as_array()
                .expect("tokens")
                .iter()
                .all(|t| t["fixed"] == false)),
        "the default tenant holds its prefixes and keys, so the copy gets new tokens"
    );
}

#[tokio::test]
async fn the_other_bounds_of_a_scenario_are_tested_too() {
    let app = TestApp::spawn().await;
    // Each case: the field, a list of `n` entries, and the message over the bound.
    type Make = fn(usize) -> Value;
    let cases: [(&str, &str, usize, Make, &str); 5] = [
        (
            "/companies/0/tokens",
            "$.companies[0].tokens",
            20,
            |i| json!({"id": format!("key_t{i}"), "environment": "prod"}),
            "20",
        ),
        (
            "/musicarkKeys",
            "$.musicarkKeys",
            20,
            |i| json!({"id": format!("key_a{i}"), "tier": "free", "monthlyLimit": 100}),
            "20",
        ),
        (
            "/webhooks",
            "$.webhooks",
            10,
            |i| json!({"id": format!("whk_{i}"), "url": "http://127.0.0.1:9/", "events": ["send.created"], "maxAttempts": 1, "createdAt": T0}),
            "10",
        ),
        (
            "/musicarkKeys/0/usage",
            "$.musicarkKeys[0].usage",
            24,
            |i| json!({"month": format!("{}-{:02}", 2025 + i / 12, i % 12 + 1), "count": 1}),
            "24",
        ),
        (
            "/companies/0/players/0/availability",
            "$.companies",
            1000,
            |_| json!({"at": T0, "online": false, "failAfterMs": 1000}),
            "1000",
        ),
    ];
    for (pointer, path, max, make, shown) in cases {
        for n in [max, max + 1] {
            let mut scenario = example();
            scenario["companies"][0]["sends"][0]["keyId"] = Value::Null;
            scenario["webhooks"] = json!([]);
            if pointer.starts_with("/companies/0/players") {
                scenario["companies"][0]["players"] =
                    json!([{"externalId": "store_001", "environment": "prod", "availability": []}]);
            }
            *scenario.pointer_mut(pointer).expect(pointer) = (0..n).map(make).collect();
            let (status, body) = load(&app, &scenario).await;
            if n == max {
                assert_eq!(status, 201, "{path} at {max}: {body}");
            } else {
                assert_eq!(status, 400, "{path} over {max}: {body}");
                let message = body["error"]["message"].as_str().expect("message");
                assert!(message.starts_with(path) && message.contains(shown), "{message}");
            }
        }
    }
    let mut companies = example();
    let one = companies["companies"][0].clone();
    for (n, expected) in [(10, 201), (11, 400)] {
        companies["companies"] = (0..n)
            .map(|i| {
                let mut c = one.clone();
                c["prefix"] = json!(format!("co{i}"));
                c["audio"] = json!([]);
                c["sends"] = json!([]);
                c["tokens"] = json!([]);
                c
            })
            .collect();
        let (status, body) = load(&app, &companies).await;
        assert_eq!(status, expected, "{n} companies: {body}");
    }
}

/// At most `LARGE_BODIES_AT_ONCE` (2) bodies over the JSON limit are read and loaded at once:
/// with two held open by slow clients, a third large creation is 429 with `Retry-After`, and
/// once they are gone a large body is read again (here: not JSON, so 400).
#[tokio::test]
async fn large_bodies_in_flight_are_bounded() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn().await;
    let head = format!(
        "POST /_soundcheck/tenants HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{{\"scenario\":",
        app.addr
    );
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
        stream.write_all(head.as_bytes()).await.expect("write");
        held.push(stream);
    }
    let large = |app: &TestApp| {
        app.client
            .post(app.url("/_soundcheck/tenants"))
            .header("content-type", "application/json")
            .body(vec![b'x'; 300 * 1024])
            .send()
    };
    // The two held bodies take their permits as soon as the server reads their heads.
    let mut refused = None;
    for _ in 0..200 {
        let res = large(&app).await.expect("send");
        if res.status() == 429 {
            refused = Some(res);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let refused = refused.expect("a third large body while two are held is refused");
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded", "{body}");
    // A small body needs no permit.
    let (status, body) = app
        .control_json(Method::POST, "/tenants", Some(json!({"scenario": 1})))
        .await;
    assert_eq!(status, 400, "{body}");
    drop(held);
    let mut read_again = false;
    for _ in 0..200 {
        if large(&app).await.expect("send").status() == 400 {
            read_again = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(read_again, "the permits come back when the slow clients go");
}

/// Strict mode travels with a scenario: exported, loaded, and `"strict": true` beside a
/// scenario makes the loaded tenant strict.
#[tokio::test]
async fn strict_mode_is_part_of_a_scenario() {
    let app = TestApp::spawn().await;
    for (scenario_strict, beside) in [(true, None), (false, Some(true))] {
        let mut scenario = example();
        scenario["strict"] = json!(scenario_strict);
        let mut body = json!({"scenario": scenario});
        if let Some(strict) = beside {
            body["strict"] = json!(strict);
        }
        let (status, loaded) = app.control_json(Method::POST, "/tenants", Some(body)).await;
        assert_eq!(status, 201, "{loaded}");
        let id = loaded["id"].as_str().expect("id").to_owned();
        let token = loaded["companies"][0]["tokens"][0]["secret"]
            .as_str()
            .expect("token")
            .to_owned();
        let (status, answer) = app
            .send(&token, "aud_examplejingle1", json!({"external_ids": ["x"]}))
            .await;
        assert_eq!(status, 400, "a strict tenant refuses a misspelt field: {answer}");
        assert_eq!(export(&app, &id).await["strict"], true);
    }
    assert_eq!(export(&app, "default").await["strict"], false);
}
