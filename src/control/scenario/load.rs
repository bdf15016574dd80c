//! A scenario checked and written into a new tenant: every check first (the first problem is
//! a 400 naming its JSON path), secrets hashed, then one SQLite transaction. The in-memory
//! sides (clock, prefixes, libraries, players, faults, webhooks) learn the tenant only once it
//! committed ([`apply`]), so a load that fails leaves nothing anywhere.

use std::collections::{HashMap, HashSet};

use base64::Engine;

use super::*;
use crate::auth::{Permissions, is_company_prefix, is_musicark_key, musicark_lookup, parse_musique_token};
use crate::clock::{INSTANT_RANGE, TenantClock, in_range, real_now_ms, rfc3339_ms};
use crate::control::ControlState;
use crate::control::error::ControlKind;
use crate::db::Db;
use crate::error::Result;
use crate::faults::{Definition, Fault};
use crate::hasher::Hasher;
use crate::ids::random_alnum;
use crate::musique::library::{AudioMeta, LibraryKey};
use crate::musique::player::Priority;

/// Ours, as `POST …/player` allows: an offline player fails a delivery after at most a week.
const MAX_FAIL_AFTER_MS: i64 = 7 * 86_400_000;

/// What the running server must learn once the load committed.
#[derive(Debug)]
pub struct Applied {
    tenant: String,
    clock: (i64, Option<i64>),
    /// `(company id, prefix, whether it has sends or players)`.
    companies: Vec<(i64, String, bool)>,
    audio: Vec<(LibraryKey, AudioMeta)>,
    faults: Vec<Fault>,
    webhooks: usize,
}

fn instant(path: &str, text: &str) -> Result<i64> {
    let ms = chrono::DateTime::parse_from_rfc3339(text)
        .map_err(|_| at(path, format!("must be an RFC 3339 instant; got {text:?}.")))?
        .timestamp_millis();
    if !in_range(ms) {
        return Err(at(path, format!("must be an instant from {INSTANT_RANGE}.")));
    }
    Ok(ms)
}

fn check_id(path: &str, id: &str, seen: &mut HashSet<String>) -> Result<()> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(at(path, "must be 1-64 letters, digits, `_` or `-`."));
    }
    if !seen.insert(id.to_owned()) {
        return Err(at(path, format!("repeats the id {id:?}.")));
    }
    Ok(())
}

fn at_most<T>(path: &str, list: &[T], max: usize) -> Result<()> {
    if list.len() > max {
        return Err(at(path, format!("may list at most {max}; got {}.", list.len())));
    }
    Ok(())
}

