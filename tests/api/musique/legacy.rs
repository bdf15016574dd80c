//! The legacy paths (spec §1): the V1 operations at their old URLs on the same state, and the
//! legacy token endpoints (issue from a company token, test, revoke, limits).

use chrono::DateTime;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

use crate::helpers::*;

/// The fixture company tokens (fixtures/musique.json).
const MSK_COMPANY: &str = "msk_company_1234567890abcdef";
const ACME_COMPANY: &str = "acme_company_a1b2c3d4e5f60718";

/// A request to a legacy path (`/api/…`) with a key.
fn legacy(app: &TestApp, method: Method, path: &str, key: &str) -> RequestBuilder {
    app.client.request(method, app.url(path)).header("X-API-Key", key)
}

async fn legacy_json(app: &TestApp, method: Method, path: &str, key: &str) -> (u16, Value) {
    json(legacy(app, method, path, key).send().await.expect("request")).await
}

async fn legacy_upload(app: &TestApp, key: &str) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(fixture("tone_1s.mp3"))
                .file_name("legacy tone.mp3")
                .mime_str("audio/mpeg")
                .expect("mime"),
        )
        .text("category", "promo");
    json(
        legacy(app, Method::POST, "/api/audio", key)
            .multipart(form)
            .send()
            .await
            .expect("upload"),
    )
    .await
}

/// `POST /api/integration/auth` with a JSON body and no key.
async fn issue(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/api/integration/auth"))
        .json(&body)
        .send()
        .await
        .expect("request");
    json(response).await
}

/// Issues a token for one External ID and returns it.
async fn issued_token(app: &TestApp, company_token: &str, external_id: &str) -> String {
    let (status, body) = issue(
        app,
        json!({"externalId": external_id, "companyToken": company_token}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().expect("token").to_owned()
}

fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("{name} missing"))
        .to_str()
        .expect("ascii")
        .to_owned()
}

fn epoch_secs(rfc3339: &Value) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339.as_str().expect("a date-time"))
        .expect("RFC 3339")
        .timestamp()
}

#[tokio::test]
async fn legacy_paths_answer_with_the_documented_v1_bodies() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);

    let (status, uploaded) = legacy_upload(&app, MSK).await;
    assert_eq!(status, 200, "{uploaded}");
    let id = uploaded["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("aud_"));
    assert_eq!(uploaded["audioId"], id.as_str());
    assert_eq!(uploaded["name"], "legacy tone");
    assert_eq!(uploaded["format"], "mp3");
    assert_eq!(uploaded["createdAt"], "2026-11-23T12:00:00.000Z");

    // Reads on the legacy paths are the V1 bodies, byte for byte on a frozen clock.
    for (legacy_path, v1_path) in [
        ("/api/audio".to_owned(), "/audio".to_owned()),
        (format!("/api/audio/{id}"), format!("/audio/{id}")),
        ("/api/integration".to_owned(), "/".to_owned()),
        ("/api/integration/health".to_owned(), "/health".to_owned()),
    ] {
        let (status, old) = legacy_json(&app, Method::GET, &legacy_path, MSK).await;
        assert_eq!(status, 200, "{legacy_path}: {old}");
        let (_, new) = app.get_json(&v1_path, MSK).await;
        assert_eq!(old, new, "{legacy_path} and {v1_path}");
    }
    let (_, list) = legacy_json(&app, Method::GET, "/api/audio", MSK).await;
    assert_eq!(list["pagination"]["total"], FIXTURE_AUDIO + 1);
    assert_eq!(list["audio"][0]["category"], "promo");
    let (_, info) = legacy_json(&app, Method::GET, "/api/integration", MSK).await;
    assert_eq!(info["name"], "Musique Partner API");
    assert_eq!(info["integration"]["company"], "msk");
    let (_, health) = legacy_json(&app, Method::GET, "/api/integration/health", MSK).await;
    assert_eq!(health["status"], "healthy");
    assert!(health["services"]["database"].is_string());

    let response = legacy(&app, Method::POST, &format!("/api/{id}/send"), MSK)
        .json(&json!({"externalIds": ["store_001", "store_002"], "priority": "high"}))
        .send()
        .await
        .expect("send");
    let (status, sent) = json(response).await;
    assert_eq!(status, 200, "{sent}");
    assert!(sent["sendId"].as_str().is_some_and(|s| s.starts_with("snd_")));
    assert_eq!(sent["status"], "sent");
    assert_eq!(
        sent["destinations"][0],
        json!({"externalId": "store_001", "userId": 4301, "status": "queued"})
    );

    let (status, deleted) = legacy_json(&app, Method::DELETE, &format!("/api/{id}"), MSK).await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted, json!({"deleted": true, "audioId": id, "id": id}));
    let (status, body) = legacy_json(&app, Method::GET, &format!("/api/audio/{id}"), MSK).await;
    assert_eq!(status, 404);
    assert_musique_error(&body, "audio_not_found", "not_found_error");
}

