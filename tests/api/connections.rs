//! Connection timeouts and limits, seen from raw sockets: what reqwest hides (a partial head,
//! a stalled body, the moment the server closes). Timeouts are set short in each test's
//! config; every wait is bounded by [`BOUND`], far above them.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use soundcheck::config::{Config, Timeout};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// The longest any wait here may take before the test fails.
const BOUND: Duration = Duration::from_secs(15);

const HEALTH: &[u8] = b"GET /_soundcheck/health HTTP/1.1\r\nHost: localhost\r\n\r\n";
const BOUNDARY: &str = "soundcheck-test-boundary";

/// A server with `tweak`ed limits, once its start-up work is done: the catalogue is seeded
/// in the background, parsing on the runtime's thread for a few hundred milliseconds in a
/// debug build, which would count against the short timeouts here.
async fn spawn(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let app = TestApp::spawn_with(tweak).await;
    soundcheck::musicark::catalogue_index(&app.state.musicark)
        .await
        .expect("the catalogue loads");
    app
}

fn ms(n: u64) -> Timeout {
    Timeout(Duration::from_millis(n))
}

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.expect("connect")
}

/// Everything the server sends until it closes the connection.
async fn read_until_closed(stream: &mut (impl AsyncRead + Unpin)) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(BOUND, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                // A reset closes too.
                Err(_) => break,
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&got).into_owned();
    assert!(
        closed.is_ok(),
        "the connection was still open after {BOUND:?}; got {text:?}"
    );
    text
}

/// One response, head and `Content-Length` body, from a connection that stays open.
async fn read_response(stream: &mut TcpStream) -> String {
    tokio::time::timeout(BOUND, async {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse::<usize>().expect("a length"));
                if got.len() >= end + 4 + length {
                    return String::from_utf8_lossy(&got).into_owned();
                }
            }
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed mid-response: {:?}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("a response within the bound")
}

/// The JSON body of a raw response.
fn body_json(response: &str) -> Value {
    let (_, body) = response.split_once("\r\n\r\n").expect("a head");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {response:?}"))
}

