//! Keys of both APIs: token shapes, the verification cache, typed callers.
//!
//! A token is found by its non-secret head (`lookup`) and proven by argon2id on the hasher's
//! workers. A verified token is cached under its SHA-256 digest (never the token itself), so
//! the hot path does no hashing and no database round-trip; a watcher evicts revoked keys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::clock::{TenantClock, real_now_ms};
use crate::error::{Error, Result};
use crate::hasher::HashError;
use crate::rate_limit::{KeyLimiter, Limits};
use crate::state::AppState;

/// A token as the client sent it; its `Debug` never shows it.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(\"[redacted]\")")
    }
}

/// How many characters of the secret part the lookup keeps: enough to find one row among
/// many, while a generated 32-character secret keeps 24 characters nobody can read.
const LOOKUP_CHARS: usize = 8;

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Prod,
    Dev,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Prod => "prod",
            Environment::Dev => "dev",
        }
    }

    /// The environment word of a token; the legacy docs' `live`/`test` mean `prod`/`dev`.
    pub fn from_token_word(word: &str) -> Option<Environment> {
        match word {
            "prod" | "live" => Some(Environment::Prod),
            "dev" | "test" => Some(Environment::Dev),
            _ => None,
        }
    }
}

/// The parts of a Musique token `{companyPrefix}_{environmentPrefix}_{hashToken}`.
#[derive(Debug, PartialEq, Eq)]
pub struct MusiqueToken<'a> {
    pub company: &'a str,
    pub env_word: &'a str,
    pub environment: Environment,
    pub secret: &'a str,
}

impl MusiqueToken<'_> {
    pub fn lookup(&self) -> String {
        format!(
            "{}_{}_{}",
            self.company,
            self.env_word,
            &self.secret[..LOOKUP_CHARS]
        )
    }
}

pub fn is_company_prefix(s: &str) -> bool {
    (2..=32).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
}

pub fn parse_musique_token(token: &str) -> Option<MusiqueToken<'_>> {
    let mut parts = token.splitn(3, '_');
    let (company, env_word, secret) = (parts.next()?, parts.next()?, parts.next()?);
    let environment = Environment::from_token_word(env_word)?;
    let secret_ok =
        (LOOKUP_CHARS..=128).contains(&secret.len()) && secret.bytes().all(|b| b.is_ascii_alphanumeric());
    (is_company_prefix(company) && secret_ok).then_some(MusiqueToken {
        company,
        env_word,
        environment,
        secret,
    })
}

/// The company prefix of a legacy company token `{companyPrefix}_company_{secret}`, which
/// `POST /api/integration/auth` takes: the prefix finds the company's one stored hash, so a
/// token is checked with one argon2 verification, never one per company.
pub fn company_token_prefix(token: &str) -> Option<&str> {
    let (company, secret) = token.split_once("_company_")?;
    let secret_ok =
        (LOOKUP_CHARS..=128).contains(&secret.len()) && secret.bytes().all(|b| b.is_ascii_alphanumeric());
    (is_company_prefix(company) && secret_ok).then_some(company)
}

/// The lookup of a MusicArk key `mk_live_` / `mk_test_` + alphanumerics.
pub fn musicark_lookup(key: &str) -> Option<String> {
    let rest = key
        .strip_prefix("mk_live_")
        .or_else(|| key.strip_prefix("mk_test_"))?;
    let ok = (16..=64).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| key[..8 + LOOKUP_CHARS].to_owned())
}

/// `audio.*` permissions as a bit set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permissions(u8);

impl Permissions {
    pub const NAMES: [&'static str; 4] = ["audio.read", "audio.write", "audio.delete", "audio.send"];
    pub const ALL: Permissions = Permissions(0b1111);

    pub fn parse_list(list: &str) -> std::result::Result<Permissions, String> {
        let mut bits = 0;
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let index = Self::NAMES
                .iter()
                .position(|n| *n == name)
                .ok_or_else(|| format!("unknown permission {name:?}; known: {}", Self::NAMES.join(", ")))?;
            bits |= 1 << index;
        }
        Ok(Permissions(bits))
    }

    pub fn has(self, name: &str) -> bool {
        Self::NAMES
            .iter()
            .position(|n| *n == name)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }

    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES.iter().copied().filter(|n| self.has(n)).collect()
    }

    pub fn to_list(self) -> String {
        self.names().join(",")
    }
}