#[tokio::test]
async fn legacy_and_v1_paths_share_one_library_sends_and_stats() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);

    // Uploaded on a legacy path: listed, fetched and sent on V1.
    let (_, uploaded) = legacy_upload(&app, MSK).await;
    let old = uploaded["id"].as_str().expect("id").to_owned();
    let (_, list) = app.get_json("/audio", MSK).await;
    assert_eq!(list["audio"][0]["id"], old.as_str());
    let (status, _) = app
        .send(MSK, &old, json!({"externalIds": ["store_001", "store_002"]}))
        .await;
    assert_eq!(status, 200);

    // Uploaded on V1: listed, fetched and sent on legacy paths.
    let new = app.upload_tone(MSK).await;
    let (_, list) = legacy_json(&app, Method::GET, "/api/audio", MSK).await;
    assert_eq!(list["pagination"]["total"], FIXTURE_AUDIO + 2);
    let response = legacy(&app, Method::POST, &format!("/api/{new}/send"), MSK)
        .json(&json!({"externalIds": ["store_003"], "repeat": 2}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 200);
    // store_003 is busy playing the other audio twice; store_004 plays this one at once.
    let response = legacy(&app, Method::POST, &format!("/api/{old}/send"), MSK)
        .json(&json!({"externalIds": ["store_004"]}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 200);

    // Both families report the same stats for both.
    for (id, expected) in [
        (
            &old,
            json!({"timesPlayed": 3, "lastPlayedAt": "2026-11-23T12:00:00.000Z", "totalRecipients": 3}),
        ),
        (
            &new,
            json!({"timesPlayed": 2, "lastPlayedAt": "2026-11-23T12:00:00.000Z", "totalRecipients": 1}),
        ),
    ] {
        let (_, v1) = app.get_json(&format!("/audio/{id}"), MSK).await;
        let (_, old_path) = legacy_json(&app, Method::GET, &format!("/api/audio/{id}"), MSK).await;
        assert_eq!(v1["stats"], expected, "{id}");
        assert_eq!(old_path["stats"], expected, "{id}");
    }
    assert_eq!(app.count("sends").await, 3);

    // Deleted on one family, gone on the other.
    let (status, _) = legacy_json(&app, Method::DELETE, &format!("/api/{new}"), MSK).await;
    assert_eq!(status, 200);
    assert_eq!(app.get_json(&format!("/audio/{new}"), MSK).await.0, 404);
    let response = app
        .musique(Method::DELETE, &format!("/audio/{old}"), MSK)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status().as_u16(), 200);
    let (_, list) = legacy_json(&app, Method::GET, "/api/audio", MSK).await;
    assert_eq!(
        list["pagination"]["total"], FIXTURE_AUDIO,
        "the example announcement is left"
    );
    assert_eq!(list["audio"][0]["id"], EXAMPLE_AUDIO);
}

