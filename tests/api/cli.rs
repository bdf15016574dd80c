//! `soundcheck keys …` against the same database file as a running server.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

/// Runs the real binary; fails the test when it fails.
pub async fn run_cli(app: &TestApp, args: &[&str]) -> String {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_soundcheck"))
        .args(args)
        .arg("--db")
        .arg(app.db_path())
        // Tests hash cheaply; the stored hash records its own parameters.
        .env("SOUNDCHECK_HASH_COST", "fast")
        .output()
        .await
        .expect("run soundcheck");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "soundcheck {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// `keys create --api musique …`; returns the key id and the token printed once.
pub async fn create_musique_key(app: &TestApp, extra: &[&str]) -> (String, String) {
    let mut args = vec!["keys", "create", "--api", "musique"];
    args.extend_from_slice(extra);
    let out = run_cli(app, &args).await;
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("created key "))
        .expect("key id line")
        .trim()
        .to_owned();
    let token = out.lines().last().expect("token line").trim().to_owned();
    (id, token)
}

#[tokio::test]
async fn a_key_created_by_the_cli_works_on_the_running_server_and_is_stored_only_hashed() {
    let app = TestApp::spawn().await;
    let (_, token) = create_musique_key(
        &app,
        &[
            "--company",
            "bistro",
            "--env",
            "dev",
            "--external-ids",
            "paris_1,lyon_2",
            "--permissions",
            "audio.read,audio.write,audio.send",
        ],
    )
    .await;
    assert!(
        token.starts_with("bistro_dev_") && token.len() == "bistro_dev_".len() + 32,
        "{token}"
    );

    let id = app.upload_tone(&token).await;
    let (status, body) = app.send(&token, &id, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["destinations"].as_array().map(Vec::len),
        Some(2),
        "the new company's two stores"
    );
    let response = app
        .musique(Method::DELETE, &format!("/audio/{id}"), &token)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status().as_u16(), 403, "audio.delete was not granted");

    // Neither the database file nor `keys list` holds the token.
    let secret = &token["bistro_dev_".len() + 8..];
    for file in [app.db_path(), format!("{}-wal", app.db_path())] {
        if let Ok(bytes) = std::fs::read(&file) {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{file} holds the secret"
            );
        }
    }
    let listing = run_cli(&app, &["keys", "list"]).await;
    assert!(listing.contains("bistro"), "{listing}");
    assert!(
        !listing.contains(secret) && !listing.contains("$argon2"),
        "{listing}"
    );
    assert!(
        !listing.contains("1234567890abcdef"),
        "fixture secrets are not listed either: {listing}"
    );
}

#[tokio::test]
async fn a_scope_on_an_existing_company_limits_the_token() {
    let app = TestApp::spawn().await;
    let (_, token) = create_musique_key(
        &app,
        &["--company", "msk", "--external-ids", "store_010,store_011"],
    )
    .await;
    let (_, info) = app.get_json("/", &token).await;
    assert_eq!(
        info["integration"]["externalIds"],
        json!(["store_010", "store_011"])
    );
    let id = app.upload_tone(&token).await;
    let (status, _) = app.send(&token, &id, json!({"externalIds": ["store_012"]})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_key_revoked_by_the_cli_is_refused_by_the_running_server_within_a_second() {
    let app = TestApp::spawn().await;
    let (key_id, token) = create_musique_key(&app, &["--company", "msk"]).await;
    let (status, _) = app.get_json("/audio", &token).await;
    assert_eq!(status, 200);

    let out = run_cli(&app, &["keys", "revoke", &key_id]).await;
    assert!(out.contains("revoked"));
    let revoked_at = Instant::now();
    let status = loop {
        let (status, _) = app.get_json("/audio", &token).await;
        if status == 401 || revoked_at.elapsed() > Duration::from_secs(3) {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status, 401);
    assert!(
        revoked_at.elapsed() < Duration::from_secs(1),
        "took {:?}",
        revoked_at.elapsed()
    );
    let listing = run_cli(&app, &["keys", "list"]).await;
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with(&key_id) && l.contains("revoked")),
        "{listing}"
    );
}

/// The keys of a JSON object, recursively, with array items reduced to their first.
fn shape(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .filter(|(k, _)| k.as_str() != "baseUrl")
            .map(|(k, v)| (k.clone(), shape(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        serde_json::Value::Array(items) => json!(items.iter().map(shape).collect::<Vec<_>>()),
        serde_json::Value::String(_) => json!("string"),
        serde_json::Value::Number(_) => json!("number"),
        other => other.clone(),
    }
}

#[tokio::test]
async fn the_cli_and_http_create_equivalent_tenants_that_a_running_server_serves() {
    let app = TestApp::spawn().await;
    let out = run_cli(
        &app,
        &[
            "tenants",
            "create",
            "--company",
            "clishop",
            "--stores",
            "3",
            "--name",
            "from the cli",
        ],
    )
    .await;
    let from_cli: serde_json::Value = serde_json::from_str(&out).expect("the CLI prints JSON");
    let from_http = app
        .create_tenant(json!({"name": "from http", "musique": {"company": "httpshop", "stores": 3}}))
        .await
        .0;
    assert_eq!(shape(&from_cli), shape(&from_http));
    assert_eq!(from_cli["musique"]["locations"].as_array().map(Vec::len), Some(3));
    for field in ["environment", "permissions", "externalIds", "limits"] {
        let pick = |v: &serde_json::Value| {
            v["musique"]["tokens"]
                .as_array()
                .expect("tokens")
                .iter()
                .map(|t| t[field].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(pick(&from_cli), pick(&from_http), "{field}");
    }

    // The running server serves the tenant the CLI made, and the control plane manages it.
    let token = from_cli["musique"]["tokens"][0]["token"].as_str().expect("token");
    let (status, info) = app.get_json("/", token).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["integration"]["company"], "clishop");
    let key = from_cli["musicark"]["keys"][0]["key"].as_str().expect("key");
    assert_eq!(app.ark_json("/songs?limit=1", key).await.0, 200);
    let id = from_cli["id"].as_str().expect("id");
    let (status, _) = app
        .control_json(
            Method::POST,
            &format!("/tenants/{id}/clock"),
            Some(json!({"frozen": true, "at": T0})),
        )
        .await;
    assert_eq!(status, 200);
    let listed = run_cli(&app, &["tenants", "list"]).await;
    assert!(listed.contains(id), "{listed}");
    run_cli(&app, &["tenants", "delete", id]).await;
    let (status, _) = app
        .control_json(Method::GET, &format!("/tenants/{id}"), None)
        .await;
    assert_eq!(status, 404);
}
