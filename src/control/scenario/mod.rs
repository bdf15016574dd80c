//! Scenarios: a tenant's whole state as one versioned JSON document, exported by
//! `GET /_soundcheck/tenants/{id}/scenario` and loaded by `POST /_soundcheck/tenants` with a
//! `scenario` (or `soundcheck tenants create --scenario FILE`) into a new tenant, all or nothing.
//!
//! - [`export`] reads a tenant into a [`Scenario`]
//! - [`load`]   checks a scenario (naming the JSON path of the first problem) and writes it in
//!   one transaction; the in-memory sides learn it only after the commit
//!
//! What a scenario holds is the record the emulator rebuilds everything else from: companies,
//! stores, key definitions, audio with its bytes, sends, each player's availability changes,
//! the clock, faults, webhooks and MusicArk usage. Delivery statuses, a player's queue and
//! whether it is online are what the players make of that record on the clock: exported so a
//! reader sees them, recomputed on load (so an export of the loaded tenant shows them again).

pub mod export;
pub mod load;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{FromRequest, Request};
use serde::{Deserialize, Serialize};

use super::ControlState;
use crate::auth::{Environment, Tier};
use crate::error::Error;
use crate::extract::{JSON_BODY_LIMIT, parse_json};
use crate::hasher::HashCost;

/// The version of the document this server writes and reads.
pub const SCENARIO_VERSION: u32 = 1;

/// Ours: the largest body `POST /_soundcheck/tenants` takes when it carries a scenario (a
/// body without one keeps the control plane's 256 KiB).
pub const SCENARIO_BODY_LIMIT: usize = 32 * 1024 * 1024;
/// Ours: how many bodies larger than the JSON limit (or of unknown length) the server reads and
/// loads at once, so that a burst of scenario loads holds at most this many bodies (and their
/// parsed documents) in memory; one more is 429 with `Retry-After`.
pub const LARGE_BODIES_AT_ONCE: usize = 2;
/// Ours: what one scenario may hold.
pub const MAX_COMPANIES: usize = 10;
pub const MAX_STORES: usize = 1_000;
pub const MAX_TOKENS: usize = 20;
pub const MAX_ARK_KEYS: usize = 20;
pub const MAX_AUDIO: usize = 100;
pub const MAX_SENDS: usize = 1_000;
pub const MAX_AVAILABILITY: usize = 1_000;
pub const MAX_FAULTS: usize = 100;
pub const MAX_WEBHOOKS: usize = 10;
pub const MAX_USAGE_MONTHS: usize = 24;

