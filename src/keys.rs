//! Creating, listing and revoking keys and the companies they belong to (CLI, fixtures, the
//! control plane's tenants, the legacy token endpoint).

use serde::Serialize;
use sqlx::{Sqlite, Transaction};

use crate::auth::{
    self, Environment, Permissions, Tier, is_company_prefix, musicark_lookup, parse_musique_token,
};
use crate::clock::real_now_ms;
use crate::db::Db;
use crate::ids::random_alnum;
use crate::rate_limit::Limits;

/// A Musique token to store; `token` is the plaintext, hashed before it reaches the database.
#[derive(Debug)]
pub struct NewMusiqueKey {
    pub tenant_id: String,
    pub company_id: i64,
    pub environment: Environment,
    pub token: auth::Secret,
    pub label: String,
    pub permissions: Permissions,
    pub scope: Option<Vec<String>>,
    pub limits: Option<Limits>,
}

#[derive(Debug)]
pub struct NewArkKey {
    pub tenant_id: String,
    pub tier: Tier,
    pub monthly_limit: Option<i64>,
    pub token: auth::Secret,
    pub label: String,
}

/// A new random Musique token of the documented shape.
pub fn generate_musique_token(company: &str, environment: Environment) -> String {
    format!("{company}_{}_{}", environment.as_str(), random_alnum(32))
}

/// A new random legacy company token, `{company}_company_` + 32 alphanumerics.
pub fn generate_company_token(company: &str) -> String {
    format!("{company}_company_{}", random_alnum(32))
}

/// A new random MusicArk key, `mk_live_` + 32 alphanumerics.
pub fn generate_musicark_key() -> String {
    format!("mk_live_{}", random_alnum(32))
}

pub fn new_key_id() -> String {
    format!("key_{}", random_alnum(16))
}

pub async fn insert_musique_key(
    tx: &mut Transaction<'_, Sqlite>,
    key: &NewMusiqueKey,
    hash: &str,
) -> anyhow::Result<String> {
    let id = new_key_id();
    insert_musique_key_as(tx, &id, real_now_ms(), key, hash).await?;
    Ok(id)
}

