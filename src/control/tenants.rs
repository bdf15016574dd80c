//! Tenants: isolated sandboxes a test creates for itself, with a Musique company, its stores
//! and tokens, and MusicArk keys per tier. A request's tenant is its key's, so clients need
//! nothing extra. Tenants share the read-only song catalogue and nothing else.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ControlState;
use super::error::ControlKind;
use super::store;
use crate::admission::{ClientIp, RETRY_AFTER_SECS};
use crate::auth::{Environment, Permissions, Secret, Tier};
use crate::clock::{TenantClock, real_now_ms, rfc3339_ms};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::hasher::{HashCost, Hasher};
use crate::ids::random_alnum;
use crate::keys::{self, NewArkKey, NewMusiqueKey};
use crate::rate_limit::Limits;
use crate::state::DEFAULT_TENANT;

const MAX_STORES: u32 = 1_000;
const MAX_KEYS: usize = 20;

/// What a test asks for; every part is optional.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TenantSpec {
    pub name: Option<String>,
    #[serde(default)]
    pub musique: MusiqueSpec,
    #[serde(default)]
    pub musicark: MusicArkSpec,
    pub clock: Option<ClockSpec>,
    /// How the tenant's tokens and keys are hashed at rest: `fast` (argon2id, 8 KiB, 1 pass:
    /// the server's default for tenants, `--tenant-hash-cost`) or `default` (argon2id, 7 MiB,
    /// 5 passes, the server's `--hash-cost` default). Generated secrets are 32 random
    /// characters, out of reach of guessing at either cost; `fast` makes creation take
    /// milliseconds instead of about half a second.
    pub hash_cost: Option<HashCost>,
    /// A scenario (as `GET /_soundcheck/tenants/{id}/scenario` exports one) to make the tenant
    /// from, all or nothing; then only `hashCost` may be given besides. See `Scenario`.
    #[serde(default)]
    #[schema(value_type = Option<super::scenario::Scenario>)]
    pub scenario: Option<Value>,
    /// Refuse with a 400, in the API's envelope, whatever the tenant's requests would
    /// otherwise get a `Soundcheck-Warning` for (unknown or misspelt fields and parameters,
    /// `null`s, a send that broadcasts without naming a field, legacy env words). Default
    /// `false`, or every tenant is strict when the server runs with `--strict`.
    pub strict: Option<bool>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MusiqueSpec {
    /// The company prefix tokens start with; generated when absent.
    pub company: Option<String>,
    pub company_name: Option<String>,
    /// How many stores, `store_001` …; 5 when neither this nor `externalIds` is given.
    pub stores: Option<u32>,
    pub external_ids: Option<Vec<String>>,
    /// Default: one prod and one dev token with every permission over every store.
    pub tokens: Option<Vec<TokenSpec>>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TokenSpec {
    pub environment: Option<Environment>,
    pub label: Option<String>,
    pub permissions: Option<Vec<String>>,
    /// External IDs the token may reach; every store when absent.
    pub external_ids: Option<Vec<String>>,
    pub limits: Option<LimitsSpec>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LimitsSpec {
    pub per_minute: u32,
    pub per_hour: u32,
    pub per_day: u32,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MusicArkSpec {
    /// Default: one key per tier.
    pub keys: Option<Vec<ArkKeySpec>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ArkKeySpec {
    pub tier: Tier,
    pub monthly_limit: Option<i64>,
    pub label: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClockSpec {
    /// RFC 3339, from 1970-01-01T00:00:00.000Z to 2499-12-31T23:59:59.999Z; now when absent.
    pub at: Option<String>,
    #[serde(default)]
    pub frozen: bool,
}

/// A new tenant, with its secrets: shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub clock: super::clock::ClockView,
    /// Whether the tenant was created strict (warnings refused with a 400).
    pub strict: bool,
    /// The argon2id preset the tenant's secrets are stored with: `fast` or `default`.
    pub hash_cost: HashCost,
    /// Its parameters, as in the stored PHC strings.
    pub hash_parameters: HashParameters,
    pub musique: CreatedMusique,
    pub musicark: CreatedMusicArk,
}

/// argon2id parameters.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HashParameters {
    /// Always `argon2id` (version 19).
    pub algorithm: &'static str,
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl HashParameters {
    fn of(cost: HashCost) -> HashParameters {
        let params = crate::hasher::params(cost);
        HashParameters {
            algorithm: "argon2id",
            memory_kib: params.m_cost(),
            iterations: params.t_cost(),
            parallelism: params.p_cost(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedMusique {
    pub company: String,
    pub company_name: String,
    /// The legacy company token that `POST /api/integration/auth` takes; shown once.
    pub company_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    pub locations: Vec<CreatedLocation>,
    pub tokens: Vec<CreatedToken>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedLocation {
    pub external_id: String,
    pub user_id: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    pub id: String,
    pub token: String,
    pub environment: Environment,
    pub permissions: Vec<&'static str>,
    /// `"all"` or the listed External IDs.
    pub external_ids: Value,
    pub limits: LimitsSpec,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedMusicArk {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    pub keys: Vec<CreatedArkKey>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedArkKey {
    pub id: String,
    pub key: String,
    pub tier: Tier,
    pub monthly_limit: i64,
}

/// A JSON body deserialized with the failing field named in the error.
pub fn parse_body<T: DeserializeOwned>(body: Value) -> Result<T> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            Error::validation(e.inner().to_string())
        } else {
            Error::validation(format!("`{path}`: {}", e.inner()))
        }
    })
}

/// A token to make: environment, label, permissions, scope, limits.
type PlannedToken = (Environment, String, Permissions, Option<Vec<String>>, Limits);

/// A validated spec, with everything generated that was left out.
struct Plan {
    name: String,
    company: String,
    company_name: String,
    locations: Vec<String>,
    tokens: Vec<PlannedToken>,
    ark_keys: Vec<(Tier, i64, String)>,
    clock: (i64, Option<i64>),
    hash_cost: Option<HashCost>,
    strict: bool,
}

fn plan(spec: TenantSpec, id: &str) -> Result<Plan> {
    let name = spec.name.unwrap_or_else(|| format!("tenant {id}"));
    if name.chars().count() > 200 {
        return Err(Error::validation("`name` must be at most 200 characters."));
    }
    let m = spec.musique;
    let company = match m.company {
        Some(prefix) => {
            if !crate::auth::is_company_prefix(&prefix) {
                return Err(Error::validation(
                    "`musique.company` must be 2-32 lowercase letters or digits, starting with a letter.",
                ));
            }
            prefix
        }
        None => format!("t{}", random_alnum(7)),
    };
    let locations = match (m.stores, m.external_ids) {
        (Some(_), Some(_)) => {
            return Err(Error::validation(
                "Give `musique.stores` or `musique.externalIds`, not both.",
            ));
        }
        (Some(n), None) if !(1..=MAX_STORES).contains(&n) => {
            return Err(Error::validation(format!(
                "`musique.stores` must be from 1 to {MAX_STORES}."
            )));
        }
        (Some(n), None) => (1..=n).map(|i| format!("store_{i:03}")).collect(),
        (None, None) => (1..=5).map(|i| format!("store_{i:03}")).collect(),
        (None, Some(ids)) => {
            if ids.is_empty() || ids.len() > MAX_STORES as usize {
                return Err(Error::validation(format!(
                    "`musique.externalIds` must list 1 to {MAX_STORES} External IDs."
                )));
            }
            let mut seen = HashSet::new();
            for (i, id) in ids.iter().enumerate() {
                keys::validate_external_id(id).map_err(|_| {
                    Error::validation(format!(
                        "`musique.externalIds[{i}]` must be 1-128 printable characters."
                    ))
                })?;
                if !seen.insert(id.as_str()) {
                    return Err(Error::validation(format!(
                        "`musique.externalIds[{i}]` repeats {id:?}."
                    )));
                }
            }
            ids
        }
    };
    let token_specs = m.tokens.unwrap_or_else(|| {
        vec![
            TokenSpec {
                environment: Some(Environment::Prod),
                ..TokenSpec::default()
            },
            TokenSpec {
                environment: Some(Environment::Dev),
                ..TokenSpec::default()
            },
        ]
    });
    if token_specs.len() > MAX_KEYS {
        return Err(Error::validation(format!(
            "`musique.tokens` may list at most {MAX_KEYS} tokens."
        )));
    }
    let mut tokens = Vec::new();
    for (i, t) in token_specs.into_iter().enumerate() {
        let environment = t.environment.unwrap_or(Environment::Prod);
        let permissions = match &t.permissions {
            Some(list) => Permissions::parse_list(&list.join(","))
                .map_err(|e| Error::validation(format!("`musique.tokens[{i}].permissions`: {e}")))?,
            None => Permissions::ALL,
        };
        if let Some(scope) = &t.external_ids {
            let unknown: Vec<&String> = scope.iter().filter(|id| !locations.contains(id)).collect();
            if scope.is_empty() || !unknown.is_empty() {
                return Err(Error::validation(format!(
                    "`musique.tokens[{i}].externalIds` must list some of the tenant's stores; unknown: {unknown:?}."
                )));
            }
        }
        let limits = match t.limits {
            Some(l) if l.per_minute == 0 || l.per_hour == 0 || l.per_day == 0 => {
                return Err(Error::validation(format!(
                    "`musique.tokens[{i}].limits`: every limit must be at least 1."
                )));
            }
            Some(l) => Limits {
                per_minute: l.per_minute,
                per_hour: l.per_hour,
                per_day: l.per_day,
            },
            None => Limits::default(),
        };
        let label = t
            .label
            .unwrap_or_else(|| format!("{} token of {id}", environment.as_str()));
        tokens.push((environment, label, permissions, t.external_ids, limits));
    }
    let ark_specs = spec.musicark.keys.unwrap_or_else(|| {
        [Tier::Free, Tier::Pro, Tier::Enterprise]
            .into_iter()
            .map(|tier| ArkKeySpec {
                tier,
                monthly_limit: None,
                label: None,
            })
            .collect()
    });
    if ark_specs.len() > MAX_KEYS {
        return Err(Error::validation(format!(
            "`musicark.keys` may list at most {MAX_KEYS} keys."
        )));
    }
    let mut ark_keys = Vec::new();
    for (i, k) in ark_specs.into_iter().enumerate() {
        let limit = k.monthly_limit.unwrap_or_else(|| k.tier.default_monthly_limit());
        if limit < 1 {
            return Err(Error::validation(format!(
                "`musicark.keys[{i}].monthlyLimit` must be at least 1."
            )));
        }
        let label = k
            .label
            .unwrap_or_else(|| format!("{} key of {id}", k.tier.as_str()));
        ark_keys.push((k.tier, limit, label));
    }
    let clock = match spec.clock {
        None => (0, None),
        Some(c) => {
            let at = match &c.at {
                Some(at) => chrono::DateTime::parse_from_rfc3339(at)
                    .map_err(|_| Error::validation("`clock.at` must be an RFC 3339 instant."))?
                    .timestamp_millis(),
                None => real_now_ms(),
            };
            if !crate::clock::in_range(at) {
                return Err(Error::validation(format!(
                    "`clock.at` must be an instant from {}.",
                    crate::clock::INSTANT_RANGE
                )));
            }
            if c.frozen {
                (0, Some(at))
            } else {
                (at - real_now_ms(), None)
            }
        }
    };
    Ok(Plan {
        hash_cost: spec.hash_cost,
        strict: spec.strict.unwrap_or(false),
        name,
        company_name: m.company_name.unwrap_or_else(|| company.clone()),
        company,
        locations,
        tokens,
        ark_keys,
        clock,
    })
}

/// Creates a tenant in the database (CLI and HTTP alike) and returns it with its secrets;
/// `cost` is the hash cost when the spec names none.
pub async fn create_tenant(db: &Db, hasher: &Hasher, spec: TenantSpec, cost: HashCost) -> Result<Created> {
    let id = format!("ten_{}", random_alnum(12));
    let plan = plan(spec, &id)?;
    let cost = plan.hash_cost.unwrap_or(cost);
    let musique_tokens: Vec<String> = plan
        .tokens
        .iter()
        .map(|(env, ..)| keys::generate_musique_token(&plan.company, *env))
        .collect();
    let ark_tokens: Vec<String> = plan
        .ark_keys
        .iter()
        .map(|_| keys::generate_musicark_key())
        .collect();
    let company_token = keys::generate_company_token(&plan.company);
    // Hashed on the hasher's workers, queued together or refused together (429), before the
    // write lock is taken.
    let secrets: Vec<&str> = musique_tokens
        .iter()
        .chain(&ark_tokens)
        .chain([&company_token])
        .map(String::as_str)
        .collect();
    let mut hashes = hasher.hash_all(&secrets, cost).await?;
    let company_hash = hashes
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no company token hash"))?;
    let (musique_hashes, ark_hashes) = hashes.split_at(musique_tokens.len());

    let created_at_ms = real_now_ms();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO tenants (id, name, created_at_ms, clock_offset_ms, clock_frozen_ms, strict) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(&plan.name)
    .bind(created_at_ms)
    .bind(plan.clock.0)
    .bind(plan.clock.1)
    .bind(plan.strict)
    .execute(&mut *tx)
    .await?;
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM companies WHERE prefix = ?")
        .bind(&plan.company)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(ControlKind::Conflict(format!(
            "Company prefix `{}` is taken; choose another or leave it out to get a generated one.",
            plan.company
        ))
        .into());
    }
    let (company_id, _) = keys::ensure_company(&mut tx, &id, &plan.company, &plan.company_name)
        .await
        .map_err(Error::Internal)?;
    store::set_company_token_hash(&mut tx, &id, company_id, &company_hash)
        .await
        .map_err(Error::Internal)?;
    let named: Vec<(String, String)> = plan.locations.iter().map(|e| (e.clone(), e.clone())).collect();
    keys::add_locations(&mut tx, company_id, &named, None)
        .await
        .map_err(Error::Internal)?;
    let mut tokens = Vec::new();
    for (((environment, label, permissions, scope, limits), token), hash) in
        plan.tokens.into_iter().zip(musique_tokens).zip(musique_hashes)
    {
        let key = NewMusiqueKey {
            tenant_id: id.clone(),
            company_id,
            environment,
            token: Secret(token.clone()),
            label,
            permissions,
            scope: scope.clone(),
            limits: Some(limits),
        };
        let key_id = keys::insert_musique_key(&mut tx, &key, hash)
            .await
            .map_err(Error::Internal)?;
        tokens.push(CreatedToken {
            id: key_id,
            token,
            environment,
            permissions: permissions.names(),
            external_ids: scope.map_or_else(|| Value::from("all"), Value::from),
            limits: LimitsSpec {
                per_minute: limits.per_minute,
                per_hour: limits.per_hour,
                per_day: limits.per_day,
            },
        });
    }
    let mut ark = Vec::new();
    for (((tier, monthly_limit, label), key), hash) in
        plan.ark_keys.into_iter().zip(ark_tokens).zip(ark_hashes)
    {
        let new = NewArkKey {
            tenant_id: id.clone(),
            tier,
            monthly_limit: Some(monthly_limit),
            token: Secret(key.clone()),
            label,
        };
        let key_id = keys::insert_musicark_key(&mut tx, &new, hash)
            .await
            .map_err(Error::Internal)?;
        ark.push(CreatedArkKey {
            id: key_id,
            key,
            tier,
            monthly_limit,
        });
    }
    let locations: Vec<CreatedLocation> = sqlx::query_as::<_, (String, i64)>(
        "SELECT external_id, user_id FROM locations WHERE company_id = ? ORDER BY id",
    )
    .bind(company_id)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(external_id, user_id)| CreatedLocation { external_id, user_id })
    .collect();
    store::save_seed(&mut tx, &id).await.map_err(Error::Internal)?;
    tx.commit().await?;

    let clock = TenantClock::new(plan.clock.0, plan.clock.1);
    Ok(Created {
        clock: super::clock::ClockView::of(&clock),
        hash_cost: cost,
        hash_parameters: HashParameters::of(cost),
        id,
        name: plan.name,
        strict: plan.strict,
        created_at: rfc3339_ms(created_at_ms),
        musique: CreatedMusique {
            company: plan.company,
            company_name: plan.company_name,
            company_token,
            base_url: None,
            locations,
            tokens,
        },
        musicark: CreatedMusicArk {
            base_url: None,
            keys: ark,
        },
    })
}

/// The `{tenant}` segment of a control path.
#[derive(Debug)]
pub struct TenantPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for TenantPath {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::validation(format!("A path parameter is invalid: {}", e.body_text())))?;
        params
            .get("tenant")
            .cloned()
            .map(TenantPath)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("route has no {{tenant}}")))
    }
}

/// The `{tenant}` of a control path, checked to exist (as [`existing`] checks); an unknown
/// tenant answers 404. Put it after the handler's other parts: the check has always come
/// after them.
#[derive(Debug)]
pub struct ExistingTenant(pub String);

impl<S> FromRequestParts<S> for ExistingTenant
where
    ControlState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let TenantPath(tenant) = TenantPath::from_request_parts(parts, state).await?;
        existing(&ControlState::from_ref(state), &tenant)
            .await
            .map(ExistingTenant)
    }
}