#[tokio::test]
async fn legacy_paths_keep_the_v1_rules_permissions_isolation_and_faults() {
    let app = TestApp::spawn().await;
    let id = app.upload_tone(MSK).await;

    let (status, body) = legacy_json(&app, Method::DELETE, &format!("/api/{id}"), MSK_READONLY).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["requiredPermission"], "audio.delete");
    let (status, body) = legacy_json(&app, Method::GET, &format!("/api/audio/{id}"), ACME).await;
    assert_eq!(status, 404, "another company's audio is not found: {body}");
    let (status, body) = legacy_json(&app, Method::GET, "/api/audio", "msk_prod_wrongwrongwrong").await;
    assert_eq!(status, 401);
    assert_musique_error(&body, "invalid_api_key", "authentication_error");
    let response = app
        .client
        .get(app.url("/api/integration/health"))
        .send()
        .await
        .expect("request");
    let (status, body) = json(response).await;
    assert_eq!(status, 401, "health needs a key on the legacy path too");
    assert_musique_error(&body, "missing_api_key", "authentication_error");
    let response = app
        .client
        .delete(app.url("/api/integration/auth"))
        .send()
        .await
        .expect("request");
    let (status, body) = json(response).await;
    assert_eq!(status, 401, "revoking needs the key it revokes: {body}");
    assert_musique_error(&body, "missing_api_key", "authentication_error");

    let (status, _) = app
        .control_json(
            Method::POST,
            "/tenants/default/faults",
            Some(json!({"method": "GET", "path": "/api/audio", "status": 503, "times": 1})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = legacy_json(&app, Method::GET, "/api/audio", MSK).await;
    assert_eq!(status, 503);
    assert_musique_error(&body, "service_unavailable", "api_error");
    assert_eq!(legacy_json(&app, Method::GET, "/api/audio", MSK).await.0, 200);
}

#[tokio::test]
async fn legacy_routes_do_not_shadow_each_other_or_musicark() {
    let app = TestApp::spawn().await;
    let cases = [
        (Method::DELETE, "/api/audio", 405, "method_not_allowed"),
        (Method::PUT, "/api/audio/aud_x", 405, "method_not_allowed"),
        (Method::GET, "/api/aud_x", 405, "method_not_allowed"),
        (Method::DELETE, "/api/integration", 405, "method_not_allowed"),
        (Method::GET, "/api/integration/auth", 405, "method_not_allowed"),
        (Method::GET, "/api/integration/test", 405, "method_not_allowed"),
        (Method::DELETE, "/api/aud_x", 404, "audio_not_found"),
        (Method::POST, "/api/aud_x/send", 404, "audio_not_found"),
        (Method::GET, "/api/audio/aud_x", 404, "audio_not_found"),
        (Method::GET, "/api/nope/deeper", 404, "not_found"),
    ];
    for (method, path, status, code) in cases {
        let (got, body) = legacy_json(&app, method.clone(), path, MSK).await;
        assert_eq!(got, status, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], code, "{method} {path}: {body}");
    }
    // MusicArk's base path is not taken for an audio id.
    for method in [Method::GET, Method::DELETE] {
        let response = app
            .client
            .request(method.clone(), app.url("/api/v1"))
            .send()
            .await
            .expect("request");
        let (status, body) = json(response).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{method}: {body}"
        );
    }
    let response = app
        .client
        .post(app.url("/api/v1/send"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 404);
}

