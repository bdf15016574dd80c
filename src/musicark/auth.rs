//! Who a MusicArk key is: the verified caller, and how its key is found and proven.

use std::sync::Arc;

use super::state::ArkState;
use crate::auth::{ApiKeys, Tier, Verified, is_musicark_key, musicark_lookup};
use crate::clock::TenantClock;
use crate::error::Result;

/// A verified MusicArk key.
#[derive(Debug)]
pub struct ArkCaller {
    // Shared with the journal entries of its requests (`Notes::attribute`).
    pub key_id: Arc<str>,
    pub tenant_id: Arc<str>,
    pub tier: Tier,
    pub monthly_limit: i64,
    pub clock: Arc<TenantClock>,
    /// The tenant was created strict: warnings are refused (fixed at creation, so cached).
    pub strict: bool,
}

impl Verified for ArkCaller {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn tenant_id(&self) -> &str {
        &self.tenant_id
    }
}

#[derive(sqlx::FromRow)]
pub struct ArkKeyRow {
    id: String,
    tenant_id: String,
    hash: String,
    tier: Option<String>,
    monthly_limit: Option<i64>,
    clock_offset_ms: i64,
    clock_frozen_ms: Option<i64>,
    strict: bool,
}

impl ApiKeys for ArkState {
    type Caller = ArkCaller;
    type Row = ArkKeyRow;

    fn has_shape(key: &str) -> bool {
        is_musicark_key(key)
    }

    async fn candidates(&self, key: &str) -> Result<Vec<ArkKeyRow>> {
        let Some(lookup) = musicark_lookup(key) else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query_as(
            "SELECT k.id, k.tenant_id, k.hash, k.tier, k.monthly_limit, t.clock_offset_ms, t.clock_frozen_ms, t.strict
             FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
             WHERE k.lookup = ? AND k.api = 'musicark' AND k.revoked_at_ms IS NULL",
        )
        .bind(lookup)
        .fetch_all(&self.core.db.read)
        .await?;
        Ok(rows)
    }

    fn hash(row: &ArkKeyRow) -> &str {
        &row.hash
    }

    fn caller(&self, row: ArkKeyRow) -> Result<ArkCaller> {
        let tier = row.tier.as_deref().and_then(Tier::parse).unwrap_or(Tier::Free);
        Ok(ArkCaller {
            monthly_limit: row.monthly_limit.unwrap_or_else(|| tier.default_monthly_limit()),
            clock: self
                .core
                .clocks
                .get_or_load(&row.tenant_id, row.clock_offset_ms, row.clock_frozen_ms),
            key_id: row.id.into(),
            tenant_id: row.tenant_id.into(),
            tier,
            strict: row.strict,
        })
    }
}

/// The MusicArk caller behind a bearer or `api_key` value.
pub async fn musicark_caller(state: &ArkState, key: &str) -> Result<Arc<ArkCaller>> {
    state.keys.resolve(state, &state.core.hasher, key).await
}