/// The [`ExistingTenant`] of a handler that takes a body, with the body. The body is read
/// before the tenant is looked up, so that a body too large, too slow or not JSON answers
/// before an unknown tenant does, as it always has.
#[derive(Debug)]
pub struct TenantBody<B>(pub String, pub B);

impl<S, B> FromRequest<S> for TenantBody<B>
where
    ControlState: FromRef<S>,
    S: Send + Sync,
    B: FromRequest<S, Rejection = Error> + Send,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let (mut parts, body) = req.into_parts();
        let TenantPath(tenant) = TenantPath::from_request_parts(&mut parts, state).await?;
        let body = B::from_request(Request::from_parts(parts, body), state).await?;
        let tenant = existing(&ControlState::from_ref(state), &tenant).await?;
        Ok(TenantBody(tenant, body))
    }
}

/// The tenant's id if it exists (in this process or, made by the CLI, in the database).
pub async fn existing(state: &ControlState, tenant: &str) -> Result<String> {
    match store::tenant(&state.core.db, tenant).await? {
        Some(row) => {
            state
                .core
                .clocks
                .get_or_load(&row.id, row.clock_offset_ms, row.clock_frozen_ms);
            Ok(row.id)
        }
        None => Err(Error::ResourceNotFound(format!(
            "Tenant `{tenant}` was not found."
        ))),
    }
}

