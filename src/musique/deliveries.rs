//! Every store's simulated player, per company and environment, fed by sends; an audio's
//! stats count what the players have started. SQLite keeps the record (sends, destinations,
//! availability changes); this is rebuilt from it at start and advanced lazily on the
//! tenant's clock, so reading stats never waits for a background task.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;

use super::player::{Delivery, Player, Priority, Status};
use super::store::Stats;
use crate::auth::Environment;
use crate::clock::rfc3339_ms;
use crate::db::Db;

/// How long a delivery waits for an offline player before it fails, unless a test says.
pub const DEFAULT_FAIL_AFTER_MS: i64 = 5 * 60 * 1000;
/// How far behind an immediate send may be and still count as arriving now; further
/// behind, the clock was moved back and history is replayed.
const SKEW_MS: i64 = 5_000;
/// How many finished deliveries a player view shows.
const HISTORY: usize = 100;

#[derive(Clone, Debug)]
pub struct Destination {
    pub location_id: i64,
    pub external_id: String,
    pub user_id: i64,
}

/// A send as the players need it.
#[derive(Clone, Debug)]
pub struct SendInput {
    pub id: String,
    pub audio_id: String,
    pub environment: Environment,
    pub priority: Priority,
    pub repeat: u32,
    pub volume: u8,
    pub duration_ms: i64,
    pub scheduled: bool,
    pub due_ms: i64,
    pub created_ms: i64,
}

/// A send as its company keeps it, one per send ever made: 64 bytes, the audio id shared
/// with the company's other sends of that audio, the destinations in `Company::placements`.
#[derive(Debug)]
struct SendRecord {
    id: Box<str>,
    audio_id: Arc<str>,
    due_ms: i64,
    created_ms: i64,
    /// Its `(player index, delivery index)` pairs: `placements[first..first + count]`.
    first: u32,
    count: u32,
    repeat: u16,
    volume: u8,
    priority: Priority,
    environment: Environment,
    scheduled: bool,
}

#[derive(Debug)]
struct StorePlayer {
    location: Destination,
    player: Player,
}

#[derive(Debug, Default)]
struct AudioStats {
    times_played: i64,
    recipients: HashSet<i64>,
    last_played_ms: Option<i64>,
}

#[derive(Debug, Default)]
struct Company {
    players: Vec<StorePlayer>,
    by_location: HashMap<(i64, Environment), u32>,
    sends: Vec<SendRecord>,
    /// Every send's destinations, one after the other.
    placements: Vec<(u32, u32)>,
    /// One copy of each audio id the sends name.
    audio_ids: HashSet<Arc<str>>,
    stats: HashMap<Arc<str>, AudioStats>,
    /// The latest instant the players were run to.
    reached_ms: i64,
    /// Whether the company's tenant has webhooks: then what changed is reported as events,
    /// and `emitted` remembers, per player and delivery, which milestones were reported.
    watched: bool,
    emitted: Vec<Vec<u8>>,
    /// The tenant of a watched company, whose clock runs it when nobody reads.
    tenant: Option<String>,
}

const DELIVERED: u8 = 1;
const PLAYED: u8 = 2;
const FAILED: u8 = 4;

/// What a watched company reports for webhooks, in the order it happened.
#[derive(Clone, Debug)]
pub struct Event {
    pub company_id: i64,
    /// `send.created`, `delivery.delivered`, `delivery.played` or `delivery.failed`.
    pub kind: &'static str,
    pub at_ms: i64,
    pub data: serde_json::Value,
}

/// A milestone of one delivery: the `data` of a `delivery.*` event.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryEvent {
    pub send_id: String,
    pub audio_id: String,
    pub external_id: String,
    pub user_id: i64,
    pub priority: &'static str,
    pub repeat: u32,
    pub volume: u8,
    pub status: &'static str,
    pub delivered_at: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// What a clock move ran.
#[derive(Clone, Copy, Debug, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ran {
    /// Deliveries that started playing for the first time.
    pub deliveries_started: u64,
    /// Webhook attempts made (events and retries that came due).
    pub webhook_attempts: u64,
}

