//! Spawning the app for a test, and a small typed client around reqwest.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::DateTime;
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;
use soundcheck::App;
use soundcheck::AppState;
use soundcheck::clock::TenantClock;
use soundcheck::config::Config;
use soundcheck::state::DEFAULT_TENANT;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The docs' own example token: prod, every permission, all 50 `msk` stores.
pub const MSK: &str = "msk_prod_1234567890abcdef";
pub const MSK_LIVE: &str = "msk_live_1234567890abcdef";
pub const MSK_DEV: &str = "msk_dev_fedcba0987654321";
/// Scoped to store_001..store_005.
pub const MSK_SCOPED: &str = "msk_prod_scoped0000000001";
pub const MSK_READONLY: &str = "msk_prod_readonly00000001";
pub const ACME: &str = "acme_prod_a1b2c3d4e5f60718";

/// A fixed instant tests freeze the clock at: 2026-11-23T12:00:00Z.
/// The default sandbox's example announcement (`fixtures/musique.json`): in msk's prod
/// library from the start, and after every reset of the default tenant.
pub const EXAMPLE_AUDIO: &str = "aud_welcome0000001";
/// How many audio objects the database holds before a test uploads any: the example.
pub const FIXTURE_AUDIO: i64 = 1;
pub const T0: &str = "2026-11-23T12:00:00Z";

/// A plain HTTP client. reqwest is built with rustls on the `ring` provider (for
/// `soundcheck conformance`), which must be installed before a client is built.
pub fn http() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new()
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub state: AppState,
    pub client: Client,
    pub dir: TempDir,
    pub config: Config,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// A server over a new database file in a temp dir, with the config adjusted by `tweak`.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_tests(dir.path().join("soundcheck.db").to_string_lossy());
        tweak(&mut config);
        Self::start(dir, config).await
    }

    async fn start(dir: TempDir, config: Config) -> TestApp {
        let listener = tokio::net::TcpListener::bind(config.addr).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = App::build(config.clone()).await.expect("app builds");
        let state = app.state.clone();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.serve(listener, async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        TestApp {
            addr,
            state,
            client: http(),
            dir,
            config,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// Stops the server (finishing in-flight requests) and starts a new one on the same file.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        Self::start(dir, self.config.clone()).await
    }

    /// Tells the server to shut down without waiting for it to finish (`stop` waits).
    pub fn signal_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server stopped cleanly");
        }
    }

    pub fn db_path(&self) -> String {
        self.config.db.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The default tenant's clock.
    pub fn clock(&self) -> Arc<TenantClock> {
        self.state.core.clocks.get(DEFAULT_TENANT)
    }

    /// Freezes the default tenant's clock at an RFC 3339 instant.
    pub fn freeze_at(&self, instant: &str) {
        let ms = DateTime::parse_from_rfc3339(instant)
            .expect("rfc3339")
            .timestamp_millis();
        let clock = self.clock();
        clock.freeze();
        clock.set_ms(ms);
    }

    /// A Musique V1 request with a key.
    pub fn musique(&self, method: Method, path: &str, key: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(&format!("/api/v1/integration{path}")))
            .header("X-API-Key", key)
    }

    pub async fn get_json(&self, path: &str, key: &str) -> (u16, Value) {
        let response = self
            .musique(Method::GET, path, key)
            .send()
            .await
            .expect("request");
        json(response).await
    }

    /// Uploads `bytes` as `file_name` with optional extra text parts.
    pub async fn upload(
        &self,
        key: &str,
        file_name: &str,
        bytes: Vec<u8>,
        parts: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(file_name.to_owned())
                .mime_str("audio/mpeg")
                .expect("mime"),
        );
        for (name, value) in parts {
            form = form.text(name.to_string(), value.to_string());
        }
        let response = self
            .musique(Method::POST, "/audio", key)
            .multipart(form)
            .send()
            .await
            .expect("upload request");
        json(response).await
    }

    /// Uploads the 1-second test tone and returns its id.
    pub async fn upload_tone(&self, key: &str) -> String {
        let (status, body) = self.upload(key, "tone.mp3", fixture("tone_1s.mp3"), &[]).await;
        assert_eq!(status, 200, "upload failed: {body}");
        body["id"].as_str().expect("id").to_owned()
    }

    pub async fn send(&self, key: &str, audio_id: &str, body: Value) -> (u16, Value) {
        let response = self
            .musique(Method::POST, &format!("/audio/{audio_id}/send"), key)
            .json(&body)
            .send()
            .await
            .expect("send request");
        json(response).await
    }

    /// The ids in a library (its first 100), newest first.
    pub async fn library_ids(&self, key: &str) -> Vec<String> {
        let (status, body) = self.get_json("/audio?limit=100", key).await;
        assert_eq!(status, 200, "{body}");
        body["audio"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|a| a["id"].as_str().expect("an id").to_owned())
            .collect()
    }

    /// How many sends the database holds, across every tenant.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&self.state.core.db.read)
            .await
            .expect("count")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
    (status, value)
}