/// A tenant's whole state. Instants are RFC 3339 on the tenant's clock, to the millisecond.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scenario {
    /// Always 1.
    pub scenario_version: u32,
    pub name: String,
    /// Strict mode: what would get a `Soundcheck-Warning` is refused with a 400 instead.
    #[serde(default)]
    pub strict: bool,
    pub clock: ScenarioClock,
    #[serde(default)]
    pub companies: Vec<ScenarioCompany>,
    /// MusicArk keys and their monthly usage.
    #[serde(default)]
    pub musicark_keys: Vec<ScenarioArkKey>,
    #[serde(default)]
    pub faults: Vec<ScenarioFault>,
    /// Endpoints without their signing secrets: a secret is a credential, so a loaded
    /// scenario's webhooks get new ones, returned once in the answer.
    #[serde(default)]
    pub webhooks: Vec<ScenarioWebhook>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioClock {
    /// The instant the tenant's clock shows.
    pub now: String,
    /// A frozen clock stays at `now`; a running one goes on from `now` once loaded.
    #[serde(default)]
    pub frozen: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioCompany {
    /// The company prefix tokens start with; unique across tenants, so a prefix another
    /// tenant holds is replaced on load (see the answer's `mapping`).
    pub prefix: String,
    pub name: String,
    #[serde(default)]
    pub stores: Vec<ScenarioStore>,
    /// Musique tokens, without secrets unless `token` names a fixed test token.
    #[serde(default)]
    pub tokens: Vec<ScenarioToken>,
    /// The company's audio library, oldest first.
    #[serde(default)]
    pub audio: Vec<ScenarioAudio>,
    /// Sends, in the order they were made.
    #[serde(default)]
    pub sends: Vec<ScenarioSend>,
    /// Every player that ever changed availability.
    #[serde(default)]
    pub players: Vec<ScenarioPlayer>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioStore {
    pub external_id: String,
    pub user_id: i64,
    /// The store's name; its External ID when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioToken {
    pub id: String,
    pub environment: Environment,
    #[serde(default)]
    pub label: String,
    /// `audio.read`, `audio.write`, `audio.delete`, `audio.send`; every one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    /// External IDs the token may reach; every store when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<super::tenants::LimitsSpec>,
    /// A fixed, public test token (such as the default sandbox's documented ones), kept on
    /// load when no other tenant can hold it. Absent: a new token is issued on load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioAudio {
    /// `aud_` + 14 letters or digits.
    pub id: String,
    pub environment: Environment,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Seconds, as the upload measured them.
    pub duration: f64,
    pub created_at: String,
    /// The MP3 file, base64 (standard alphabet, padded); at most 10 MiB decoded.
    pub bytes: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioSend {
    pub id: String,
    /// One of the company's audio.
    pub audio_id: String,
    /// The token that made it, one of the company's; `null` when that token is gone.
    #[serde(default)]
    pub key_id: Option<String>,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: String,
    pub repeat: u32,
    pub volume: u8,
    #[serde(default)]
    pub broadcast: bool,
    #[serde(default)]
    pub scheduled: bool,
    /// When its destinations play.
    pub due_at: String,
    pub created_at: String,
    pub destinations: Vec<ScenarioDestination>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioDestination {
    /// One of the company's stores.
    pub external_id: String,
    /// Derived (the players' account, recomputed on load): `scheduled`, `queued`,
    /// `delivered`, `playing`, `played` or `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioPlayer {
    pub external_id: String,
    pub environment: Environment,
    /// Its availability changes, oldest first: what the player's behaviour rests on.
    pub availability: Vec<ScenarioAvailability>,
    /// Derived: whether it is online now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
    /// Derived: the sends waiting in its queue, in the order they will play.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<Vec<String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioAvailability {
    pub at: String,
    pub online: bool,
    /// How long a delivery waits for the offline player before it fails.
    pub fail_after_ms: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioArkKey {
    pub id: String,
    pub tier: Tier,
    #[serde(default)]
    pub label: String,
    pub monthly_limit: i64,
    /// A fixed, public test key; as for Musique tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Calls counted per UTC month of the tenant's clock.
    #[serde(default)]
    pub usage: Vec<ScenarioUsage>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioUsage {
    /// `YYYY-MM`.
    pub month: String,
    pub count: i64,
}

/// A fault's definition (as `POST …/faults` takes it) and how far it got.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioFault {
    pub id: String,
    #[serde(default)]
    pub method: Option<String>,
    pub path: String,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub close: bool,
    #[serde(default)]
    pub times: Option<u32>,
    #[serde(default)]
    pub probability: Option<f64>,
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub matched: u64,
    #[serde(default)]
    pub fired: u64,
    /// How many more times it fires; `times` (or no limit) when absent.
    #[serde(default)]
    pub remaining: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioWebhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub max_attempts: i64,
    pub created_at: String,
}

/// A tenant made from a scenario: the secrets issued for it (shown once) and every id that
/// changed on the way in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Loaded {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub clock: super::clock::ClockView,
    pub hash_cost: HashCost,
    pub companies: Vec<LoadedCompany>,
    pub musicark_keys: Vec<Issued>,
    /// Each webhook's new signing secret.
    pub webhooks: Vec<Issued>,
    pub mapping: IdMapping,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoadedCompany {
    pub prefix: String,
    /// The new legacy company token.
    pub company_token: String,
    pub tokens: Vec<Issued>,
}

/// A secret for the object `id`: a fixed token the scenario named, or a new one.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Issued {
    pub id: String,
    pub secret: String,
    /// Whether it is the fixed token the scenario named.
    pub fixed: bool,
}

/// The scenario's ids that another tenant held, each with the id it got instead. Apply it to
/// the scenario and an export of the new tenant is the same document.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdMapping {
    /// Company prefixes.
    pub companies: BTreeMap<String, String>,
    pub keys: BTreeMap<String, String>,
    pub audio: BTreeMap<String, String>,
    pub sends: BTreeMap<String, String>,
    pub webhooks: BTreeMap<String, String>,
}

/// The body of `POST /_soundcheck/tenants`: up to [`SCENARIO_BODY_LIMIT`] when it carries a
/// `scenario`, the control plane's [`JSON_BODY_LIMIT`] otherwise. A body that may be larger
/// than the JSON limit holds one of [`LARGE_BODIES_AT_ONCE`] permits until the request is done.
pub struct CreateBody(
    pub serde_json::Value,
    pub Option<tokio::sync::OwnedSemaphorePermit>,
);

impl std::fmt::Debug for CreateBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CreateBody").field(&self.0).finish()
    }
}

impl FromRequest<ControlState> for CreateBody {
    type Rejection = Error;

    async fn from_request(req: Request, state: &ControlState) -> Result<Self, Error> {
        let small = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|len| len <= JSON_BODY_LIMIT);
        let permit = if small {
            None
        } else {
            let permit = Arc::clone(&state.large_bodies).try_acquire_owned().map_err(|_| {
                Error::RateLimited {
                    retry_after_secs: 1,
                    message: format!(
                        "{LARGE_BODIES_AT_ONCE} large bodies (scenarios) are being loaded already. Retry after 1 second."
                    ),
                }
            })?;
            Some(permit)
        };
        let bytes = axum::body::to_bytes(req.into_body(), SCENARIO_BODY_LIMIT)
            .await
            .map_err(|e| match crate::serve::body_timeout(&e) {
                Some(timeout) => Error::BodyTimeout(timeout),
                None => Error::PayloadTooLarge {
                    limit_kb: (SCENARIO_BODY_LIMIT / 1024) as u64,
                },
            })?;
        let value = parse_json(&bytes)?;
        if bytes.len() > JSON_BODY_LIMIT && value.get("scenario").is_none() {
            return Err(Error::PayloadTooLarge {
                limit_kb: (JSON_BODY_LIMIT / 1024) as u64,
            });
        }
        Ok(CreateBody(value, permit))
    }
}

