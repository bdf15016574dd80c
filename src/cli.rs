//! The `keys` subcommands (they work on the same database file as a running server) and
//! `fixtures generate`.

use clap::{Args, Subcommand, ValueEnum};

use crate::auth::{Environment, Permissions, Secret, Tier};
use crate::clock::rfc3339_ms;
use crate::db::Db;
use crate::hasher::{HashCost, Hasher};
use crate::keys::{self, NewArkKey, NewMusiqueKey};
use crate::rate_limit::Limits;
use crate::state::DEFAULT_TENANT;

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create a key and print its token once.
    Create(CreateKey),
    /// List keys (never their secrets).
    List(DbArg),
    /// Revoke a key by id; a running server refuses it within a second.
    Revoke {
        /// The key's id, as `keys list` shows it.
        id: String,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Args, Debug)]
pub struct DbArg {
    /// SQLite database file.
    #[arg(long, env = "SOUNDCHECK_DB", default_value = "./soundcheck.db")]
    pub db: String,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ApiName {
    Musique,
    Musicark,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum EnvName {
    Prod,
    Dev,
}

#[derive(Args, Debug)]
pub struct CreateKey {
    #[arg(long, value_enum)]
    pub api: ApiName,
    /// Musique: the company prefix (created, with no locations, if new).
    #[arg(long)]
    pub company: Option<String>,
    /// Musique: the environment.
    #[arg(long, value_enum, default_value = "prod")]
    pub env: EnvName,
    /// Musique: External IDs. For a new company, its locations; otherwise the token's scope.
    #[arg(long, value_delimiter = ',')]
    pub external_ids: Vec<String>,
    /// Musique: permissions, e.g. `audio.read,audio.send` (default: all four).
    #[arg(long)]
    pub permissions: Option<String>,
    /// Musique: `minute/hour/day` limits (default 100/1000/10000).
    #[arg(long)]
    pub limits: Option<Limits>,
    /// MusicArk: the tier.
    #[arg(long, value_enum)]
    pub tier: Option<TierName>,
    /// MusicArk: monthly call limit (default: the tier's).
    #[arg(long)]
    pub monthly_limit: Option<i64>,
    /// A note to recognise the key by in `keys list`.
    #[arg(long, default_value = "created by the CLI")]
    pub label: String,
    /// The tenant the key belongs to.
    #[arg(long, default_value = DEFAULT_TENANT)]
    pub tenant: String,
    /// argon2id cost of the new key's hash.
    #[arg(long, env = "SOUNDCHECK_HASH_COST", value_enum, default_value_t = HashCost::Default)]
    pub hash_cost: HashCost,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TierName {
    Free,
    Pro,
    Enterprise,
}

pub async fn keys(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create(args) => {
            let db = open(&args.db.db).await?;
            let (id, token) = create(&db, &args).await?;
            println!("created key {id}");
            println!("token (shown once, stored only as a hash):");
            println!("{token}");
            Ok(())
        }
        KeysCommand::List(args) => {
            let db = open(&args.db).await?;
            for key in keys::list(&db).await? {
                let what = match key.api.as_str() {
                    "musique" => format!(
                        "company={} env={} permissions={} scope={} limits={}/{}/{}",
                        key.company.as_deref().unwrap_or("-"),
                        key.environment.as_deref().unwrap_or("-"),
                        key.permissions.as_deref().unwrap_or("-"),
                        key.scope.as_deref().unwrap_or("all"),
                        key.limit_minute.unwrap_or_default(),
                        key.limit_hour.unwrap_or_default(),
                        key.limit_day.unwrap_or_default(),
                    ),
                    _ => format!(
                        "tier={} monthly_limit={}",
                        key.tier.as_deref().unwrap_or("-"),
                        key.monthly_limit.unwrap_or_default()
                    ),
                };
                let status = match key.revoked_at_ms {
                    Some(at) => format!("revoked {}", rfc3339_ms(at)),
                    None => "active".to_owned(),
                };
                println!(
                    "{}  {:<8} {:<20} tenant={} {what} created={} {status}  {}",
                    key.id,
                    key.api,
                    format!("{}…", key.lookup),
                    key.tenant_id,
                    rfc3339_ms(key.created_at_ms),
                    key.label
                );
            }
            Ok(())
        }
        KeysCommand::Revoke { id, db } => {
            let db = open(&db.db).await?;
            if keys::revoke(&db, &id).await? {
                println!("revoked {id}");
                Ok(())
            } else {
                anyhow::bail!("no active key has id {id}")
            }
        }
    }
}

/// A command hashes a handful of keys, one after another: one worker is enough.
fn one_off_hasher() -> Hasher {
    Hasher::new(1, 64)
}

async fn open(path: &str) -> anyhow::Result<Db> {
    anyhow::ensure!(
        path == ":memory:" || std::path::Path::new(path).exists(),
        "database {path} does not exist: start the server once to create it"
    );
    Db::open(path).await
}

/// Creates the key `args` describes; returns its id and plaintext token.
pub async fn create(db: &Db, args: &CreateKey) -> anyhow::Result<(String, String)> {
    match args.api {
        ApiName::Musique => {
            let company = args
                .company
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("--company is required for a Musique key"))?;
            let environment = match args.env {
                EnvName::Prod => Environment::Prod,
                EnvName::Dev => Environment::Dev,
            };
            let permissions = match &args.permissions {
                Some(list) => Permissions::parse_list(list).map_err(anyhow::Error::msg)?,
                None => Permissions::ALL,
            };
            let token = keys::generate_musique_token(company, environment);
            let hash = one_off_hasher().hash(&token, args.hash_cost).await?;

            let mut tx = db.begin_write().await?;
            let (company_id, created) = keys::ensure_company(&mut tx, &args.tenant, company, company).await?;
            let scope = if created {
                let locations: Vec<(String, String)> = args
                    .external_ids
                    .iter()
                    .map(|id| (id.clone(), id.clone()))
                    .collect();
                keys::add_locations(&mut tx, company_id, &locations, None).await?;
                None
            } else if args.external_ids.is_empty() {
                None
            } else {
                let known = keys::company_external_ids(&mut tx, company_id).await?;
                let unknown: Vec<&String> = args
                    .external_ids
                    .iter()
                    .filter(|id| !known.contains(id))
                    .collect();
                anyhow::ensure!(
                    unknown.is_empty(),
                    "company {company} has no External IDs {unknown:?}"
                );
                Some(args.external_ids.clone())
            };
            let key = NewMusiqueKey {
                tenant_id: args.tenant.clone(),
                company_id,
                environment,
                token: Secret(token.clone()),
                label: args.label.clone(),
                permissions,
                scope,
                limits: args.limits,
            };
            let id = keys::insert_musique_key(&mut tx, &key, &hash).await?;
            tx.commit().await?;
            Ok((id, token))
        }
        ApiName::Musicark => {
            let tier = match args.tier {
                Some(TierName::Free) => Tier::Free,
                Some(TierName::Pro) => Tier::Pro,
                Some(TierName::Enterprise) => Tier::Enterprise,
                None => anyhow::bail!("--tier is required for a MusicArk key"),
            };
            if let Some(limit) = args.monthly_limit {
                anyhow::ensure!(limit >= 1, "--monthly-limit must be at least 1");
            }
            let token = keys::generate_musicark_key();
            let hash = one_off_hasher().hash(&token, args.hash_cost).await?;
            let mut tx = db.begin_write().await?;
            let key = NewArkKey {
                tenant_id: args.tenant.clone(),
                tier,
                monthly_limit: args.monthly_limit,
                token: Secret(token.clone()),
                label: args.label.clone(),
            };
            let id = keys::insert_musicark_key(&mut tx, &key, &hash).await?;
            tx.commit().await?;
            Ok((id, token))
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum TenantsCommand {
    /// Create a tenant and print it, with its tokens (shown once), as JSON: the same as
    /// `POST /_soundcheck/tenants` answers.
    Create(CreateTenant),
    /// List tenants.
    List(DbArg),
    /// Delete a tenant and everything it owns.
    Delete {
        id: String,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Args, Debug)]
pub struct CreateTenant {
    /// The whole request body of `POST /_soundcheck/tenants`, as JSON; the flags below fill
    /// in what it leaves out.
    #[arg(long)]
    pub spec: Option<String>,
    /// A scenario file (as `GET /_soundcheck/tenants/{id}/scenario` exports one) to make the
    /// tenant from, all or nothing. Written to the database: a server started on it
    /// afterwards serves it. Faults live in a running server's memory, so a scenario with
    /// faults must be POSTed to the server instead.
    #[arg(long, conflicts_with_all = ["spec", "name", "company", "stores", "external_ids"])]
    pub scenario: Option<std::path::PathBuf>,
    #[arg(long)]
    pub name: Option<String>,
    /// Musique company prefix (generated when absent).
    #[arg(long)]
    pub company: Option<String>,
    /// How many stores, store_001 ….
    #[arg(long)]
    pub stores: Option<u32>,
    /// The stores' External IDs, instead of `--stores`.
    #[arg(long, value_delimiter = ',')]
    pub external_ids: Vec<String>,
    /// argon2id cost of the tokens' hashes.
    #[arg(long, env = "SOUNDCHECK_HASH_COST", value_enum, default_value_t = HashCost::Default)]
    pub hash_cost: HashCost,
    #[command(flatten)]
    pub db: DbArg,
}

pub async fn tenants(command: TenantsCommand) -> anyhow::Result<()> {
    use crate::control::{store, tenants};
    match command {
        TenantsCommand::Create(args) if args.scenario.is_some() => {
            let path = args.scenario.as_deref().unwrap_or(std::path::Path::new(""));
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("--scenario {}: {e}", path.display()))?;
            let value: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("--scenario: {e}"))?;
            let scenario =
                crate::control::scenario::parse(value).map_err(|e| anyhow::anyhow!("--scenario: {e}"))?;
            anyhow::ensure!(
                scenario.faults.is_empty(),
                "--scenario: faults live in a running server's memory; POST the scenario to /_soundcheck/tenants instead"
            );
            let db = open(&args.db.db).await?;
            let (loaded, _) = crate::control::scenario::load::load_into_db(
                &db,
                &one_off_hasher(),
                scenario,
                args.hash_cost,
            )
            .await
            .map_err(|e| anyhow::anyhow!("--scenario: {e}"))?;
            println!("{}", serde_json::to_string_pretty(&loaded)?);
            Ok(())
        }
        TenantsCommand::Create(args) => {
            let db = open(&args.db.db).await?;
            let mut spec: tenants::TenantSpec = match &args.spec {
                Some(json) => {
                    let value: serde_json::Value =
                        serde_json::from_str(json).map_err(|e| anyhow::anyhow!("--spec: {e}"))?;
                    tenants::parse_body(value).map_err(|e| anyhow::anyhow!("--spec: {e}"))?
                }
                None => tenants::TenantSpec::default(),
            };
            spec.name = spec.name.or(args.name);
            spec.musique.company = spec.musique.company.or(args.company);
            spec.musique.stores = spec.musique.stores.or(args.stores);
            if !args.external_ids.is_empty() {
                spec.musique.external_ids = Some(args.external_ids);
            }
            let created = tenants::create_tenant(&db, &one_off_hasher(), spec, args.hash_cost)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", serde_json::to_string_pretty(&created)?);
            Ok(())
        }
        TenantsCommand::List(args) => {
            let db = open(&args.db).await?;
            for t in store::tenants(&db).await? {
                println!("{}  {}  created={}", t.id, t.name, rfc3339_ms(t.created_at_ms));
            }
            Ok(())
        }
        TenantsCommand::Delete { id, db } => {
            anyhow::ensure!(id != DEFAULT_TENANT, "the default tenant cannot be deleted");
            let db = open(&db.db).await?;
            anyhow::ensure!(store::delete(&db, &id).await?, "no tenant has id {id}");
            println!("deleted {id}");
            Ok(())
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum FixturesCommand {
    /// Write a seeded song catalogue to DIR/catalogue.jsonl (same seed, same bytes).
    Generate {
        /// How many songs.
        #[arg(long, default_value_t = 600)]
        songs: usize,
        /// The generator's seed.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// The instant publication dates are spread before (a few songs land after it).
        #[arg(long, default_value = "2026-11-23T00:00:00Z")]
        now: String,
        /// The directory to write into (created if missing).
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

pub fn fixtures(command: FixturesCommand) -> anyhow::Result<()> {
    use crate::musicark::catalogue;
    match command {
        FixturesCommand::Generate {
            songs,
            seed,
            now,
            out,
        } => {
            let Some(now) = catalogue::parse_rfc3339(&now) else {
                anyhow::bail!("--now must be an RFC 3339 instant such as 2026-11-23T00:00:00Z");
            };
            std::fs::create_dir_all(&out)?;
            let path = out.join("catalogue.jsonl");
            // Made, checked and written a chunk at a time (a million songs are gigabytes), into
            // a file renamed into place at the end: a catalogue that fails its check leaves
            // none behind, as when it was checked whole before writing.
            let partial = out.join("catalogue.jsonl.partial");
            let mut file = std::io::BufWriter::new(std::fs::File::create(&partial)?);
            let mut generator = catalogue::Generator::new(songs, seed, now);
            let mut check = catalogue::CatalogueCheck::default();
            let mut written = 0;
            let mut text = Vec::new();
            let mut made = || {
                while let Some(chunk) = generator.next_chunk() {
                    // Checking and serializing take about as long: one thread each.
                    text.clear();
                    let (checked, serialized) = std::thread::scope(|scope| {
                        let serialized = scope.spawn(|| catalogue::write_jsonl(&chunk, &mut text));
                        let checked = check.check(&chunk);
                        (checked, serialized.join())
                    });
                    checked.map_err(anyhow::Error::msg)?;
                    serialized.map_err(|_| anyhow::anyhow!("serializing songs panicked"))??;
                    std::io::Write::write_all(&mut file, &text)?;
                    written += chunk.len();
                }
                std::io::Write::flush(&mut file)?;
                Ok::<_, anyhow::Error>(())
            };
            let made = made();
            drop(file);
            if let Err(e) = made {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
            std::fs::rename(&partial, &path)?;
            println!("wrote {written} songs (seed {seed}) to {}", path.display());
            Ok(())
        }
    }
}
