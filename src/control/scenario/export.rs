//! A tenant read into a [`Scenario`]: SQLite for the record, memory for what only memory
//! holds (faults, the players' account of deliveries, quota counts not yet written behind).

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use base64::Engine;

use super::*;
use crate::auth::{Environment, Permissions};
use crate::clock::rfc3339_ms;
use crate::control::ControlState;
use crate::control::tenants::{ExistingTenant, LimitsSpec};
use crate::error::Result;
use crate::musique::deliveries::{Destination, environment_of};
use crate::musique::store::SendRow;

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: String,
    api: String,
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
    public_token: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AudioRow {
    id: String,
    company_id: i64,
    environment: String,
    name: String,
    description: Option<String>,
    category: Option<String>,
    duration: f64,
    created_at_ms: i64,
    bytes: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    company_id: i64,
    location_id: i64,
    external_id: String,
    user_id: i64,
    environment: String,
    at_ms: i64,
    online: bool,
    fail_after_ms: i64,
}

fn too_large(what: &str, n: usize, max: usize) -> Error {
    crate::control::error::ControlKind::Conflict(format!(
        "The tenant has {n} {what}; a scenario holds at most {max}."
    ))
    .into()
}

fn tier_of(s: Option<&str>) -> Tier {
    match s {
        Some("pro") => Tier::Pro,
        Some("enterprise") => Tier::Enterprise,
        _ => Tier::Free,
    }
}