impl Company {
    fn player_index(&mut self, location: &Destination, environment: Environment) -> u32 {
        if let Some(i) = self.by_location.get(&(location.location_id, environment)) {
            return *i;
        }
        let index = self.players.len() as u32;
        self.players.push(StorePlayer {
            location: location.clone(),
            player: Player::new(true, DEFAULT_FAIL_AFTER_MS),
        });
        self.by_location
            .insert((location.location_id, environment), index);
        index
    }

    fn next_event_ms(&self) -> i64 {
        self.players
            .iter()
            .map(|p| p.player.next_event_ms())
            .min()
            .unwrap_or(i64::MAX)
    }

    /// Runs every player up to `now_ms`, counting what starts.
    fn advance(&mut self, now_ms: i64) -> Ran {
        // Concurrent requests read the clock in one order and get here in another: a reading
        // a little behind is already done. Further behind, the clock was moved back.
        if (self.reached_ms - SKEW_MS..self.reached_ms).contains(&now_ms) {
            return Ran::default();
        }
        self.reached_ms = now_ms;
        let mut ran = Ran::default();
        let mut rebuilt = false;
        let Company {
            players,
            sends,
            stats,
            ..
        } = self;
        for store in players.iter_mut() {
            let location_id = store.location.location_id;
            rebuilt |= store.player.advance_to(now_ms, |_, delivery, start_ms| {
                ran.deliveries_started += 1;
                if let Some(send) = sends.get(delivery.tag as usize) {
                    count_play(stats, send, location_id, start_ms);
                }
            });
        }
        if rebuilt {
            self.recount();
        }
        ran
    }

    /// The milestones reached since the last call, in the order they happened.
    fn milestones(&mut self, company_id: i64) -> Vec<Event> {
        let mut events = Vec::new();
        self.emitted.resize_with(self.players.len(), Vec::new);
        for (p, store) in self.players.iter().enumerate() {
            let emitted = &mut self.emitted[p];
            emitted.resize(store.player.deliveries().len(), 0);
            for (d, delivery) in store.player.deliveries().iter().enumerate() {
                let progress = store.player.progress(d);
                let mut due = Vec::new();
                if let Some(at) = progress.delivered_ms()
                    && emitted[d] & DELIVERED == 0
                {
                    due.push((DELIVERED, "delivery.delivered", at));
                }
                match (progress.status(), progress.finished_ms()) {
                    (Status::Played, Some(at)) if emitted[d] & PLAYED == 0 => {
                        due.push((PLAYED, "delivery.played", at))
                    }
                    (Status::Failed, Some(at)) if emitted[d] & FAILED == 0 => {
                        due.push((FAILED, "delivery.failed", at))
                    }
                    _ => {}
                }
                let Some(send) = self.sends.get(delivery.tag as usize) else {
                    continue;
                };
                for (flag, kind, at_ms) in due {
                    emitted[d] |= flag;
                    let data = DeliveryEvent {
                        send_id: send.id.to_string(),
                        audio_id: send.audio_id.to_string(),
                        external_id: store.location.external_id.clone(),
                        user_id: store.location.user_id,
                        priority: delivery.priority.as_str(),
                        repeat: u32::from(delivery.repeat),
                        volume: send.volume,
                        status: progress.status().as_str(),
                        delivered_at: progress.delivered_ms().map(rfc3339_ms),
                        started_at: progress.first_start_ms().map(rfc3339_ms),
                        finished_at: progress.finished_ms().map(rfc3339_ms),
                    };
                    events.push(Event {
                        company_id,
                        kind,
                        at_ms,
                        data: serde_json::to_value(&data).unwrap_or_default(),
                    });
                }
            }
        }
        // Delivered before played or failed at the same instant.
        events.sort_by_key(|e| (e.at_ms, e.kind != "delivery.delivered"));
        events
    }

    /// Stats from scratch, after a player rebuilt its history (its clock moved back).
    fn recount(&mut self) {
        self.stats.clear();
        for store in &self.players {
            for (index, delivery) in store.player.deliveries().iter().enumerate() {
                let Some(start) = store.player.progress(index).first_start_ms() else {
                    continue;
                };
                if let Some(send) = self.sends.get(delivery.tag as usize) {
                    count_play(&mut self.stats, send, store.location.location_id, start);
                }
            }
        }
    }