/// A verified Musique token: who calls, for which company and environment, with what rights.
#[derive(Debug)]
pub struct MusiqueCaller {
    pub key_id: String,
    pub tenant_id: String,
    pub company_id: i64,
    pub company_prefix: String,
    pub company_name: String,
    pub environment: Environment,
    pub permissions: Permissions,
    /// `None`: every location of the company.
    pub scope: Option<Vec<String>>,
    pub limiter: Arc<KeyLimiter>,
    pub clock: Arc<TenantClock>,
}

impl MusiqueCaller {
    pub fn require(&self, permission: &'static str) -> Result<()> {
        if self.permissions.has(permission) {
            Ok(())
        } else {
            Err(Error::Forbidden(permission))
        }
    }

    pub fn in_scope(&self, external_id: &str) -> bool {
        self.scope
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|id| id == external_id))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Free,
    Pro,
    Enterprise,
}

impl Tier {
    pub fn parse(s: &str) -> Option<Tier> {
        match s {
            "free" => Some(Tier::Free),
            "pro" => Some(Tier::Pro),
            "enterprise" => Some(Tier::Enterprise),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Free => "free",
            Tier::Pro => "pro",
            Tier::Enterprise => "enterprise",
        }
    }

    /// The documented monthly allowance of the tier.
    pub fn default_monthly_limit(self) -> i64 {
        match self {
            Tier::Free => 100,
            Tier::Pro => 5_000,
            Tier::Enterprise => 100_000,
        }
    }
}

/// A verified MusicArk key.
#[derive(Debug)]
pub struct ArkCaller {
    pub key_id: String,
    pub tenant_id: String,
    pub tier: Tier,
    pub monthly_limit: i64,
    pub clock: Arc<TenantClock>,
}

#[derive(Clone, Debug)]
enum Cached {
    Musique(Arc<MusiqueCaller>),
    MusicArk(Arc<ArkCaller>),
}

impl Cached {
    fn key_id(&self) -> &str {
        match self {
            Cached::Musique(c) => &c.key_id,
            Cached::MusicArk(c) => &c.key_id,
        }
    }

    fn tenant_id(&self) -> &str {
        match self {
            Cached::Musique(c) => &c.tenant_id,
            Cached::MusicArk(c) => &c.tenant_id,
        }
    }
}

type Digest32 = [u8; 32];

/// Which API a token was presented to. A MusicArk key also has the Musique token's shape
/// (`mk` is a valid company prefix and `live` a legacy environment word), so what one API
/// learnt about a digest must not decide for the other.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
enum KeyApi {
    Musique,
    MusicArk,
}

type CacheKey = (KeyApi, Digest32);

/// How long an unknown token is remembered as unknown, so a flood of bad keys costs no hashing.
const NEGATIVE_TTL_MS: i64 = 1_000;
const NEGATIVE_CAP: usize = 10_000;
/// Cache misses being resolved at once beyond which finished entries are swept.
const FILLS_SWEEP: usize = 10_000;

type FillLock = Arc<tokio::sync::Mutex<()>>;

/// Verified callers by token digest, and recently refused digests per API.
#[derive(Debug, Default)]
pub struct KeyCache {
    verified: RwLock<HashMap<Digest32, Cached>>,
    refused: RwLock<HashMap<CacheKey, i64>>,
    // One miss per token is resolved at a time, so 64 clients arriving together with a new
    // key cost one argon2 verification, not 64; misses of different tokens go on side by side.
    fills: Mutex<HashMap<CacheKey, FillLock>>,
}

/// The right to resolve one token's cache miss; the next client with that token waits for it.
struct Fill<'a> {
    cache: &'a KeyCache,
    key: CacheKey,
    lock: FillLock,
    _held: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for Fill<'_> {
    fn drop(&mut self) {
        // Whoever waits on this lock re-reads the cache once it has it; a newcomer starts a
        // fresh entry and re-reads the cache too.
        let mut fills = self.cache.fills.lock().unwrap_or_else(|e| e.into_inner());
        if fills.get(&self.key).is_some_and(|l| Arc::ptr_eq(l, &self.lock)) {
            fills.remove(&self.key);
        }
    }
}

