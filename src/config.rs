//! The server's configuration: one clap struct, every flag with an env twin, validated at start.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::hasher::HashCost;

/// How Musique success bodies are shaped on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Envelope {
    /// The bare objects of the V1 docs' examples.
    #[default]
    Bare,
    /// `{"data": …, "timestamp": "…"}`, as the legacy docs' index describes.
    Wrapped,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Each hash worker keeps a 7 MiB block at default cost: 64 of them are 448 MiB.
pub const MAX_HASH_WORKERS: usize = 64;
/// A tenant creation queues all its hashes at once, up to 41 (20 tokens, 20 keys, the company
/// token): a smaller queue would refuse it every time.
pub const MIN_HASH_QUEUE: usize = 64;
/// The highest `--min-body-rate` (1 GiB/s): above it no real client could upload at all.
pub const MAX_MIN_BODY_RATE: u64 = 1 << 30;
/// The highest `--max-connections`.
pub const MAX_CONNECTIONS_LIMIT: usize = 1_000_000;

/// Options of `soundcheck serve`.
#[derive(Args, Clone, Debug, serde::Serialize)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "SOUNDCHECK_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// SQLite database file (`:memory:` keeps everything in memory).
    #[arg(long, env = "SOUNDCHECK_DB", default_value = "./soundcheck.db")]
    pub db: String,

    /// Directory of fixtures to seed a new database with (default: the bundled ones).
    #[arg(long, env = "SOUNDCHECK_FIXTURES")]
    pub fixtures: Option<PathBuf>,

    /// Shape of Musique success bodies.
    #[arg(long, env = "SOUNDCHECK_ENVELOPE", value_enum, default_value_t = Envelope::Bare)]
    pub envelope: Envelope,

    /// Log line format.
    #[arg(long, env = "SOUNDCHECK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// argon2id cost for keys created from now on.
    #[arg(long, env = "SOUNDCHECK_HASH_COST", value_enum, default_value_t = HashCost::Default)]
    pub hash_cost: HashCost,

    /// Bearer token the control plane (`/_soundcheck/`) requires; without one it is open.
    #[arg(long, env = "SOUNDCHECK_ADMIN_TOKEN")]
    pub admin_token: Option<AdminToken>,

    /// How many requests each tenant's journal keeps (the oldest go first).
    #[arg(long, env = "SOUNDCHECK_JOURNAL_CAP", default_value_t = 1_000)]
    pub journal_cap: usize,

    /// argon2id cost of the keys of tenants created through the control plane, unless the
    /// request asks for `hashCost`.
    #[arg(long, env = "SOUNDCHECK_TENANT_HASH_COST", value_enum, default_value_t = HashCost::Fast)]
    pub tenant_hash_cost: HashCost,

    /// How many argon2id hashes run at once, each in a reused 7 MiB block at default cost (default: one per core).
    #[arg(long, env = "SOUNDCHECK_HASH_WORKERS", default_value_t = crate::hasher::default_workers())]
    pub hash_workers: usize,

    /// How many hashes may wait for a worker; a request that would queue more gets 429.
    #[arg(long, env = "SOUNDCHECK_HASH_QUEUE", default_value_t = 128)]
    pub hash_queue: usize,

    /// Musique writes (sends, uploads, deletes) that may wait for the writer; more get 429.
    #[arg(long, env = "SOUNDCHECK_WRITE_QUEUE", default_value_t = 256)]
    pub write_queue: usize,

    /// `POST /api/integration/auth` requests of one company in flight at once; more get 429.
    #[arg(long, env = "SOUNDCHECK_LEGACY_AUTH_IN_FLIGHT", default_value_t = 8)]
    pub legacy_auth_in_flight: usize,

    /// `POST /_soundcheck/tenants` requests of one client address in flight at once; more get 429.
    #[arg(long, env = "SOUNDCHECK_TENANT_CREATIONS_IN_FLIGHT", default_value_t = 32)]
    pub tenant_creations_in_flight: usize,
    /// Host names, besides loopback and the bound address, the control plane answers without
    /// an admin token (comma-separated, e.g. a compose service name: `soundcheck`).
    #[arg(long, env = "SOUNDCHECK_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<crate::hosts::AllowedHost>,

    /// Time a client has to send a request's head (request line and headers), from its first
    /// byte; a slower connection is closed.
    #[arg(long, env = "SOUNDCHECK_HEADER_READ_TIMEOUT", default_value = "10s")]
    pub header_read_timeout: Timeout,

    /// Time a connection may stay open with no request in progress (after accept, or after its
    /// last response) before it is closed.
    #[arg(long, env = "SOUNDCHECK_KEEP_ALIVE_TIMEOUT", default_value = "30s")]
    pub keep_alive_timeout: Timeout,

    /// Longest wait for the next bytes of a request body being read; a stalled body is
    /// answered 408 and its connection closed.
    #[arg(long, env = "SOUNDCHECK_BODY_TIMEOUT", default_value = "10s")]
    pub body_timeout: Timeout,

    /// Slowest average rate, in bytes per second, at which a request body may arrive once
    /// its first --body-timeout of waiting is spent (0: no rate check).
    #[arg(long, env = "SOUNDCHECK_MIN_BODY_RATE", default_value_t = 1024)]
    pub min_body_rate: u64,

    /// Most connections open at once; more are answered 503 and closed. Default 1024, or
    /// the open-file limit minus a reserve when that is lower.
    #[arg(long, env = "SOUNDCHECK_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,

    /// Refuse (400, in the API's envelope) whatever would otherwise be accepted with a
    /// `Soundcheck-Warning`: unknown or misspelt fields and parameters, `null`s, a send that
    /// broadcasts because it names no field, a legacy env word. Tenants can also be created
    /// strict one by one.
    #[arg(long, env = "SOUNDCHECK_STRICT")]
    pub strict: bool,
}

