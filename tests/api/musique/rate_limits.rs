//! Per-key minute/hour/day limits: the header triple, 429, and windows that reopen with time.

use reqwest::Method;

use crate::helpers::*;

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("{name} missing"))
        .to_str()
        .expect("ascii")
        .to_owned()
}

#[tokio::test]
async fn every_authenticated_response_carries_the_header_triple() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let requests = [
        app.musique(Method::GET, "/audio", MSK),
        app.musique(Method::GET, "/audio/aud_missing", MSK),
        app.musique(Method::GET, "/audio?limit=0", MSK),
        app.musique(Method::POST, "/audio/aud_missing/send", MSK)
            .body("{"),
        app.musique(Method::GET, "/health", MSK),
    ];
    for (n, request) in requests.into_iter().enumerate() {
        let response = request.send().await.expect("request");
        assert_eq!(header(&response, "x-ratelimit-limit"), "100", "request {n}");
        assert_eq!(header(&response, "x-ratelimit-remaining"), (99 - n).to_string());
        // Unix seconds when the minute window is whole again: each request drips back after
        // 0.6 s on the (frozen) clock, so after n + 1 requests that is T0 + ceil(0.6 (n + 1)).
        let expected = 1_795_435_200 + (6 * (n as u64 + 1)).div_ceil(10);
        assert_eq!(
            header(&response, "x-ratelimit-reset"),
            expected.to_string(),
            "request {n}"
        );
    }
}

#[tokio::test]
async fn the_101st_request_in_a_minute_is_429_and_the_window_reopens_when_the_clock_moves() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    for n in 1..=100 {
        let response = app
            .musique(Method::GET, "/audio", ACME)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 200, "request {n}");
        assert_eq!(header(&response, "x-ratelimit-remaining"), (100 - n).to_string());
    }
    let response = app
        .musique(Method::GET, "/audio", ACME)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(header(&response, "retry-after"), "1");
    assert_eq!(header(&response, "x-ratelimit-remaining"), "0");
    assert_eq!(header(&response, "x-ratelimit-limit"), "100");
    let (_, body) = json(response).await;
    assert_musique_error(&body, "rate_limit_exceeded", "rate_limit_error");
    assert_eq!(body["error"]["retryAfter"], 1);

    // Another key of the same company has its own allowance.
    let other = app
        .musique(Method::GET, "/audio", MSK)
        .send()
        .await
        .expect("request");
    assert_eq!(other.status().as_u16(), 200);

    // Refused requests consume nothing: many more refusals, then one minute on, a full window.
    for _ in 0..20 {
        let refused = app
            .musique(Method::GET, "/audio", ACME)
            .send()
            .await
            .expect("request");
        assert_eq!(refused.status().as_u16(), 429);
    }
    app.clock().advance_ms(60_000);
    let response = app
        .musique(Method::GET, "/audio", ACME)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(header(&response, "x-ratelimit-remaining"), "99");
}

#[tokio::test]
async fn requests_with_bad_keys_do_not_consume_quota() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    for _ in 0..150 {
        let response = app
            .musique(Method::GET, "/audio", "acme_prod_wrongwrongwrong")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 401);
    }
    let response = app
        .musique(Method::GET, "/audio", ACME)
        .send()
        .await
        .expect("request");
    assert_eq!(header(&response, "x-ratelimit-remaining"), "99");
}

#[tokio::test]
async fn limits_set_on_a_key_are_enforced_across_windows() {
    let app = TestApp::spawn().await;
    app.freeze_at(T0);
    let (_, token) = crate::cli::create_musique_key(&app, &["--company", "msk", "--limits", "3/4/100"]).await;
    for _ in 0..3 {
        let ok = app
            .musique(Method::GET, "/audio", &token)
            .send()
            .await
            .expect("request");
        assert_eq!(ok.status().as_u16(), 200);
    }
    let refused = app
        .musique(Method::GET, "/audio", &token)
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status().as_u16(), 429);
    assert_eq!(header(&refused, "x-ratelimit-limit"), "3");

    app.clock().advance_ms(60_000);
    let ok = app
        .musique(Method::GET, "/audio", &token)
        .send()
        .await
        .expect("request");
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(
        header(&ok, "x-ratelimit-limit"),
        "4",
        "the hour window now has fewest left"
    );
    assert_eq!(header(&ok, "x-ratelimit-remaining"), "0");
    let refused = app
        .musique(Method::GET, "/audio", &token)
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status().as_u16(), 429);
    // One request drips back every 15 minutes, counted from the first at T0; it is T0 + 1 min.
    assert_eq!(header(&refused, "retry-after"), "840");
}