/// The tenant's state as a scenario.
pub async fn export(state: &ControlState, tenant: &str) -> Result<Scenario> {
    let db = &state.core.db;
    let row = crate::control::store::tenant(db, tenant)
        .await?
        .ok_or_else(|| Error::ResourceNotFound(format!("Tenant `{tenant}` was not found.")))?;
    let clock = state.core.clocks.get(tenant);
    let now_ms = clock.now_ms();
    // Counts still in memory go to SQLite first, so the usage read below is whole.
    state.musicark.quotas.flush(db).await?;

    let companies = crate::control::store::companies(db, tenant).await?;
    if companies.len() > MAX_COMPANIES {
        return Err(too_large("companies", companies.len(), MAX_COMPANIES));
    }
    let company_ids: Vec<i64> = companies.iter().map(|c| c.id).collect();
    let locations: Vec<(i64, i64, String, i64, String)> = sqlx::query_as(
        "SELECT l.id, l.company_id, l.external_id, l.user_id, l.name
         FROM locations l JOIN companies c ON c.id = l.company_id WHERE c.tenant_id = ? ORDER BY l.id",
    )
    .bind(tenant)
    .fetch_all(&db.read)
    .await?;
    let keys: Vec<KeyRow> = sqlx::query_as(
        "SELECT id, api, label, company_id, environment, permissions, scope, limit_minute,
                limit_hour, limit_day, tier, monthly_limit, public_token
         FROM api_keys WHERE tenant_id = ? AND revoked_at_ms IS NULL ORDER BY rowid",
    )
    .bind(tenant)
    .fetch_all(&db.read)
    .await?;
    let audio_count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audio WHERE tenant_id = ?")
        .bind(tenant)
        .fetch_one(&db.read)
        .await?;
    if audio_count as usize > MAX_AUDIO {
        return Err(too_large("audio items", audio_count as usize, MAX_AUDIO));
    }
    let audio: Vec<AudioRow> = sqlx::query_as(
        "SELECT a.id, a.company_id, a.environment, a.name, a.description, a.category, a.duration,
                a.created_at_ms, b.bytes
         FROM audio a JOIN audio_blobs b ON b.audio_id = a.id
         WHERE a.tenant_id = ? ORDER BY a.created_at_ms, a.seq",
    )
    .bind(tenant)
    .fetch_all(&db.read)
    .await?;

    let _settled = state.musique.deliveries.reading().await;
    let send_count = crate::musique::store::count_sends(db, tenant, None).await?;
    if send_count as usize > MAX_SENDS {
        return Err(too_large("sends", send_count as usize, MAX_SENDS));
    }
    let sends: Vec<SendRow> = sqlx::query_as(
        "SELECT s.rowid AS seq, s.id, s.audio_id, a.environment, s.priority, s.repeat, s.volume,
                s.scheduled, s.due_at_ms, s.created_at_ms
         FROM sends s JOIN audio a ON a.id = s.audio_id WHERE s.tenant_id = ? ORDER BY s.rowid",
    )
    .bind(tenant)
    .fetch_all(&db.read)
    .await?;
    let extra: HashMap<String, (String, bool, i64)> = sqlx::query_as::<_, (String, String, bool, i64)>(
        "SELECT s.id, s.key_id, s.broadcast, a.company_id FROM sends s JOIN audio a ON a.id = s.audio_id
         WHERE s.tenant_id = ?",
    )
    .bind(tenant)
    .fetch_all(&db.read)
    .await?
    .into_iter()
    .map(|(id, key, broadcast, company)| (id, (key, broadcast, company)))
    .collect();
    let views = crate::control::players::send_views(state, &company_ids, now_ms, sends).await?;
    let events: Vec<EventRow> = sqlx::query_as(
        "SELECT l.company_id, e.location_id, l.external_id, l.user_id, e.environment, e.at_ms,
                e.online, e.fail_after_ms
         FROM player_events e JOIN locations l ON l.id = e.location_id
         WHERE e.tenant_id = ? ORDER BY e.id",
    )
    .bind(tenant)
    .fetch_all(&db.read)
    .await?;
    if events.len() > MAX_AVAILABILITY {
        return Err(too_large("availability changes", events.len(), MAX_AVAILABILITY));
    }

    let exported_keys: std::collections::HashSet<&str> = keys.iter().map(|k| k.id.as_str()).collect();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out_companies = Vec::new();
    for company in &companies {
        let stores: Vec<ScenarioStore> = locations
            .iter()
            .filter(|l| l.1 == company.id)
            .map(|(_, _, external_id, user_id, name)| ScenarioStore {
                external_id: external_id.clone(),
                user_id: *user_id,
                name: (name != external_id).then(|| name.clone()),
            })
            .collect();
        if stores.len() > MAX_STORES {
            return Err(too_large("stores in a company", stores.len(), MAX_STORES));
        }
        let tokens: Vec<ScenarioToken> = keys
            .iter()
            .filter(|k| k.api == "musique" && k.company_id == Some(company.id))
            .map(|k| {
                let permissions = k
                    .permissions
                    .as_deref()
                    .and_then(|p| Permissions::parse_list(p).ok())
                    .unwrap_or(Permissions::ALL);
                ScenarioToken {
                    id: k.id.clone(),
                    environment: environment_of(k.environment.as_deref().unwrap_or("prod")),
                    label: k.label.clone(),
                    permissions: (permissions != Permissions::ALL)
                        .then(|| permissions.names().into_iter().map(str::to_owned).collect()),
                    external_ids: k.scope.as_deref().and_then(|s| serde_json::from_str(s).ok()),
                    limits: match (k.limit_minute, k.limit_hour, k.limit_day) {
                        (Some(m), Some(h), Some(d)) => Some(LimitsSpec {
                            per_minute: u32::try_from(m).unwrap_or(u32::MAX),
                            per_hour: u32::try_from(h).unwrap_or(u32::MAX),
                            per_day: u32::try_from(d).unwrap_or(u32::MAX),
                        }),
                        _ => None,
                    },
                    token: k.public_token.clone(),
                }
            })
            .collect();
        if tokens.len() > MAX_TOKENS {
            return Err(too_large("tokens in a company", tokens.len(), MAX_TOKENS));
        }
        let audio_out = audio
            .iter()
            .filter(|a| a.company_id == company.id)
            .map(|a| ScenarioAudio {
                id: a.id.clone(),
                environment: environment_of(&a.environment),
                name: a.name.clone(),
                description: a.description.clone(),
                category: a.category.clone(),
                duration: a.duration,
                created_at: rfc3339_ms(a.created_at_ms),
                bytes: b64.encode(&a.bytes),
            })
            .collect();
        let sends_out = views
            .iter()
            .filter(|v| extra.get(&v.send_id).is_some_and(|e| e.2 == company.id))
            .map(|v| {
                let (key_id, broadcast, _) = &extra[&v.send_id];
                ScenarioSend {
                    id: v.send_id.clone(),
                    audio_id: v.audio_id.clone(),
                    key_id: exported_keys.contains(key_id.as_str()).then(|| key_id.clone()),
                    priority: v.priority.to_owned(),
                    repeat: v.repeat,
                    volume: v.volume,
                    broadcast: *broadcast,
                    scheduled: v.scheduled,
                    due_at: v.schedule_at.clone().unwrap_or_else(|| v.created_at.clone()),
                    created_at: v.created_at.clone(),
                    destinations: v
                        .destinations
                        .iter()
                        .map(|d| ScenarioDestination {
                            external_id: d.external_id.clone(),
                            status: Some(d.status.to_owned()),
                            delivered_at: d.delivered_at.clone(),
                            started_at: d.started_at.clone(),
                            finished_at: d.finished_at.clone(),
                        })
                        .collect(),
                }
            })
            .collect();
        // One player per (store, environment) that ever changed availability, in the order
        // of its first change.
        let mut players: Vec<(i64, Environment, ScenarioPlayer, Destination)> = Vec::new();
        for e in events.iter().filter(|e| e.company_id == company.id) {
            let environment = environment_of(&e.environment);
            let change = ScenarioAvailability {
                at: rfc3339_ms(e.at_ms),
                online: e.online,
                fail_after_ms: e.fail_after_ms,
            };
            match players
                .iter_mut()
                .find(|p| p.0 == e.location_id && p.1 == environment)
            {
                Some(p) => p.2.availability.push(change),
                None => players.push((
                    e.location_id,
                    environment,
                    ScenarioPlayer {
                        external_id: e.external_id.clone(),
                        environment,
                        availability: vec![change],
                        online: None,
                        queue: None,
                    },
                    Destination {
                        location_id: e.location_id,
                        external_id: e.external_id.clone(),
                        user_id: e.user_id,
                    },
                )),
            }
        }
        let players = players
            .into_iter()
            .map(|(_, environment, mut player, location)| {
                let (view, _) = state.musique.deliveries.player_view(
                    company.id,
                    &location,
                    environment,
                    now_ms,
                    MAX_SENDS,
                    None,
                );
                player.online = Some(view.online);
                player.queue = Some(
                    view.now_playing
                        .iter()
                        .chain(&view.queue)
                        .map(|d| d.send_id.clone())
                        .collect(),
                );
                player
            })
            .collect();
        out_companies.push(ScenarioCompany {
            prefix: company.prefix.clone(),
            name: company.name.clone(),
            stores,
            tokens,
            audio: audio_out,
            sends: sends_out,
            players,
        });
    }
    drop(_settled);

    let usage: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT u.key_id, u.month, u.count FROM musicark_usage u JOIN api_keys k ON k.id = u.key_id
         WHERE k.tenant_id = ? AND u.count > 0 ORDER BY u.month",
    )
    .bind(tenant)
    .fetch_all(&db.read)
    .await?;
    let musicark_keys: Vec<ScenarioArkKey> = keys
        .iter()
        .filter(|k| k.api == "musicark")
        .map(|k| ScenarioArkKey {
            id: k.id.clone(),
            tier: tier_of(k.tier.as_deref()),
            label: k.label.clone(),
            monthly_limit: k
                .monthly_limit
                .unwrap_or_else(|| tier_of(k.tier.as_deref()).default_monthly_limit()),
            token: k.public_token.clone(),
            usage: usage
                .iter()
                .filter(|u| u.0 == k.id)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .take(MAX_USAGE_MONTHS)
                .rev()
                .map(|(_, month, count)| ScenarioUsage {
                    month: month.clone(),
                    count: *count,
                })
                .collect(),
        })
        .collect();
    if musicark_keys.len() > MAX_ARK_KEYS {
        return Err(too_large("MusicArk keys", musicark_keys.len(), MAX_ARK_KEYS));
    }

    let faults = state
        .core
        .runtimes
        .existing(tenant)
        .map(|r| r.faults.list())
        .unwrap_or_default()
        .into_iter()
        .map(|f| ScenarioFault {
            id: f.id,
            method: f.method,
            path: f.path,
            status: f.status,
            code: f.code,
            message: f.message,
            latency_ms: f.latency_ms,
            close: f.close,
            times: f.times,
            probability: f.probability,
            seed: f.seed,
            matched: f.matched,
            fired: f.fired,
            remaining: f.remaining,
        })
        .collect();
    let webhooks: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT id, url, events, max_attempts, created_at_ms FROM webhooks WHERE tenant_id = ? ORDER BY rowid",
    )
    .bind(tenant)
    .fetch_all(&db.read)
    .await?;
    let webhooks = webhooks
        .into_iter()
        .map(|(id, url, events, max_attempts, created_at_ms)| ScenarioWebhook {
            id,
            url,
            events: serde_json::from_str(&events).unwrap_or_default(),
            max_attempts,
            created_at: rfc3339_ms(created_at_ms),
        })
        .collect();

    Ok(Scenario {
        scenario_version: SCENARIO_VERSION,
        name: row.name,
        strict: row.strict,
        clock: ScenarioClock {
            now: rfc3339_ms(now_ms),
            frozen: clock.is_frozen(),
        },
        companies: out_companies,
        musicark_keys,
        faults,
        webhooks,
    })
}

#[utoipa::path(
    get, path = "/_soundcheck/tenants/{tenant}/scenario", tag = "Tenants", operation_id = "exportScenario",
    description = "The tenant's whole state as one versioned document (`scenarioVersion` 1): companies, stores, key definitions (no secrets: only a fixed public test token a key was made with), the audio library with its bytes (base64), sends with their delivery statuses, players' availability and queues, the clock, faults, webhooks (no signing secrets) and MusicArk usage. `POST /_soundcheck/tenants` with `{\"scenario\": …}` makes a tenant in that state. Not included: the request journal, rate-limit windows (a loaded tenant's keys start whole) and the webhook outbox. A tenant larger than a scenario may be (see `Scenario`) answers 409.",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`.")),
    responses(
        (status = 200, description = "The scenario.", body = Scenario),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError),
        (status = 409, description = "The tenant holds more than a scenario may.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `GET /_soundcheck/tenants/{id}/scenario`
pub async fn get(
    State(state): State<ControlState>,
    ExistingTenant(tenant): ExistingTenant,
) -> Result<Json<Scenario>> {
    Ok(Json(export(&state, &tenant).await?))
}