/// A scenario parsed, a problem named by its JSON path (`$.companies[0].audio[2].bytes`).
pub fn parse(value: serde_json::Value) -> Result<Scenario, Error> {
    if let Some(version) = value.get("scenarioVersion")
        && version.as_u64() != Some(u64::from(SCENARIO_VERSION))
    {
        return Err(Error::validation(format!(
            "$.scenarioVersion: this server reads version {SCENARIO_VERSION}; got {version}."
        )));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." {
            "$".to_owned()
        } else {
            format!("$.{path}")
        };
        Error::validation(format!("{path}: {}", e.inner()))
    })
}

/// A problem at a JSON path.
pub(crate) fn at(path: impl std::fmt::Display, message: impl std::fmt::Display) -> Error {
    Error::validation(format!("{path}: {message}"))
}

/// What `POST /_soundcheck/tenants` answers: a tenant made from a spec, or from a scenario.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum CreateAnswer {
    Tenant(super::tenants::Created),
    Scenario(Loaded),
}

/// `POST /_soundcheck/tenants` with a `scenario`: the rest of `spec` may only name `hashCost`.
pub async fn create(
    state: &super::ControlState,
    spec: super::tenants::TenantSpec,
    scenario: serde_json::Value,
) -> Result<axum::response::Response, Error> {
    use axum::response::IntoResponse;
    let m = &spec.musique;
    let other = spec.name.is_some()
        || spec.clock.is_some()
        || spec.musicark.keys.is_some()
        || m.company.is_some()
        || m.company_name.is_some()
        || m.stores.is_some()
        || m.external_ids.is_some()
        || m.tokens.is_some();
    if other {
        return Err(Error::validation(
            "A body with a `scenario` may name only `hashCost` besides: the scenario says the rest.",
        ));
    }
    let mut scenario = parse(scenario)?;
    // `"strict": true` beside a scenario makes the loaded tenant strict too.
    scenario.strict |= spec.strict.unwrap_or(false);
    let cost = spec.hash_cost.unwrap_or(state.core.config.tenant_hash_cost);
    let (loaded, applied) = load::load_into_db(&state.core.db, &state.core.hasher, scenario, cost).await?;
    load::apply(state, applied).await?;
    Ok((axum::http::StatusCode::CREATED, axum::Json(loaded)).into_response())
}