#[utoipa::path(
    post, path = "/_soundcheck/tenants", tag = "Tenants", operation_id = "createTenant",
    description = "An isolated sandbox: a Musique company with its stores and tokens, and MusicArk keys per tier. Tokens and keys are shown once. Unless the body asks for `\"hashCost\": \"default\"`, they are stored as cheap argon2id hashes (`fast`: 8 KiB, 1 pass), so that a test can make its own tenant in milliseconds; `hashCost` and `hashParameters` in the answer say which. One client address may have `--tenant-creations-in-flight` (default 32) creations in flight at once.",
    request_body(content = TenantSpec, content_type = "application/json"),
    responses(
        (status = 201, description = "The tenant, with its secrets: `Created`, or `Loaded` for a `scenario` (its new secrets and the ids it had to change).", body = super::scenario::CreateAnswer),
        (status = 400, description = "The body is not JSON, or a field is missing, mistyped or out of range; for a scenario, the message begins with the JSON path of the first problem in it (`$.companies[0].sends[3].destinations[0].externalId: unknown store.`).", body = crate::musique::docs::MusiqueError),
        (status = 409, description = "The company prefix is taken.", body = crate::musique::docs::MusiqueError),
        (status = 413, description = "The body is over 256 KiB, or over 32 MiB with a `scenario`.", body = crate::musique::docs::MusiqueError),
        (status = 429, description = "This client has too many creations in flight, or the key hashing queue is full; `Retry-After` says when to come back.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `POST /_soundcheck/tenants`
pub async fn create(
    State(state): State<ControlState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    super::scenario::CreateBody(body, _large): super::scenario::CreateBody,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    let mut spec: TenantSpec = parse_body(body)?;
    let limits = &state.core.admission.tenant_creations;
    let _slot = limits.try_acquire(client).ok_or_else(|| Error::RateLimited {
        retry_after_secs: RETRY_AFTER_SECS,
        message: format!(
            "Too many tenant creations from this client at once (at most {}). Retry after {RETRY_AFTER_SECS} second.",
            limits.limit()
        ),
    })?;
    if let Some(scenario) = spec.scenario.take() {
        return super::scenario::create(&state, spec, scenario).await;
    }
    let mut created = create_tenant(
        &state.core.db,
        &state.core.hasher,
        spec,
        state.core.config.tenant_hash_cost,
    )
    .await?;
    state.core.clocks.insert(
        &created.id,
        TenantClock::new(created.clock.offset_ms, created.clock.frozen_ms()),
    );
    state
        .core
        .runtimes
        .add_prefix(&created.musique.company, &created.id);
    let base = crate::musique::audio::base_url(&headers, &state.core);
    created.musique.base_url = Some(format!("{base}{}", crate::musique::BASE));
    created.musicark.base_url = Some(format!("{base}{}", crate::musicark::BASE));
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantView {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub clock: super::clock::ClockView,
    /// Whether the tenant was created strict: its requests' warnings are refused with a 400
    /// (the server's `--strict` makes every tenant so, whatever this says).
    pub strict: bool,
    pub companies: Vec<CompanyView>,
    pub keys: Vec<KeyView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyView {
    pub prefix: String,
    pub name: String,
    pub locations: Vec<CreatedLocation>,
}

/// A key without its secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    pub id: String,
    pub api: String,
    /// The token's non-secret head.
    pub lookup: String,
    pub label: String,
    pub environment: Option<String>,
    pub tier: Option<String>,
    pub revoked: bool,
}

async fn view(state: &ControlState, row: store::TenantRow) -> Result<TenantView> {
    let companies = store::companies(&state.core.db, &row.id).await?;
    let locations = store::locations(&state.core.db, &row.id).await?;
    let keys = keys::list(&state.core.db).await.map_err(Error::Internal)?;
    let clock = state
        .core
        .clocks
        .get_or_load(&row.id, row.clock_offset_ms, row.clock_frozen_ms);
    Ok(TenantView {
        clock: super::clock::ClockView::of(&clock),
        companies: companies
            .into_iter()
            .map(|c| CompanyView {
                locations: locations
                    .iter()
                    .filter(|l| l.company_id == c.id)
                    .map(|l| CreatedLocation {
                        external_id: l.external_id.clone(),
                        user_id: l.user_id,
                    })
                    .collect(),
                prefix: c.prefix,
                name: c.name,
            })
            .collect(),
        keys: keys
            .into_iter()
            .filter(|k| k.tenant_id == row.id)
            .map(|k| KeyView {
                id: k.id,
                api: k.api,
                lookup: k.lookup,
                label: k.label,
                environment: k.environment,
                tier: k.tier,
                revoked: k.revoked_at_ms.is_some(),
            })
            .collect(),
        strict: row.strict,
        id: row.id,
        name: row.name,
        created_at: rfc3339_ms(row.created_at_ms),
    })
}

#[utoipa::path(
    get, path = "/_soundcheck/tenants/{tenant}", tag = "Tenants", operation_id = "getTenant",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`.")),
    responses(
        (status = 200, description = "The tenant, without secrets.", body = TenantView),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `GET /_soundcheck/tenants/{id}`
pub async fn get(
    State(state): State<ControlState>,
    TenantPath(tenant): TenantPath,
) -> Result<Json<TenantView>> {
    let row = store::tenant(&state.core.db, &tenant)
        .await?
        .ok_or_else(|| Error::ResourceNotFound(format!("Tenant `{tenant}` was not found.")))?;
    Ok(Json(view(&state, row).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantList {
    /// A page of tenants, oldest first.
    pub tenants: Vec<store::TenantRow>,
    /// How many tenants there are.
    pub total: i64,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/_soundcheck/tenants", tag = "Tenants", operation_id = "listTenants",
    description = "Tenants, oldest first, `limit` at a time; follow `nextCursor` for the rest. Tenants made meanwhile come at the end.",
    params(("limit" = Option<usize>, Query, minimum = 1, maximum = 1000, description = "Tenants per page; default 100."), ("cursor" = Option<String>, Query, description = "The `nextCursor` of the previous page.")),
    responses(
        (status = 200, description = "A page of tenants.", body = TenantList),
        (status = 400, description = "A bad `limit` or `cursor`.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `GET /_soundcheck/tenants?limit=&cursor=`
pub async fn list(
    State(state): State<ControlState>,
    query: crate::extract::QueryPairs,
) -> Result<Json<TenantList>> {
    use super::page::{Page, cursor, next};
    let page = Page::of(&query, "tenants", 2)?;
    let (created, id) = (page.number(0)?.unwrap_or(i64::MIN), page.text(1).unwrap_or(""));
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
        .fetch_one(&state.core.db.read)
        .await?;
    let mut tenants: Vec<store::TenantRow> = sqlx::query_as(
        "SELECT id, name, created_at_ms, clock_offset_ms, clock_frozen_ms, strict FROM tenants
         WHERE (created_at_ms, id) > (?, ?) ORDER BY created_at_ms, id LIMIT ?",
    )
    .bind(created)
    .bind(id)
    .bind(page.limit as i64 + 1)
    .fetch_all(&state.core.db.read)
    .await?;
    let next_cursor = next(&mut tenants, page.limit, |t| {
        cursor("tenants", &[&t.created_at_ms, &t.id])
    });
    Ok(Json(TenantList {
        tenants,
        total,
        next_cursor,
    }))
}

/// Forgets everything the running server holds for a tenant's keys and companies.
fn forget(state: &ControlState, tenant: &str, key_ids: &[String], company_ids: &[i64]) {
    state.musique.keys.evict_tenant(tenant);
    state.musicark.keys.evict_tenant(tenant);
    state.webhooks.forget(tenant);
    state.musique.forget_limiters(tenant);
    state.musicark.quotas.forget(key_ids);
    for company in company_ids {
        state.musique.libraries.remove_company(*company);
        state.musique.deliveries.remove_company(*company);
    }
}

#[utoipa::path(
    delete, path = "/_soundcheck/tenants/{tenant}", tag = "Tenants", operation_id = "deleteTenant",
    description = "Removes the tenant and everything it owns; its keys stop working at once.",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError),
        (status = 409, description = "The default tenant cannot be deleted.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `DELETE /_soundcheck/tenants/{id}`
pub async fn remove(State(state): State<ControlState>, TenantPath(tenant): TenantPath) -> Result<StatusCode> {
    if tenant == DEFAULT_TENANT {
        return Err(ControlKind::Conflict(
            "The default tenant holds the fixtures and cannot be deleted; reset it instead.".to_owned(),
        )
        .into());
    }
    let (key_ids, company_ids) = store::owned_ids(&state.core.db, &tenant).await?;
    let _paused = (state.musicark.quotas.pause().await, state.musique.pause().await);
    if !store::delete(&state.core.db, &tenant).await? {
        return Err(Error::ResourceNotFound(format!(
            "Tenant `{tenant}` was not found."
        )));
    }
    forget(&state, &tenant, &key_ids, &company_ids);
    state.core.runtimes.remove(&tenant);
    state.core.clocks.remove(&tenant);
    Ok(StatusCode::NO_CONTENT)
}

/// Puts a tenant back as it was created: same tokens, the audio it was created with (the
/// default tenant's example announcement; none for others), no sends, usage, journal or
/// faults, its first clock.
pub async fn reset_tenant(state: &ControlState, tenant: &str) -> Result<()> {
    let (key_ids, company_ids) = store::owned_ids(&state.core.db, tenant).await?;
    // No quota count or window may be written behind for a key while its usage is being wiped.
    let _paused = (state.musicark.quotas.pause().await, state.musique.pause().await);
    let store::Restored { seed, audio } = store::restore(&state.core.db, tenant)
        .await
        .map_err(Error::Internal)?
        .ok_or_else(|| Error::ResourceNotFound(format!("Tenant `{tenant}` was not found.")))?;
    forget(state, tenant, &key_ids, &company_ids);
    // The fixture library (the default tenant's example announcement) is back in SQLite.
    for (key, meta) in audio {
        state.musique.libraries.insert_audio(key, meta);
    }
    if let Some(runtime) = state.core.runtimes.existing(tenant) {
        runtime.journal.clear();
        runtime.faults.clear();
    }
    state
        .core
        .clocks
        .get(tenant)
        .restore(seed.clock_offset_ms, seed.clock_frozen_ms);
    Ok(())
}

#[utoipa::path(
    post, path = "/_soundcheck/tenants/{tenant}/reset", tag = "Tenants", operation_id = "resetTenant",
    description = "Back to its creation state: same tokens; the audio it was created with (the default tenant's example announcement `aud_welcome0000001`; none for a tenant made here); no sends, usage, limiter state, journal or faults; its first clock.",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`.")),
    responses(
        (status = 200, description = "The tenant as reset.", body = TenantView),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `POST /_soundcheck/tenants/{id}/reset`
pub async fn reset(
    State(state): State<ControlState>,
    TenantPath(tenant): TenantPath,
) -> Result<Json<TenantView>> {
    reset_tenant(&state, &tenant).await?;
    get(State(state), TenantPath(tenant)).await
}

#[utoipa::path(
    post, path = "/_soundcheck/reset", tag = "Tenants", operation_id = "resetDefault",
    description = "The default tenant back to the fixtures (its keys, stores and the example announcement `aud_welcome0000001`); no other tenant is touched.",
    responses(
        (status = 200, description = "The default tenant as reset.", body = TenantView)
    )
)]
/// `POST /_soundcheck/reset`: the default tenant back to the fixtures; no other tenant is
/// touched.
pub async fn reset_default(State(state): State<ControlState>) -> Result<Json<TenantView>> {
    reset_tenant(&state, DEFAULT_TENANT).await?;
    get(State(state), TenantPath(DEFAULT_TENANT.to_owned())).await
}
