//! Who a Musique token is: the verified caller, and how its key is found and proven.

use std::sync::Arc;

use super::state::MusiqueState;
use crate::auth::{ApiKeys, Environment, Permissions, Verified, parse_musique_token};
use crate::clock::TenantClock;
use crate::error::{Error, Result};
use crate::rate_limit::{KeyLimiter, Limits};

/// A verified Musique token: who calls, for which company and environment, with what rights.
#[derive(Debug)]
pub struct MusiqueCaller {
    // Shared with the journal entries of its requests (`Notes::attribute`).
    pub key_id: Arc<str>,
    pub tenant_id: Arc<str>,
    pub company_id: i64,
    pub company_prefix: String,
    pub company_name: String,
    pub environment: Environment,
    pub permissions: Permissions,
    /// `None`: every location of the company.
    pub scope: Option<Vec<String>>,
    pub limiter: Arc<KeyLimiter>,
    pub clock: Arc<TenantClock>,
    /// The tenant was created strict: warnings are refused (fixed at creation, so cached).
    pub strict: bool,
}

impl MusiqueCaller {
    pub fn require(&self, permission: &'static str) -> Result<()> {
        if self.permissions.has(permission) {
            Ok(())
        } else {
            Err(super::error::MusiqueKind::Forbidden(permission).into())
        }
    }

    pub fn in_scope(&self, external_id: &str) -> bool {
        self.scope
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|id| id == external_id))
    }
}

impl Verified for MusiqueCaller {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn tenant_id(&self) -> &str {
        &self.tenant_id
    }
}

#[derive(sqlx::FromRow)]
pub struct MusiqueKeyRow {
    id: String,
    tenant_id: String,
    hash: String,
    environment: String,
    permissions: Option<String>,
    scope: Option<String>,
    limit_minute: Option<i64>,
    limit_hour: Option<i64>,
    limit_day: Option<i64>,
    company_id: i64,
    prefix: String,
    name: String,
    clock_offset_ms: i64,
    clock_frozen_ms: Option<i64>,
    strict: bool,
}

impl ApiKeys for MusiqueState {
    type Caller = MusiqueCaller;
    /// The key, and the environment the token named (the key's, by the lookup).
    type Row = (MusiqueKeyRow, Environment);

    fn has_shape(token: &str) -> bool {
        parse_musique_token(token).is_some()
    }

    async fn candidates(&self, token: &str) -> Result<Vec<Self::Row>> {
        let Some(parsed) = parse_musique_token(token) else {
            return Ok(Vec::new());
        };
        let rows: Vec<MusiqueKeyRow> = sqlx::query_as(
            "SELECT k.id, k.tenant_id, k.hash, k.environment, k.permissions, k.scope,
                    k.limit_minute, k.limit_hour, k.limit_day, c.id AS company_id, c.prefix, c.name,
                    t.clock_offset_ms, t.clock_frozen_ms, t.strict
             FROM api_keys k JOIN companies c ON c.id = k.company_id JOIN tenants t ON t.id = k.tenant_id
             WHERE k.lookup = ? AND k.api = 'musique' AND k.revoked_at_ms IS NULL",
        )
        .bind(parsed.lookup())
        .fetch_all(&self.core.db.read)
        .await?;
        Ok(rows
            .into_iter()
            .filter(|row| row.prefix == parsed.company && row.environment == parsed.environment.as_str())
            .map(|row| (row, parsed.environment))
            .collect())
    }

    fn hash((row, _): &Self::Row) -> &str {
        &row.hash
    }

    fn caller(&self, (row, environment): Self::Row) -> Result<MusiqueCaller> {
        let scope = match row.scope.as_deref() {
            Some(json) => Some(
                serde_json::from_str::<Vec<String>>(json)
                    .map_err(|e| Error::Internal(anyhow::anyhow!("key {} scope: {e}", row.id)))?,
            ),
            None => None,
        };
        let permissions = match row.permissions.as_deref() {
            Some(list) => Permissions::parse_list(list)
                .map_err(|e| Error::Internal(anyhow::anyhow!("key {}: {e}", row.id)))?,
            None => Permissions::ALL,
        };
        let defaults = Limits::default();
        let limits = Limits {
            per_minute: as_limit(row.limit_minute, defaults.per_minute),
            per_hour: as_limit(row.limit_hour, defaults.per_hour),
            per_day: as_limit(row.limit_day, defaults.per_day),
        };
        let clock = self
            .core
            .clocks
            .get_or_load(&row.tenant_id, row.clock_offset_ms, row.clock_frozen_ms);
        Ok(MusiqueCaller {
            limiter: self.limiter_for(&row.tenant_id, &row.id, limits, &clock),
            key_id: row.id.into(),
            tenant_id: row.tenant_id.into(),
            company_id: row.company_id,
            company_prefix: row.prefix,
            company_name: row.name,
            environment,
            permissions,
            scope,
            clock,
            strict: row.strict,
        })
    }
}

/// The Musique caller behind an `X-API-Key` value.
pub async fn musique_caller(state: &MusiqueState, token: &str) -> Result<Arc<MusiqueCaller>> {
    state.keys.resolve(state, &state.core.hasher, token).await
}

pub fn as_limit(value: Option<i64>, default: u32) -> u32 {
    value
        .and_then(|v| u32::try_from(v).ok())
        .filter(|v| *v >= 1)
        .unwrap_or(default)
}

/// The company prefix an `X-API-Key` names, whether or not the token is valid: a request with
/// a wrong key, or on a route that checks none, still belongs to that company's tenant.
pub fn company_prefix(token: &str) -> Option<&str> {
    crate::auth::parse_musique_token(token).map(|t| t.company)
}