#[tokio::test]
async fn an_issued_token_is_stored_hashed_and_works_at_once_on_both_path_families() {
    let app = TestApp::spawn().await;
    let (status, body) = issue(
        &app,
        json!({"externalId": "store_007", "companyToken": MSK_COMPANY}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().expect("token").to_owned();
    let secret = token.strip_prefix("msk_prod_").expect("a prod token of msk");
    assert_eq!(secret.len(), 32);
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    assert_eq!(body, json!({"token": token, "expires_at": null}));

    let hash: String = sqlx::query_scalar("SELECT hash FROM api_keys WHERE lookup = ?")
        .bind(&token[..17])
        .fetch_one(&app.state.core.db.read)
        .await
        .expect("the key row");
    assert!(hash.starts_with("$argon2id$") && !hash.contains(secret));

    let (status, test) = legacy_json(&app, Method::POST, "/api/integration/test", &token).await;
    assert_eq!(status, 200, "{test}");
    assert_eq!(
        test,
        json!({"valid": true, "externalId": "store_007", "userId": 4307,
               "permissions": ["audio.read", "audio.write", "audio.delete", "audio.send"]})
    );
    let (status, info) = app.get_json("/", &token).await;
    assert_eq!(status, 200, "V1 takes it: {info}");
    assert_eq!(info["integration"]["environment"], "prod");
    assert_eq!(info["integration"]["externalIds"], json!(["store_007"]));

    // Its library is the company's prod library; its broadcasts reach its one store.
    let id = app.upload_tone(MSK).await;
    let (status, sent) = app.send(&token, &id, json!({})).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(
        sent["destinations"],
        json!([{"externalId": "store_007", "userId": 4307, "status": "queued"}])
    );
    let (status, _) = legacy_json(&app, Method::GET, &format!("/api/audio/{id}"), &token).await;
    assert_eq!(status, 200);

    // Another company's company token issues for its own stores only.
    let acme = issued_token(&app, ACME_COMPANY, "acme_003").await;
    assert!(acme.starts_with("acme_prod_"));
    assert_eq!(app.get_json(&format!("/audio/{id}"), &acme).await.0, 404);
}

#[tokio::test]
async fn test_reports_a_location_only_for_a_token_of_exactly_one() {
    let app = TestApp::spawn().await;
    for (key, permissions) in [
        (
            MSK,
            json!(["audio.read", "audio.write", "audio.delete", "audio.send"]),
        ),
        (
            MSK_SCOPED,
            json!(["audio.read", "audio.write", "audio.delete", "audio.send"]),
        ),
        (MSK_READONLY, json!(["audio.read"])),
    ] {
        let (status, body) = legacy_json(&app, Method::POST, "/api/integration/test", key).await;
        assert_eq!(status, 200, "{key}: {body}");
        assert_eq!(
            body,
            json!({"valid": true, "externalId": null, "userId": null, "permissions": permissions}),
            "{key}: a whole-company or multi-store token stands for no one location"
        );
    }
    let tenant = app
        .create_tenant(json!({"musique": {"stores": 3, "tokens": [{"externalIds": ["store_002"]}]}}))
        .await;
    let (_, body) = legacy_json(&app, Method::POST, "/api/integration/test", &tenant.token("prod")).await;
    assert_eq!(body["externalId"], "store_002");
    assert_eq!(body["userId"], tenant.0["musique"]["locations"][1]["userId"]);

    let (status, body) = legacy_json(
        &app,
        Method::POST,
        "/api/integration/test",
        "msk_prod_nosuchtoken0",
    )
    .await;
    assert_eq!(status, 401);
    assert_musique_error(&body, "invalid_api_key", "authentication_error");
}

#[tokio::test]
async fn issuing_with_a_bad_company_token_unknown_external_id_or_bad_body_is_refused() {
    let app = TestApp::spawn().await;
    let keys_before = app.count("api_keys").await;
    let cases = [
        (json!({}), 401, "missing_api_key", "no company token"),
        (
            json!({"externalId": "store_001"}),
            401,
            "missing_api_key",
            "no company token",
        ),
        (
            json!({"externalId": "store_001", "companyToken": null}),
            401,
            "missing_api_key",
            "null company token",
        ),
        (
            json!({"externalId": "store_001", "companyToken": "  "}),
            401,
            "missing_api_key",
            "blank company token",
        ),
        (
            json!({"externalId": "store_001", "companyToken": "msk_company_wrongwrongwrong"}),
            401,
            "invalid_api_key",
            "wrong secret",
        ),
        (
            json!({"externalId": "store_001", "companyToken": "zzz_company_1234567890abcdef"}),
            401,
            "invalid_api_key",
            "unknown company",
        ),
        (
            json!({"externalId": "store_001", "companyToken": MSK}),
            401,
            "invalid_api_key",
            "an API key is not a company token",
        ),
        (
            json!({"externalId": "store_999", "companyToken": MSK_COMPANY}),
            404,
            "external_id_not_found",
            "unknown External ID",
        ),
        (
            json!({"externalId": "store_001", "companyToken": ACME_COMPANY}),
            404,
            "external_id_not_found",
            "another company's External ID",
        ),
        (
            json!({"companyToken": MSK_COMPANY}),
            400,
            "validation_error",
            "`externalId`",
        ),
        (
            json!({"externalId": 7, "companyToken": MSK_COMPANY}),
            400,
            "validation_error",
            "`externalId`",
        ),
        (
            json!({"externalId": "", "companyToken": MSK_COMPANY}),
            400,
            "validation_error",
            "`externalId`",
        ),
        (
            json!({"externalId": "store_001", "companyToken": 12}),
            400,
            "validation_error",
            "`companyToken`",
        ),
        (json!(["store_001"]), 400, "validation_error", "JSON object"),
    ];
    for (body, status, code, why) in cases {
        let (got, answer) = issue(&app, body.clone()).await;
        assert_eq!(got, status, "{why}: {body} → {answer}");
        assert_eq!(answer["error"]["code"], code, "{why}: {answer}");
        let kind = match status {
            401 => "authentication_error",
            404 => "not_found_error",
            _ => "invalid_request_error",
        };
        assert_musique_error(&answer, code, kind);
        if status == 400 {
            let message = answer["error"]["message"].as_str().expect("message");
            assert!(message.contains(why), "{body}: {message:?} should name {why}");
        }
    }
    let (_, answer) = issue(
        &app,
        json!({"externalId": "store_999", "companyToken": MSK_COMPANY}),
    )
    .await;
    assert_eq!(answer["error"]["externalIds"], json!(["store_999"]));

    let response = app
        .client
        .post(app.url("/api/integration/auth"))
        .header("content-type", "application/json")
        .body("{\"externalId\": ")
        .send()
        .await
        .expect("request");
    let (status, body) = json(response).await;
    assert_eq!(status, 400);
    assert_musique_error(&body, "invalid_json", "invalid_request_error");
    assert_eq!(app.count("api_keys").await, keys_before, "no key was made");
}

#[tokio::test]
async fn a_revoked_legacy_token_is_refused_on_the_very_next_request() {
    let app = TestApp::spawn().await;
    let token = issued_token(&app, MSK_COMPANY, "store_001").await;
    let (status, _) = legacy_json(&app, Method::GET, "/api/audio", &token).await;
    assert_eq!(status, 200, "the token works and is now cached");

    let (status, body) = legacy_json(&app, Method::DELETE, "/api/integration/auth", &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["revoked"], true);
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));

    // No waiting for the revocation watcher: refused at once, on both path families.
    let (status, body) = legacy_json(&app, Method::GET, "/api/audio", &token).await;
    assert_eq!(status, 401, "{body}");
    assert_musique_error(&body, "invalid_api_key", "authentication_error");
    assert_eq!(app.get_json("/audio", &token).await.0, 401);
    let (status, _) = legacy_json(&app, Method::DELETE, "/api/integration/auth", &token).await;
    assert_eq!(status, 401, "it cannot revoke itself twice");
    let revoked: Option<i64> = sqlx::query_scalar("SELECT revoked_at_ms FROM api_keys WHERE lookup = ?")
        .bind(&token[..17])
        .fetch_one(&app.state.core.db.read)
        .await
        .expect("the key row");
    assert!(revoked.is_some());

    // Only the calling key: the company's other keys and company token still work.
    assert_eq!(app.get_json("/audio", MSK).await.0, 200);
    issued_token(&app, MSK_COMPANY, "store_001").await;
}