/// Every check a scenario must pass before anything is written; returns the decoded audio
/// bytes, in the order of the companies' audio.
fn check(sc: &Scenario) -> Result<Vec<Vec<u8>>> {
    if sc.scenario_version != SCENARIO_VERSION {
        return Err(at("$.scenarioVersion", format!("must be {SCENARIO_VERSION}.")));
    }
    if sc.name.chars().count() > 200 {
        return Err(at("$.name", "must be at most 200 characters."));
    }
    instant("$.clock.now", &sc.clock.now)?;
    at_most("$.companies", &sc.companies, MAX_COMPANIES)?;
    at_most("$.musicarkKeys", &sc.musicark_keys, MAX_ARK_KEYS)?;
    at_most("$.faults", &sc.faults, MAX_FAULTS)?;
    at_most("$.webhooks", &sc.webhooks, MAX_WEBHOOKS)?;
    let audio_total: usize = sc.companies.iter().map(|c| c.audio.len()).sum();
    if audio_total > MAX_AUDIO {
        return Err(at(
            "$.companies",
            format!("hold {audio_total} audio items; at most {MAX_AUDIO}."),
        ));
    }
    let sends_total: usize = sc.companies.iter().map(|c| c.sends.len()).sum();
    if sends_total > MAX_SENDS {
        return Err(at(
            "$.companies",
            format!("hold {sends_total} sends; at most {MAX_SENDS}."),
        ));
    }
    let changes: usize = sc
        .companies
        .iter()
        .flat_map(|c| &c.players)
        .map(|p| p.availability.len())
        .sum();
    if changes > MAX_AVAILABILITY {
        return Err(at(
            "$.companies",
            format!("hold {changes} availability changes; at most {MAX_AVAILABILITY}."),
        ));
    }
    let (mut prefixes, mut key_ids, mut audio_ids, mut send_ids) =
        (HashSet::new(), HashSet::new(), HashSet::new(), HashSet::new());
    let mut bytes = Vec::new();
    let b64 = base64::engine::general_purpose::STANDARD;
    for (ci, c) in sc.companies.iter().enumerate() {
        let p = format!("$.companies[{ci}]");
        if !is_company_prefix(&c.prefix) {
            return Err(at(
                format!("{p}.prefix"),
                "must be 2-32 lowercase letters or digits, starting with a letter.",
            ));
        }
        if !prefixes.insert(c.prefix.as_str()) {
            return Err(at(format!("{p}.prefix"), format!("repeats {:?}.", c.prefix)));
        }
        if c.name.chars().count() > 200 {
            return Err(at(format!("{p}.name"), "must be at most 200 characters."));
        }
        at_most(&format!("{p}.stores"), &c.stores, MAX_STORES)?;
        at_most(&format!("{p}.tokens"), &c.tokens, MAX_TOKENS)?;
        let mut stores = HashSet::new();
        for (si, s) in c.stores.iter().enumerate() {
            crate::keys::validate_external_id(&s.external_id).map_err(|_| {
                at(
                    format!("{p}.stores[{si}].externalId"),
                    "must be 1-128 printable characters.",
                )
            })?;
            if !stores.insert(s.external_id.as_str()) {
                return Err(at(
                    format!("{p}.stores[{si}].externalId"),
                    format!("repeats {:?}.", s.external_id),
                ));
            }
            if s.name.as_ref().is_some_and(|n| n.chars().count() > 200) {
                return Err(at(
                    format!("{p}.stores[{si}].name"),
                    "must be at most 200 characters.",
                ));
            }
        }
        let mut tokens = HashSet::new();
        for (ti, t) in c.tokens.iter().enumerate() {
            let tp = format!("{p}.tokens[{ti}]");
            check_id(&format!("{tp}.id"), &t.id, &mut key_ids)?;
            tokens.insert(t.id.as_str());
            if let Some(list) = &t.permissions {
                Permissions::parse_list(&list.join(",")).map_err(|e| at(format!("{tp}.permissions"), e))?;
            }
            if let Some(scope) = &t.external_ids {
                if let Some((i, id)) = scope
                    .iter()
                    .enumerate()
                    .find(|(_, id)| !stores.contains(id.as_str()))
                {
                    return Err(at(
                        format!("{tp}.externalIds[{i}]"),
                        format!("unknown store {id:?}."),
                    ));
                }
                if scope.is_empty() {
                    return Err(at(
                        format!("{tp}.externalIds"),
                        "must list some of the company's stores.",
                    ));
                }
            }
            if let Some(l) = t.limits
                && (l.per_minute == 0 || l.per_hour == 0 || l.per_day == 0)
            {
                return Err(at(format!("{tp}.limits"), "every limit must be at least 1."));
            }
            if let Some(token) = &t.token {
                let parsed = parse_musique_token(token)
                    .filter(|parsed| parsed.company == c.prefix && parsed.environment == t.environment);
                if parsed.is_none() {
                    return Err(at(
                        format!("{tp}.token"),
                        format!(
                            "must be a Musique token `{}_{}_…` of this company and environment.",
                            c.prefix,
                            t.environment.as_str()
                        ),
                    ));
                }
            }
        }
        let mut audio = HashSet::new();
        for (ai, a) in c.audio.iter().enumerate() {
            let ap = format!("{p}.audio[{ai}]");
            let well_formed =
                a.id.strip_prefix("aud_")
                    .is_some_and(|rest| rest.len() == 14 && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
            if !well_formed {
                return Err(at(format!("{ap}.id"), "must be `aud_` + 14 letters or digits."));
            }
            if !audio_ids.insert(a.id.clone()) {
                return Err(at(format!("{ap}.id"), format!("repeats the id {:?}.", a.id)));
            }
            audio.insert(a.id.as_str());
            if a.name.is_empty() || a.name.chars().count() > 255 {
                return Err(at(format!("{ap}.name"), "must be 1-255 characters."));
            }
            if !(a.duration.is_finite() && a.duration > 0.0) {
                return Err(at(
                    format!("{ap}.duration"),
                    "must be a positive number of seconds.",
                ));
            }
            instant(&format!("{ap}.createdAt"), &a.created_at)?;
            let max_b64 = crate::musique::audio::MAX_FILE_BYTES.div_ceil(3) * 4;
            if a.bytes.len() > max_b64 {
                return Err(at(
                    format!("{ap}.bytes"),
                    "is more than 10 MiB decoded, the upload limit.",
                ));
            }
            let decoded = b64
                .decode(&a.bytes)
                .map_err(|e| at(format!("{ap}.bytes"), format!("is not base64: {e}.")))?;
            crate::musique::mp3::inspect(&decoded)
                .map_err(|e| at(format!("{ap}.bytes"), format!("is not an MP3 file: {e}.")))?;
            bytes.push(decoded);
        }
        for (si, s) in c.sends.iter().enumerate() {
            let sp = format!("{p}.sends[{si}]");
            check_id(&format!("{sp}.id"), &s.id, &mut send_ids)?;
            if !audio.contains(s.audio_id.as_str()) {
                return Err(at(
                    format!("{sp}.audioId"),
                    format!("unknown audio {:?} (not in this company's audio).", s.audio_id),
                ));
            }
            if let Some(key) = &s.key_id
                && !tokens.contains(key.as_str())
            {
                return Err(at(
                    format!("{sp}.keyId"),
                    format!("unknown token {key:?} (not in this company's tokens)."),
                ));
            }
            if Priority::parse(&s.priority).is_none() {
                return Err(at(
                    format!("{sp}.priority"),
                    "must be low, normal, high or urgent.",
                ));
            }
            if !(1..=10).contains(&s.repeat) {
                return Err(at(format!("{sp}.repeat"), "must be from 1 to 10."));
            }
            if s.volume > 100 {
                return Err(at(format!("{sp}.volume"), "must be from 0 to 100."));
            }
            instant(&format!("{sp}.dueAt"), &s.due_at)?;
            instant(&format!("{sp}.createdAt"), &s.created_at)?;
            if s.destinations.is_empty() {
                return Err(at(format!("{sp}.destinations"), "must list at least one store."));
            }
            let mut seen = HashSet::new();
            for (di, d) in s.destinations.iter().enumerate() {
                if !stores.contains(d.external_id.as_str()) {
                    return Err(at(
                        format!("{sp}.destinations[{di}].externalId"),
                        "unknown store.",
                    ));
                }
                if !seen.insert(d.external_id.as_str()) {
                    return Err(at(
                        format!("{sp}.destinations[{di}].externalId"),
                        "repeats a store.",
                    ));
                }
            }
        }
        let mut players = HashSet::new();
        for (pi, pl) in c.players.iter().enumerate() {
            let pp = format!("{p}.players[{pi}]");
            if !stores.contains(pl.external_id.as_str()) {
                return Err(at(format!("{pp}.externalId"), "unknown store."));
            }
            if !players.insert((pl.external_id.as_str(), pl.environment)) {
                return Err(at(
                    format!("{pp}.externalId"),
                    "repeats a player (store and environment).",
                ));
            }
            for (ei, e) in pl.availability.iter().enumerate() {
                instant(&format!("{pp}.availability[{ei}].at"), &e.at)?;
                if !(1..=MAX_FAIL_AFTER_MS).contains(&e.fail_after_ms) {
                    return Err(at(
                        format!("{pp}.availability[{ei}].failAfterMs"),
                        "must be from 1 ms to 7 days.",
                    ));
                }
            }
        }
    }
    for (ki, k) in sc.musicark_keys.iter().enumerate() {
        let kp = format!("$.musicarkKeys[{ki}]");
        check_id(&format!("{kp}.id"), &k.id, &mut key_ids)?;
        if k.monthly_limit < 1 {
            return Err(at(format!("{kp}.monthlyLimit"), "must be at least 1."));
        }
        if k.token.as_deref().is_some_and(|t| !is_musicark_key(t)) {
            return Err(at(
                format!("{kp}.token"),
                "must be a MusicArk key `mk_live_…` or `mk_test_…`.",
            ));
        }
        at_most(&format!("{kp}.usage"), &k.usage, MAX_USAGE_MONTHS)?;
        let mut months = HashSet::new();
        for (ui, u) in k.usage.iter().enumerate() {
            let ok = chrono::NaiveDate::parse_from_str(&format!("{}-01", u.month), "%Y-%m-%d").is_ok()
                && u.month.len() == 7;
            if !ok || !months.insert(u.month.as_str()) {
                return Err(at(
                    format!("{kp}.usage[{ui}].month"),
                    "must be a month `YYYY-MM`, listed once.",
                ));
            }
            if u.count < 0 {
                return Err(at(format!("{kp}.usage[{ui}].count"), "must be at least 0."));
            }
        }
    }
    let mut fault_ids = HashSet::new();
    for (fi, f) in sc.faults.iter().enumerate() {
        check_id(&format!("$.faults[{fi}].id"), &f.id, &mut fault_ids)?;
        fault(f).map_err(|e| at(format!("$.faults[{fi}]"), e))?;
    }
    let mut hook_ids = HashSet::new();
    for (wi, w) in sc.webhooks.iter().enumerate() {
        let wp = format!("$.webhooks[{wi}]");
        check_id(&format!("{wp}.id"), &w.id, &mut hook_ids)?;
        let uri: Option<axum::http::Uri> = w.url.parse().ok();
        if uri
            .as_ref()
            .is_none_or(|u| u.scheme_str() != Some("http") || u.host().is_none())
        {
            return Err(at(format!("{wp}.url"), "must be an http:// URL with a host."));
        }
        if w.events.is_empty() {
            return Err(at(format!("{wp}.events"), "must name at least one event type."));
        }
        if let Some((i, bad)) = (w.events.iter().enumerate())
            .find(|(_, e)| !crate::control::webhooks::EVENT_TYPES.contains(&e.as_str()))
        {
            return Err(at(
                format!("{wp}.events[{i}]"),
                format!("unknown event type {bad:?}."),
            ));
        }
        if !(1..=20).contains(&w.max_attempts) {
            return Err(at(format!("{wp}.maxAttempts"), "must be from 1 to 20."));
        }
        instant(&format!("{wp}.createdAt"), &w.created_at)?;
    }
    Ok(bytes)
}

/// A scenario's fault, checked as `POST …/faults` checks one, as it stood.
fn fault(f: &ScenarioFault) -> std::result::Result<Fault, String> {
    let spec = crate::control::faults::FaultSpec {
        method: f.method.clone(),
        path: f.path.clone(),
        status: f.status,
        code: f.code.clone(),
        message: f.message.clone(),
        latency_ms: f.latency_ms,
        close: f.close,
        times: f.times,
        probability: f.probability,
        seed: f.seed,
    };
    let checked = crate::control::faults::from_spec(spec).map_err(|e| e.to_string())?;
    if f.remaining.is_some_and(|r| f.times.is_none_or(|t| r > t)) {
        return Err("`remaining` must be at most `times`.".to_owned());
    }
    Ok(Fault::resumed(
        f.id.clone(),
        Definition {
            method: checked.method,
            path: checked.path,
            status: checked.status,
            code: checked.code,
            message: checked.message,
            latency_ms: checked.latency_ms,
            close: checked.close,
            times: checked.times,
            probability: checked.probability,
            seed: checked.seed,
        },
        f.matched,
        f.fired,
        f.remaining.or(f.times),
    ))
}

async fn taken(db: &Db, sql: &'static str, value: &str) -> sqlx::Result<bool> {
    Ok(sqlx::query_scalar::<_, i64>(sql)
        .bind(value)
        .fetch_optional(&db.read)
        .await?
        .is_some())
}

/// `id` if no tenant holds it, else a new one made by `fresh` (recorded in `mapping`).
async fn keep_or_new(
    tx: &mut sqlx::SqliteConnection,
    sql: &'static str,
    id: &str,
    fresh: impl Fn() -> String,
    mapping: &mut std::collections::BTreeMap<String, String>,
) -> Result<String> {
    let held: Option<i64> = sqlx::query_scalar(sql).bind(id).fetch_optional(&mut *tx).await?;
    if held.is_none() {
        return Ok(id.to_owned());
    }
    let new = fresh();
    mapping.insert(id.to_owned(), new.clone());
    Ok(new)
}

/// Checks the scenario and writes it into a new tenant, in one transaction. `cost` is the
/// hash cost of its secrets.
pub async fn load_into_db(
    db: &Db,
    hasher: &Hasher,
    sc: Scenario,
    cost: HashCost,
) -> Result<(Loaded, Applied)> {
    let mut audio_bytes = check(&sc)?.into_iter();
    // As `POST …/webhooks` checks: soundcheck delivers to test receivers only.
    for (wi, w) in sc.webhooks.iter().enumerate() {
        let uri: axum::http::Uri = w
            .url
            .parse()
            .map_err(|_| at(format!("$.webhooks[{wi}].url"), "must be an http:// URL."))?;
        if !crate::control::webhooks::reachable_privately(&uri).await {
            return Err(at(
                format!("$.webhooks[{wi}].url"),
                "must name a loopback or private-network host that resolves: soundcheck delivers to test receivers only.",
            ));
        }
    }
    let clock_ms = instant("$.clock.now", &sc.clock.now)?;
    let clock = if sc.clock.frozen {
        (0, Some(clock_ms))
    } else {
        (clock_ms - real_now_ms(), None)
    };
    let tenant = format!("ten_{}", random_alnum(12));
    let mut mapping = IdMapping::default();

    // Prefixes decide the tokens, which are hashed before the write lock is taken.
    let mut prefixes = Vec::new();
    for c in &sc.companies {
        let prefix = if taken(db, "SELECT 1 FROM companies WHERE prefix = ?", &c.prefix).await? {
            let new = format!("t{}", random_alnum(7).to_ascii_lowercase());
            mapping.companies.insert(c.prefix.clone(), new.clone());
            new
        } else {
            c.prefix.clone()
        };
        prefixes.push(prefix);
    }
    // Every secret: (plaintext, fixed), companies' tokens first, then MusicArk keys, then the
    // company tokens.
    let mut secrets: Vec<(String, bool)> = Vec::new();
    for (c, prefix) in sc.companies.iter().zip(&prefixes) {
        for t in &c.tokens {
            secrets.push(match &t.token {
                Some(fixed) if *prefix == c.prefix => (fixed.clone(), true),
                _ => (crate::keys::generate_musique_token(prefix, t.environment), false),
            });
        }
    }
    for k in &sc.musicark_keys {
        let fixed = match &k.token {
            Some(fixed) => {
                let lookup = musicark_lookup(fixed).unwrap_or_default();
                let held = taken(
                    db,
                    "SELECT 1 FROM api_keys WHERE lookup = ? AND revoked_at_ms IS NULL",
                    &lookup,
                )
                .await?;
                (!held).then(|| fixed.clone())
            }
            None => None,
        };
        secrets.push(match fixed {
            Some(fixed) => (fixed, true),
            None => (crate::keys::generate_musicark_key(), false),
        });
    }
    for prefix in &prefixes {
        secrets.push((crate::keys::generate_company_token(prefix), false));
    }
    let plain: Vec<&str> = secrets.iter().map(|(s, _)| s.as_str()).collect();
    let hashes = hasher.hash_all(&plain, cost).await?;
    let mut secret_iter = secrets.iter().zip(&hashes);

    let created_at_ms = real_now_ms();
    let mut tx = db.begin_write().await?;
    sqlx::query("INSERT INTO tenants (id, name, created_at_ms, clock_offset_ms, clock_frozen_ms, strict) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(&tenant)
        .bind(&sc.name)
        .bind(created_at_ms)
        .bind(clock.0)
        .bind(clock.1)
        .bind(sc.strict)
        .execute(&mut *tx)
        .await?;

    let mut loaded_companies = Vec::new();
    let mut applied_companies = Vec::new();
    let mut applied_audio = Vec::new();
    let mut company_secrets = Vec::new();
    for (c, prefix) in sc.companies.iter().zip(&prefixes) {
        let held: Option<i64> = sqlx::query_scalar("SELECT 1 FROM companies WHERE prefix = ?")
            .bind(prefix)
            .fetch_optional(&mut *tx)
            .await?;
        if held.is_some() {
            return Err(ControlKind::Conflict(format!(
                "Company prefix `{prefix}` was taken meanwhile; load the scenario again."
            ))
            .into());
        }
        let company_id: i64 = sqlx::query_scalar(
            "INSERT INTO companies (tenant_id, prefix, name) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(&tenant)
        .bind(prefix)
        .bind(&c.name)
        .fetch_one(&mut *tx)
        .await?;
        let mut locations: HashMap<&str, (i64, i64)> = HashMap::new();
        for s in &c.stores {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO locations (company_id, external_id, user_id, name) VALUES (?, ?, ?, ?) RETURNING id",
            )
            .bind(company_id)
            .bind(&s.external_id)
            .bind(s.user_id)
            .bind(s.name.as_deref().unwrap_or(&s.external_id))
            .fetch_one(&mut *tx)
            .await?;
            locations.insert(s.external_id.as_str(), (id, s.user_id));
        }
        let mut tokens = Vec::new();
        let mut key_ids: HashMap<&str, String> = HashMap::new();
        for t in &c.tokens {
            let ((secret, fixed), hash) = secret_iter
                .next()
                .ok_or_else(|| anyhow::anyhow!("secret count"))?;
            let id = keep_or_new(
                &mut tx,
                "SELECT 1 FROM api_keys WHERE id = ?",
                &t.id,
                crate::keys::new_key_id,
                &mut mapping.keys,
            )
            .await?;
            let permissions = match &t.permissions {
                Some(list) => Permissions::parse_list(&list.join(",")).map_err(anyhow::Error::msg)?,
                None => Permissions::ALL,
            };
            let key = crate::keys::NewMusiqueKey {
                tenant_id: tenant.clone(),
                company_id,
                environment: t.environment,
                token: crate::auth::Secret(secret.clone()),
                label: t.label.clone(),
                permissions,
                scope: t.external_ids.clone(),
                limits: t.limits.map(|l| crate::rate_limit::Limits {
                    per_minute: l.per_minute,
                    per_hour: l.per_hour,
                    per_day: l.per_day,
                }),
            };
            crate::keys::insert_musique_key_as(&mut tx, &id, created_at_ms, &key, hash).await?;
            if *fixed {
                crate::keys::mark_public(&mut tx, &id, secret).await?;
            }
            key_ids.insert(t.id.as_str(), id.clone());
            tokens.push(Issued {
                id,
                secret: secret.clone(),
                fixed: *fixed,
            });
        }
        let mut audio_ids: HashMap<&str, String> = HashMap::new();
        for a in &c.audio {
            let bytes = audio_bytes.next().ok_or_else(|| anyhow::anyhow!("audio count"))?;
            let id = keep_or_new(
                &mut tx,
                "SELECT 1 FROM audio WHERE id = ?",
                &a.id,
                || format!("aud_{}", random_alnum(14)),
                &mut mapping.audio,
            )
            .await?;
            let created = instant("", &a.created_at)?;
            let size = bytes.len() as i64;
            let seq: i64 = sqlx::query_scalar(
                "INSERT INTO audio (id, tenant_id, company_id, environment, name, description, category,
                                    duration, size, created_at_ms, seq)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM audio))
                 RETURNING seq",
            )
            .bind(&id)
            .bind(&tenant)
            .bind(company_id)
            .bind(a.environment.as_str())
            .bind(&a.name)
            .bind(&a.description)
            .bind(&a.category)
            .bind(a.duration)
            .bind(size)
            .bind(created)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO audio_blobs (audio_id, bytes) VALUES (?, ?)")
                .bind(&id)
                .bind(bytes)
                .execute(&mut *tx)
                .await?;
            applied_audio.push((
                LibraryKey {
                    company_id,
                    environment: a.environment,
                },
                AudioMeta {
                    id: id.clone(),
                    name: a.name.clone(),
                    description: a.description.clone(),
                    category: a.category.clone(),
                    duration: a.duration,
                    size,
                    created_at_ms: created,
                    seq,
                },
            ));
            audio_ids.insert(a.id.as_str(), id);
        }
        for s in &c.sends {
            let id = keep_or_new(
                &mut tx,
                "SELECT 1 FROM sends WHERE id = ?",
                &s.id,
                || format!("snd_{}", random_alnum(14)),
                &mut mapping.sends,
            )
            .await?;
            let key = s
                .key_id
                .as_deref()
                .and_then(|k| key_ids.get(k))
                .map_or("", String::as_str);
            sqlx::query(
                "INSERT INTO sends (id, tenant_id, audio_id, key_id, priority, repeat, volume, broadcast,
                                    scheduled, due_at_ms, created_at_ms)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&id)
            .bind(&tenant)
            .bind(&audio_ids[s.audio_id.as_str()])
            .bind(key)
            .bind(&s.priority)
            .bind(i64::from(s.repeat))
            .bind(i64::from(s.volume))
            .bind(s.broadcast)
            .bind(s.scheduled)
            .bind(instant("", &s.due_at)?)
            .bind(instant("", &s.created_at)?)
            .execute(&mut *tx)
            .await?;
            for d in &s.destinations {
                let (location, user) = locations[d.external_id.as_str()];
                sqlx::query("INSERT INTO send_destinations (send_id, location_id, external_id, user_id) VALUES (?, ?, ?, ?)")
                    .bind(&id)
                    .bind(location)
                    .bind(&d.external_id)
                    .bind(user)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for p in &c.players {
            let (location, _) = locations[p.external_id.as_str()];
            for e in &p.availability {
                sqlx::query(
                    "INSERT INTO player_events (tenant_id, location_id, environment, at_ms, online, fail_after_ms)
                     VALUES (?, ?, ?, ?, ?, ?)",
                )
                .bind(&tenant)
                .bind(location)
                .bind(p.environment.as_str())
                .bind(instant("", &e.at)?)
                .bind(e.online)
                .bind(e.fail_after_ms)
                .execute(&mut *tx)
                .await?;
            }
        }
        applied_companies.push((
            company_id,
            prefix.clone(),
            !c.sends.is_empty() || !c.players.is_empty(),
        ));
        company_secrets.push(company_id);
        loaded_companies.push(LoadedCompany {
            prefix: prefix.clone(),
            company_token: String::new(),
            tokens,
        });
    }

    let mut ark = Vec::new();
    for k in &sc.musicark_keys {
        let ((secret, fixed), hash) = secret_iter
            .next()
            .ok_or_else(|| anyhow::anyhow!("secret count"))?;
        let id = keep_or_new(
            &mut tx,
            "SELECT 1 FROM api_keys WHERE id = ?",
            &k.id,
            crate::keys::new_key_id,
            &mut mapping.keys,
        )
        .await?;
        let key = crate::keys::NewArkKey {
            tenant_id: tenant.clone(),
            tier: k.tier,
            monthly_limit: Some(k.monthly_limit),
            token: crate::auth::Secret(secret.clone()),
            label: k.label.clone(),
        };
        crate::keys::insert_musicark_key_as(&mut tx, &id, created_at_ms, &key, hash).await?;
        if *fixed {
            crate::keys::mark_public(&mut tx, &id, secret).await?;
        }
        for u in &k.usage {
            sqlx::query("INSERT INTO musicark_usage (key_id, month, count) VALUES (?, ?, ?)")
                .bind(&id)
                .bind(&u.month)
                .bind(u.count)
                .execute(&mut *tx)
                .await?;
        }
        ark.push(Issued {
            id,
            secret: secret.clone(),
            fixed: *fixed,
        });
    }
    for (company_id, loaded) in company_secrets.iter().zip(loaded_companies.iter_mut()) {
        let ((secret, _), hash) = secret_iter
            .next()
            .ok_or_else(|| anyhow::anyhow!("secret count"))?;
        sqlx::query("UPDATE companies SET company_token_hash = ? WHERE id = ?")
            .bind(hash)
            .bind(company_id)
            .execute(&mut *tx)
            .await?;
        loaded.company_token = secret.clone();
    }

    let mut hooks = Vec::new();
    for w in &sc.webhooks {
        let id = keep_or_new(
            &mut tx,
            "SELECT 1 FROM webhooks WHERE id = ?",
            &w.id,
            || format!("whk_{}", random_alnum(12)),
            &mut mapping.webhooks,
        )
        .await?;
        let secret = format!("whsec_{}", random_alnum(32));
        sqlx::query(
            "INSERT INTO webhooks (id, tenant_id, url, secret, events, max_attempts, created_at_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&tenant)
        .bind(&w.url)
        .bind(&secret)
        .bind(serde_json::to_string(&w.events).map_err(anyhow::Error::from)?)
        .bind(w.max_attempts)
        .bind(instant("", &w.created_at)?)
        .execute(&mut *tx)
        .await?;
        hooks.push(Issued {
            id,
            secret,
            fixed: false,
        });
    }
    crate::control::store::save_seed(&mut tx, &tenant)
        .await
        .map_err(Error::Internal)?;
    tx.commit().await?;

    let faults = sc
        .faults
        .iter()
        .map(fault)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(Error::validation)?;
    let view = super::super::clock::ClockView::of(&TenantClock::new(clock.0, clock.1));
    let loaded = Loaded {
        id: tenant.clone(),
        name: sc.name,
        created_at: rfc3339_ms(created_at_ms),
        clock: view,
        hash_cost: cost,
        companies: loaded_companies,
        musicark_keys: ark,
        webhooks: hooks,
        mapping,
    };
    let applied = Applied {
        tenant,
        clock,
        companies: applied_companies,
        audio: applied_audio,
        faults,
        webhooks: sc.webhooks.len(),
    };
    Ok((loaded, applied))
}

impl Applied {
    /// Whether the scenario had faults, which live in a running server's memory only.
    pub fn has_faults(&self) -> bool {
        !self.faults.is_empty()
    }
}

/// The running server learns a tenant that just committed.
pub async fn apply(state: &ControlState, applied: Applied) -> Result<()> {
    let tenant = &applied.tenant;
    let clock = state
        .core
        .clocks
        .insert(tenant, TenantClock::new(applied.clock.0, applied.clock.1));
    for (_, prefix, _) in &applied.companies {
        state.core.runtimes.add_prefix(prefix, tenant);
    }
    for (key, meta) in applied.audio {
        state.musique.libraries.insert_audio(key, meta);
    }
    let runtime = state.core.runtimes.get(tenant);
    for fault in applied.faults {
        runtime.faults.add(fault, MAX_FAULTS);
    }
    let now_ms = clock.now_ms();
    for (company, _, record) in &applied.companies {
        if *record {
            state
                .musique
                .deliveries
                .rebuild(&state.core.db, *company, now_ms)
                .await?;
        }
    }
    if applied.webhooks > 0 {
        crate::control::webhooks::loaded(state, tenant, applied.webhooks).await?;
    }
    Ok(())
}