    fn add_send(&mut self, mut input: SendInput, destinations: &[Destination]) {
        // Requests read the clock before they wait for the writer, so an immediate send can
        // arrive a few milliseconds behind where a later request already ran the players.
        // It arrives now instead: putting it in the past would replay every player's history.
        if !input.scheduled && (self.reached_ms - SKEW_MS..self.reached_ms).contains(&input.due_ms) {
            input.due_ms = self.reached_ms;
        }
        let tag = self.sends.len() as u32;
        let first = self.placements.len() as u32;
        // Sends repeat 1–10 times (validated); the players and the record keep a `u16`.
        let repeat = u16::try_from(input.repeat).unwrap_or(u16::MAX);
        for location in destinations {
            let p = self.player_index(location, input.environment);
            let d = self.players[p as usize].player.add(Delivery {
                tag,
                due_ms: input.due_ms,
                priority: input.priority,
                repeat,
                duration_ms: input.duration_ms,
            });
            self.placements.push((p, d as u32));
        }
        let audio_id = match self.audio_ids.get(input.audio_id.as_str()) {
            Some(id) => id.clone(),
            None => {
                let id: Arc<str> = input.audio_id.into();
                self.audio_ids.insert(id.clone());
                id
            }
        };
        self.sends.push(SendRecord {
            id: input.id.into(),
            audio_id,
            due_ms: input.due_ms,
            created_ms: input.created_ms,
            first,
            count: self.placements.len() as u32 - first,
            repeat,
            volume: input.volume,
            priority: input.priority,
            environment: input.environment,
            scheduled: input.scheduled,
        });
    }
}

/// A destination counts once, `repeat` times, when its player first starts it (spec §5).
fn count_play(stats: &mut HashMap<Arc<str>, AudioStats>, send: &SendRecord, location_id: i64, start_ms: i64) {
    let entry = stats.entry(send.audio_id.clone()).or_default();
    entry.times_played += i64::from(send.repeat);
    entry.recipients.insert(location_id);
    entry.last_played_ms = entry.last_played_ms.max(Some(start_ms));
}

#[derive(Debug)]
struct Shared {
    company_id: i64,
    company: RwLock<Company>,
    /// The earliest instant anything changes; reads before it skip the write lock.
    next_event_ms: AtomicI64,
}

impl Shared {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Company> {
        self.company.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Company> {
        self.company.read().unwrap_or_else(|e| e.into_inner())
    }

    fn advance(&self, now_ms: i64, sink: &Mutex<Vec<Event>>) -> Ran {
        if now_ms < self.next_event_ms.load(Ordering::Acquire) {
            return Ran::default();
        }
        let mut company = self.write();
        let ran = company.advance(now_ms);
        if company.watched {
            let events = company.milestones(self.company_id);
            if !events.is_empty() {
                sink.lock().unwrap_or_else(|e| e.into_inner()).extend(events);
            }
        }
        self.next_event_ms
            .store(company.next_event_ms(), Ordering::Release);
        ran
    }

