//! `GET /_soundcheck/health` (no key: version, APIs served, database), `GET
//! /_soundcheck/coverage` (every operation of both APIs and what it rests on), and the
//! `soundcheck healthcheck` client a container image uses instead of curl.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::ControlState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiServed {
    pub name: &'static str,
    pub base: &'static str,
    pub status: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `ok`, or `down` when the database does not answer.
    pub status: &'static str,
    pub version: &'static str,
    pub apis: Vec<ApiServed>,
    pub database: &'static str,
}

#[utoipa::path(
    get, path = "/health", tag = "Health", operation_id = "controlHealth",
    description = "Needs no key, even with an admin token.",
    responses(
        (status = 200, description = "Healthy.", body = Health),
        (status = 503, description = "The database does not answer.", body = Health)
    )
)]
/// `GET /_soundcheck/health`: 200 when the database answers, 503 otherwise.
pub async fn health(State(state): State<ControlState>) -> (StatusCode, Json<Health>) {
    let database = tokio::time::timeout(
        Duration::from_secs(2),
        sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&state.core.db.read),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    let catalogue = if state.musicark.catalogue.initialized() {
        "ready"
    } else {
        "loading the song catalogue"
    };
    let status = if database {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Health {
            status: if database { "ok" } else { "down" },
            version: env!("CARGO_PKG_VERSION"),
            apis: vec![
                ApiServed {
                    name: "Musique Partner API",
                    base: crate::musique::BASE,
                    status: "ready",
                },
                ApiServed {
                    name: "MusicArk API",
                    base: crate::musicark::BASE,
                    status: catalogue,
                },
            ],
            database: if database { "ok" } else { "down" },
        }),
    )
}

/// What an operation's behaviour rests on.
#[derive(Clone, Copy, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The vendor's public docs say it.
    VendorDocs,
    /// The docs say something, and this is how we read it.
    OurReading,
    /// The docs are silent; soundcheck chose.
    OurChoice,
}

#[derive(Clone, Copy, Debug, Serialize, utoipa::ToSchema)]
pub struct Operation {
    pub api: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub basis: Basis,
    pub notes: &'static str,
}

const fn op(
    api: &'static str,
    method: &'static str,
    path: &'static str,
    basis: Basis,
    notes: &'static str,
) -> Operation {
    Operation {
        api,
        method,
        path,
        basis,
        notes,
    }
}

