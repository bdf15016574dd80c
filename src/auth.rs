//! Keys of both APIs: token shapes, and the verification cache each API keeps of its callers.
//!
//! A token is found by its non-secret head (`lookup`) and proven by argon2id on the hasher's
//! workers. A verified token is cached under its SHA-256 digest (never the token itself), so
//! the hot path does no hashing and no database round-trip; a watcher evicts revoked keys.
//! What a caller is, and how its keys are found, is each API's (`musique::auth`,
//! `musicark::auth`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::clock::real_now_ms;
use crate::error::{Error, Result};
use crate::hasher::{HashError, Hasher};
use crate::sync::{MutexExt, RwLockExt};

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

/// Whether `key` has a MusicArk key's shape: `mk_live_` / `mk_test_` + alphanumerics.
pub fn is_musicark_key(key: &str) -> bool {
    key.strip_prefix("mk_live_")
        .or_else(|| key.strip_prefix("mk_test_"))
        .is_some_and(|rest| {
            (16..=64).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// The lookup of a MusicArk key.
pub fn musicark_lookup(key: &str) -> Option<String> {
    is_musicark_key(key).then(|| key[..8 + LOOKUP_CHARS].to_owned())
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

/// What the cache needs of a verified caller: the key it is, the tenant that owns the key.
pub trait Verified {
    fn key_id(&self) -> &str;
    fn tenant_id(&self) -> &str;
}

/// One API's keys as [`KeyCache::resolve`] finds and proves them.
pub trait ApiKeys {
    type Caller: Verified;
    /// A stored key a token may be, with its argon2id hash.
    type Row: Send;

    /// Whether the token has the API's shape: one that has not is no key of the API.
    fn has_shape(token: &str) -> bool;

    /// The unrevoked keys the token may be (found by its lookup), its secret not yet checked.
    fn candidates(&self, token: &str) -> impl Future<Output = Result<Vec<Self::Row>>> + Send;

    fn hash(row: &Self::Row) -> &str;

    /// The caller of a key whose hash the token matched.
    fn caller(&self, row: Self::Row) -> Result<Self::Caller>;
}

type Digest32 = [u8; 32];

/// How long an unknown token is remembered as unknown, so a flood of bad keys costs no hashing.
const NEGATIVE_TTL_MS: i64 = 1_000;
const NEGATIVE_CAP: usize = 10_000;
/// Cache misses being resolved at once beyond which finished entries are swept.
const FILLS_SWEEP: usize = 10_000;

type FillLock = Arc<tokio::sync::Mutex<()>>;

/// One API's verified callers by token digest, and its recently refused digests. Each API
/// keeps its own: a MusicArk key also has the Musique token's shape (`mk` is a valid company
/// prefix and `live` a legacy environment word), so what one API learnt about a digest must
/// not decide for the other.
#[derive(Debug)]
pub struct KeyCache<C> {
    verified: RwLock<HashMap<Digest32, Arc<C>>>,
    refused: RwLock<HashMap<Digest32, i64>>,
    // One miss per token is resolved at a time, so 64 clients arriving together with a new
    // key cost one argon2 verification, not 64; misses of different tokens go on side by side.
    fills: Mutex<HashMap<Digest32, FillLock>>,
}

impl<C> Default for KeyCache<C> {
    fn default() -> Self {
        KeyCache {
            verified: RwLock::default(),
            refused: RwLock::default(),
            fills: Mutex::default(),
        }
    }
}

/// The right to resolve one token's cache miss; the next client with that token waits for it.
struct Fill<'a, C> {
    cache: &'a KeyCache<C>,
    key: Digest32,
    lock: FillLock,
    _held: tokio::sync::OwnedMutexGuard<()>,
}

impl<C> Drop for Fill<'_, C> {
    fn drop(&mut self) {
        // Whoever waits on this lock re-reads the cache once it has it; a newcomer starts a
        // fresh entry and re-reads the cache too.
        let mut fills = self.cache.fills.locked();
        if fills.get(&self.key).is_some_and(|l| Arc::ptr_eq(l, &self.lock)) {
            fills.remove(&self.key);
        }
    }
}

impl<C: Verified> KeyCache<C> {
    /// The caller behind `token`. From the cache when it was verified before; otherwise a
    /// token of the API's shape that was not refused lately is looked up and proven on the
    /// hasher, one resolution per token at a time, and the answer cached either way.
    pub async fn resolve<A>(&self, api: &A, hasher: &Hasher, token: &str) -> Result<Arc<C>>
    where
        A: ApiKeys<Caller = C>,
    {
        let digest = digest(token);
        if let Some(caller) = self.get(&digest) {
            return Ok(caller);
        }
        if !A::has_shape(token) || self.recently_refused(&digest) {
            return Err(Error::InvalidKey);
        }
        let _fill = self.fill(digest).await;
        if let Some(caller) = self.get(&digest) {
            return Ok(caller);
        }
        if self.recently_refused(&digest) {
            return Err(Error::InvalidKey);
        }
        for row in api.candidates(token).await? {
            if !hasher.verify(token, A::hash(&row)).await? {
                continue;
            }
            let caller = Arc::new(api.caller(row)?);
            self.insert(digest, caller.clone());
            return Ok(caller);
        }
        self.refuse(digest);
        Err(Error::InvalidKey)
    }

    /// The caller of a token verified before: what [`KeyCache::resolve`] answers first,
    /// without waiting. `None` is no refusal: the token may be new.
    pub fn cached(&self, token: &str) -> Option<Arc<C>> {
        self.get(&digest(token))
    }

    fn get(&self, digest: &Digest32) -> Option<Arc<C>> {
        self.verified.read_locked().get(digest).cloned()
    }

    fn recently_refused(&self, digest: &Digest32) -> bool {
        let refused = self.refused.read_locked();
        refused.get(digest).is_some_and(|until| *until > real_now_ms())
    }

    /// Waits for any other resolution of the same token's miss, then holds the token's turn.
    async fn fill(&self, key: Digest32) -> Fill<'_, C> {
        let lock = {
            let mut fills = self.fills.locked();
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

    fn refuse(&self, digest: Digest32) {
        let mut refused = self.refused.write_locked();
        if refused.len() >= NEGATIVE_CAP {
            let now = real_now_ms();
            refused.retain(|_, until| *until > now);
            if refused.len() >= NEGATIVE_CAP {
                refused.clear();
            }
        }
        refused.insert(digest, real_now_ms() + NEGATIVE_TTL_MS);
    }

    fn insert(&self, digest: Digest32, caller: Arc<C>) {
        let mut verified = self.verified.write_locked();
        verified.insert(digest, caller);
    }

    /// Forgets every verified key.
    pub fn evict_all(&self) {
        self.verified.write_locked().clear();
    }

    /// Forgets every key of a tenant (reset or deleted).
    pub fn evict_tenant(&self, tenant: &str) {
        let mut verified = self.verified.write_locked();
        verified.retain(|_, c| c.tenant_id() != tenant);
    }

    /// Forgets the given keys, so that their next use is checked against the database.
    pub fn evict_keys(&self, key_ids: &[String]) {
        if key_ids.is_empty() {
            return;
        }
        let mut verified = self.verified.write_locked();
        verified.retain(|_, c| !key_ids.iter().any(|id| id == c.key_id()));
    }
}

fn digest(token: &str) -> Digest32 {
    Sha256::digest(token.as_bytes()).into()
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

    /// A cached caller, for the cache's own tests.
    struct Key;

    impl Verified for Key {
        fn key_id(&self) -> &str {
            "key_test"
        }

        fn tenant_id(&self) -> &str {
            "default"
        }
    }

    #[tokio::test]
    async fn a_cache_miss_holds_up_only_the_same_token_on_the_same_api() {
        use futures_util::FutureExt;
        let (musique, musicark) = (KeyCache::<Key>::default(), KeyCache::<Key>::default());
        let (a, b) = (digest("msk_prod_aaaaaaaaaaaa"), digest("msk_prod_bbbbbbbbbbbb"));
        let held = musique.fill(a).await;
        assert!(
            musique.fill(a).now_or_never().is_none(),
            "the same token waits for the first resolution"
        );
        assert!(
            musique.fill(b).now_or_never().is_some(),
            "another token does not wait"
        );
        assert!(musicark.fill(a).now_or_never().is_some());
        drop(held);
        assert!(musique.fill(a).now_or_never().is_some());
        assert!(
            musique.fills.lock().expect("lock").is_empty(),
            "resolved misses leave nothing behind"
        );
    }

    #[test]
    fn a_refusal_is_remembered_for_its_api_only() {
        let (musique, musicark) = (KeyCache::<Key>::default(), KeyCache::<Key>::default());
        let d = digest("mk_live_free0000000000000000000000000000");
        musique.refuse(d);
        assert!(musique.recently_refused(&d));
        assert!(!musicark.recently_refused(&d));
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