/// A duration flag: `10s`, `500ms`, `1m30s`; from 1 ms to [`Timeout::MAX`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeout(pub Duration);

impl Timeout {
    pub const MAX: Duration = Duration::from_secs(24 * 3600);

    fn check(self) -> Result<Self, String> {
        if self.0 < Duration::from_millis(1) || self.0 > Self::MAX {
            return Err(format!("must be between 1ms and 24h, got {self}"));
        }
        Ok(self)
    }
}

impl std::str::FromStr for Timeout {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let ms = crate::clock::parse_duration_ms(s)
            .filter(|ms| *ms >= 0)
            .ok_or_else(|| format!("{s:?} is not a duration such as 10s, 500ms or 1m30s"))?;
        Timeout(Duration::from_millis(ms as u64)).check()
    }
}

impl std::fmt::Display for Timeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.0.as_millis();
        if ms.is_multiple_of(1000) && ms > 0 {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{ms}ms")
        }
    }
}

impl serde::Serialize for Timeout {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The control plane's bearer token; never printed, logged or serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(pub String);

impl std::str::FromStr for AdminToken {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().len() < 8 {
            return Err("the admin token must be at least 8 characters".to_owned());
        }
        Ok(AdminToken(s.trim().to_owned()))
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(\"[redacted]\")")
    }
}

impl serde::Serialize for AdminToken {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
    }
}

