//! The default fixtures (spec §6 of each API): bundled in the binary, or read from a directory,
//! and seeded into a tenant in one transaction.

use std::path::Path;

use serde::Deserialize;

use crate::auth::{Permissions, Secret, Tier, company_token_prefix, parse_musique_token};
use crate::clock::real_now_ms;
use crate::db::Db;
use crate::hasher::{HashCost, Hasher};
use crate::keys::{self, NewArkKey, NewMusiqueKey};
use crate::musicark::store::CatalogueSource;
use crate::rate_limit::Limits;

const BUNDLED_MUSIQUE: &str = include_str!("../fixtures/musique.json");
const BUNDLED_MUSICARK: &str = include_str!("../fixtures/musicark.json");
const BUNDLED_CATALOGUE: &str = include_str!("../fixtures/catalogue.jsonl");

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
    for (company, company_hash) in fixtures.musique.companies.iter().zip(&company_hashes) {
        let (company_id, _) =
            keys::ensure_company(&mut tx, tenant_id, &company.prefix, &company.name).await?;
        if let Some(hash) = company_hash {
            crate::control::store::set_company_token_hash(&mut tx, tenant_id, company_id, hash).await?;
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
    tx.commit().await?;
    Ok(true)
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
        crate::control::store::set_company_token_hash(&mut tx, tenant_id, company_id, &hash).await?;
        tx.commit().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Environment;

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