impl KeyCache {
    fn get(&self, digest: &Digest32) -> Option<Cached> {
        self.verified
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(digest)
            .cloned()
    }

    fn recently_refused(&self, key: &CacheKey) -> bool {
        let refused = self.refused.read().unwrap_or_else(|e| e.into_inner());
        refused.get(key).is_some_and(|until| *until > real_now_ms())
    }

    /// Waits for any other resolution of the same token's miss, then holds the token's turn.
    async fn fill(&self, key: CacheKey) -> Fill<'_> {
        let lock = {
            let mut fills = self.fills.lock().unwrap_or_else(|e| e.into_inner());
            if fills.len() >= FILLS_SWEEP {
                fills.retain(|_, lock| Arc::strong_count(lock) > 1);
            }
            fills.entry(key).or_default().clone()
        };
        let held = lock.clone().lock_owned().await;
        Fill {
            cache: self,
            key,
            lock,
            _held: held,
        }
    }

    fn refuse(&self, key: CacheKey) {
        let mut refused = self.refused.write().unwrap_or_else(|e| e.into_inner());
        if refused.len() >= NEGATIVE_CAP {
            let now = real_now_ms();
            refused.retain(|_, until| *until > now);
            if refused.len() >= NEGATIVE_CAP {
                refused.clear();
            }
        }
        refused.insert(key, real_now_ms() + NEGATIVE_TTL_MS);
    }

    fn insert(&self, digest: Digest32, caller: Cached) {
        let mut verified = self.verified.write().unwrap_or_else(|e| e.into_inner());
        verified.insert(digest, caller);
    }

    /// Forgets every verified key.
    pub fn evict_all(&self) {
        self.verified.write().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Forgets every key of a tenant (reset or deleted).
    pub fn evict_tenant(&self, tenant: &str) {
        let mut verified = self.verified.write().unwrap_or_else(|e| e.into_inner());
        verified.retain(|_, c| c.tenant_id() != tenant);
    }

    /// Forgets the given keys, so that their next use is checked against the database.
    pub fn evict_keys(&self, key_ids: &[String]) {
        if key_ids.is_empty() {
            return;
        }
        let mut verified = self.verified.write().unwrap_or_else(|e| e.into_inner());
        verified.retain(|_, c| !key_ids.iter().any(|id| id == c.key_id()));
    }
}

fn digest(token: &str) -> Digest32 {
    Sha256::digest(token.as_bytes()).into()
}

#[derive(sqlx::FromRow)]
struct MusiqueKeyRow {
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
}

#[derive(sqlx::FromRow)]
struct ArkKeyRow {
    id: String,
    tenant_id: String,
    hash: String,
    tier: Option<String>,
    monthly_limit: Option<i64>,
    clock_offset_ms: i64,
    clock_frozen_ms: Option<i64>,
}

/// A full hasher queue is the client's signal to come back shortly, in its API's envelope.
impl From<HashError> for Error {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Busy => Error::RateLimited {
                retry_after_secs: crate::admission::RETRY_AFTER_SECS,
                message: format!(
                    "Too many keys are being checked or created at once. Retry after {} second.",
                    crate::admission::RETRY_AFTER_SECS
                ),
            },
            other => Error::Internal(other.into()),
        }
    }
}