#[tokio::test]
async fn limits_report_the_calling_keys_windows_in_step_with_the_headers() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    for _ in 0..3 {
        assert_eq!(app.get_json("/audio", ACME).await.0, 200);
    }

    // The limits request is counted like any other, so it reports itself: 3 + 1.
    let response = legacy(&app, Method::GET, "/api/integration/limits", ACME)
        .send()
        .await
        .expect("request");
    let (limit, remaining, reset) = (
        header(&response, "x-ratelimit-limit"),
        header(&response, "x-ratelimit-remaining"),
        header(&response, "x-ratelimit-reset"),
    );
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "limits": {"perMinute": 100, "perHour": 1000, "perDay": 10000},
            "usage": {"perMinute": 4, "perHour": 4, "perDay": 4},
            "remaining": {"perMinute": 96, "perHour": 996, "perDay": 9996},
            "resetAt": {
                // Four requests drip back 0.6 s apart: whole again at T0 + 2.4 s, rounded up.
                "perMinute": "2026-11-23T12:00:03.000Z",
                "perHour": "2026-11-23T12:00:15.000Z",
                "perDay": "2026-11-23T12:00:35.000Z"
            }
        })
    );
    assert_eq!(limit, "100");
    assert_eq!(remaining, "96");
    assert_eq!(reset, epoch_secs(&body["resetAt"]["perMinute"]).to_string());

    // They move as requests are made, on either path family.
    legacy_json(&app, Method::GET, "/api/audio", ACME).await;
    let (_, body) = legacy_json(&app, Method::GET, "/api/integration/limits", ACME).await;
    assert_eq!(body["usage"]["perMinute"], 6);
    assert_eq!(body["remaining"]["perMinute"], 94);

    // A minute on, the minute window has let them all back: only this request counts.
    app.clock().advance_ms(60_000);
    let response = legacy(&app, Method::GET, "/api/integration/limits", ACME)
        .send()
        .await
        .expect("request");
    let remaining = header(&response, "x-ratelimit-remaining");
    let (_, body) = json(response).await;
    assert_eq!(body["usage"]["perMinute"], 1);
    assert_eq!(body["remaining"]["perMinute"], 99);
    assert_eq!(remaining, "99");

    // Another key has its own windows.
    let (_, body) = legacy_json(&app, Method::GET, "/api/integration/limits", MSK).await;
    assert_eq!(body["usage"]["perMinute"], 1);
}