    fn settle(&self, company: &Company) {
        self.next_event_ms
            .store(company.next_event_ms(), Ordering::Release);
    }
}

/// Every company's players.
#[derive(Debug, Default)]
pub struct Deliveries {
    companies: RwLock<HashMap<i64, Arc<Shared>>>,
    /// Events of watched companies, waiting for the webhook outbox.
    events: Mutex<Vec<Event>>,
}

#[derive(sqlx::FromRow)]
struct StoredSend {
    id: String,
    company_id: i64,
    audio_id: String,
    environment: String,
    priority: String,
    repeat: i64,
    volume: i64,
    duration: f64,
    scheduled: bool,
    due_at_ms: i64,
    created_at_ms: i64,
}

#[derive(sqlx::FromRow)]
struct StoredEvent {
    company_id: i64,
    location_id: i64,
    external_id: String,
    user_id: i64,
    environment: String,
    at_ms: i64,
    online: bool,
    fail_after_ms: i64,
}

fn environment_of(s: &str) -> Environment {
    if s == "dev" {
        Environment::Dev
    } else {
        Environment::Prod
    }
}

/// The length of one play of an audio, in whole milliseconds, at least 1.
pub fn duration_ms(seconds: f64) -> i64 {
    ((seconds * 1000.0).round() as i64).max(1)
}

impl Deliveries {
    /// Rebuilds every player from the database: sends in the order they were made, and each
    /// player's availability changes.
    pub async fn load(db: &Db) -> sqlx::Result<Deliveries> {
        let sends: Vec<StoredSend> = sqlx::query_as(
            "SELECT s.id, a.company_id, s.audio_id, a.environment, s.priority, s.repeat, s.volume,
                    a.duration, s.scheduled, s.due_at_ms, s.created_at_ms
             FROM sends s JOIN audio a ON a.id = s.audio_id ORDER BY s.rowid",
        )
        .fetch_all(&db.read)
        .await?;
        let destinations: Vec<(String, i64, String, i64)> = sqlx::query_as(
            "SELECT send_id, location_id, external_id, user_id FROM send_destinations ORDER BY send_id, rowid",
        )
        .fetch_all(&db.read)
        .await?;
        let events: Vec<StoredEvent> = sqlx::query_as(
            "SELECT c.id AS company_id, e.location_id, l.external_id, l.user_id, e.environment, e.at_ms,
                    e.online, e.fail_after_ms
             FROM player_events e JOIN locations l ON l.id = e.location_id
             JOIN companies c ON c.id = l.company_id ORDER BY e.id",
        )
        .fetch_all(&db.read)
        .await?;
        let mut by_send: HashMap<String, Vec<Destination>> = HashMap::new();
        for (send_id, location_id, external_id, user_id) in destinations {
            by_send.entry(send_id).or_default().push(Destination {
                location_id,
                external_id,
                user_id,
            });
        }
        let deliveries = Deliveries::default();
        // Availability first: a send made while a player was offline must find it so.
        for e in events {
            deliveries.set_online(
                e.company_id,
                &Destination {
                    location_id: e.location_id,
                    external_id: e.external_id,
                    user_id: e.user_id,
                },
                environment_of(&e.environment),
                e.at_ms,
                e.online,
                e.fail_after_ms,
            );
        }
        for s in sends {
            let destinations = by_send.remove(&s.id).unwrap_or_default();
            deliveries.record_send(
                s.company_id,
                SendInput {
                    id: s.id,
                    audio_id: s.audio_id,
                    environment: environment_of(&s.environment),
                    priority: Priority::parse(&s.priority).unwrap_or(Priority::Normal),
                    repeat: u32::try_from(s.repeat).unwrap_or(1),
                    volume: u8::try_from(s.volume).unwrap_or(100),
                    duration_ms: duration_ms(s.duration),
                    scheduled: s.scheduled,
                    due_ms: s.due_at_ms,
                    created_ms: s.created_at_ms,
                },
                &destinations,
            );
        }
        Ok(deliveries)
    }

    fn shared(&self, company_id: i64) -> Arc<Shared> {
        if let Some(shared) = self
            .companies
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&company_id)
        {
            return shared.clone();
        }
        self.companies
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(company_id)
            .or_insert_with(|| {
                Arc::new(Shared {
                    company_id,
                    company: RwLock::default(),
                    next_event_ms: AtomicI64::new(i64::MAX),
                })
            })
            .clone()
    }