/// The Musique caller behind an `X-API-Key` value.
pub async fn musique_caller(state: &AppState, token: &str) -> Result<Arc<MusiqueCaller>> {
    let digest = digest(token);
    let cache = &state.keys;
    if let Some(Cached::Musique(caller)) = cache.get(&digest) {
        return Ok(caller);
    }
    let Some(parsed) = parse_musique_token(token) else {
        return Err(Error::InvalidKey);
    };
    let key = (KeyApi::Musique, digest);
    if cache.recently_refused(&key) {
        return Err(Error::InvalidKey);
    }
    let _fill = cache.fill(key).await;
    if let Some(Cached::Musique(caller)) = cache.get(&digest) {
        return Ok(caller);
    }
    if cache.recently_refused(&key) {
        return Err(Error::InvalidKey);
    }

    let rows: Vec<MusiqueKeyRow> = sqlx::query_as(
        "SELECT k.id, k.tenant_id, k.hash, k.environment, k.permissions, k.scope,
                k.limit_minute, k.limit_hour, k.limit_day, c.id AS company_id, c.prefix, c.name,
                t.clock_offset_ms, t.clock_frozen_ms
         FROM api_keys k JOIN companies c ON c.id = k.company_id JOIN tenants t ON t.id = k.tenant_id
         WHERE k.lookup = ? AND k.api = 'musique' AND k.revoked_at_ms IS NULL",
    )
    .bind(parsed.lookup())
    .fetch_all(&state.db.read)
    .await?;

    for row in rows {
        if row.prefix != parsed.company || row.environment != parsed.environment.as_str() {
            continue;
        }
        if !state.hasher.verify(token, &row.hash).await? {
            continue;
        }
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
        let clock = state
            .clocks
            .get_or_load(&row.tenant_id, row.clock_offset_ms, row.clock_frozen_ms);
        let caller = Arc::new(MusiqueCaller {
            limiter: state.limiter_for(&row.tenant_id, &row.id, limits, &clock),
            key_id: row.id,
            tenant_id: row.tenant_id,
            company_id: row.company_id,
            company_prefix: row.prefix,
            company_name: row.name,
            environment: parsed.environment,
            permissions,
            scope,
            clock,
        });
        cache.insert(digest, Cached::Musique(caller.clone()));
        return Ok(caller);
    }
    cache.refuse(key);
    Err(Error::InvalidKey)
}

fn as_limit(value: Option<i64>, default: u32) -> u32 {
    value
        .and_then(|v| u32::try_from(v).ok())
        .filter(|v| *v >= 1)
        .unwrap_or(default)
}