#[tokio::test]
async fn limits_and_headers_name_the_same_tightest_window() {
    let app = TestApp::spawn().await;
    let tenant = app
        .create_tenant(json!({
            "musique": {"tokens": [{"limits": {"perMinute": 10, "perHour": 6, "perDay": 100}}]},
            "clock": {"at": T0, "frozen": true}
        }))
        .await;
    let token = tenant.token("prod");
    for _ in 0..4 {
        app.get_json("/audio", &token).await;
    }
    let response = legacy(&app, Method::GET, "/api/integration/limits", &token)
        .send()
        .await
        .expect("request");
    let headers = (
        header(&response, "x-ratelimit-limit"),
        header(&response, "x-ratelimit-remaining"),
        header(&response, "x-ratelimit-reset"),
    );
    let (_, body) = json(response).await;
    assert_eq!(
        body["remaining"],
        json!({"perMinute": 5, "perHour": 1, "perDay": 95})
    );
    // The hour window has fewest left, so the header triple is the hour's.
    assert_eq!(
        headers,
        (
            "6".to_owned(),
            "1".to_owned(),
            epoch_secs(&body["resetAt"]["perHour"]).to_string()
        )
    );

    // The last request the hour allows, then the limits endpoint is refused like any other.
    assert_eq!(app.get_json("/audio", &token).await.0, 200);
    let (status, body) = legacy_json(&app, Method::GET, "/api/integration/limits", &token).await;
    assert_eq!(status, 429, "{body}");
}

#[tokio::test]
async fn every_legacy_request_is_journaled_with_its_v1_equivalent() {
    let app = TestApp::spawn().await;
    legacy_json(&app, Method::GET, "/api/audio", MSK).await;
    legacy_json(&app, Method::GET, "/api/audio", "msk_prod_wrongwrongwrong").await;
    legacy_json(&app, Method::POST, "/api/integration/test", MSK).await;
    issued_token(&app, MSK_COMPANY, "store_002").await;
    app.get_json("/audio", MSK).await;

    let (status, journal) = app
        .control_json(Method::GET, "/tenants/default/requests", None)
        .await;
    assert_eq!(status, 200);
    let entries = journal["requests"].as_array().expect("entries");
    let notes = |method: &str, path: &str, status: u16| -> Vec<String> {
        entries
            .iter()
            .find(|e| e["method"] == method && e["path"] == path && e["status"] == status)
            .unwrap_or_else(|| panic!("{method} {path} {status} in {journal}"))["notes"]
            .as_array()
            .expect("notes")
            .iter()
            .map(|n| n.as_str().expect("note").to_owned())
            .collect()
    };
    assert!(
        notes("GET", "/api/audio", 200)
            .contains(&"Legacy path; the V1 equivalent is GET /api/v1/integration/audio.".to_owned())
    );
    assert!(
        notes("GET", "/api/audio", 401)
            .iter()
            .any(|n| n.starts_with("Legacy path")),
        "noted even when the key is refused"
    );
    assert!(
        notes("POST", "/api/integration/test", 200)
            .iter()
            .any(|n| n.contains("GET /api/v1/integration"))
    );
    assert!(
        notes("POST", "/api/integration/auth", 200)
            .iter()
            .any(|n| n.starts_with("Legacy path; V1 has no equivalent"))
    );
    assert!(notes("GET", "/api/v1/integration/audio", 200).is_empty());
    assert!(
        !journal.to_string().contains(MSK_COMPANY),
        "the company token is redacted from the journal"
    );
}

