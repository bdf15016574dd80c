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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HashCost {
    /// argon2id with the crate's recommended parameters (19 MiB, 2 passes).
    #[default]
    Default,
    /// argon2id with the smallest legal parameters.
    Fast,
}

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

    /// Host names, besides loopback and the bound address, the control plane answers without
    /// an admin token (comma-separated, e.g. a compose service name: `soundcheck`).
    #[arg(long, env = "SOUNDCHECK_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<crate::control::access::AllowedHost>,
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
            allowed_hosts: Vec::new(),
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
        Ok(())
    }

    /// Whether the control plane is reachable from other machines without a token.
    pub fn control_plane_exposed(&self) -> bool {
        self.admin_token.is_none() && !self.addr.ip().is_loopback()
    }
}
