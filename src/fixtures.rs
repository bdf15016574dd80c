//! The default fixtures (spec §6 of each API): bundled in the binary, or read from a directory,
//! and seeded into a tenant in one transaction.

use std::path::Path;

use base64::Engine;
use serde::Deserialize;

use crate::auth::{Environment, Permissions, Secret, Tier, company_token_prefix, parse_musique_token};
use crate::clock::real_now_ms;
use crate::control::store::{self, SeedAudio};
use crate::db::Db;
use crate::hasher::{HashCost, Hasher};
use crate::keys::{self, NewArkKey, NewMusiqueKey};
use crate::musicark::store::CatalogueSource;
use crate::rate_limit::Limits;

const BUNDLED_MUSIQUE: &str = include_str!("../fixtures/musique.json");
const BUNDLED_MUSICARK: &str = include_str!("../fixtures/musicark.json");
const BUNDLED_CATALOGUE: &str = include_str!("../fixtures/catalogue.jsonl");
/// The example announcement's MP3 (a two-note chime, 2 s, 48 kbps mono; fixtures/README.md
/// says how it was made): small enough to bundle, real enough to play, send and download.
const BUNDLED_AUDIO: [(&str, &[u8]); 1] = [("welcome.mp3", include_bytes!("../fixtures/welcome.mp3"))];

/// The example announcement of the default sandbox, which every document's examples name.
pub const EXAMPLE_AUDIO_ID: &str = "aud_welcome0000001";

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MusiqueFixtures {
    #[serde(rename = "_comment", default)]
    pub comment: String,
    pub companies: Vec<CompanyFixture>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CompanyFixture {
    pub prefix: String,
    pub name: String,
    /// The legacy company token (`{prefix}_company_…`) that `POST /api/integration/auth`
    /// takes to issue a token per External ID.
    #[serde(default)]
    pub company_token: Option<String>,
    pub locations: LocationRange,
    pub tokens: Vec<TokenFixture>,
    /// The company's prod library at creation (restored by a reset of the tenant).
    #[serde(default)]
    pub audio: Vec<AudioFixture>,
}

/// An audio object of a fixture library: its metadata and the MP3 file behind it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AudioFixture {
    /// `aud_` + 14 lowercase letters or digits, fixed so that documents can name it.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    /// RFC 3339; fixed, and older than anything a test uploads.
    pub created_at: String,
    /// A file of the fixtures directory, or a bundled one (`welcome.mp3`).
    pub file: String,
    /// The file's bytes, read when the fixtures load.
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// `count` locations `{externalIdPrefix}{n:0width}` with user ids from `firstUserId`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LocationRange {
    pub external_id_prefix: String,
    pub count: u32,
    pub width: usize,
    pub first_user_id: i64,
    pub name_prefix: String,
}

