//! `GET /_soundcheck/health` (no key: version, APIs served, database), `GET
//! /_soundcheck/coverage` (every operation of both APIs and what it rests on, read from the
//! `x-basis` of each operation in their documents), and the
//! `soundcheck healthcheck` client a container image uses instead of curl.

use std::net::SocketAddr;
use std::sync::LazyLock;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::openapi::OpenApi;

use super::ControlState;
use crate::error::Error;

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
    get, path = "/_soundcheck/health", tag = "Health", operation_id = "controlHealth",
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
#[derive(Clone, Copy, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The vendor's public docs say it.
    VendorDocs,
    /// The docs say something, and this is how we read it.
    OurReading,
    /// The docs are silent; soundcheck chose.
    OurChoice,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Operation {
    pub api: &'static str,
    pub method: &'static str,
    pub path: String,
    pub basis: Basis,
    pub notes: String,
}

/// An operation's `x-basis` extension, as the APIs write it beside each handler:
/// `{"basis", "notes"}`, and on a legacy path also `v1_equivalent` (its journal note, read by
/// `musique::legacy`). One extension per operation: utoipa keeps them in a map without a
/// stable order.
#[derive(Deserialize)]
struct XBasis {
    basis: Basis,
    notes: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub operations: Vec<Operation>,
}

/// Every operation of both APIs, from their documents (the route tables): read once.
static COVERAGE: LazyLock<Result<Coverage, String>> = LazyLock::new(|| {
    let mut operations = Vec::new();
    for (api, document) in [
        ("musique", crate::musique::openapi()),
        ("musicark", crate::musicark::openapi()),
    ] {
        operations.extend(operations_of(api, document)?);
    }
    Ok(Coverage { operations })
});

/// The operations of one API's document, in its order, with the `x-basis` each must have.
fn operations_of(api: &'static str, document: OpenApi) -> Result<Vec<Operation>, String> {
    let mut operations = Vec::new();
    for (method, path, basis) in crate::basis::operations(document) {
        let basis = basis.ok_or_else(|| format!("{method} {path} of {api} has no x-basis"))?;
        let XBasis { basis, notes } = serde_json::from_value(basis)
            .map_err(|e| format!("the x-basis of {method} {path} of {api}: {e}"))?;
        operations.push(Operation {
            api,
            method,
            path,
            basis,
            notes,
        });
    }
    Ok(operations)
}

#[utoipa::path(
    get, path = "/_soundcheck/coverage", tag = "Health", operation_id = "coverage",
    description = "Every operation of both APIs and what its behaviour rests on.",
    responses(
        (status = 200, description = "The operations.", body = Coverage)
    )
)]
/// `GET /_soundcheck/coverage`
pub async fn coverage() -> Result<Json<&'static Coverage>, Error> {
    COVERAGE
        .as_ref()
        .map(Json)
        .map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_operation_has_a_basis() {
        let coverage = COVERAGE.as_ref().expect("every operation has a valid x-basis");
        for api in ["musique", "musicark"] {
            assert!(coverage.operations.iter().any(|op| op.api == api), "{api}");
        }
    }
}
