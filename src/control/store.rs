//! The control plane's SQL: a tenant's rows, the snapshot a reset restores, and deletion.
//!
//! A tenant's creation state is kept as a JSON snapshot of its companies, locations and keys
//! (hashes only, never tokens). A reset deletes what the tenant owns and puts the snapshot
//! back with the same ids, so the tokens a test holds keep working. The default tenant's
//! creation state also holds its fixture library (the example announcement), bytes and all.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sqlx::{Sqlite, Transaction};

use crate::auth::Environment;
use crate::db::Db;
use crate::musique::library::{AudioMeta, LibraryKey};

#[derive(Debug, Serialize, Deserialize, sqlx::FromRow)]
struct CompanyRow {
    id: i64,
    prefix: String,
    name: String,
    company_token_hash: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, sqlx::FromRow)]
struct LocationRow {
    id: i64,
    company_id: i64,
    external_id: String,
    user_id: i64,
    name: String,
}

#[derive(Debug, Serialize, Deserialize, sqlx::FromRow)]
struct KeyRow {
    id: String,
    api: String,
    lookup: String,
    hash: String,
    label: String,
    company_id: Option<i64>,
    environment: Option<String>,
    permissions: Option<String>,
    scope: Option<String>,
    limit_minute: Option<i64>,
    limit_hour: Option<i64>,
    limit_day: Option<i64>,
    tier: Option<String>,
    monthly_limit: Option<i64>,
    created_at_ms: i64,
    /// A declared public token (see `keys::mark_public`); absent from older snapshots.
    #[serde(default)]
    public_token: Option<String>,
}

/// A tenant as it was created.
#[derive(Debug, Serialize, Deserialize)]
pub struct Seed {
    companies: Vec<CompanyRow>,
    locations: Vec<LocationRow>,
    keys: Vec<KeyRow>,
    pub clock_offset_ms: i64,
    pub clock_frozen_ms: Option<i64>,
    /// The library a reset puts back: the fixture audio of the default tenant, empty for a
    /// tenant made by `POST /_soundcheck/tenants`. `None` in a creation state saved before
    /// fixture libraries existed (the default tenant's gets them on its next start).
    #[serde(default)]
    pub audio: Option<Vec<SeedAudio>>,
}

/// An audio object of a creation state, with its bytes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SeedAudio {
    pub id: String,
    pub company_id: i64,
    pub environment: Environment,
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub duration: f64,
    pub created_at_ms: i64,
    /// The MP3 file, base64 (the creation state is JSON).
    pub bytes: String,
}

/// Stores a creation state's audio object as an upload would (row and bytes), and returns
/// what the library's read side shows of it.
pub async fn insert_audio(
    tx: &mut Transaction<'_, Sqlite>,
    tenant: &str,
    audio: &SeedAudio,
) -> anyhow::Result<(LibraryKey, AudioMeta)> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(&audio.bytes)?;
    let size = bytes.len() as i64;
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO audio (id, tenant_id, company_id, environment, name, description, category,
                            duration, size, created_at_ms, seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM audio))
         RETURNING seq",
    )
    .bind(&audio.id)
    .bind(tenant)
    .bind(audio.company_id)
    .bind(audio.environment.as_str())
    .bind(&audio.name)
    .bind(&audio.description)
    .bind(&audio.category)
    .bind(audio.duration)
    .bind(size)
    .bind(audio.created_at_ms)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query("INSERT INTO audio_blobs (audio_id, bytes) VALUES (?, ?)")
        .bind(&audio.id)
        .bind(bytes)
        .execute(&mut **tx)
        .await?;
    let key = LibraryKey {
        company_id: audio.company_id,
        environment: audio.environment,
    };
    let meta = AudioMeta {
        id: audio.id.clone(),
        name: audio.name.clone(),
        description: audio.description.clone(),
        category: audio.category.clone(),
        duration: audio.duration,
        size,
        created_at_ms: audio.created_at_ms,
        seq,
    };
    Ok((key, meta))
}

/// The tenant's creation state, if it has one.
pub async fn seed(tx: &mut Transaction<'_, Sqlite>, tenant: &str) -> anyhow::Result<Option<Seed>> {
    let seed: Option<Option<String>> = sqlx::query_scalar("SELECT seed FROM tenants WHERE id = ?")
        .bind(tenant)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match seed.flatten() {
        Some(text) => Some(serde_json::from_str(&text)?),
        None => None,
    })
}