    fn existing(&self, company_id: i64) -> Option<Arc<Shared>> {
        self.companies
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&company_id)
            .cloned()
    }

    /// A send just made: recorded, then the company's players run to the instant it was made,
    /// so an immediate send waits in the players' queues (4 bytes a destination) rather than
    /// as a pending arrival until somebody reads. Not for a watched company: each of its runs
    /// also scans every delivery for webhook milestones, too dear for every send; the
    /// dispatcher's next tick runs it.
    pub fn add_send(&self, company_id: i64, input: SendInput, destinations: &[Destination]) {
        let created_ms = input.created_ms;
        let shared = self.record_send(company_id, input, destinations);
        let watched = shared.read().watched;
        if !watched {
            shared.advance(created_ms, &self.events);
        }
    }

    /// Records a send, running nothing: at start, the players are rebuilt from every stored send.
    fn record_send(&self, company_id: i64, input: SendInput, destinations: &[Destination]) -> Arc<Shared> {
        let shared = self.shared(company_id);
        let mut company = shared.write();
        let (at_ms, created_ms) = (input.due_ms.min(input.created_ms), input.created_ms);
        company.add_send(input, destinations);
        if company.watched
            && let Some(send) = company.sends.last()
        {
            // Under the company's lock, so it is reported before any milestone of the send.
            let view = send_view(&company, send, at_ms);
            self.events.lock().unwrap_or_else(|e| e.into_inner()).push(Event {
                company_id,
                kind: "send.created",
                at_ms: created_ms,
                data: serde_json::to_value(&view).unwrap_or_default(),
            });
        }
        shared.settle(&company);
        drop(company);
        shared
    }

    pub fn set_online(
        &self,
        company_id: i64,
        location: &Destination,
        environment: Environment,
        at_ms: i64,
        online: bool,
        fail_after_ms: i64,
    ) {
        let shared = self.shared(company_id);
        let mut company = shared.write();
        let p = company.player_index(location, environment);
        company.players[p as usize]
            .player
            .set_online(at_ms, online, fail_after_ms);
        shared.settle(&company);
    }

    /// The audio is gone: what has not started yet never will.
    pub fn cancel_audio(&self, company_id: i64, audio_id: &str, now_ms: i64) {
        let Some(shared) = self.existing(company_id) else {
            return;
        };
        shared.advance(now_ms, &self.events);
        let mut company = shared.write();
        let tags: Vec<u32> = company
            .sends
            .iter()
            .enumerate()
            .filter(|(_, s)| &*s.audio_id == audio_id)
            .map(|(i, _)| i as u32)
            .collect();
        for store in &mut company.players {
            for tag in &tags {
                store.player.cancel_tag(*tag, now_ms);
            }
        }
        company.stats.remove(audio_id);
        shared.settle(&company);
    }

    /// Reports the company's delivery milestones from now on (its tenant has webhooks), or
    /// stops. What already happened is not reported.
    pub fn watch(&self, company_id: i64, tenant: Option<&str>) {
        let shared = self.shared(company_id);
        let mut company = shared.write();
        if tenant.is_some() && !company.watched {
            company.emitted.clear();
            company.watched = true;
            drop(company.milestones(company_id));
        }
        company.watched = tenant.is_some();
        company.tenant = tenant.map(str::to_owned);
    }

    /// Runs every watched company's players to its tenant's clock.
    pub fn advance_watched(&self, now_of: impl Fn(&str) -> i64) {
        let companies: Vec<Arc<Shared>> = self
            .companies
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        for shared in companies {
            let tenant = shared.read().tenant.clone();
            if let Some(tenant) = tenant {
                shared.advance(now_of(&tenant), &self.events);
            }
        }
    }

    /// The milestones reported since the last call.
    pub fn take_events(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn remove_company(&self, company_id: i64) {
        self.companies
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&company_id);
    }

    /// Brings the company's players up to `now_ms`, then answers from its stats.
    pub fn with_stats<R>(
        &self,
        company_id: i64,
        now_ms: i64,
        f: impl FnOnce(&dyn Fn(&str) -> Stats) -> R,
    ) -> R {
        let Some(shared) = self.existing(company_id) else {
            return f(&|_| no_stats());
        };
        shared.advance(now_ms, &self.events);
        let company = shared.read();
        let lookup = |audio_id: &str| match company.stats.get(audio_id) {
            Some(s) => Stats {
                times_played: s.times_played,
                last_played_at: s.last_played_ms.map(rfc3339_ms),
                total_recipients: s.recipients.len() as i64,
            },
            None => no_stats(),
        };
        f(&lookup)
    }

    /// Runs everything due in these companies (a clock move of their tenant).
    pub fn advance_companies(&self, company_ids: &[i64], now_ms: i64) -> Ran {
        let mut ran = Ran::default();
        for company in company_ids {
            if let Some(shared) = self.existing(*company) {
                ran.deliveries_started += shared.advance(now_ms, &self.events).deliveries_started;
            }
        }
        ran
    }

    /// One store's player as of `now_ms`.
    pub fn player_view(
        &self,
        company_id: i64,
        location: &Destination,
        environment: Environment,
        now_ms: i64,
    ) -> PlayerView {
        let shared = self.shared(company_id);
        shared.advance(now_ms, &self.events);
        let company = shared.read();
        let Some(p) = company.by_location.get(&(location.location_id, environment)) else {
            return PlayerView {
                external_id: location.external_id.clone(),
                user_id: location.user_id,
                environment,
                online: true,
                fail_after_ms: DEFAULT_FAIL_AFTER_MS,
                now_playing: None,
                queue: Vec::new(),
                history: Vec::new(),
            };
        };
        let store = &company.players[*p as usize];
        let view = |index: usize| delivery_view(&company, store, index);
        let (online, fail_after_ms) = store.player.online();
        let mut history: Vec<usize> = (0..store.player.deliveries().len())
            .filter(|i| {
                matches!(
                    store.player.progress(*i).status(),
                    Status::Played | Status::Failed
                )
            })
            .collect();
        history.sort_by_key(|i| std::cmp::Reverse(store.player.progress(*i).finished_ms()));
        history.truncate(HISTORY);
        PlayerView {
            external_id: store.location.external_id.clone(),
            user_id: store.location.user_id,
            environment,
            online,
            fail_after_ms,
            now_playing: store.player.now_playing().map(view),
            queue: store.player.queue().into_iter().map(view).collect(),
            history: history.into_iter().map(view).collect(),
        }
    }

    /// The sends of the given companies as of `now_ms`, newest first.
    pub fn sends_view(&self, company_ids: &[i64], now_ms: i64, only: Option<&str>) -> Vec<SendView> {
        let mut out = Vec::new();
        for company_id in company_ids {
            let Some(shared) = self.existing(*company_id) else {
                continue;
            };
            shared.advance(now_ms, &self.events);
            let company = shared.read();
            for send in company
                .sends
                .iter()
                .filter(|s| only.is_none_or(|id| id == &*s.id))
            {
                out.push(send_view(&company, send, now_ms));
            }
        }
        out.sort_by_key(|s| std::cmp::Reverse(s.created_ms));
        out
    }
}