impl Config {
    /// A configuration for tests: loopback on a free port, the given database, cheap hashing.
    pub fn for_tests(db: impl Into<String>) -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            db: db.into(),
            fixtures: None,
            envelope: Envelope::Bare,
            log_format: LogFormat::Text,
            hash_cost: HashCost::Fast,
            admin_token: None,
            journal_cap: 1_000,
            tenant_hash_cost: HashCost::Fast,
            hash_workers: 2,
            hash_queue: 128,
            write_queue: 256,
            legacy_auth_in_flight: 8,
            tenant_creations_in_flight: 32,
            allowed_hosts: Vec::new(),
            header_read_timeout: Timeout(Duration::from_secs(10)),
            keep_alive_timeout: Timeout(Duration::from_secs(30)),
            body_timeout: Timeout(Duration::from_secs(10)),
            min_body_rate: 1024,
            max_connections: None,
            strict: false,
        }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(dir) = &self.fixtures
            && !dir.is_dir()
        {
            anyhow::bail!("--fixtures {} is not a directory", dir.display());
        }
        if self.db.trim().is_empty() {
            anyhow::bail!("--db must name a file or be :memory:");
        }
        if self.journal_cap == 0 {
            anyhow::bail!("--journal-cap must be at least 1");
        }
        if !(1..=MAX_HASH_WORKERS).contains(&self.hash_workers) {
            anyhow::bail!("--hash-workers must be from 1 to {MAX_HASH_WORKERS}");
        }
        if self.hash_queue < MIN_HASH_QUEUE {
            anyhow::bail!(
                "--hash-queue must be at least {MIN_HASH_QUEUE}: one tenant creation queues up to 41 hashes"
            );
        }
        for (flag, value) in [
            ("--legacy-auth-in-flight", self.legacy_auth_in_flight),
            ("--tenant-creations-in-flight", self.tenant_creations_in_flight),
            ("--write-queue", self.write_queue),
        ] {
            if value == 0 {
                anyhow::bail!("{flag} must be at least 1");
            }
        }
        for (flag, timeout) in [
            ("--header-read-timeout", self.header_read_timeout),
            ("--keep-alive-timeout", self.keep_alive_timeout),
            ("--body-timeout", self.body_timeout),
        ] {
            timeout.check().map_err(|e| anyhow::anyhow!("{flag} {e}"))?;
        }
        if self.min_body_rate > MAX_MIN_BODY_RATE {
            anyhow::bail!("--min-body-rate must be at most {MAX_MIN_BODY_RATE} bytes per second");
        }
        if let Some(max) = self.max_connections
            && !(1..=MAX_CONNECTIONS_LIMIT).contains(&max)
        {
            anyhow::bail!("--max-connections must be between 1 and {MAX_CONNECTIONS_LIMIT}");
        }
        Ok(())
    }

    /// Whether the control plane is reachable from other machines without a token.
    pub fn control_plane_exposed(&self) -> bool {
        self.admin_token.is_none() && !self.addr.ip().is_loopback()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_bounds_are_checked_at_their_edges() {
        let ok = |tweak: fn(&mut Config)| {
            let mut config = Config::for_tests(":memory:");
            tweak(&mut config);
            config.validate().map_err(|e| e.to_string())
        };
        assert!(ok(|c| c.hash_workers = 1).is_ok());
        assert!(ok(|c| c.hash_workers = MAX_HASH_WORKERS).is_ok());
        assert!(ok(|c| c.hash_workers = 0).is_err_and(|e| e.contains("--hash-workers")));
        assert!(ok(|c| c.hash_workers = MAX_HASH_WORKERS + 1).is_err_and(|e| e.contains("--hash-workers")));
        assert!(ok(|c| c.hash_queue = MIN_HASH_QUEUE).is_ok());
        assert!(ok(|c| c.hash_queue = MIN_HASH_QUEUE - 1).is_err_and(|e| e.contains("--hash-queue")));
        assert!(ok(|c| c.legacy_auth_in_flight = 1).is_ok());
        assert!(ok(|c| c.legacy_auth_in_flight = 0).is_err_and(|e| e.contains("--legacy-auth-in-flight")));
        assert!(ok(|c| c.tenant_creations_in_flight = 1).is_ok());
        assert!(ok(|c| c.write_queue = 1).is_ok());
        assert!(ok(|c| c.write_queue = 0).is_err_and(|e| e.contains("--write-queue")));
        assert!(
            ok(|c| c.tenant_creations_in_flight = 0)
                .is_err_and(|e| e.contains("--tenant-creations-in-flight"))
        );
    }
}