/// A multipart body with one `file` part.
fn multipart(file: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"tone.mp3\"\r\n\
         Content-Type: audio/mpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn upload_head(length: usize) -> String {
    format!(
        "POST /api/v1/integration/audio HTTP/1.1\r\nHost: localhost\r\nX-API-Key: {MSK}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\n\r\n"
    )
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout() {
    let app = spawn(|c| {
        c.keep_alive_timeout = ms(400);
        c.header_read_timeout = Timeout(Duration::from_secs(60));
    })
    .await;
    let mut used = connect(app.addr).await;
    used.write_all(HEALTH).await.expect("write");
    assert!(read_response(&mut used).await.starts_with("HTTP/1.1 200"));
    let idle_since = Instant::now();
    assert_eq!(
        read_until_closed(&mut used).await,
        "",
        "closed without another word"
    );
    assert!(
        idle_since.elapsed() >= Duration::from_millis(300),
        "closed before the timeout"
    );

    // A connection that never sends a byte is idle from the start.
    let mut unused = connect(app.addr).await;
    assert_eq!(read_until_closed(&mut unused).await, "");
}

#[tokio::test]
async fn a_request_slower_than_every_timeout_is_not_cut_off() {
    let app = spawn(|c| {
        c.keep_alive_timeout = ms(300);
        c.header_read_timeout = ms(300);
        c.body_timeout = ms(300);
    })
    .await;
    let tenant = app.create_tenant(json!({})).await;
    let faults = format!("/tenants/{}/faults", tenant.id());
    let (status, _) = app
        .control_json(
            Method::POST,
            &faults,
            Some(json!({"path": "/api/v1/integration/health", "latencyMs": 1000, "times": 1})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = app.get_json("/health", &tenant.token("prod")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_slowloris_head_is_closed_after_the_header_read_timeout_from_its_first_byte() {
    let app = spawn(|c| {
        c.header_read_timeout = ms(400);
        c.keep_alive_timeout = Timeout(Duration::from_secs(60));
    })
    .await;
    // One client sends part of a head and stops; the other adds a byte every 50 ms, forever.
    let mut stopped = connect(app.addr).await;
    stopped
        .write_all(b"GET /_soundcheck/health HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .expect("write");
    let (mut reader, mut writer) = connect(app.addr).await.into_split();
    let started = Instant::now();
    let drip = tokio::spawn(async move {
        if writer
            .write_all(b"GET /_soundcheck/health HTTP/1.1\r\nX-Slow: ")
            .await
            .is_err()
        {
            return;
        }
        let mut ticker = tokio::time::interval(Duration::from_millis(50));
        loop {
            ticker.tick().await;
            if writer.write_all(b"x").await.is_err() {
                return;
            }
        }
    });
    assert_eq!(read_until_closed(&mut stopped).await, "");
    assert_eq!(read_until_closed(&mut reader).await, "");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "closed before the timeout"
    );
    drip.abort();
}

#[tokio::test]
async fn a_stalled_json_body_is_answered_408_in_its_apis_envelope_and_the_connection_closed() {
    let app = spawn(|c| c.body_timeout = ms(400)).await;
    // Ten bytes of a thousand, then nothing.
    let addr = app.addr;
    let stalled = |head: String| async move {
        let mut stream = connect(addr).await;
        stream.write_all(head.as_bytes()).await.expect("write");
        stream.write_all(b"{\"name\": \"").await.expect("write");
        read_until_closed(&mut stream).await
    };
    let response = stalled(
        "POST /_soundcheck/tenants HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n"
            .to_owned(),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(
        response.to_ascii_lowercase().contains("connection: close"),
        "{response}"
    );
    let body = body_json(&response);
    assert_eq!(body["error"]["code"], "request_timeout", "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("stalled") && message.contains("400ms"),
        "{message}"
    );

    // Musique's JSON is read before its key is checked: the envelope is Musique's.
    let response = stalled(format!(
        "POST /api/v1/integration/audio/aud_x/send HTTP/1.1\r\nHost: localhost\r\nX-API-Key: {MSK}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    ))
    .await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert_musique_error(&body_json(&response), "request_timeout", "invalid_request_error");
}

#[tokio::test]
async fn a_stalled_upload_is_answered_408_and_the_connection_closed() {
    let app = spawn(|c| c.body_timeout = ms(400)).await;
    let audio_before = app.count("audio").await;
    let body = multipart(&fixture("tone_1s.mp3"));
    let mut stream = connect(app.addr).await;
    stream
        .write_all(upload_head(body.len()).as_bytes())
        .await
        .expect("write");
    stream.write_all(&body[..2000]).await.expect("write");
    let response = read_until_closed(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert_musique_error(&body_json(&response), "request_timeout", "invalid_request_error");
    assert_eq!(app.count("audio").await, audio_before);
}

#[tokio::test]
async fn a_body_slower_than_the_minimum_rate_is_cut_off_though_it_never_stalls() {
    let app = spawn(|c| {
        c.body_timeout = Timeout(Duration::from_secs(1));
        c.min_body_rate = 1000;
    })
    .await;
    // 20 bytes every 100 ms (200 B/s): never a second without data, but a fifth of the rate.
    // Whole, the body would be whitespace: an empty spec, which creates a tenant.
    let (mut reader, mut writer) = connect(app.addr).await.into_split();
    let drip = tokio::spawn(async move {
        let head = "POST /_soundcheck/tenants HTTP/1.1\r\nHost: localhost\r\n\
                    Content-Type: application/json\r\nContent-Length: 2000\r\n\r\n";
        if writer.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let mut ticker = tokio::time::interval(Duration::from_millis(100));
        for _ in 0..100 {
            ticker.tick().await;
            if writer.write_all(&[b' '; 20]).await.is_err() {
                return;
            }
        }
        // Closing the write side would abort the request: hold it open.
        std::future::pending::<()>().await;
    });
    let response = read_until_closed(&mut reader).await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    let body = body_json(&response);
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("slower than 1000 bytes per second"), "{message}");
    drip.abort();
}

#[tokio::test]
async fn a_slow_but_steady_upload_above_the_minimum_rate_is_accepted() {
    let app = spawn(|c| {
        c.body_timeout = Timeout(Duration::from_secs(1));
        c.min_body_rate = 2000;
    })
    .await;
    // 1,000 bytes every 100 ms (10 kB/s) for 1.7 s: longer than the body timeout.
    let body = multipart(&fixture("tone_2s_22k.mp3"));
    let mut stream = connect(app.addr).await;
    stream
        .write_all(upload_head(body.len()).as_bytes())
        .await
        .expect("write");
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    for chunk in body.chunks(1000) {
        ticker.tick().await;
        stream.write_all(chunk).await.expect("write");
    }
    let response = read_response(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(body_json(&response)["id"].is_string(), "{response}");
}

#[tokio::test]
async fn a_10_mb_upload_at_loopback_speed_passes_short_timeouts() {
    let app = spawn(|c| {
        c.body_timeout = Timeout(Duration::from_secs(1));
        c.header_read_timeout = ms(300);
        c.keep_alive_timeout = ms(300);
    })
    .await;
    let one = fixture("speech_like_1mb.mp3");
    let mut bytes = Vec::with_capacity(10 * 1024 * 1024);
    while bytes.len() + one.len() <= 10 * 1024 * 1024 {
        bytes.extend_from_slice(&one);
    }
    let (status, body) = app.upload(MSK, "long.mp3", bytes.clone(), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["size"], bytes.len());
}

#[tokio::test]
async fn connections_over_the_limit_are_answered_503_until_one_closes() {
    let app = spawn(|c| c.max_connections = Some(2)).await;
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(app.addr).await;
        stream.write_all(HEALTH).await.expect("write");
        assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));
        open.push(stream);
    }

    let mut extra = connect(app.addr).await;
    extra.write_all(HEALTH).await.expect("write");
    let refused = read_until_closed(&mut extra).await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(
        refused.to_ascii_lowercase().contains("retry-after: 1"),
        "{refused}"
    );
    let body = body_json(&refused);
    assert_eq!(body["error"]["code"], "too_many_connections");
    let request_id = body["error"]["requestId"].as_str().expect("a request id");
    assert!(
        refused
            .to_ascii_lowercase()
            .contains(&format!("x-request-id: {}", request_id.to_ascii_lowercase())),
        "{refused}"
    );

    // Once one closes, and the server has seen it close, a new connection is served.
    drop(open.remove(0));
    let deadline = Instant::now() + BOUND;
    loop {
        let mut next = connect(app.addr).await;
        next.write_all(HEALTH).await.expect("write");
        let response = read_response(&mut next).await;
        if response.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(response.starts_with("HTTP/1.1 503"), "{response}");
        assert!(Instant::now() < deadline, "no connection was admitted again");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn graceful_shutdown_lets_a_request_in_progress_finish() {
    let mut app = spawn(|_| {}).await;
    let body = br#"{"name": "late"}"#;
    let mut stream = connect(app.addr).await;
    let head = format!(
        "POST /_soundcheck/tenants HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Expect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    // hyper sends 100 Continue when the handler starts reading the body: it is in progress.
    let mut interim = [0u8; 25];
    tokio::time::timeout(BOUND, stream.read_exact(&mut interim))
        .await
        .expect("100 Continue within the bound")
        .expect("read");
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");

    app.signal_shutdown();
    stream.write_all(body).await.expect("write");
    let response = read_until_closed(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    assert_eq!(body_json(&response)["name"], "late");
    tokio::time::timeout(BOUND, app.stop())
        .await
        .expect("the server stops once its last request is answered");
}

#[tokio::test]
async fn limits_out_of_range_are_refused_at_start() {
    for bad in ["0s", "0ms", "-1s", "24h1ms", "10", "ten seconds"] {
        assert!(bad.parse::<Timeout>().is_err(), "{bad:?}");
    }
    assert_eq!("1ms".parse::<Timeout>(), Ok(ms(1)));
    assert_eq!("24h".parse::<Timeout>(), Ok(Timeout(Timeout::MAX)));
    assert_eq!(
        "1m30s".parse::<Timeout>().map(|t| t.to_string()),
        Ok("90s".to_owned())
    );

    let dir = tempfile::tempdir().expect("dir");
    let base = Config::for_tests(dir.path().join("s.db").to_string_lossy());
    type Tweak = fn(&mut Config);
    let tweaks: [(&str, Tweak); 5] = [
        ("--header-read-timeout", |c| {
            c.header_read_timeout = Timeout(Duration::ZERO)
        }),
        ("--keep-alive-timeout", |c| {
            c.keep_alive_timeout = Timeout(Duration::from_secs(86_401))
        }),
        ("--body-timeout", |c| {
            c.body_timeout = Timeout(Duration::from_micros(10))
        }),
        ("--min-body-rate", |c| c.min_body_rate = (1 << 30) + 1),
        ("--max-connections", |c| c.max_connections = Some(0)),
    ];
    for (flag, tweak) in tweaks {
        let mut config = base.clone();
        tweak(&mut config);
        let err = config.validate().expect_err(flag);
        assert!(err.to_string().contains(flag), "{flag}: {err}");
    }
    let mut edges = base.clone();
    edges.max_connections = Some(1);
    edges.min_body_rate = 1 << 30;
    edges.header_read_timeout = ms(1);
    edges.keep_alive_timeout = Timeout(Timeout::MAX);
    edges.validate().expect("the edges are allowed");
}

#[tokio::test]
async fn running_out_of_file_descriptors_is_logged_once_and_recovered_from() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = tempfile::tempdir().expect("dir");
    // The server alone under an open-file limit of 64 (it uses about 20 at rest), its
    // connection limit above that so that accepting is what fails.
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 64 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_soundcheck"))
        .args(["serve", "--addr", "127.0.0.1:0", "--hash-cost", "fast"])
        .args(["--max-connections", "1000", "--keep-alive-timeout", "60s"])
        .args(["--header-read-timeout", "60s", "--db"])
        .arg(dir.path().join("s.db"))
        .env("RUST_LOG", "info,sqlx=warn,soundcheck::serve=debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(line)) = stdout.next_line().await {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log: Vec<String> = Vec::new();
    let mut wait_for = async |log: &mut Vec<String>, what: &str, enough: &dyn Fn(&[String]) -> bool| {
        tokio::time::timeout(BOUND, async {
            while !enough(log) {
                log.push(rx.recv().await.expect("the server is running"));
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{what}: {log:#?}"));
    };
    let listening = |log: &[String]| log.iter().any(|l| l.contains("listening on http://"));
    wait_for(&mut log, "the server starts", &listening).await;
    let addr: SocketAddr = log
        .iter()
        .find_map(|l| l.split("listening on http://").nth(1))
        .expect("address")
        .trim()
        .parse()
        .expect("an address");

    let mut idle = Vec::new();
    for _ in 0..80 {
        idle.push(connect(addr).await);
    }
    let retried = |log: &[String]| log.iter().filter(|l| l.contains("accept failed again")).count() >= 3;
    wait_for(&mut log, "accepting fails and is retried", &retried).await;
    drop(idle);

    let mut stream = connect(addr).await;
    stream.write_all(HEALTH).await.expect("write");
    assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));
    let recovered = |log: &[String]| log.iter().any(|l| l.contains("accepting connections again"));
    wait_for(&mut log, "the recovery is logged", &recovered).await;
    let warnings = log
        .iter()
        .filter(|l| l.contains("out of file descriptors"))
        .count();
    assert_eq!(warnings, 1, "{log:#?}");
    child.kill().await.expect("stop");
}

#[tokio::test]
async fn handlers_see_the_peer_address_as_connect_info() {
    use axum::extract::ConnectInfo;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = axum::Router::new().route(
        "/peer",
        axum::routing::get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
    );
    let limits = soundcheck::serve::Limits::from_config(&Config::for_tests(":memory:"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(soundcheck::serve::serve(listener, router, limits, async {
        let _ = stopped.await;
    }));

    let mut stream = connect(addr).await;
    let me = stream.local_addr().expect("local address");
    stream
        .write_all(b"GET /peer HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let response = read_response(&mut stream).await;
    assert!(response.ends_with(&format!("\r\n\r\n{me}")), "{response}");
    drop(stream);
    let _ = stop.send(());
    tokio::time::timeout(BOUND, server)
        .await
        .expect("the server stops")
        .expect("the server ran");
}

#[tokio::test]
async fn an_upload_queued_behind_a_slow_one_is_not_timed_while_it_waits() {
    let app = spawn(|c| c.body_timeout = Timeout(Duration::from_secs(1))).await;
    // The slow one holds the single upload slot for 1.7 s, 1,000 bytes every 100 ms.
    let body = multipart(&fixture("tone_2s_22k.mp3"));
    let mut slow = connect(app.addr).await;
    slow.write_all(upload_head(body.len()).as_bytes())
        .await
        .expect("write");
    let dripping = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_millis(100));
        for chunk in body.chunks(1000) {
            ticker.tick().await;
            slow.write_all(chunk).await.expect("write");
        }
        read_response(&mut slow).await
    });
    let deadline = Instant::now() + BOUND;
    while app.state.musique.uploads.available_permits() > 0 {
        assert!(Instant::now() < deadline, "the slow upload never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // 10 MB at full speed, more than the socket buffers hold: it waits longer than the body
    // timeout before its body is read, then is read in many waits.
    let one = fixture("speech_like_1mb.mp3");
    let big: Vec<u8> = std::iter::repeat_n(one.as_slice(), 10)
        .flatten()
        .copied()
        .collect();
    let queued = Instant::now();
    let (status, answer) = app.upload(MSK, "long.mp3", big, &[]).await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        queued.elapsed() > Duration::from_secs(1),
        "it did not wait for the slot"
    );
    let slow = dripping.await.expect("the slow upload");
    assert!(slow.starts_with("HTTP/1.1 200"), "{slow}");
}
