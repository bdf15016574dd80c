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
        Ok(())
    }
}