impl LocationRange {
    pub fn expand(&self) -> Vec<(String, String)> {
        (1..=self.count)
            .map(|n| {
                let width = self.width;
                (
                    format!("{}{n:0width$}", self.external_id_prefix),
                    format!("{} {n:0width$}", self.name_prefix),
                )
            })
            .collect()
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TokenFixture {
    pub token: String,
    pub label: String,
    #[serde(default)]
    pub scope: Option<Vec<String>>,
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
    #[serde(default)]
    pub limits: Option<Limits>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MusicArkFixtures {
    #[serde(rename = "_comment", default)]
    pub comment: String,
    pub keys: Vec<ArkKeyFixture>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArkKeyFixture {
    pub key: String,
    pub tier: Tier,
    pub label: String,
    #[serde(default)]
    pub monthly_limit: Option<i64>,
}

/// Everything a tenant is seeded with, and where the song catalogue comes from.
#[derive(Clone, Debug)]
pub struct Fixtures {
    pub musique: MusiqueFixtures,
    pub musicark: MusicArkFixtures,
    /// `catalogue.jsonl` of the fixtures directory, or the bundled one.
    pub catalogue: CatalogueSource,
}

impl Fixtures {
    /// The bundled fixtures, or those of `dir` (each file falls back to the bundled one).
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Fixtures> {
        let read = |name: &str, bundled: &'static str| -> anyhow::Result<String> {
            match dir.map(|d| d.join(name)) {
                Some(path) if path.exists() => {
                    std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
                }
                _ => Ok(bundled.to_owned()),
            }
        };
        let musique: MusiqueFixtures = serde_json::from_str(&read("musique.json", BUNDLED_MUSIQUE)?)
            .map_err(|e| anyhow::anyhow!("musique.json: {e}"))?;
        let mut musique = musique;
        for audio in musique.companies.iter_mut().flat_map(|c| c.audio.iter_mut()) {
            audio.bytes = match dir.map(|d| d.join(&audio.file)).filter(|p| p.exists()) {
                Some(path) => std::fs::read(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
                None => BUNDLED_AUDIO
                    .iter()
                    .find(|(name, _)| *name == audio.file)
                    .map(|(_, bytes)| bytes.to_vec())
                    .ok_or_else(|| anyhow::anyhow!("musique.json: no audio file {:?}", audio.file))?,
            };
        }
        let musicark: MusicArkFixtures = serde_json::from_str(&read("musicark.json", BUNDLED_MUSICARK)?)
            .map_err(|e| anyhow::anyhow!("musicark.json: {e}"))?;
        let catalogue = match dir.map(|d| d.join("catalogue.jsonl")).filter(|p| p.exists()) {
            Some(path) => CatalogueSource::File(path),
            None => CatalogueSource::Bundled(BUNDLED_CATALOGUE),
        };
        let fixtures = Fixtures {
            musique,
            musicark,
            catalogue,
        };
        fixtures.validate()?;
        Ok(fixtures)
    }

    fn validate(&self) -> anyhow::Result<()> {
        for company in &self.musique.companies {
            if let Some(token) = &company.company_token {
                anyhow::ensure!(
                    company_token_prefix(token) == Some(company.prefix.as_str()),
                    "the company token of {} must be {}_company_ and 8-128 letters or digits",
                    company.prefix,
                    company.prefix
                );
            }
            for token in &company.tokens {
                let parsed = parse_musique_token(&token.token)
                    .ok_or_else(|| anyhow::anyhow!("fixture token {:?} is malformed", token.label))?;
                anyhow::ensure!(
                    parsed.company == company.prefix,
                    "fixture token {:?} does not start with {}_",
                    token.label,
                    company.prefix
                );
                if let Some(perms) = &token.permissions {
                    Permissions::parse_list(&perms.join(",")).map_err(anyhow::Error::msg)?;
                }
            }
            for audio in &company.audio {
                let suffix = audio.id.strip_prefix("aud_").unwrap_or_default();
                anyhow::ensure!(
                    suffix.len() == 14
                        && suffix
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                    "fixture audio {:?}: its id must be aud_ and 14 lowercase letters or digits",
                    audio.id
                );
                parse_created_at(audio)?;
                crate::musique::mp3::inspect(&audio.bytes)
                    .map_err(|e| anyhow::anyhow!("fixture audio {:?} ({}): {e}", audio.id, audio.file))?;
            }
        }
        Ok(())
    }

    /// Lines for the start-up banner: every fixture key and what it is for.
    pub fn banner_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for company in &self.musique.companies {
            for token in &company.tokens {
                lines.push(format!("  musique   {:<42} {}", token.token, token.label));
            }
            if let Some(token) = &company.company_token {
                lines.push(format!(
                    "  musique   {token:<42} company token of {} (legacy POST /api/integration/auth)",
                    company.prefix
                ));
            }
        }
        for key in &self.musicark.keys {
            lines.push(format!("  musicark  {:<42} {}", key.key, key.label));
        }
        lines
    }
}

/// Creates tenant `tenant_id` with the fixtures, unless it exists. Returns whether it seeded.
pub async fn seed_tenant(
    db: &Db,
    hasher: &Hasher,
    tenant_id: &str,
    name: &str,
    fixtures: &Fixtures,
) -> anyhow::Result<bool> {
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM tenants WHERE id = ?")
        .bind(tenant_id)
        .fetch_optional(&db.read)
        .await?;
    if exists.is_some() {
        backfill_company_tokens(db, hasher, tenant_id, fixtures).await?;
        backfill_audio(db, tenant_id, fixtures).await?;
        return Ok(false);
    }

    // Hash first, outside the transaction: the write lock is held only for the inserts.
    // Fixture tokens are public, so they get the cheap parameters (see hasher::params).
    let mut musique_hashes = Vec::new();
    for company in &fixtures.musique.companies {
        for token in &company.tokens {
            musique_hashes.push(hasher.hash(&token.token, HashCost::Fast).await?);
        }
    }
    let mut company_hashes = Vec::new();
    for company in &fixtures.musique.companies {
        company_hashes.push(match &company.company_token {
            Some(token) => Some(hasher.hash(token, HashCost::Fast).await?),
            None => None,
        });
    }
    let mut ark_hashes = Vec::new();
    for key in &fixtures.musicark.keys {
        ark_hashes.push(hasher.hash(&key.key, HashCost::Fast).await?);
    }

    let mut tx = db.begin_write().await?;
    sqlx::query("INSERT INTO tenants (id, name, created_at_ms) VALUES (?, ?, ?)")
        .bind(tenant_id)
        .bind(name)
        .bind(real_now_ms())
        .execute(&mut *tx)
        .await?;
    let mut hashes = musique_hashes.iter();
    let mut library = Vec::new();
    for (company, company_hash) in fixtures.musique.companies.iter().zip(&company_hashes) {
        let (company_id, _) =
            keys::ensure_company(&mut tx, tenant_id, &company.prefix, &company.name).await?;
        for audio in &company.audio {
            let audio = seed_audio(audio, company_id)?;
            store::insert_audio(&mut tx, tenant_id, &audio).await?;
            library.push(audio);
        }
        if let Some(hash) = company_hash {
            store::set_company_token_hash(&mut tx, tenant_id, company_id, hash).await?;
        }
        keys::add_locations(
            &mut tx,
            company_id,
            &company.locations.expand(),
            Some(company.locations.first_user_id),
        )
        .await?;
        for token in &company.tokens {
            let parsed = parse_musique_token(&token.token)
                .ok_or_else(|| anyhow::anyhow!("fixture token {:?} is malformed", token.label))?;
            let permissions = match &token.permissions {
                Some(list) => Permissions::parse_list(&list.join(",")).map_err(anyhow::Error::msg)?,
                None => Permissions::ALL,
            };
            let key = NewMusiqueKey {
                tenant_id: tenant_id.to_owned(),
                company_id,
                environment: parsed.environment,
                token: Secret(token.token.clone()),
                label: token.label.clone(),
                permissions,
                scope: token.scope.clone(),
                limits: token.limits,
            };
            let hash = hashes.next().ok_or_else(|| anyhow::anyhow!("hash count"))?;
            let id = keys::insert_musique_key(&mut tx, &key, hash).await?;
            keys::mark_public(&mut tx, &id, &token.token).await?;
        }
    }
    for (key, hash) in fixtures.musicark.keys.iter().zip(&ark_hashes) {
        let new = NewArkKey {
            tenant_id: tenant_id.to_owned(),
            tier: key.tier,
            monthly_limit: key.monthly_limit,
            token: Secret(key.key.clone()),
            label: key.label.clone(),
        };
        let id = keys::insert_musicark_key(&mut tx, &new, hash).await?;
        keys::mark_public(&mut tx, &id, &key.key).await?;
    }
    // The creation state a reset restores, with the library (which a tenant made by the
    // control plane's creation does not keep).
    store::save_seed(&mut tx, tenant_id).await?;
    store::set_seed_audio(&mut tx, tenant_id, library).await?;
    tx.commit().await?;
    Ok(true)
}

/// A fixture audio object as the creation state keeps it.
fn seed_audio(audio: &AudioFixture, company_id: i64) -> anyhow::Result<SeedAudio> {
    let info = crate::musique::mp3::inspect(&audio.bytes)
        .map_err(|e| anyhow::anyhow!("fixture audio {:?}: {e}", audio.id))?;
    Ok(SeedAudio {
        id: audio.id.clone(),
        company_id,
        environment: Environment::Prod,
        name: audio.name.clone(),
        description: audio.description.clone(),
        category: audio.category.clone(),
        duration: info.duration_secs,
        created_at_ms: parse_created_at(audio)?,
        bytes: base64::engine::general_purpose::STANDARD.encode(&audio.bytes),
    })
}

fn parse_created_at(audio: &AudioFixture) -> anyhow::Result<i64> {
    chrono::DateTime::parse_from_rfc3339(&audio.created_at)
        .map(|at| at.timestamp_millis())
        .map_err(|e| anyhow::anyhow!("fixture audio {:?}: createdAt: {e}", audio.id))
}

/// Gives a default tenant seeded before fixture libraries existed (its creation state has
/// no library) the fixture audio, in its rows and in the creation state, once: an example
/// deleted afterwards stays deleted until a reset.
async fn backfill_audio(db: &Db, tenant_id: &str, fixtures: &Fixtures) -> anyhow::Result<()> {
    // Most starts find the library there: they read, and write nothing.
    let has_library: Option<i64> = sqlx::query_scalar(
        "SELECT json_type(seed, '$.audio') IS NOT NULL FROM tenants WHERE id = ? AND seed IS NOT NULL",
    )
    .bind(tenant_id)
    .fetch_optional(&db.read)
    .await?;
    if has_library == Some(1) {
        return Ok(());
    }
    let mut tx = db.begin_write().await?;
    match store::seed(&mut tx, tenant_id).await? {
        Some(seed) if seed.audio.is_some() => return Ok(()),
        Some(_) => {}
        None => store::save_seed(&mut tx, tenant_id).await?,
    }
    let mut library = Vec::new();
    for company in &fixtures.musique.companies {
        let company_id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM companies WHERE tenant_id = ? AND prefix = ?")
                .bind(tenant_id)
                .bind(&company.prefix)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(company_id) = company_id else {
            continue;
        };
        for audio in &company.audio {
            let audio = seed_audio(audio, company_id)?;
            let taken: Option<i64> = sqlx::query_scalar("SELECT 1 FROM audio WHERE id = ?")
                .bind(&audio.id)
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_none() {
                store::insert_audio(&mut tx, tenant_id, &audio).await?;
            }
            library.push(audio);
        }
    }
    store::set_seed_audio(&mut tx, tenant_id, library).await?;
    tx.commit().await?;
    Ok(())
}

/// Gives the fixture companies of an already seeded tenant the company tokens they lack: a
/// database seeded before company tokens existed gets them on its next start, in its rows and
/// in the creation state a reset restores.
async fn backfill_company_tokens(
    db: &Db,
    hasher: &Hasher,
    tenant_id: &str,
    fixtures: &Fixtures,
) -> anyhow::Result<()> {
    for company in &fixtures.musique.companies {
        let Some(token) = &company.company_token else {
            continue;
        };
        let missing: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM companies WHERE tenant_id = ? AND prefix = ? AND company_token_hash IS NULL",
        )
        .bind(tenant_id)
        .bind(&company.prefix)
        .fetch_optional(&db.read)
        .await?;
        let Some(company_id) = missing else {
            continue;
        };
        let hash = hasher.hash(token, HashCost::Fast).await?;
        let mut tx = db.begin_write().await?;
        store::set_company_token_hash(&mut tx, tenant_id, company_id, &hash).await?;
        tx.commit().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_fixtures_load_and_hold_the_docs_tokens() {
        let f = Fixtures::load(None).expect("bundled fixtures");
        let msk = &f.musique.companies[0];
        assert_eq!(msk.prefix, "msk");
        let locations = msk.locations.expand();
        assert_eq!(locations.len(), 50);
        assert_eq!(locations[0].0, "store_001");
        assert_eq!(locations[49].0, "store_050");
        assert!(msk.tokens.iter().any(|t| t.token == "msk_prod_1234567890abcdef"));
        assert!(msk.tokens.iter().any(|t| t.token == "msk_live_1234567890abcdef"));
        assert!(msk.tokens.iter().any(|t| t.token.starts_with("msk_dev_")));
        assert_eq!(f.musicark.keys.len(), 3);
        assert!(
            f.musique
                .companies
                .iter()
                .all(|c| c.company_token.as_deref().and_then(company_token_prefix) == Some(c.prefix.as_str())),
            "every fixture company has a company token"
        );
        assert!(
            f.banner_lines()
                .iter()
                .any(|l| l.contains("msk_company_1234567890abcdef")),
            "the start banner shows the company tokens"
        );
        assert!(parse_musique_token(&msk.tokens[2].token).is_some_and(|t| t.environment == Environment::Dev));
    }
}