/// Every operation of both APIs, from the specs' tags.
pub const OPERATIONS: &[Operation] = &[
    op(
        "musique",
        "GET",
        "/api/v1/integration",
        Basis::VendorDocs,
        "Name, version and docs URL are documented; the `integration` block comes from the legacy info endpoint.",
    ),
    op(
        "musique",
        "GET",
        "/api/v1/integration/health",
        Basis::VendorDocs,
        "Services are really checked; the check results are reused for a second.",
    ),
    op(
        "musique",
        "GET",
        "/api/v1/integration/audio",
        Basis::OurChoice,
        "Listing is documented; pagination is a vendor roadmap item, so `page`/`limit` and the `pagination` block are ours.",
    ),
    op(
        "musique",
        "POST",
        "/api/v1/integration/audio",
        Basis::VendorDocs,
        "MP3 only, checked by content; 10 MB limit from the legacy docs; duration from the frames.",
    ),
    op(
        "musique",
        "GET",
        "/api/v1/integration/audio/{id}",
        Basis::VendorDocs,
        "Stats count a destination when its player starts the audio.",
    ),
    op(
        "musique",
        "DELETE",
        "/api/v1/integration/audio/{id}",
        Basis::VendorDocs,
        "Refused with 409 while a scheduled send is pending.",
    ),
    op(
        "musique",
        "POST",
        "/api/v1/integration/audio/{id}/send",
        Basis::OurReading,
        "Targeted and broadcast are documented; no `externalIds` = every store in the token's scope is our reading; `[]` → 400 is ours.",
    ),
    op(
        "musique",
        "GET",
        "/media/audio/{file}",
        Basis::OurChoice,
        "Where soundcheck serves the bytes behind each audio object's `url`.",
    ),
    op(
        "musique",
        "GET",
        "/api/audio",
        Basis::VendorDocs,
        "Legacy path of GET /api/v1/integration/audio: the same handler, state and body.",
    ),
    op(
        "musique",
        "POST",
        "/api/audio",
        Basis::VendorDocs,
        "Legacy path of POST /api/v1/integration/audio: the same handler, state and body.",
    ),
    op(
        "musique",
        "GET",
        "/api/audio/{audioId}",
        Basis::VendorDocs,
        "Legacy path of GET /api/v1/integration/audio/{id}.",
    ),
    op(
        "musique",
        "DELETE",
        "/api/{audioId}",
        Basis::VendorDocs,
        "Legacy path of DELETE /api/v1/integration/audio/{id}; other methods on /api/{x} are 405.",
    ),
    op(
        "musique",
        "POST",
        "/api/{audioId}/send",
        Basis::VendorDocs,
        "Legacy path of POST /api/v1/integration/audio/{id}/send.",
    ),
    op(
        "musique",
        "GET",
        "/api/integration",
        Basis::VendorDocs,
        "Legacy path of GET /api/v1/integration.",
    ),
    op(
        "musique",
        "GET",
        "/api/integration/health",
        Basis::VendorDocs,
        "Legacy path of GET /api/v1/integration/health.",
    ),
    op(
        "musique",
        "POST",
        "/api/integration/auth",
        Basis::OurReading,
        "`{externalId, companyToken}` → `{token, expires_at: null}` is documented; a prod token with every permission scoped to that External ID, and 401/404 for a bad company token or External ID, are our reading.",
    ),
    op(
        "musique",
        "POST",
        "/api/integration/test",
        Basis::OurReading,
        "A token scoped to one External ID reports it and its userId; any other token reports null for both (ours).",
    ),
    op(
        "musique",
        "DELETE",
        "/api/integration/auth",
        Basis::VendorDocs,
        "Revokes the calling key; this server refuses it from the next request.",
    ),
    op(
        "musique",
        "GET",
        "/api/integration/limits",
        Basis::OurReading,
        "Counts include the limits request itself, as the X-RateLimit-* headers do; usage is limit - remaining (GCRA).",
    ),
    op(
        "musicark",
        "GET",
        "/api/v1/songs",
        Basis::VendorDocs,
        "Sorting ties and clamping of `limit` are ours.",
    ),
    op(
        "musicark",
        "GET",
        "/api/v1/songs/{id}",
        Basis::VendorDocs,
        "Fields per tier are documented; omitted empty sections and slug lookup are ours.",
    ),
    op(
        "musicark",
        "GET",
        "/api/v1/search/text",
        Basis::VendorDocs,
        "Ranking is ours.",
    ),
    op(
        "musicark",
        "GET",
        "/api/v1/search/color",
        Basis::OurReading,
        "Distance is 100 × ΔEOK (CSS Color 4), our reading of 'OKLCH distance'.",
    ),
    op(
        "musicark",
        "GET",
        "/api/v1/search/emotional",
        Basis::VendorDocs,
        "Bounds are inclusive; results newest first (ours).",
    ),
];

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub operations: &'static [Operation],
}

#[utoipa::path(
    get, path = "/coverage", tag = "Health", operation_id = "coverage",
    description = "Every operation of both APIs and what its behaviour rests on.",
    responses(
        (status = 200, description = "The operations.", body = Coverage)
    )
)]
/// `GET /_soundcheck/coverage`
pub async fn coverage() -> Json<Coverage> {
    Json(Coverage {
        operations: OPERATIONS,
    })
}

/// `soundcheck healthcheck`: asks a server for `/_soundcheck/health` over plain HTTP/1.1, so
/// that an image needs no curl. `Ok` when it answered 200.
pub async fn check(addr: SocketAddr) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A server listening on every interface is reached through loopback.
    let addr = if addr.ip().is_unspecified() {
        SocketAddr::new(
            match addr {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            },
            addr.port(),
        )
    } else {
        addr
    };
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let request = format!(
            "GET /_soundcheck/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .map_err(|_| anyhow::anyhow!("no answer from {addr} within 5 s"))??;
    let text = String::from_utf8_lossy(&response);
    let status_line = text.lines().next().unwrap_or_default();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    anyhow::ensure!(
        status_line.split_whitespace().nth(1) == Some("200"),
        "{addr} answered {status_line:?}: {body}"
    );
    Ok(body.to_owned())
}