/// Asserts a Musique error body: code, type, and a request id matching nothing empty.
pub fn assert_musique_error(body: &Value, code: &str, kind: &str) {
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert_eq!(body["error"]["type"], kind, "body: {body}");
    assert!(
        body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "body: {body}"
    );
    assert!(
        body["error"]["requestId"]
            .as_str()
            .is_some_and(|id| id.starts_with("req_")),
        "body: {body}"
    );
}

/// MusicArk's default keys, one per tier (fixtures/musicark.json).
pub const FREE: &str = "mk_live_free0000000000000000000000000000";
pub const PRO: &str = "mk_live_pro00000000000000000000000000000";
pub const ENTERPRISE: &str = "mk_live_enterprise0000000000000000000000";

impl TestApp {
    /// A MusicArk `GET /api/v1{path}` with the key as a bearer token.
    pub fn musicark(&self, path: &str, key: &str) -> RequestBuilder {
        self.client
            .get(self.url(&format!("/api/v1{path}")))
            .bearer_auth(key)
    }

    /// A MusicArk GET, answered as status and JSON body.
    pub async fn ark_json(&self, path: &str, key: &str) -> (u16, Value) {
        let response = self.musicark(path, key).send().await.expect("request");
        json(response).await
    }
}

impl TestApp {
    /// A control-plane request, `/_soundcheck{path}`.
    pub fn control(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(&format!("/_soundcheck{path}")))
    }

    /// A control-plane call with an optional JSON body, answered as status and JSON (`null`
    /// for an empty body).
    pub async fn control_json(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.control(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("control request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        if text.is_empty() {
            return (status, Value::Null);
        }
        let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
        (status, value)
    }

    /// Creates a tenant from `spec` and returns what the control plane answered.
    pub async fn create_tenant(&self, spec: Value) -> Tenant {
        let (status, body) = self.control_json(Method::POST, "/tenants", Some(spec)).await;
        assert_eq!(status, 201, "tenant creation failed: {body}");
        Tenant(body)
    }

    /// Moves a tenant's clock through the control plane.
    pub async fn move_clock(&self, tenant: &str, change: Value) -> Value {
        let (status, body) = self
            .control_json(Method::POST, &format!("/tenants/{tenant}/clock"), Some(change))
            .await;
        assert_eq!(status, 200, "clock change failed: {body}");
        body
    }
}

/// A tenant as its creation answered, with its secrets.
pub struct Tenant(pub Value);

impl Tenant {
    pub fn id(&self) -> &str {
        self.0["id"].as_str().expect("tenant id")
    }

    /// The Musique token of an environment (`prod` or `dev`).
    pub fn token(&self, environment: &str) -> String {
        self.0["musique"]["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .find(|t| t["environment"] == environment)
            .and_then(|t| t["token"].as_str())
            .expect("token of that environment")
            .to_owned()
    }

    /// The MusicArk key of a tier.
    pub fn ark_key(&self, tier: &str) -> String {
        self.0["musicark"]["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| k["tier"] == tier)
            .and_then(|k| k["key"].as_str())
            .expect("key of that tier")
            .to_owned()
    }
}

/// The soundcheck binary itself on a database file, on a free loopback port: for tests that
/// kill it or start it again on the same file.
pub struct Server {
    child: tokio::process::Child,
    pub addr: String,
    pub client: reqwest::Client,
}

impl Server {
    pub async fn start(db: &std::path::Path) -> Server {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_soundcheck"))
            .args(["serve", "--addr", "127.0.0.1:0", "--hash-cost", "fast", "--db"])
            .arg(db)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let listening = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some((_, addr)) = line.split_once("listening on http://") {
                    return Some(addr.trim().to_owned());
                }
            }
            None
        };
        let addr = tokio::time::timeout(std::time::Duration::from_secs(30), listening)
            .await
            .ok()
            .flatten()
            .expect("the server came up");
        // The rest of its output is not read; keep the pipe drained so it never blocks.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Server {
            child,
            addr,
            client: http(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn json(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        json(request.send().await.expect("request")).await
    }

    /// SIGKILL: no shutdown, no last write-behind.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("SIGKILL");
    }
}