#[tokio::test]
async fn a_tenant_created_through_the_control_plane_gets_a_working_company_token() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant(json!({})).await;
    let musique = &tenant.0["musique"];
    let company = musique["company"].as_str().expect("company");
    let company_token = musique["companyToken"].as_str().expect("companyToken").to_owned();
    assert!(
        company_token.starts_with(&format!("{company}_company_")),
        "{company_token}"
    );
    let location = &musique["locations"][0];
    let external_id = location["externalId"].as_str().expect("externalId");

    let token = issued_token(&app, &company_token, external_id).await;
    assert!(token.starts_with(&format!("{company}_prod_")));
    let (status, test) = legacy_json(&app, Method::POST, "/api/integration/test", &token).await;
    assert_eq!(status, 200, "{test}");
    assert_eq!(test["externalId"], external_id);
    assert_eq!(test["userId"], location["userId"]);
    assert_eq!(app.get_json("/audio", &token).await.0, 200);

    // The issue request lands in the tenant's own journal, its company token redacted.
    let (_, journal) = app
        .control_json(
            Method::GET,
            &format!("/tenants/{}/requests?path=/api/integration/auth", tenant.id()),
            None,
        )
        .await;
    assert_eq!(journal["total"], 1, "{journal}");
    assert!(!journal.to_string().contains(&company_token));
    let (_, view) = app
        .control_json(Method::GET, &format!("/tenants/{}", tenant.id()), None)
        .await;
    assert!(!view.to_string().contains(&company_token), "shown once only");

    // A reset keeps the company token (it is part of the tenant as created), not the tokens
    // issued since.
    let (status, _) = app
        .control_json(Method::POST, &format!("/tenants/{}/reset", tenant.id()), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.get_json("/audio", &token).await.0, 401);
    issued_token(&app, &company_token, external_id).await;
    let (status, body) = issue(
        &app,
        json!({"externalId": external_id, "companyToken": ACME_COMPANY}),
    )
    .await;
    assert_eq!(status, 404, "another tenant's company does not reach it: {body}");
}

#[tokio::test]
async fn a_database_seeded_before_company_tokens_gets_them_on_its_next_start() {
    let app = TestApp::spawn().await;
    // As a database seeded before company tokens existed: none in the rows or the snapshot.
    sqlx::query("UPDATE companies SET company_token_hash = NULL")
        .execute(&app.state.core.db.write)
        .await
        .expect("clear");
    sqlx::query(
        "UPDATE tenants SET seed = json_set(seed, '$.companies[0].company_token_hash', NULL,
                                                  '$.companies[1].company_token_hash', NULL)",
    )
    .execute(&app.state.core.db.write)
    .await
    .expect("clear the snapshot");
    assert_eq!(
        issue(
            &app,
            json!({"externalId": "store_001", "companyToken": MSK_COMPANY})
        )
        .await
        .0,
        401
    );

    let app = app.restart().await;
    issued_token(&app, MSK_COMPANY, "store_001").await;
    let (status, _) = app.control_json(Method::POST, "/reset", None).await;
    assert_eq!(status, 200);
    issued_token(&app, MSK_COMPANY, "store_001").await;
    issued_token(&app, ACME_COMPANY, "acme_001").await;
}

