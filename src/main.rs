//! The `soundcheck` binary: `serve` (the default), `keys`, `tenants`, `fixtures`, `openapi`,
//! `healthcheck`, `conformance`.

use std::io::IsTerminal;

use clap::{Parser, Subcommand};
use soundcheck::config::{Config, LogFormat};
use soundcheck::{App, cli};
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(
    name = "soundcheck",
    version,
    about = "A local emulator of the Musique Partner API and the MusicArk API"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Serve both APIs (the default).
    Serve(Config),
    /// Create, list and revoke API keys in the database file.
    #[command(subcommand)]
    Keys(cli::KeysCommand),
    /// Create, list and delete tenants in the database file.
    #[command(subcommand)]
    Tenants(cli::TenantsCommand),
    /// Generate fixture data.
    #[command(subcommand)]
    Fixtures(cli::FixturesCommand),
    /// Write the OpenAPI documents (musique.json, musicark.json, control.json) into a directory.
    Openapi {
        #[arg(long, default_value = "openapi")]
        out: std::path::PathBuf,
    },
    /// Check a target (the real APIs or a soundcheck) against the vendors' documented
    /// behaviour, or two targets side by side (--compare).
    Conformance(Box<soundcheck::conformance::Args>),
    /// Exit 0 when the server at --addr answers /_soundcheck/health with 200 (for container
    /// health checks: no curl needed).
    Healthcheck {
        #[arg(long, env = "SOUNDCHECK_ADDR", default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Keys(command)) => cli::keys(command).await,
        Some(Command::Tenants(command)) => cli::tenants(command).await,
        Some(Command::Fixtures(command)) => cli::fixtures(command),
        Some(Command::Openapi { out }) => {
            std::fs::create_dir_all(&out)?;
            for (name, document) in soundcheck::openapi::documents() {
                let path = out.join(name);
                std::fs::write(&path, soundcheck::openapi::render(&document)?)?;
                println!("wrote {}", path.display());
            }
            Ok(())
        }
        Some(Command::Healthcheck { addr }) => match soundcheck::control::health::check(addr).await {
            Ok(body) => {
                println!("{body}");
                Ok(())
            }
            Err(err) => {
                eprintln!("unhealthy: {err}");
                std::process::exit(1);
            }
        },
        Some(Command::Conformance(args)) => {
            let code = soundcheck::conformance::run(&args, &mut std::io::stdout()).await;
            std::process::exit(code);
        }
        Some(Command::Serve(config)) => serve(config).await,
        None => serve(cli.serve).await,
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    init_tracing(config.log_format);
    let listener = TcpListener::bind(config.addr).await?;
    let app = App::build(config.clone()).await?;
    let addr = listener.local_addr()?;
    println!(
        "soundcheck {} listening on http://{addr}",
        env!("CARGO_PKG_VERSION")
    );
    println!(
        "live page: http://{addr}{}   API docs: http://{addr}/docs/",
        soundcheck::control::ui::PATH
    );
    println!("config: {}", serde_json::to_string(&config)?);
    println!("default keys (public test values):");
    for line in app.fixtures.banner_lines() {
        println!("{line}");
    }
    if config.control_plane_exposed() {
        let warning = format!(
            "WARNING: the control plane (/_soundcheck/) is open to anyone who can reach {addr}: \
             they can create, reset and delete tenants. Set --admin-token (SOUNDCHECK_ADMIN_TOKEN)."
        );
        eprintln!("\n{}\n{warning}\n{}\n", "!".repeat(80), "!".repeat(80));
        tracing::warn!("{warning}");
    }
    app.serve(listener, shutdown_signal()).await
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_ansi(std::io::stdout().is_terminal()).init(),
    }
}

/// Ctrl-C or SIGTERM; a container's PID 1 gets the latter.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