/// [`insert_musique_key`] with the id and creation time given (a scenario keeps its ids).
pub async fn insert_musique_key_as(
    tx: &mut Transaction<'_, Sqlite>,
    id: &str,
    created_at_ms: i64,
    key: &NewMusiqueKey,
    hash: &str,
) -> anyhow::Result<()> {
    let parsed = parse_musique_token(&key.token.0)
        .ok_or_else(|| anyhow::anyhow!("token {:?} is not of the shape company_env_hash", key.label))?;
    let limits = key.limits.unwrap_or_default();
    let scope = key.scope.as_ref().map(serde_json::to_string).transpose()?;
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, api, lookup, hash, label, company_id, environment,
                               permissions, scope, limit_minute, limit_hour, limit_day, created_at_ms)
         VALUES (?, ?, 'musique', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(&key.tenant_id)
    .bind(parsed.lookup())
    .bind(hash)
    .bind(&key.label)
    .bind(key.company_id)
    .bind(key.environment.as_str())
    .bind(key.permissions.to_list())
    .bind(scope)
    .bind(i64::from(limits.per_minute))
    .bind(i64::from(limits.per_hour))
    .bind(i64::from(limits.per_day))
    .bind(created_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn insert_musicark_key(
    tx: &mut Transaction<'_, Sqlite>,
    key: &NewArkKey,
    hash: &str,
) -> anyhow::Result<String> {
    let id = new_key_id();
    insert_musicark_key_as(tx, &id, real_now_ms(), key, hash).await?;
    Ok(id)
}

/// [`insert_musicark_key`] with the id and creation time given (a scenario keeps its ids).
pub async fn insert_musicark_key_as(
    tx: &mut Transaction<'_, Sqlite>,
    id: &str,
    created_at_ms: i64,
    key: &NewArkKey,
    hash: &str,
) -> anyhow::Result<()> {
    let lookup = musicark_lookup(&key.token.0)
        .ok_or_else(|| anyhow::anyhow!("key {:?} is not of the shape mk_live_…", key.label))?;
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, api, lookup, hash, label, tier, monthly_limit, created_at_ms)
         VALUES (?, ?, 'musicark', ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(&key.tenant_id)
    .bind(lookup)
    .bind(hash)
    .bind(&key.label)
    .bind(key.tier.as_str())
    .bind(
        key.monthly_limit
            .unwrap_or_else(|| key.tier.default_monthly_limit()),
    )
    .bind(created_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Keeps a key's token in plain because it is public by declaration (the default sandbox's
/// documented tokens, a fixed test token a scenario names), so that an exported scenario can
/// name it again. Never for a generated token.
pub async fn mark_public(tx: &mut Transaction<'_, Sqlite>, key_id: &str, token: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE api_keys SET public_token = ? WHERE id = ?")
        .bind(token)
        .bind(key_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The company with this prefix in the tenant, created (with no locations) if new.
/// Returns its id and whether it was created.
pub async fn ensure_company(
    tx: &mut Transaction<'_, Sqlite>,
    tenant_id: &str,
    prefix: &str,
    name: &str,
) -> anyhow::Result<(i64, bool)> {
    anyhow::ensure!(
        is_company_prefix(prefix),
        "company prefix {prefix:?} must be 2-32 lowercase letters or digits, starting with a letter"
    );
    let existing: Option<(i64, String)> =
        sqlx::query_as("SELECT id, tenant_id FROM companies WHERE prefix = ?")
            .bind(prefix)
            .fetch_optional(&mut **tx)
            .await?;
    if let Some((id, owner)) = existing {
        anyhow::ensure!(
            owner == tenant_id,
            "company prefix {prefix:?} belongs to another tenant"
        );
        return Ok((id, false));
    }
    let id =
        sqlx::query_scalar("INSERT INTO companies (tenant_id, prefix, name) VALUES (?, ?, ?) RETURNING id")
            .bind(tenant_id)
            .bind(prefix)
            .bind(name)
            .fetch_one(&mut **tx)
            .await?;
    Ok((id, true))
}

/// Adds locations to a company; user ids continue from the highest one in the database
/// unless `first_user_id` is given.
pub async fn add_locations(
    tx: &mut Transaction<'_, Sqlite>,
    company_id: i64,
    locations: &[(String, String)],
    first_user_id: Option<i64>,
) -> anyhow::Result<()> {
    let mut next: i64 = match first_user_id {
        Some(first) => first,
        None => {
            sqlx::query_scalar("SELECT COALESCE(MAX(user_id), 4300) + 1 FROM locations")
                .fetch_one(&mut **tx)
                .await?
        }
    };
    // One statement per chunk instead of one per location: each statement is a round trip to
    // the connection's thread, and a fresh start seeds 60 of them. 4 bound values a row, so a
    // chunk stays far below SQLite's 32,766 variables.
    for chunk in locations.chunks(LOCATIONS_PER_INSERT) {
        for (external_id, _) in chunk {
            validate_external_id(external_id)?;
        }
        let mut insert =
            sqlx::QueryBuilder::new("INSERT INTO locations (company_id, external_id, user_id, name) ");
        insert.push_values(chunk, |mut row, (external_id, name)| {
            row.push_bind(company_id)
                .push_bind(external_id)
                .push_bind(next)
                .push_bind(name);
            next += 1;
        });
        insert.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Locations one INSERT writes at most.
const LOCATIONS_PER_INSERT: usize = 500;

pub fn validate_external_id(id: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !id.trim().is_empty() && id.len() <= 128 && !id.chars().any(char::is_control),
        "External ID {id:?} must be 1-128 printable characters"
    );
    Ok(())
}

/// The External IDs of a company.
pub async fn company_external_ids(
    tx: &mut Transaction<'_, Sqlite>,
    company_id: i64,
) -> anyhow::Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT external_id FROM locations WHERE company_id = ? ORDER BY external_id")
            .bind(company_id)
            .fetch_all(&mut **tx)
            .await?,
    )
}

/// A key as `keys list` shows it: never its secret or hash.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct KeyListing {
    pub id: String,
    pub tenant_id: String,
    pub api: String,
    /// The token's non-secret head, e.g. `msk_prod_12345678`.
    pub lookup: String,
    pub label: String,
    pub company: Option<String>,
    pub environment: Option<String>,
    pub permissions: Option<String>,
    pub scope: Option<String>,
    pub limit_minute: Option<i64>,
    pub limit_hour: Option<i64>,
    pub limit_day: Option<i64>,
    pub tier: Option<String>,
    pub monthly_limit: Option<i64>,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

pub async fn list(db: &Db) -> anyhow::Result<Vec<KeyListing>> {
    listing(db, None).await
}

/// [`list`], of one tenant's keys only.
pub async fn list_of_tenant(db: &Db, tenant: &str) -> anyhow::Result<Vec<KeyListing>> {
    listing(db, Some(tenant)).await
}

async fn listing(db: &Db, tenant: Option<&str>) -> anyhow::Result<Vec<KeyListing>> {
    Ok(sqlx::query_as(
        "SELECT k.id, k.tenant_id, k.api, k.lookup, k.label, c.prefix AS company, k.environment,
                k.permissions, k.scope, k.limit_minute, k.limit_hour, k.limit_day, k.tier,
                k.monthly_limit, k.created_at_ms, k.revoked_at_ms
         FROM api_keys k LEFT JOIN companies c ON c.id = k.company_id
         WHERE ?1 IS NULL OR k.tenant_id = ?1
         ORDER BY k.created_at_ms, k.id",
    )
    .bind(tenant)
    .fetch_all(&db.read)
    .await?)
}

/// Marks a key revoked. A running server (this process or another on the same file) stops
/// accepting it within a second. Returns false when no unrevoked key has this id.
pub async fn revoke(db: &Db, id: &str) -> anyhow::Result<bool> {
    let done = sqlx::query("UPDATE api_keys SET revoked_at_ms = ? WHERE id = ? AND revoked_at_ms IS NULL")
        .bind(real_now_ms())
        .bind(id)
        .execute(&db.write)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Keys revoked at or after `since_ms` (real time), for the revocation watcher.
pub async fn revoked_since(db: &Db, since_ms: i64) -> anyhow::Result<Vec<(String, i64)>> {
    Ok(
        sqlx::query_as("SELECT id, revoked_at_ms FROM api_keys WHERE revoked_at_ms >= ?")
            .bind(since_ms)
            .fetch_all(&db.read)
            .await?,
    )
}

/// How many keys the database holds, revoked or not.
pub async fn count(db: &Db) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM api_keys")
        .fetch_one(&db.read)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn locations_past_one_insert_keep_their_order_and_user_ids() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open(dir.path().join("k.db").to_str().expect("path"))
            .await
            .expect("db");
        let mut tx = db.begin_write().await.expect("tx");
        sqlx::query("INSERT INTO tenants (id, name, created_at_ms) VALUES ('t', 'T', 0)")
            .execute(&mut *tx)
            .await
            .expect("tenant");
        let (company, _) = ensure_company(&mut tx, "t", "chain", "Chain")
            .await
            .expect("company");
        // One more than an INSERT takes: the second statement carries on the numbering.
        let many: Vec<(String, String)> = (0..=LOCATIONS_PER_INSERT)
            .map(|i| (format!("s{i:04}"), format!("Store {i}")))
            .collect();
        add_locations(&mut tx, company, &many, Some(100))
            .await
            .expect("locations");
        add_locations(&mut tx, company, &[("last".into(), "Last".into())], None)
            .await
            .expect("one more");
        let rows: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT external_id, user_id, name FROM locations ORDER BY user_id")
                .fetch_all(&mut *tx)
                .await
                .expect("rows");
        assert_eq!(rows.len(), LOCATIONS_PER_INSERT + 2);
        for (i, (external_id, user_id, name)) in rows.iter().take(many.len()).enumerate() {
            assert_eq!((external_id, name), (&many[i].0, &many[i].1));
            assert_eq!(*user_id, 100 + i as i64);
        }
        assert_eq!(
            rows[many.len()],
            (
                "last".to_owned(),
                101 + LOCATIONS_PER_INSERT as i64,
                "Last".to_owned()
            )
        );

        // A bad External ID in the second chunk fails the call.
        let mut bad: Vec<(String, String)> = (0..=LOCATIONS_PER_INSERT)
            .map(|i| (format!("b{i:04}"), String::new()))
            .collect();
        bad[LOCATIONS_PER_INSERT].0 = " ".to_owned();
        let err = add_locations(&mut tx, company, &bad, None)
            .await
            .expect_err("refused");
        assert!(err.to_string().contains("External ID"), "{err}");
    }
}