fn no_stats() -> Stats {
    Stats {
        times_played: 0,
        last_played_at: None,
        total_recipients: 0,
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub send_id: String,
    pub audio_id: String,
    pub priority: &'static str,
    pub repeat: u32,
    pub volume: u8,
    pub status: &'static str,
    pub due_at: String,
    pub delivered_at: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub plays_completed: u32,
    pub interruptions: u32,
}

fn delivery_view(company: &Company, store: &StorePlayer, index: usize) -> DeliveryView {
    let delivery = store.player.deliveries()[index];
    let progress = store.player.progress(index);
    let send = company.sends.get(delivery.tag as usize);
    DeliveryView {
        send_id: send.map(|s| s.id.to_string()).unwrap_or_default(),
        audio_id: send.map(|s| s.audio_id.to_string()).unwrap_or_default(),
        priority: delivery.priority.as_str(),
        repeat: u32::from(delivery.repeat),
        volume: send.map_or(100, |s| s.volume),
        status: progress.status().as_str(),
        due_at: rfc3339_ms(delivery.due_ms),
        delivered_at: progress.delivered_ms().map(rfc3339_ms),
        started_at: progress.first_start_ms().map(rfc3339_ms),
        finished_at: progress.finished_ms().map(rfc3339_ms),
        plays_completed: progress.plays_completed(),
        interruptions: progress.interruptions(),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlayerView {
    pub external_id: String,
    pub user_id: i64,
    pub environment: Environment,
    pub online: bool,
    pub fail_after_ms: i64,
    pub now_playing: Option<DeliveryView>,
    /// Waiting, in the order they will play; then those waiting for the player to come
    /// online; then those not due yet.
    pub queue: Vec<DeliveryView>,
    /// Played and failed, newest first (the last 100).
    pub history: Vec<DeliveryView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DestinationView {
    pub external_id: String,
    pub user_id: i64,
    pub status: &'static str,
    pub delivered_at: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendView {
    pub send_id: String,
    pub audio_id: String,
    pub environment: Environment,
    /// `scheduled` until due; `failed` when every destination failed; `sent` otherwise.
    pub status: &'static str,
    pub scheduled: bool,
    pub schedule_at: Option<String>,
    pub priority: &'static str,
    pub repeat: u32,
    pub volume: u8,
    pub created_at: String,
    #[serde(skip)]
    pub created_ms: i64,
    pub destinations: Vec<DestinationView>,
}

fn send_view(company: &Company, send: &SendRecord, now_ms: i64) -> SendView {
    let placements = &company.placements[send.first as usize..][..send.count as usize];
    let destinations: Vec<DestinationView> = placements
        .iter()
        .map(|(p, d)| {
            let store = &company.players[*p as usize];
            let progress = store.player.progress(*d as usize);
            DestinationView {
                external_id: store.location.external_id.clone(),
                user_id: store.location.user_id,
                status: progress.status().as_str(),
                delivered_at: progress.delivered_ms().map(rfc3339_ms),
                started_at: progress.first_start_ms().map(rfc3339_ms),
                finished_at: progress.finished_ms().map(rfc3339_ms),
            }
        })
        .collect();
    let status = if send.due_ms > now_ms {
        "scheduled"
    } else if !destinations.is_empty() && destinations.iter().all(|d| d.status == "failed") {
        "failed"
    } else {
        "sent"
    };
    SendView {
        send_id: send.id.to_string(),
        audio_id: send.audio_id.to_string(),
        environment: send.environment,
        status,
        scheduled: send.scheduled,
        schedule_at: send.scheduled.then(|| rfc3339_ms(send.due_ms)),
        priority: send.priority.as_str(),
        repeat: u32::from(send.repeat),
        volume: send.volume,
        created_at: rfc3339_ms(send.created_ms),
        created_ms: send.created_ms,
        destinations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(id: &str, audio_id: &str, due_ms: i64) -> SendInput {
        SendInput {
            id: id.to_owned(),
            audio_id: audio_id.to_owned(),
            environment: Environment::Prod,
            priority: Priority::Normal,
            repeat: 2,
            volume: 80,
            duration_ms: 1_000,
            scheduled: false,
            due_ms,
            created_ms: due_ms,
        }
    }

    fn store(location_id: i64) -> Destination {
        Destination {
            location_id,
            external_id: format!("store-{location_id}"),
            user_id: 100 + location_id,
        }
    }

    #[test]
    fn a_send_record_stays_small_and_shares_its_audio_id() {
        // Benchmarks keep ~20 000 of them; the destinations live in one array per company.
        assert!(size_of::<SendRecord>() <= 64);

        let deliveries = Deliveries::default();
        let stores = [store(1), store(2), store(3)];
        deliveries.add_send(7, send("snd_a", "aud_x", 0), &stores);
        deliveries.add_send(7, send("snd_b", "aud_x", 10), &stores[1..]);
        deliveries.add_send(7, send("snd_c", "aud_y", 20), &stores[..1]);
        {
            let shared = deliveries.existing(7).expect("the company has sends");
            let company = shared.read();
            assert!(Arc::ptr_eq(
                &company.sends[0].audio_id,
                &company.sends[1].audio_id
            ));
            assert_eq!(company.audio_ids.len(), 2);
            assert_eq!(company.placements.len(), 6);
        }

        // Each send reads back its own destinations, in order.
        let views = deliveries.sends_view(&[7], 1_500, None);
        let of = |id: &str| {
            let view = views
                .iter()
                .find(|v| v.send_id == id)
                .expect("every send is listed");
            (view.destinations.iter())
                .map(|d| (d.external_id.as_str(), d.status))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            of("snd_a"),
            [
                ("store-1", "playing"),
                ("store-2", "playing"),
                ("store-3", "playing")
            ]
        );
        assert_eq!(of("snd_b"), [("store-2", "delivered"), ("store-3", "delivered")]);
        assert_eq!(of("snd_c"), [("store-1", "delivered")]);
        let b = views
            .iter()
            .find(|v| v.send_id == "snd_b")
            .expect("snd_b is listed");
        assert_eq!((b.audio_id.as_str(), b.repeat, b.volume), ("aud_x", 2, 80));
    }
}