#[tokio::test]
async fn with_the_wrapped_envelope_the_issued_token_is_wrapped_too() {
    let app = TestApp::spawn_with(|c| c.envelope = soundcheck::config::Envelope::Wrapped).await;
    let (status, body) = issue(
        &app,
        json!({"externalId": "store_001", "companyToken": MSK_COMPANY}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["data"]["token"].as_str().expect("wrapped token");
    assert_eq!(body["data"]["expires_at"], Value::Null);
    assert!(body["timestamp"].is_string());
    let (status, body) = legacy_json(&app, Method::GET, "/api/integration/limits", token).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["usage"]["perMinute"], 1);
}

/// The id of a fixture company.
async fn company_id(app: &TestApp, prefix: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM companies WHERE prefix = ?")
        .bind(prefix)
        .fetch_one(&app.state.core.db.read)
        .await
        .expect("company")
}

/// Wrong company tokens that carry a real prefix, each different (the negative cache is no help).
fn wrong_msk_token(i: usize) -> String {
    format!("msk_company_wrong{i:020}")
}

#[tokio::test]
async fn a_company_with_its_requests_in_flight_gets_429s_in_the_musique_envelope() {
    let app = TestApp::spawn_with(|c| c.legacy_auth_in_flight = 2).await;
    let msk = company_id(&app, "msk").await;
    let limits = app.state.core.admission.legacy_auth.clone();

    // One of two in flight: the next still gets its answer (the bound itself).
    let first = limits.try_acquire(msk).expect("a free slot");
    let (status, body) = issue(
        &app,
        json!({"externalId": "store_001", "companyToken": wrong_msk_token(0)}),
    )
    .await;
    assert_eq!(status, 401, "{body}");

    // Two of two: every further request of the company is refused at once, a right token
    // too (the limit counts requests, not failures); other companies are not affected.
    let second = limits.try_acquire(msk).expect("the second slot");
    let burst = (1..=32).map(|i| {
        app.client
            .post(app.url("/api/integration/auth"))
            .json(&json!({"externalId": "store_001", "companyToken": wrong_msk_token(i)}))
            .send()
    });
    let verified = (0..16).map(|_| app.musique(Method::GET, "/health", MSK).send());
    let (burst, verified) = tokio::join!(
        futures_util::future::join_all(burst),
        futures_util::future::join_all(verified)
    );
    for response in burst {
        let response = response.expect("request");
        assert_eq!(header(&response, "retry-after"), "1");
        let (status, body) = json(response).await;
        assert_eq!(status, 429, "{body}");
        assert_musique_error(&body, "rate_limit_exceeded", "rate_limit_error");
        assert_eq!(body["error"]["retryAfter"], 1, "{body}");
    }
    for response in verified {
        assert_eq!(
            response.expect("request").status(),
            200,
            "a verified key waits for nobody"
        );
    }
    let (status, body) = issue(
        &app,
        json!({"externalId": "store_001", "companyToken": MSK_COMPANY}),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    let (status, body) = issue(
        &app,
        json!({"externalId": "store_001", "companyToken": "acme_company_wrongwrongwrong"}),
    )
    .await;
    assert_eq!(status, 401, "another company has its own slots: {body}");

    drop((first, second));
    issued_token(&app, MSK_COMPANY, "store_001").await;
    assert_eq!(limits.held(&msk), 0, "every request gave its slot back");
}

#[tokio::test]
async fn a_burst_of_wrong_company_tokens_gets_401s_or_429s_and_verified_keys_answer_meanwhile() {
    let app = TestApp::spawn_with(|c| c.legacy_auth_in_flight = 2).await;
    let msk = company_id(&app, "msk").await;
    let burst = (0..128).map(|i| {
        app.client
            .post(app.url("/api/integration/auth"))
            .json(&json!({"externalId": "store_001", "companyToken": wrong_msk_token(i)}))
            .send()
    });
    let verified = (0..32).map(|_| app.musique(Method::GET, "/health", MSK).send());
    let (burst, verified) = tokio::join!(
        futures_util::future::join_all(burst),
        futures_util::future::join_all(verified)
    );
    for response in burst {
        let (status, body) = json(response.expect("request")).await;
        match status {
            401 => assert_musique_error(&body, "invalid_api_key", "authentication_error"),
            429 => assert_musique_error(&body, "rate_limit_exceeded", "rate_limit_error"),
            other => panic!("{other}: {body}"),
        }
    }
    for response in verified {
        assert_eq!(response.expect("request").status(), 200);
    }
    assert_eq!(app.state.core.admission.legacy_auth.held(&msk), 0);
    let stats = app.state.core.hasher.stats();
    assert!(
        stats.peak_running <= app.config.hash_workers,
        "never more hashes at once than workers: {stats:?}"
    );
    assert!(stats.block_allocations <= app.config.hash_workers, "{stats:?}");
}
