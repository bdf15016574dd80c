//! Keys: bearer header or `api_key`, which wins, the scheme word, RFC 6750 challenges on 401,
//! and the envelope of requests no endpoint serves (405, unknown paths).

use reqwest::Method;
use soundcheck::auth::{Secret, Tier};
use soundcheck::hasher::HashCost;
use soundcheck::keys::{self, NewArkKey};
use soundcheck::state::DEFAULT_TENANT;

use super::*;

/// A key nobody issued, of the right shape.
const UNKNOWN: &str = "mk_live_unknown000000000000000000000000";

#[tokio::test]
async fn a_request_without_a_key_is_401_with_a_bare_bearer_challenge() {
    let app = TestApp::spawn().await;
    let cases = [
        ("no header and no parameter", "/api/v1/songs"),
        ("an empty api_key", "/api/v1/songs?api_key="),
    ];
    for (case, path) in cases {
        let response = app.client.get(app.url(path)).send().await.expect("request");
        assert_eq!(
            header(&response, "www-authenticate").as_deref(),
            Some(r#"Bearer realm="musicark""#),
            "{case}"
        );
        assert_eq!(
            header(&response, "x-ratelimit-limit"),
            None,
            "{case}: 401s carry no quota"
        );
        assert_eq!(header(&response, "x-ratelimit-remaining"), None, "{case}");
        let (status, body) = json(response).await;
        assert_eq!(status, 401, "{case}");
        assert_ark_error(&body, "unauthorized");
    }
}

#[tokio::test]
async fn a_bad_key_is_401_with_an_invalid_token_challenge_and_no_quota_headers() {
    let app = TestApp::spawn().await;
    let unknown_in_query = format!("/api/v1/songs?api_key={UNKNOWN}");
    let cases = [
        (
            "a well-formed key nobody issued",
            Some(format!("Bearer {UNKNOWN}")),
            "/api/v1/songs",
        ),
        (
            "a key too short to be MusicArk's",
            Some("Bearer mk_live_short".into()),
            "/api/v1/songs",
        ),
        ("a Musique token", Some(format!("Bearer {MSK}")), "/api/v1/songs"),
        ("another scheme", Some(format!("Basic {FREE}")), "/api/v1/songs"),
        ("the scheme word alone", Some("Bearer".into()), "/api/v1/songs"),
        ("a key with no scheme", Some(FREE.into()), "/api/v1/songs"),
        ("an unknown key in the query", None, unknown_in_query.as_str()),
    ];
    for (case, authorization, path) in cases {
        let mut request = app.client.get(app.url(path));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let response = request.send().await.expect("request");
        let challenge = header(&response, "www-authenticate").unwrap_or_default();
        assert!(
            challenge.starts_with(r#"Bearer realm="musicark""#)
                && challenge.contains(r#"error="invalid_token""#),
            "{case}: {challenge:?}"
        );
        assert_eq!(
            header(&response, "x-ratelimit-limit"),
            None,
            "{case}: 401s carry no quota"
        );
        assert!(header(&response, "x-request-id").is_some(), "{case}");
        let (status, body) = json(response).await;
        assert_eq!(status, 401, "{case}");
        assert_ark_error(&body, "unauthorized");
    }
}

#[tokio::test]
async fn the_authorization_header_wins_over_the_api_key_parameter() {
    let app = TestApp::spawn().await;

    let response = app
        .musicark(&format!("/songs?limit=1&api_key={UNKNOWN}"), FREE)
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.status(),
        200,
        "a valid header with an invalid api_key works"
    );

    let response = app
        .musicark(&format!("/songs?limit=1&api_key={FREE}"), PRO)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "x-ratelimit-limit").as_deref(),
        Some("5000"),
        "the pro key in the header is the one counted, not the free one in the query"
    );

    let (status, body) = app
        .ark_json(&format!("/songs?limit=1&api_key={PRO}"), UNKNOWN)
        .await;
    assert_eq!(status, 401, "an invalid header with a valid api_key is refused");
    assert_ark_error(&body, "unauthorized");
}

