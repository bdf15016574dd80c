//! The server's configuration: one clap struct, every flag with an env twin, validated at start.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

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

/// How strongly new keys are hashed. `fast` exists for tests and throwaway sandboxes only.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    ValueEnum,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum HashCost {
    /// argon2id with the crate's recommended parameters (19 MiB, 2 passes).
    #[default]
    Default,
    /// argon2id with the smallest legal parameters (8 KiB, 1 pass).
    Fast,
}

/// Each hash worker keeps a 19 MiB block: 64 of them are 1.2 GB.
pub const MAX_HASH_WORKERS: usize = 64;
/// A tenant creation queues all its hashes at once, up to 41 (20 tokens, 20 keys, the company
/// token): a smaller queue would refuse it every time.
pub const MIN_HASH_QUEUE: usize = 64;

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

    /// How many argon2id hashes run at once, each in a reused 19 MiB block (default: one per core).
    #[arg(long, env = "SOUNDCHECK_HASH_WORKERS", default_value_t = crate::hasher::default_workers())]
    pub hash_workers: usize,

    /// How many hashes may wait for a worker; a request that would queue more gets 429.
    #[arg(long, env = "SOUNDCHECK_HASH_QUEUE", default_value_t = 128)]
    pub hash_queue: usize,

    /// `POST /api/integration/auth` requests of one company in flight at once; more get 429.
    #[arg(long, env = "SOUNDCHECK_LEGACY_AUTH_IN_FLIGHT", default_value_t = 8)]
    pub legacy_auth_in_flight: usize,

    /// `POST /_soundcheck/tenants` requests of one client address in flight at once; more get 429.
    #[arg(long, env = "SOUNDCHECK_TENANT_CREATIONS_IN_FLIGHT", default_value_t = 32)]
    pub tenant_creations_in_flight: usize,
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
            legacy_auth_in_flight: 8,
            tenant_creations_in_flight: 32,
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
        ] {
            if value == 0 {
                anyhow::bail!("{flag} must be at least 1");
            }
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
        assert!(
            ok(|c| c.tenant_creations_in_flight = 0)
                .is_err_and(|e| e.contains("--tenant-creations-in-flight"))
        );
    }
}