/// The MusicArk caller behind a bearer or `api_key` value.
pub async fn musicark_caller(state: &AppState, key: &str) -> Result<Arc<ArkCaller>> {
    let digest = digest(key);
    let cache = &state.keys;
    if let Some(Cached::MusicArk(caller)) = cache.get(&digest) {
        return Ok(caller);
    }
    let Some(lookup) = musicark_lookup(key) else {
        return Err(Error::InvalidKey);
    };
    let cache_key = (KeyApi::MusicArk, digest);
    if cache.recently_refused(&cache_key) {
        return Err(Error::InvalidKey);
    }
    let _fill = cache.fill(cache_key).await;
    if let Some(Cached::MusicArk(caller)) = cache.get(&digest) {
        return Ok(caller);
    }
    if cache.recently_refused(&cache_key) {
        return Err(Error::InvalidKey);
    }
    let rows: Vec<ArkKeyRow> = sqlx::query_as(
        "SELECT k.id, k.tenant_id, k.hash, k.tier, k.monthly_limit, t.clock_offset_ms, t.clock_frozen_ms
         FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
         WHERE k.lookup = ? AND k.api = 'musicark' AND k.revoked_at_ms IS NULL",
    )
    .bind(lookup)
    .fetch_all(&state.db.read)
    .await?;
    for row in rows {
        if !state.hasher.verify(key, &row.hash).await? {
            continue;
        }
        let tier = row.tier.as_deref().and_then(Tier::parse).unwrap_or(Tier::Free);
        let caller = Arc::new(ArkCaller {
            monthly_limit: row.monthly_limit.unwrap_or_else(|| tier.default_monthly_limit()),
            clock: state
                .clocks
                .get_or_load(&row.tenant_id, row.clock_offset_ms, row.clock_frozen_ms),
            key_id: row.id,
            tenant_id: row.tenant_id,
            tier,
        });
        cache.insert(digest, Cached::MusicArk(caller.clone()));
        return Ok(caller);
    }
    cache.refuse(cache_key);
    Err(Error::InvalidKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn musique_tokens_of_the_documented_shape_parse() {
        let t = parse_musique_token("msk_prod_1234567890abcdef").expect("docs example");
        assert_eq!(t.company, "msk");
        assert_eq!(t.environment, Environment::Prod);
        assert_eq!(t.lookup(), "msk_prod_12345678");
        let legacy = parse_musique_token("msk_live_1234567890abcdef").expect("legacy word");
        assert_eq!(legacy.environment, Environment::Prod);
        assert_eq!(
            parse_musique_token("acme_test_abcdefgh12").map(|t| t.environment),
            Some(Environment::Dev)
        );
    }

    #[test]
    fn malformed_musique_tokens_are_refused() {
        for bad in [
            "",
            "msk",
            "msk_prod",
            "msk_prod_",
            "msk_staging_1234567890abcdef",
            "MSK_prod_1234567890abcdef",
            "msk_prod_short",
            "msk_prod_1234567890abcdef!",
            "msk_prod_12345678_90abcdef",
            "1sk_prod_1234567890abcdef",
        ] {
            assert_eq!(parse_musique_token(bad), None, "{bad:?} should not parse");
        }
    }

    #[test]
    fn company_tokens_name_their_company_and_are_not_api_keys() {
        assert_eq!(company_token_prefix("msk_company_1234567890abcdef"), Some("msk"));
        assert_eq!(company_token_prefix("acme_company_a1b2c3d4"), Some("acme"));
        for bad in [
            "",
            "msk_company_",
            "msk_company_short",
            "msk_company_1234567890abcdef!",
            "MSK_company_1234567890abcdef",
            "msk_prod_1234567890abcdef",
            "_company_1234567890abcdef",
        ] {
            assert_eq!(company_token_prefix(bad), None, "{bad:?}");
        }
        assert_eq!(parse_musique_token("msk_company_1234567890abcdef"), None);
    }

    #[test]
    fn musicark_keys_parse_with_live_or_test() {
        let key = format!("mk_live_{}", "a".repeat(32));
        assert_eq!(musicark_lookup(&key).as_deref(), Some("mk_live_aaaaaaaa"));
        assert!(musicark_lookup(&format!("mk_test_{}", "b".repeat(32))).is_some());
        assert!(musicark_lookup("mk_prod_aaaaaaaaaaaaaaaaaaaaaaaa").is_none());
        assert!(musicark_lookup("mk_live_short").is_none());
        assert!(musicark_lookup(&format!("mk_live_{}-", "a".repeat(31))).is_none());
    }

    #[test]
    fn permissions_round_trip_and_reject_unknown_names() {
        let p = Permissions::parse_list("audio.read, audio.send").expect("known");
        assert!(p.has("audio.read") && p.has("audio.send") && !p.has("audio.write"));
        assert_eq!(p.to_list(), "audio.read,audio.send");
        assert!(Permissions::parse_list("audio.admin").is_err());
        assert_eq!(Permissions::ALL.names().len(), 4);
    }

    #[tokio::test]
    async fn a_cache_miss_holds_up_only_the_same_token_on_the_same_api() {
        use futures_util::FutureExt;
        let cache = KeyCache::default();
        let (a, b) = (digest("msk_prod_aaaaaaaaaaaa"), digest("msk_prod_bbbbbbbbbbbb"));
        let held = cache.fill((KeyApi::Musique, a)).await;
        assert!(
            cache.fill((KeyApi::Musique, a)).now_or_never().is_none(),
            "the same token waits for the first resolution"
        );
        assert!(
            cache.fill((KeyApi::Musique, b)).now_or_never().is_some(),
            "another token does not wait"
        );
        assert!(cache.fill((KeyApi::MusicArk, a)).now_or_never().is_some());
        drop(held);
        assert!(cache.fill((KeyApi::Musique, a)).now_or_never().is_some());
        assert!(
            cache.fills.lock().expect("lock").is_empty(),
            "resolved misses leave nothing behind"
        );
    }

    #[test]
    fn a_refusal_is_remembered_for_its_api_only() {
        let cache = KeyCache::default();
        let d = digest("mk_live_free0000000000000000000000000000");
        cache.refuse((KeyApi::Musique, d));
        assert!(cache.recently_refused(&(KeyApi::Musique, d)));
        assert!(!cache.recently_refused(&(KeyApi::MusicArk, d)));
    }

    #[test]
    fn a_full_hasher_queue_is_a_429_with_a_retry_after() {
        match Error::from(HashError::Busy) {
            Error::RateLimited { retry_after_secs, .. } => assert_eq!(retry_after_secs, 1),
            other => panic!("{other:?}"),
        }
        assert!(matches!(Error::from(HashError::Stopped), Error::Internal(_)));
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let s = format!("{:?}", Secret("msk_prod_1234567890abcdef".into()));
        assert!(!s.contains("1234"));
    }
}