#[tokio::test]
async fn the_scheme_word_is_case_insensitive() {
    let app = TestApp::spawn().await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let response = app
            .client
            .get(app.url("/api/v1/songs?limit=1"))
            .header("Authorization", format!("{scheme} {PRO}"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "{scheme}");
    }
}

#[tokio::test]
async fn the_api_key_parameter_alone_is_enough() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url(&format!("/api/v1/songs?limit=1&api_key={ENTERPRISE}")))
        .send()
        .await
        .expect("request");
    assert_eq!(
        header(&response, "x-ratelimit-limit").as_deref(),
        Some("100000"),
        "counted against the enterprise key"
    );
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_envelope(&body);
}

#[tokio::test]
async fn a_mk_test_key_is_accepted_like_a_live_one() {
    let app = TestApp::spawn().await;
    let token = "mk_test_a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6";
    let hash = app
        .state
        .core
        .hasher
        .hash(token, HashCost::Fast)
        .await
        .expect("hash");
    let mut tx = app.state.core.db.begin_write().await.expect("transaction");
    let key = NewArkKey {
        tenant_id: DEFAULT_TENANT.into(),
        tier: Tier::Pro,
        monthly_limit: None,
        token: Secret(token.into()),
        label: "a test-mode key".into(),
    };
    keys::insert_musicark_key(&mut tx, &key, &hash)
        .await
        .expect("insert");
    tx.commit().await.expect("commit");

    let (status, body) = app.ark_json("/songs?limit=1", token).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn methods_other_than_get_are_405_in_the_envelope() {
    let app = TestApp::spawn().await;
    let song = id_of(visible_at(T0)[0]);
    let cases = [
        (Method::POST, "/songs".to_owned()),
        (Method::PUT, format!("/songs/{song}")),
        (Method::DELETE, format!("/songs/{song}")),
        (Method::PATCH, "/search/text?q=love".to_owned()),
    ];
    for (method, path) in cases {
        let response = app
            .client
            .request(method.clone(), app.url(&format!("/api/v1{path}")))
            .bearer_auth(PRO)
            .send()
            .await
            .expect("request");
        assert!(header(&response, "x-request-id").is_some(), "{method} {path}");
        let (status, body) = json(response).await;
        assert_eq!(status, 405, "{method} {path}: {body}");
        assert_ark_error(&body, "method_not_allowed");
    }
}

#[tokio::test]
async fn an_unknown_path_under_the_base_is_404_in_the_envelope() {
    let app = TestApp::spawn().await;
    let (status, body) = app.ark_json("/albums", PRO).await;
    assert_eq!(status, 404, "{body}");
    assert_ark_error(&body, "not_found");
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let cases = [
        ("200", app.musicark("/songs?limit=1", PRO)),
        ("400", app.musicark("/songs?limit=0", PRO)),
        ("401", app.client.get(app.url("/api/v1/songs"))),
        ("404", app.musicark("/songs/no-such-song", PRO)),
    ];
    for (case, request) in cases {
        let response = request.send().await.expect("request");
        assert_eq!(response.status().as_str(), case);
        let id = header(&response, "x-request-id").unwrap_or_default();
        assert!(id.starts_with("req_"), "{case}: {id:?}");
    }
}

#[tokio::test]
async fn a_musicark_key_tried_once_as_a_musique_key_still_works_on_musicark() {
    let app = TestApp::spawn().await;
    // `mk_live_…` also has the Musique token shape (company `mk`, legacy word `live`), so
    // Musique looks it up, finds nothing and remembers it as refused: for Musique only.
    let (status, body) = app.get_json("/health", PRO).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "invalid_api_key");
    let (status, body) = app.ark_json("/songs?limit=1", PRO).await;
    assert_eq!(status, 200, "MusicArk refused a key Musique had refused: {body}");
    // And a MusicArk refusal does not decide for Musique either.
    let (status, _) = app.ark_json("/songs?limit=1", UNKNOWN).await;
    assert_eq!(status, 401);
    let (status, body) = app.get_json("/health", MSK).await;
    assert_eq!(status, 200, "{body}");
}