/// Sets the library of the tenant's creation state (which must exist).
pub async fn set_seed_audio(
    tx: &mut Transaction<'_, Sqlite>,
    tenant: &str,
    audio: Vec<SeedAudio>,
) -> anyhow::Result<()> {
    let mut seed = seed(tx, tenant)
        .await?
        .ok_or_else(|| anyhow::anyhow!("tenant {tenant} has no creation state"))?;
    seed.audio = Some(audio);
    sqlx::query("UPDATE tenants SET seed = ? WHERE id = ?")
        .bind(serde_json::to_string(&seed)?)
        .bind(tenant)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Records the tenant's current rows as its creation state.
pub async fn save_seed(tx: &mut Transaction<'_, Sqlite>, tenant: &str) -> anyhow::Result<()> {
    let companies: Vec<CompanyRow> =
        sqlx::query_as("SELECT id, prefix, name, company_token_hash FROM companies WHERE tenant_id = ?")
            .bind(tenant)
            .fetch_all(&mut **tx)
            .await?;
    let locations: Vec<LocationRow> = sqlx::query_as(
        "SELECT l.id, l.company_id, l.external_id, l.user_id, l.name
         FROM locations l JOIN companies c ON c.id = l.company_id WHERE c.tenant_id = ?",
    )
    .bind(tenant)
    .fetch_all(&mut **tx)
    .await?;
    let keys: Vec<KeyRow> = sqlx::query_as(
        "SELECT id, api, lookup, hash, label, company_id, environment, permissions, scope,
                limit_minute, limit_hour, limit_day, tier, monthly_limit, created_at_ms, public_token
         FROM api_keys WHERE tenant_id = ? AND revoked_at_ms IS NULL",
    )
    .bind(tenant)
    .fetch_all(&mut **tx)
    .await?;
    let (clock_offset_ms, clock_frozen_ms): (i64, Option<i64>) =
        sqlx::query_as("SELECT clock_offset_ms, clock_frozen_ms FROM tenants WHERE id = ?")
            .bind(tenant)
            .fetch_one(&mut **tx)
            .await?;
    let seed = Seed {
        companies,
        locations,
        keys,
        clock_offset_ms,
        clock_frozen_ms,
        audio: Some(Vec::new()),
    };
    sqlx::query("UPDATE tenants SET seed = ? WHERE id = ?")
        .bind(serde_json::to_string(&seed)?)
        .bind(tenant)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets a company's legacy company token hash, in its row and in the tenant's creation state
/// when it has one already (a new tenant's is saved after), so that a reset keeps it.
pub async fn set_company_token_hash(
    tx: &mut Transaction<'_, Sqlite>,
    tenant: &str,
    company_id: i64,
    hash: &str,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE companies SET company_token_hash = ? WHERE id = ? AND tenant_id = ?")
        .bind(hash)
        .bind(company_id)
        .bind(tenant)
        .execute(&mut **tx)
        .await?;
    let seed: Option<Option<String>> = sqlx::query_scalar("SELECT seed FROM tenants WHERE id = ?")
        .bind(tenant)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(Some(seed)) = seed {
        let mut seed: Seed = serde_json::from_str(&seed)?;
        for company in seed.companies.iter_mut().filter(|c| c.id == company_id) {
            company.company_token_hash = Some(hash.to_owned());
        }
        sqlx::query("UPDATE tenants SET seed = ? WHERE id = ?")
            .bind(serde_json::to_string(&seed)?)
            .bind(tenant)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Gives every tenant without a creation state (made before snapshots existed) its current
/// rows as one.
pub async fn backfill_seeds(db: &Db) -> anyhow::Result<()> {
    let missing: Vec<String> = sqlx::query_scalar("SELECT id FROM tenants WHERE seed IS NULL")
        .fetch_all(&db.read)
        .await?;
    for tenant in missing {
        let mut tx = db.begin_write().await?;
        save_seed(&mut tx, &tenant).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// The ids of the tenant's keys and companies, as they are now.
pub async fn owned_ids(db: &Db, tenant: &str) -> sqlx::Result<(Vec<String>, Vec<i64>)> {
    let keys = sqlx::query_scalar("SELECT id FROM api_keys WHERE tenant_id = ?")
        .bind(tenant)
        .fetch_all(&db.read)
        .await?;
    Ok((keys, company_ids(db, tenant).await?))
}

/// The ids of the tenant's companies.
pub async fn company_ids(db: &Db, tenant: &str) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT id FROM companies WHERE tenant_id = ?")
        .bind(tenant)
        .fetch_all(&db.read)
        .await
}

/// A creation state put back, with the audio objects it stored again.
pub struct Restored {
    pub seed: Seed,
    pub audio: Vec<(LibraryKey, AudioMeta)>,
}

/// Deletes everything the tenant owns and puts its creation state back, in one transaction.
/// Returns the seed, or `None` if there is no such tenant.
pub async fn restore(db: &Db, tenant: &str) -> anyhow::Result<Option<Restored>> {
    let mut tx = db.begin_write().await?;
    let seed: Option<Option<String>> = sqlx::query_scalar("SELECT seed FROM tenants WHERE id = ?")
        .bind(tenant)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(seed) = seed else {
        return Ok(None);
    };
    let seed: Seed = serde_json::from_str(
        seed.as_deref()
            .ok_or_else(|| anyhow::anyhow!("tenant {tenant} has no creation state"))?,
    )?;
    // Audio, sends, destinations, player events and usage go with their companies and keys.
    for delete in [
        "DELETE FROM companies WHERE tenant_id = ?",
        "DELETE FROM api_keys WHERE tenant_id = ?",
        "DELETE FROM audio WHERE tenant_id = ?",
        "DELETE FROM sends WHERE tenant_id = ?",
        "DELETE FROM player_events WHERE tenant_id = ?",
        "DELETE FROM webhooks WHERE tenant_id = ?",
    ] {
        sqlx::query(delete).bind(tenant).execute(&mut *tx).await?;
    }
    for c in &seed.companies {
        sqlx::query(
            "INSERT INTO companies (id, tenant_id, prefix, name, company_token_hash) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(c.id)
        .bind(tenant)
        .bind(&c.prefix)
        .bind(&c.name)
        .bind(&c.company_token_hash)
        .execute(&mut *tx)
        .await?;
    }
    for l in &seed.locations {
        sqlx::query(
            "INSERT INTO locations (id, company_id, external_id, user_id, name) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(l.id)
        .bind(l.company_id)
        .bind(&l.external_id)
        .bind(l.user_id)
        .bind(&l.name)
        .execute(&mut *tx)
        .await?;
    }
    for k in &seed.keys {
        sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, api, lookup, hash, label, company_id, environment,
                                   permissions, scope, limit_minute, limit_hour, limit_day, tier,
                                   monthly_limit, created_at_ms, public_token)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&k.id)
        .bind(tenant)
        .bind(&k.api)
        .bind(&k.lookup)
        .bind(&k.hash)
        .bind(&k.label)
        .bind(k.company_id)
        .bind(&k.environment)
        .bind(&k.permissions)
        .bind(&k.scope)
        .bind(k.limit_minute)
        .bind(k.limit_hour)
        .bind(k.limit_day)
        .bind(&k.tier)
        .bind(k.monthly_limit)
        .bind(k.created_at_ms)
        .bind(&k.public_token)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("UPDATE tenants SET clock_offset_ms = ?, clock_frozen_ms = ? WHERE id = ?")
        .bind(seed.clock_offset_ms)
        .bind(seed.clock_frozen_ms)
        .bind(tenant)
        .execute(&mut *tx)
        .await?;
    let mut audio = Vec::new();
    for a in seed.audio.iter().flatten() {
        audio.push(insert_audio(&mut tx, tenant, a).await?);
    }
    tx.commit().await?;
    Ok(Some(Restored { seed, audio }))
}

/// Deletes a tenant and, by cascade, everything it owns. Returns whether it existed.
pub async fn delete(db: &Db, tenant: &str) -> sqlx::Result<bool> {
    let mut tx = db.begin_write().await?;
    // Blobs and destinations hang off audio and sends, which hang off the tenant.
    let done = sqlx::query("DELETE FROM tenants WHERE id = ?")
        .bind(tenant)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Persists a tenant's clock.
pub async fn save_clock(db: &Db, tenant: &str, offset_ms: i64, frozen_ms: Option<i64>) -> sqlx::Result<()> {
    sqlx::query("UPDATE tenants SET clock_offset_ms = ?, clock_frozen_ms = ? WHERE id = ?")
        .bind(offset_ms)
        .bind(frozen_ms)
        .bind(tenant)
        .execute(&db.write)
        .await?;
    Ok(())
}

#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantRow {
    pub id: String,
    pub name: String,
    pub created_at_ms: i64,
    #[serde(skip)]
    pub clock_offset_ms: i64,
    #[serde(skip)]
    pub clock_frozen_ms: Option<i64>,
    #[serde(skip)]
    pub strict: bool,
}

pub async fn tenant(db: &Db, id: &str) -> sqlx::Result<Option<TenantRow>> {
    sqlx::query_as(
        "SELECT id, name, created_at_ms, clock_offset_ms, clock_frozen_ms, strict FROM tenants WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(&db.read)
    .await
}

pub async fn tenants(db: &Db) -> sqlx::Result<Vec<TenantRow>> {
    sqlx::query_as("SELECT id, name, created_at_ms, clock_offset_ms, clock_frozen_ms, strict FROM tenants ORDER BY created_at_ms, id")
        .fetch_all(&db.read)
        .await
}

#[derive(Debug, sqlx::FromRow)]
pub struct CompanyListing {
    pub id: i64,
    pub prefix: String,
    pub name: String,
}

pub async fn companies(db: &Db, tenant: &str) -> sqlx::Result<Vec<CompanyListing>> {
    sqlx::query_as("SELECT id, prefix, name FROM companies WHERE tenant_id = ? ORDER BY id")
        .bind(tenant)
        .fetch_all(&db.read)
        .await
}

#[derive(Debug, sqlx::FromRow)]
pub struct LocationListing {
    pub id: i64,
    pub company_id: i64,
    pub external_id: String,
    pub user_id: i64,
}

pub async fn locations(db: &Db, tenant: &str) -> sqlx::Result<Vec<LocationListing>> {
    sqlx::query_as(
        "SELECT l.id, l.company_id, l.external_id, l.user_id
         FROM locations l JOIN companies c ON c.id = l.company_id
         WHERE c.tenant_id = ? ORDER BY l.company_id, l.external_id",
    )
    .bind(tenant)
    .fetch_all(&db.read)
    .await
}
