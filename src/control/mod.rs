//! The emulator's own control plane under `/_soundcheck/`: tenants, clocks, store players,
//! the request journal, fault injection, health and coverage.
//!
//! - [`access`]   who may drive it: the admin token, or no other web site; JSON bodies
//! - [`tenants`]  per-test sandboxes: create, inspect, reset, delete
//! - [`clock`]    each tenant's clock: read, set, advance, freeze
//! - [`players`]  the simulated player of every store, and the sends they received
//! - [`journal`]  every API request, per tenant, with notes where the real service differs
//! - [`faults`]   errors, latency and dropped connections on purpose
//! - [`health`]   `/_soundcheck/health`, `/_soundcheck/coverage` and `soundcheck healthcheck`
//! - [`scenario`] a tenant's whole state as one document: export, and load into a new tenant
//! - [`ui`]       the live page `/_soundcheck/ui`: its assets, embedded in the binary
//! - [`events`]   the page's Server-Sent Events: a tenant's changes, coalesced and bounded
//! - [`views`]    what the page reads in one call: every store's player, the library, limits
//! - [`webhooks`] signed send and delivery events, retried on the tenant's clock
//! - [`error`]    the control plane's own error kinds and its envelope
//! - [`state`]    what it holds: the shared core, both APIs' states, the webhook registry
//! - [`page`]     how every list pages: `limit`, `cursor`, `total`, `nextCursor`
//! - [`store`]    the SQL: creation snapshots, resets, deletion
//!
//! Errors use the Musique shape `{"error": {"code", "message", "type", "requestId"}}`.

pub mod access;
pub mod clock;
pub mod error;
pub mod events;
pub mod faults;
pub mod health;
pub mod journal;
pub mod page;
pub mod players;
pub mod scenario;
pub mod state;
pub mod store;
pub mod tenants;
pub mod ui;
pub mod views;
pub mod webhooks;

use std::convert::identity;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config::AdminToken;
use crate::error::Error;
pub use state::ControlState;

pub const BASE: &str = "/_soundcheck";

/// The control plane's route table. Health is open to all (container health checks carry
/// no token); everything else sits behind the admin token when one is configured, and
/// behind [`access`]'s checks otherwise. Each route is routed at the path of its document
/// ([`openapi`]). The live page's static assets ([`ui`]) are open too: they hold no data, and
/// every request the page makes for data goes through the same checks.
pub fn routes<S: Clone + Send + Sync + 'static>(state: ControlState) -> Router<S> {
    let checks = middleware::from_fn_with_state(state.clone(), guard);
    let (router, _) = table(|routes| routes.route_layer(checks.clone())).split_for_parts();
    router
        .merge(ui::routes())
        .layer(crate::error::Render(error::render_error))
        .with_state(state)
}

/// Every control-plane operation's document, at the path it is served at: the route table's.
pub fn openapi() -> utoipa::openapi::OpenApi {
    table(identity).into_openapi()
}

/// The routes and their documents. `guarded` puts [`guard`] on the routes it is given (the
/// documents are the same without it).
fn table(
    guarded: impl Fn(OpenApiRouter<ControlState>) -> OpenApiRouter<ControlState>,
) -> OpenApiRouter<ControlState> {
    let guarded = guarded(
        OpenApiRouter::new()
            .routes(routes!(health::coverage))
            .routes(routes!(tenants::reset_default))
            .routes(routes!(tenants::create, tenants::list))
            .routes(routes!(tenants::get, tenants::remove))
            .routes(routes!(tenants::reset))
            .routes(routes!(scenario::export::get))
            .routes(routes!(clock::get, clock::set))
            .routes(routes!(players::get, players::set))
            .routes(routes!(players::sends))
            .routes(routes!(players::send))
            .routes(routes!(journal::list, journal::clear))
            .routes(routes!(faults::create, faults::list, faults::clear))
            .routes(routes!(faults::remove))
            .routes(routes!(webhooks::create, webhooks::list))
            .routes(routes!(webhooks::remove))
            .routes(routes!(webhooks::outbox))
            .routes(routes!(views::stores))
            .routes(routes!(views::library))
            .routes(routes!(views::limits))
            .routes(routes!(events::stream)),
    );
    OpenApiRouter::new()
        .routes(routes!(health::health))
        .merge(guarded)
}

/// Every control request but health: with `--admin-token` it needs `Authorization: Bearer`,
/// without one it must not come from another web site; a body must be JSON either way.
async fn guard(State(state): State<ControlState>, req: Request, next: Next) -> Response {
    let checked = match &state.core.config.admin_token {
        Some(expected) => admin_token(expected, &req),
        None => access::check_site(&state.core.config, req.headers(), req.uri()),
    };
    if let Err(err) = checked.and_then(|()| access::check_body(req.method(), req.headers())) {
        return err.into_response();
    }
    let changed = (!matches!(*req.method(), Method::GET | Method::HEAD))
        .then(|| events::tenant_of_path(req.uri().path()))
        .flatten()
        .map(str::to_owned);
    let response = next.run(req).await;
    // A change through the control plane (the clock, a player, a fault, a reset) is news to
    // the tenant's live page; the APIs' requests tell it through the journal.
    if let Some(tenant) = changed
        && response.status().is_success()
        && let Some(runtime) = state.core.runtimes.existing(&tenant)
    {
        runtime.changes.bump();
    }
    response
}

fn admin_token(expected: &AdminToken, req: &Request) -> Result<(), Error> {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match presented {
        None => Err(Error::MissingKey),
        // Digests are compared, so the comparison takes the same time however much matches.
        Some(token) if Sha256::digest(token) == Sha256::digest(&expected.0) => Ok(()),
        Some(_) => Err(Error::InvalidKey),
    }
}
