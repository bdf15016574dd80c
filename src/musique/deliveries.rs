//! Every store's simulated player, per company and environment, fed by sends; an audio's
//! stats count what the players have started. SQLite keeps the record (sends, destinations,
//! availability changes) and the outcome of every finished delivery; memory keeps what has
//! not finished, and the stats as counters. The players are rebuilt from SQLite at start and
//! advanced lazily on the tenant's clock, so reading stats never waits for a background task.
//!
//! A delivery that has played or failed leaves memory in two steps: the write-behind
//! ([`Deliveries::write_behind`]) copies a batch of outcomes into `delivery_outcomes` in one
//! transaction, then drops them from the players. Both happen under [`Deliveries::reading`]'s
//! lock held exclusively, so a view that holds it shared finds each finished delivery exactly
//! once: in memory or in SQLite. From the first drop on, a company's record in memory is not
//! whole: its players never rebuild their history in memory (they do not go back in time), and
//! a clock moved back through the control plane rebuilds the company from SQLite instead.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures_util::TryStreamExt;
use serde::Serialize;

use super::player::{Delivery, Player, Priority, Status, shrink};
use super::store::{self, Stats};
use crate::auth::Environment;
use crate::clock::{Clocks, Rfc3339Ms, real_now_ms, rfc3339_ms};
use crate::db::Db;
use crate::sync::{MutexExt, RwLockExt};

/// How long a delivery waits for an offline player before it fails, unless a test says.
pub const DEFAULT_FAIL_AFTER_MS: i64 = 5 * 60 * 1000;
/// How far behind an immediate send may be and still count as arriving now; further
/// behind, the clock was moved back and history is replayed.
const SKEW_MS: i64 = 5_000;
/// How often the write-behind looks for finished deliveries.
pub const WRITE_BEHIND_EVERY: Duration = Duration::from_millis(200);
/// The most outcomes one write-behind transaction takes: a few milliseconds of the writer.
const BATCH: usize = 8_192;
/// Instants a clock move simulates (all players together) before what finished is written.
const SLICE: usize = 65_536;
/// Sends read from SQLite at a time while the players are rebuilt.
const REPLAY_CHUNK: i64 = 1_000;
/// A placement's flag, while the players are rebuilt from SQLite: the outcome is stored.
const STORED: u32 = 1 << 31;

/// A store a send goes to: also what the writer reads a company's locations into.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Destination {
    #[sqlx(rename = "id")]
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

/// A send as its company keeps it until all its deliveries have finished: 64 bytes, the audio
/// id shared with the company's other sends of that audio, the destinations still held in
/// `Company::placements`.
#[derive(Debug)]
struct SendRecord {
    id: Box<str>,
    audio_id: Arc<str>,
    due_ms: i64,
    created_ms: i64,
    /// Its `(player index, delivery index)` pairs still held: `placements[first..first + count]`.
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
    /// The held destinations of every send, one after the other; the player index may carry
    /// [`STORED`].
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
    /// Finished deliveries leave (or have left) memory: the history is never rebuilt here.
    sealed: bool,
    /// Bumped when the company is rebuilt from SQLite: a write-behind batch taken before it
    /// no longer applies.
    generation: u64,
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

/// A finished delivery on its way to `delivery_outcomes`.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub send_id: Box<str>,
    pub location_id: i64,
    pub environment: Environment,
    /// `Played` or `Failed`.
    pub status: Status,
    pub delivered_ms: Option<i64>,
    pub started_ms: Option<i64>,
    pub finished_ms: i64,
    pub plays_completed: u32,
    pub interruptions: u32,
}

/// Finished deliveries taken from one company, to write.
#[derive(Debug)]
struct Batch {
    generation: u64,
    /// Where each one is in `Company::placements`.
    picks: Vec<usize>,
    rows: Vec<Outcome>,
    /// Where the next batch starts looking.
    next: usize,
}

/// One held destination of a send, for a view that reads the rest from SQLite.
#[derive(Clone, Debug)]
pub struct LiveDestination {
    pub location_id: i64,
    pub status: &'static str,
    pub delivered_ms: Option<i64>,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
}

/// A finished delivery of a player's history, newest first by `(finished_ms, send_id)`.
#[derive(Debug)]
pub struct HistoryItem {
    pub finished_ms: i64,
    pub send_id: String,
    pub view: DeliveryView,
}

impl Company {
    fn player_index(&mut self, location: &Destination, environment: Environment) -> u32 {
        if let Some(i) = self.by_location.get(&(location.location_id, environment)) {
            return *i;
        }
        let index = self.players.len() as u32;
        let mut player = Player::new(true, DEFAULT_FAIL_AFTER_MS);
        if self.sealed {
            // Stats are counted as things start, never recounted: no player may rebuild.
            player.seal();
        }
        self.players.push(StorePlayer {
            location: location.clone(),
            player,
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

    /// `(finished, held)` deliveries.
    fn counts(&self) -> (usize, usize) {
        self.players.iter().fold((0, 0), |(f, h), p| {
            (f + p.player.finished(), h + p.player.deliveries().len())
        })
    }

    /// Runs every player up to `now_ms`, counting what starts.
    fn advance(&mut self, now_ms: i64) -> Ran {
        self.advance_some(now_ms, usize::MAX).0
    }

    /// [`Company::advance`], each sealed player simulating at most `instants` instants; and
    /// whether every player reached `now_ms`.
    fn advance_some(&mut self, now_ms: i64, instants: usize) -> (Ran, bool) {
        // Concurrent requests read the clock in one order and get here in another: a reading
        // a little behind is already done. Further behind, the clock was moved back: history
        // is rebuilt, unless finished deliveries have left memory (a reload does it then).
        if now_ms < self.reached_ms && (self.sealed || now_ms >= self.reached_ms - SKEW_MS) {
            return (Ran::default(), true);
        }
        self.reached_ms = now_ms;
        let mut ran = Ran::default();
        let (mut rebuilt, mut done) = (false, true);
        let Company {
            players,
            sends,
            stats,
            ..
        } = self;
        for store in players.iter_mut() {
            let location_id = store.location.location_id;
            let (again, reached) = store
                .player
                .advance_some(now_ms, instants, |_, delivery, start_ms| {
                    ran.deliveries_started += 1;
                    if let Some(send) = sends.get(delivery.tag as usize) {
                        count_play(stats, send, location_id, start_ms);
                    }
                });
            rebuilt |= again;
            done &= reached;
        }
        if rebuilt {
            self.recount();
        }
        (ran, done)
    }

    /// The milestones reached since the last call, in the order they happened.
    fn milestones(&mut self, company_id: i64) -> Vec<Event> {
        let mut events = Vec::new();
        self.emitted.resize_with(self.players.len(), Vec::new);
        for (p, store) in self.players.iter().enumerate() {
            let emitted = &mut self.emitted[p];
            emitted.resize(store.player.deliveries().len(), 0);
            for (d, delivery) in store.player.deliveries().iter().enumerate() {
                let progress = store.player.progress_of(d, &delivery);
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

    /// Stats from scratch, after a player rebuilt its history (its clock moved back). Only
    /// while the record in memory is whole: a sealed company's players never rebuild.
    fn recount(&mut self) {
        self.stats.clear();
        for store in &self.players {
            for (index, delivery) in store.player.deliveries().iter().enumerate() {
                let Some(start) = store.player.progress_of(index, &delivery).first_start_ms() else {
                    continue;
                };
                if let Some(send) = self.sends.get(delivery.tag as usize) {
                    count_play(&mut self.stats, send, store.location.location_id, start);
                }
            }
        }
    }

    /// `stored[i]`, when given, says that `destinations[i]`'s outcome is already in SQLite.
    fn add_send(&mut self, mut input: SendInput, destinations: &[Destination], stored: &[bool]) {
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
        for (i, location) in destinations.iter().enumerate() {
            let p = self.player_index(location, input.environment);
            let d = self.players[p as usize].player.add(Delivery {
                tag,
                due_ms: input.due_ms,
                priority: input.priority,
                repeat,
                duration_ms: input.duration_ms,
            });
            let flag = if stored.get(i) == Some(&true) { STORED } else { 0 };
            self.placements.push((p | flag, d as u32));
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

    /// From now on no player rebuilds its history. `false`, sealing nothing, while a player
    /// still has to rebuild (something was recorded in its past): its next advance does it.
    fn seal(&mut self) -> bool {
        if self.players.iter().any(|s| s.player.next_event_ms() == i64::MIN) {
            return false;
        }
        self.sealed = true;
        for store in &mut self.players {
            store.player.seal();
        }
        true
    }

    /// Up to `max` finished deliveries not yet in SQLite, in send order from placement `from`
    /// on, to write; the company is sealed first (`None` while it cannot be).
    fn take_finished(&mut self, max: usize, from: usize) -> Option<Batch> {
        let mut batch = Batch {
            generation: self.generation,
            picks: Vec::new(),
            rows: Vec::new(),
            next: self.placements.len(),
        };
        if self.counts().0 == 0 {
            return Some(batch);
        }
        if !self.seal() {
            return None;
        }
        let start = self
            .sends
            .partition_point(|s| (s.first + s.count) as usize <= from);
        'sends: for send in &self.sends[start..] {
            let range = send.first as usize..(send.first + send.count) as usize;
            for at in range.start.max(from)..range.end {
                if batch.picks.len() == max {
                    batch.next = at;
                    break 'sends;
                }
                let (p, d) = self.placements[at];
                if p & STORED != 0 {
                    continue;
                }
                let store = &self.players[p as usize];
                // The status first: it costs no look-up of the delivery.
                if !matches!(
                    store.player.status_at(d as usize),
                    Status::Played | Status::Failed
                ) {
                    continue;
                }
                let progress = store.player.progress(d as usize);
                let (Status::Played | Status::Failed, Some(finished_ms)) =
                    (progress.status(), progress.finished_ms())
                else {
                    continue;
                };
                batch.picks.push(at);
                batch.rows.push(Outcome {
                    send_id: send.id.clone(),
                    location_id: store.location.location_id,
                    environment: send.environment,
                    status: progress.status(),
                    delivered_ms: progress.delivered_ms(),
                    started_ms: progress.first_start_ms(),
                    finished_ms,
                    plays_completed: progress.plays_completed(),
                    interruptions: progress.interruptions(),
                });
            }
        }
        Some(batch)
    }

    /// The picked deliveries' outcomes are in SQLite now: views read them from there.
    fn mark_stored(&mut self, picks: &[usize]) {
        for &at in picks {
            self.placements[at].0 |= STORED;
        }
    }

    /// Drops every finished delivery whose outcome is in SQLite, and the sends left with none.
    fn retire_stored(&mut self) {
        let picks: Vec<(u32, u32)> = (self.placements.iter())
            .filter(|&&(p, d)| {
                p & STORED != 0 && {
                    let status = self.player_of(p).player.status_at(d as usize);
                    matches!(status, Status::Played | Status::Failed)
                }
            })
            .map(|&(p, d)| (p & !STORED, d))
            .collect();
        if !picks.is_empty() {
            self.retire(&picks);
        }
    }

    /// Drops the picked deliveries (their outcomes are in SQLite), and the sends left with
    /// none; everything after them is renumbered.
    fn retire(&mut self, picks: &[(u32, u32)]) {
        let mut gone: Vec<Vec<bool>> = (self.players.iter())
            .map(|s| vec![false; s.player.deliveries().len()])
            .collect();
        for &(p, d) in picks {
            if let Some(flag) = gone.get_mut(p as usize).and_then(|g| g.get_mut(d as usize)) {
                *flag = true;
            }
        }
        let remaps: Vec<Vec<u32>> = (self.players.iter_mut().zip(&gone))
            .map(|(store, gone)| store.player.compact(|d| gone[d]))
            .collect();
        for (emitted, remap) in self.emitted.iter_mut().zip(&remaps) {
            let mut kept = 0;
            for old in 0..emitted.len() {
                if remap.get(old).is_some_and(|&n| n != u32::MAX) {
                    emitted[kept] = emitted[old];
                    kept += 1;
                }
            }
            emitted.truncate(kept);
            shrink(emitted);
        }
        let mut placements = Vec::with_capacity(self.placements.len());
        let mut tags = vec![u32::MAX; self.sends.len()];
        let mut sends = Vec::with_capacity(self.sends.len());
        for (tag, mut send) in std::mem::take(&mut self.sends).into_iter().enumerate() {
            let first = placements.len() as u32;
            for &(p, d) in &self.placements[send.first as usize..][..send.count as usize] {
                let moved = remaps[(p & !STORED) as usize][d as usize];
                if moved != u32::MAX {
                    placements.push((p, moved));
                }
            }
            send.first = first;
            send.count = placements.len() as u32 - first;
            if send.count > 0 {
                tags[tag] = sends.len() as u32;
                sends.push(send);
            }
        }
        for store in &mut self.players {
            store.player.retag(&tags);
        }
        shrink(&mut sends);
        shrink(&mut placements);
        self.sends = sends;
        self.placements = placements;
    }

    /// The held destinations rebuilt as unfinished whose outcome SQLite still has (the clock
    /// was moved back past them): to delete there. Clears their [`STORED`] flags.
    fn take_stale(&mut self) -> Vec<(Box<str>, i64)> {
        let mut stale = Vec::new();
        for send in &self.sends {
            let range = send.first as usize..(send.first + send.count) as usize;
            for placement in &mut self.placements[range] {
                if placement.0 & STORED != 0 {
                    placement.0 &= !STORED;
                    let store = &self.players[placement.0 as usize];
                    stale.push((send.id.clone(), store.location.location_id));
                }
            }
        }
        stale
    }

    fn player_of(&self, p: u32) -> &StorePlayer {
        &self.players[(p & !STORED) as usize]
    }

    /// Whether delivery `d` of player `p` has its outcome in SQLite already (it was rebuilt
    /// at start, behind where the players had been).
    fn is_stored(&self, p: u32, d: usize) -> bool {
        let tag = self.players[p as usize].player.deliveries().get(d).tag;
        self.sends.get(tag as usize).is_some_and(|send| {
            self.placements[send.first as usize..][..send.count as usize]
                .iter()
                .any(|&(q, e)| q == p | STORED && e as usize == d)
        })
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
    /// Finished and held deliveries as of the last change: the write-behind's cue.
    finished: AtomicUsize,
    held: AtomicUsize,
    /// Sends, cancellations and availability changes hold it shared while they write and
    /// record; a rebuild from SQLite holds it exclusively, so that none slips past it.
    gate: Arc<tokio::sync::RwLock<()>>,
}

impl Shared {
    fn new(company_id: i64, company: Company) -> Shared {
        let shared = Shared {
            company_id,
            company: RwLock::new(Company::default()),
            next_event_ms: AtomicI64::new(i64::MAX),
            finished: AtomicUsize::new(0),
            held: AtomicUsize::new(0),
            gate: Arc::default(),
        };
        shared.settle(&company);
        *shared.write() = company;
        shared
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Company> {
        self.company.write_locked()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Company> {
        self.company.read_locked()
    }

    fn advance(&self, now_ms: i64, sink: &Mutex<Vec<Event>>) -> Ran {
        self.advance_some(now_ms, usize::MAX, sink).0
    }

    fn advance_some(&self, now_ms: i64, instants: usize, sink: &Mutex<Vec<Event>>) -> (Ran, bool) {
        if now_ms < self.next_event_ms.load(Ordering::Acquire) {
            return (Ran::default(), true);
        }
        let mut company = self.write();
        let (ran, done) = company.advance_some(now_ms, instants);
        if company.watched {
            let events = company.milestones(self.company_id);
            if !events.is_empty() {
                sink.locked().extend(events);
            }
        }
        self.settle(&company);
        (ran, done)
    }

    fn settle(&self, company: &Company) {
        self.next_event_ms
            .store(company.next_event_ms(), Ordering::Release);
        let (finished, held) = company.counts();
        self.finished.store(finished, Ordering::Release);
        self.held.store(held, Ordering::Release);
    }

    /// Whether the write-behind has work here: finished deliveries, and (unless `all`) at
    /// least a quarter of what is held, so that each drop's pass over the rest pays for itself.
    fn due(&self, all: bool) -> bool {
        let finished = self.finished.load(Ordering::Acquire);
        finished > 0 && (all || finished * 4 >= self.held.load(Ordering::Acquire))
    }
}

/// Every company's players.
#[derive(Debug, Default)]
pub struct Deliveries {
    companies: RwLock<HashMap<i64, Arc<Shared>>>,
    /// Events of watched companies, waiting for the webhook outbox.
    events: Mutex<Vec<Event>>,
    /// Notified when a watched company gets a send, so that whoever delivers the events does
    /// not wait for its next tick to send `send.created`.
    sent: tokio::sync::Notify,
    /// Views hold it shared; the write-behind holds it exclusively to commit outcomes and drop
    /// them from memory, and a rebuild from SQLite to replace a company.
    settled: tokio::sync::RwLock<()>,
    /// One write-behind round at a time.
    writing: tokio::sync::Mutex<()>,
}

#[derive(sqlx::FromRow)]
struct StoredSend {
    seq: i64,
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
struct StoredDestination {
    send_id: String,
    location_id: i64,
    external_id: String,
    user_id: i64,
    stored: bool,
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

pub fn environment_of(s: &str) -> Environment {
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

/// The destinations of these sends in the order they were written, each with whether its
/// outcome is stored.
async fn destinations_of(db: &Db, sends: &[StoredSend]) -> sqlx::Result<Vec<StoredDestination>> {
    let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "SELECT d.send_id, d.location_id, d.external_id, d.user_id,
                EXISTS (SELECT 1 FROM delivery_outcomes o
                        WHERE o.send_id = d.send_id AND o.location_id = d.location_id) AS stored
         FROM send_destinations d WHERE d.send_id IN (",
    );
    let mut ids = query.separated(", ");
    for send in sends {
        ids.push_bind(&send.id);
    }
    query.push(") ORDER BY d.rowid");
    query.build_query_as().persistent(false).fetch_all(&db.read).await
}

/// Writes what finished, a batch per transaction, and drops it with what was stored already
/// (while rebuilding: nobody else sees the company).
async fn retire_all(db: &Db, company: &mut Company) -> sqlx::Result<()> {
    let mut from = 0;
    while let Some(batch) = company.take_finished(BATCH, from) {
        if batch.picks.is_empty() {
            break;
        }
        store::write_outcomes(db, &batch.rows).await?;
        company.mark_stored(&batch.picks);
        from = batch.next;
    }
    company.retire_stored();
    Ok(())
}

/// Why players are rebuilt from SQLite.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Rebuild {
    /// At start: up to the latest instant anything was recorded at (a send made, an
    /// availability change), which the players had reached before the restart; whoever reads
    /// next takes them on from there, on the clock as it then is. Outcomes stored for what is
    /// still unfinished there are kept: the players get there again.
    Start,
    /// The clock went back: up to it. Outcomes stored for what is unfinished again go.
    Rewind,
}

/// Rebuilds players from SQLite (every company, or `only` one), each to `now_of(company)` at
/// the latest, with bounded memory: sends are replayed in the order they were made, the
/// players run as far as is safe before each (up to just before the earliest due time of the
/// sends still to come), and what finishes is written and dropped on the way. Outcomes SQLite
/// already holds are kept as they are.
async fn replay(
    db: &Db,
    only: Option<i64>,
    why: Rebuild,
    now_of: &(dyn Fn(i64) -> i64 + Sync),
) -> sqlx::Result<HashMap<i64, Company>> {
    let mut companies: HashMap<i64, Company> = HashMap::new();
    // The latest instant recorded, per company.
    let mut recorded: HashMap<i64, i64> = HashMap::new();
    let events: Vec<StoredEvent> = sqlx::query_as(
        "SELECT c.id AS company_id, e.location_id, l.external_id, l.user_id, e.environment, e.at_ms,
                e.online, e.fail_after_ms
         FROM player_events e JOIN locations l ON l.id = e.location_id
         JOIN companies c ON c.id = l.company_id WHERE ?1 IS NULL OR c.id = ?1 ORDER BY e.id",
    )
    .bind(only)
    .fetch_all(&db.read)
    .await?;
    // Availability first: a send made while a player was offline must find it so.
    for e in events {
        let company = companies.entry(e.company_id).or_default();
        let location = Destination {
            location_id: e.location_id,
            external_id: e.external_id,
            user_id: e.user_id,
        };
        let p = company.player_index(&location, environment_of(&e.environment));
        company.players[p as usize]
            .player
            .set_online(e.at_ms, e.online, e.fail_after_ms);
        let at = recorded.entry(e.company_id).or_insert(i64::MIN);
        *at = (*at).max(e.at_ms);
    }

    // Per company, the earliest due time from each send on: how far the players may run
    // before it is added. 8 bytes a send, for the length of the rebuild.
    let mut dues: HashMap<i64, Vec<i64>> = HashMap::new();
    {
        let mut rows = sqlx::query_as::<_, (i64, i64, i64)>(
            "SELECT a.company_id, s.due_at_ms, s.created_at_ms
             FROM sends s CROSS JOIN audio a ON a.id = s.audio_id
             WHERE ?1 IS NULL OR a.company_id = ?1 ORDER BY s.rowid",
        )
        .bind(only)
        .fetch(&db.read);
        while let Some((company, due, created)) = rows.try_next().await? {
            dues.entry(company).or_default().push(due);
            let at = recorded.entry(company).or_insert(i64::MIN);
            *at = (*at).max(created);
        }
    }
    for due in dues.values_mut() {
        for i in (0..due.len().saturating_sub(1)).rev() {
            due[i] = due[i].min(due[i + 1]);
        }
    }
    let limit = |company: i64| match why {
        Rebuild::Start => now_of(company).min(recorded.get(&company).copied().unwrap_or(i64::MIN)),
        Rebuild::Rewind => now_of(company),
    };

    let mut next: HashMap<i64, usize> = HashMap::new();
    let mut after = i64::MIN;
    loop {
        let chunk: Vec<StoredSend> = sqlx::query_as(
            "SELECT s.rowid AS seq, s.id, a.company_id, s.audio_id, a.environment, s.priority, s.repeat,
                    s.volume, a.duration, s.scheduled, s.due_at_ms, s.created_at_ms
             FROM sends s CROSS JOIN audio a ON a.id = s.audio_id
             WHERE s.rowid > ?1 AND (?2 IS NULL OR a.company_id = ?2) ORDER BY s.rowid LIMIT ?3",
        )
        .bind(after)
        .bind(only)
        .bind(REPLAY_CHUNK)
        .fetch_all(&db.read)
        .await?;
        let Some(last) = chunk.last() else {
            break;
        };
        after = last.seq;
        let mut destinations: HashMap<String, Vec<StoredDestination>> = HashMap::new();
        for d in destinations_of(db, &chunk).await? {
            destinations.entry(d.send_id.clone()).or_default().push(d);
        }
        let mut touched = HashSet::new();
        for s in chunk {
            let k = next.entry(s.company_id).or_default();
            let until = dues
                .get(&s.company_id)
                .and_then(|d| d.get(*k))
                .map_or(i64::MIN, |due| due.saturating_sub(1))
                .min(limit(s.company_id));
            *k += 1;
            let company = companies.entry(s.company_id).or_default();
            if until > company.reached_ms {
                company.advance(until);
            }
            let stored = destinations.remove(&s.id).unwrap_or_default();
            let flags: Vec<bool> = stored.iter().map(|d| d.stored).collect();
            let targets: Vec<Destination> = stored
                .into_iter()
                .map(|d| Destination {
                    location_id: d.location_id,
                    external_id: d.external_id,
                    user_id: d.user_id,
                })
                .collect();
            company.add_send(
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
                &targets,
                &flags,
            );
            touched.insert(s.company_id);
        }
        for id in touched {
            if let Some(company) = companies.get_mut(&id)
                && company.counts().0 >= BATCH
            {
                retire_all(db, company).await?;
            }
        }
    }
    for (id, company) in &mut companies {
        let until = limit(*id);
        if until > company.reached_ms {
            company.advance(until);
        }
        retire_all(db, company).await?;
        match why {
            Rebuild::Rewind => store::forget_outcomes(db, &company.take_stale()).await?,
            // Outcomes stored ahead of the players: a clock moved back must reload, which
            // deletes them, rather than rebuild in memory.
            Rebuild::Start if company.placements.iter().any(|p| p.0 & STORED != 0) => {
                company.seal();
            }
            Rebuild::Start => {}
        }
    }
    Ok(companies)
}

impl Deliveries {
    /// Rebuilds every player from the database, each company's up to its tenant's clock.
    pub async fn load(db: &Db, clocks: &Clocks) -> sqlx::Result<Deliveries> {
        let tenants: HashMap<i64, String> = sqlx::query_as("SELECT id, tenant_id FROM companies")
            .fetch_all(&db.read)
            .await?
            .into_iter()
            .collect();
        let now_of = |company: i64| {
            tenants
                .get(&company)
                .map_or_else(real_now_ms, |t| clocks.get(t).now_ms())
        };
        let companies = replay(db, None, Rebuild::Start, &now_of).await?;
        let deliveries = Deliveries::default();
        *deliveries.companies.write_locked() = companies
            .into_iter()
            .map(|(id, company)| (id, Arc::new(Shared::new(id, company))))
            .collect();
        Ok(deliveries)
    }

    fn shared(&self, company_id: i64) -> Arc<Shared> {
        if let Some(shared) = self.companies.read_locked().get(&company_id) {
            return shared.clone();
        }
        self.companies
            .write_locked()
            .entry(company_id)
            .or_insert_with(|| Arc::new(Shared::new(company_id, Company::default())))
            .clone()
    }

    fn existing(&self, company_id: i64) -> Option<Arc<Shared>> {
        self.companies.read_locked().get(&company_id).cloned()
    }

    fn all(&self) -> Vec<Arc<Shared>> {
        (self.companies.read_locked()).values().cloned().collect()
    }

    /// Held by whatever writes a company's sends, cancellations or availability and then
    /// records them here: a rebuild of the company from SQLite waits for it, and it for one.
    pub async fn gate(&self, company_id: i64) -> tokio::sync::OwnedRwLockReadGuard<()> {
        self.shared(company_id).gate.clone().read_owned().await
    }

    /// Held by a view that reads finished deliveries from memory and SQLite: meanwhile none
    /// moves from one to the other.
    pub async fn reading(&self) -> tokio::sync::RwLockReadGuard<'_, ()> {
        self.settled.read().await
    }

    /// A send just made: recorded, then the company's players run to the instant it was made,
    /// so an immediate send waits in the players' queues (4 bytes a destination) rather than
    /// as a pending arrival until somebody reads. Not for a watched company: each of its runs
    /// also scans every delivery for webhook milestones, too dear for every send; whoever
    /// takes the events, woken here, runs it.
    pub fn add_send(&self, company_id: i64, input: SendInput, destinations: &[Destination]) {
        let created_ms = input.created_ms;
        let shared = self.record_send(company_id, input, destinations);
        let watched = shared.read().watched;
        if watched {
            self.sent.notify_one();
        } else {
            shared.advance(created_ms, &self.events);
        }
    }

    /// Resolves once a watched company got a send since the last wait (one wake-up stands for
    /// any number of sends): its `send.created` is among the events to take.
    pub async fn sent_to_watched(&self) {
        self.sent.notified().await;
    }

    /// Records a send, running nothing.
    fn record_send(&self, company_id: i64, input: SendInput, destinations: &[Destination]) -> Arc<Shared> {
        let shared = self.shared(company_id);
        let mut company = shared.write();
        let (at_ms, created_ms) = (input.due_ms.min(input.created_ms), input.created_ms);
        company.add_send(input, destinations, &[]);
        if company.watched
            && let Some(send) = company.sends.last()
        {
            // Under the company's lock, so it is reported before any milestone of the send.
            let view = send_view(&company, send, at_ms);
            self.events.locked().push(Event {
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
        {
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
        // At once, so that what it fails can leave memory with the rest.
        shared.advance(now_ms, &self.events);
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
        for shared in self.all() {
            let tenant = shared.read().tenant.clone();
            if let Some(tenant) = tenant {
                shared.advance(now_of(&tenant), &self.events);
            }
        }
    }

    /// The milestones reported since the last call.
    pub fn take_events(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.locked())
    }

    pub fn remove_company(&self, company_id: i64) {
        self.companies.write_locked().remove(&company_id);
    }

    /// Brings the company's players up to `now_ms`, then answers from its stats.
    pub fn with_stats<R>(
        &self,
        company_id: i64,
        now_ms: i64,
        f: impl FnOnce(&dyn Fn(&str) -> Stats) -> R,
    ) -> R {
        let Some(shared) = self.existing(company_id) else {
            return f(&|_| Stats::default());
        };
        shared.advance(now_ms, &self.events);
        let company = shared.read();
        let lookup = |audio_id: &str| match company.stats.get(audio_id) {
            Some(s) => Stats {
                times_played: s.times_played,
                last_played_at: s.last_played_ms.map(Rfc3339Ms),
                total_recipients: s.recipients.len() as i64,
            },
            None => Stats::default(),
        };
        f(&lookup)
    }

    /// Runs everything due in these companies (a clock move of their tenant). A company whose
    /// finished deliveries left memory and whose clock went back is rebuilt from SQLite first,
    /// as its history would have been rebuilt in memory.
    pub async fn advance_companies(&self, db: &Db, company_ids: &[i64], now_ms: i64) -> sqlx::Result<Ran> {
        let mut ran = Ran::default();
        for company in company_ids {
            if let Some(shared) = self.existing(*company) {
                let back = {
                    let company = shared.read();
                    company.sealed && now_ms < company.reached_ms - SKEW_MS
                };
                if back {
                    self.reload(db, &shared, now_ms).await?;
                }
                // A long jump finishes many deliveries: a slice at a time, each slice's written
                // and dropped before the next, so that they do not pile up in memory.
                let players = shared.read().players.len().max(1);
                let instants = (SLICE / players).max(256);
                loop {
                    let (part, done) = shared.advance_some(now_ms, instants, &self.events);
                    ran.deliveries_started += part.deliveries_started;
                    if done {
                        break;
                    }
                    let _one_round = self.writing.lock().await;
                    self.settle_company(db, &shared).await?;
                }
            }
        }
        Ok(ran)
    }

    /// Rebuilds a company's players from SQLite up to `now_ms`: a company whose whole record
    /// was just written at once (a scenario loaded by the control plane).
    pub async fn rebuild(&self, db: &Db, company_id: i64, now_ms: i64) -> sqlx::Result<()> {
        let shared = self.shared(company_id);
        self.reload(db, &shared, now_ms).await
    }

    /// Replaces a company's players with ones rebuilt from SQLite up to `now_ms`.
    async fn reload(&self, db: &Db, shared: &Arc<Shared>, now_ms: i64) -> sqlx::Result<()> {
        let _no_sends = shared.gate.clone().write_owned().await;
        let _no_views = self.settled.write().await;
        let mut rebuilt = replay(db, Some(shared.company_id), Rebuild::Rewind, &|_| now_ms)
            .await?
            .remove(&shared.company_id)
            .unwrap_or_default();
        let mut company = shared.write();
        rebuilt.generation = company.generation + 1;
        rebuilt.tenant = company.tenant.take();
        rebuilt.watched = company.watched;
        if rebuilt.watched {
            // Reported before the clock went back; the new history is reported as it unfolds.
            drop(rebuilt.milestones(shared.company_id));
        }
        *company = rebuilt;
        shared.settle(&company);
        Ok(())
    }

    /// Holds off the write-behind until the guard is dropped: what is in memory stays there,
    /// so a test can look at it before the background round (every [`WRITE_BEHIND_EVERY`])
    /// would have written it. [`Deliveries::write_behind`] waits for the guard.
    pub async fn hold_write_behind(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.writing.lock().await
    }

    /// One round of the write-behind: each company with finished deliveries (`all`, or at
    /// least a quarter of what it holds) has them written to SQLite, a batch per transaction,
    /// and dropped from memory. Returns how many were written.
    pub async fn write_behind(&self, db: &Db, all: bool) -> sqlx::Result<usize> {
        let _one_round = self.writing.lock().await;
        let mut written = 0;
        for shared in self.all() {
            if shared.due(all) {
                written += self.settle_company(db, &shared).await?;
            }
        }
        Ok(written)
    }

    /// Writes the company's finished deliveries, then drops them. The caller holds `writing`.
    async fn settle_company(&self, db: &Db, shared: &Arc<Shared>) -> sqlx::Result<usize> {
        let (mut written, mut from) = (0, 0);
        loop {
            // `None`: a player must rebuild first; its next advance does it. Positions hold
            // until the drop below: nothing else drops, and a reload changes the generation.
            let Some(batch) = shared.write().take_finished(BATCH, from) else {
                return Ok(written);
            };
            if batch.picks.is_empty() {
                break;
            }
            // Committed and marked in one step, so a view sees each outcome once.
            let _no_views = self.settled.write().await;
            let current = self
                .existing(shared.company_id)
                .is_some_and(|s| Arc::ptr_eq(&s, shared));
            if !current || shared.read().generation != batch.generation {
                return Ok(written);
            }
            store::write_outcomes(db, &batch.rows).await?;
            shared.write().mark_stored(&batch.picks);
            written += batch.rows.len();
            from = batch.next;
        }
        // Views read stored outcomes from SQLite already: dropping them changes nothing seen.
        let mut company = shared.write();
        company.retire_stored();
        shared.settle(&company);
        Ok(written)
    }

    /// How many sends and deliveries the company holds in memory (what has not finished, and
    /// what finished since the last write-behind).
    pub fn held(&self, company_id: i64) -> (usize, usize) {
        self.existing(company_id).map_or((0, 0), |shared| {
            let company = shared.read();
            (company.sends.len(), company.counts().1)
        })
    }

    /// The held destinations of the given sends as of `now_ms`, by send id.
    pub fn live_destinations(
        &self,
        company_ids: &[i64],
        now_ms: i64,
        send_ids: &HashSet<&str>,
    ) -> HashMap<String, Vec<LiveDestination>> {
        let mut out = HashMap::new();
        for company_id in company_ids {
            let Some(shared) = self.existing(*company_id) else {
                continue;
            };
            shared.advance(now_ms, &self.events);
            let company = shared.read();
            for send in company.sends.iter().filter(|s| send_ids.contains(&*s.id)) {
                let placements = &company.placements[send.first as usize..][..send.count as usize];
                let live = placements.iter().map(|&(p, d)| {
                    let store = company.player_of(p);
                    let progress = store.player.progress(d as usize);
                    LiveDestination {
                        location_id: store.location.location_id,
                        status: progress.status().as_str(),
                        delivered_ms: progress.delivered_ms(),
                        started_ms: progress.first_start_ms(),
                        finished_ms: progress.finished_ms(),
                    }
                });
                out.insert(send.id.to_string(), live.collect());
            }
        }
        out
    }

    /// One store's player as of `now_ms`: what plays, the first `limit` of its queue, and the
    /// newest `limit + 1` finished deliveries still in memory that come after `before` in
    /// history order (newest first by finish time, then send id).
    pub fn player_view(
        &self,
        company_id: i64,
        location: &Destination,
        environment: Environment,
        now_ms: i64,
        limit: usize,
        before: Option<(i64, &str)>,
    ) -> (PlayerView, Vec<HistoryItem>) {
        let shared = self.shared(company_id);
        shared.advance(now_ms, &self.events);
        let company = shared.read();
        let Some(p) = company.by_location.get(&(location.location_id, environment)) else {
            let view = PlayerView {
                external_id: location.external_id.clone(),
                user_id: location.user_id,
                environment,
                online: true,
                fail_after_ms: DEFAULT_FAIL_AFTER_MS,
                now_playing: None,
                queue: Vec::new(),
                queue_total: 0,
                history: Vec::new(),
                next_cursor: None,
            };
            return (view, Vec::new());
        };
        let store = &company.players[*p as usize];
        let delivery = |index: usize| delivery_view(&company, store, index);
        let (online, fail_after_ms) = store.player.online();
        let send_id = |i: usize| {
            let tag = store.player.deliveries().get(i).tag as usize;
            company.sends.get(tag).map_or("", |s| &*s.id)
        };
        // Those whose outcome SQLite has are read from there.
        let mut history: Vec<(i64, &str, usize)> = (0..store.player.deliveries().len())
            .filter_map(|i| {
                let finished = matches!(store.player.status_at(i), Status::Played | Status::Failed);
                (finished && !company.is_stored(*p, i)).then(|| {
                    let finished_ms = store.player.progress(i).finished_ms();
                    (finished_ms.unwrap_or(i64::MIN), send_id(i), i)
                })
            })
            .filter(|(at, id, _)| before.is_none_or(|b| (*at, *id) < b))
            .collect();
        history.sort_unstable_by(|a, b| (b.0, b.1).cmp(&(a.0, a.1)));
        history.truncate(limit.saturating_add(1));
        let queue = store.player.queue();
        let view = PlayerView {
            external_id: store.location.external_id.clone(),
            user_id: store.location.user_id,
            environment,
            online,
            fail_after_ms,
            now_playing: store.player.now_playing().map(delivery),
            queue_total: queue.len(),
            queue: queue.into_iter().take(limit).map(delivery).collect(),
            history: Vec::new(),
            next_cursor: None,
        };
        let history = history
            .into_iter()
            .map(|(finished_ms, send_id, i)| HistoryItem {
                finished_ms,
                send_id: send_id.to_owned(),
                view: delivery(i),
            })
            .collect();
        (view, history)
    }

    /// The sends of the given companies still held in memory as of `now_ms`, newest first
    /// (the control plane lists every send from SQLite).
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

/// Runs the write-behind every [`WRITE_BEHIND_EVERY`] until `stop`.
pub async fn write_behind(deliveries: Arc<Deliveries>, db: Db, stop: tokio_util::sync::CancellationToken) {
    let mut ticker = tokio::time::interval(WRITE_BEHIND_EVERY);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if let Err(err) = deliveries.write_behind(&db, false).await {
            tracing::warn!(error = %err, "could not write finished deliveries");
        }
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
    let delivery = store.player.deliveries().get(index);
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
    /// online; then those not due yet. The first `limit` of them.
    pub queue: Vec<DeliveryView>,
    /// How many deliveries wait in all.
    pub queue_total: usize,
    /// Played and failed, newest first (by finish time, then send id): a page of `limit`.
    pub history: Vec<DeliveryView>,
    /// Pass it as `cursor` for the next page of `history`; `null` on its last page.
    pub next_cursor: Option<String>,
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

/// A send as SQLite keeps it, its destinations' statuses from memory where they are still
/// held, from their stored outcomes where they left it.
pub fn stored_send_view(
    send: store::SendRow,
    destinations: &[&store::DestinationRow],
    held: Option<&Vec<LiveDestination>>,
    now_ms: i64,
) -> SendView {
    let destinations: Vec<DestinationView> = destinations
        .iter()
        .map(|d| {
            let live = held.and_then(|h| h.iter().find(|l| l.location_id == d.location_id));
            let (status, delivered_ms, started_ms, finished_ms) = match (live, &d.status) {
                (Some(l), _) => (l.status, l.delivered_ms, l.started_ms, l.finished_ms),
                (None, Some(stored)) => (
                    store::status_of(stored).as_str(),
                    d.delivered_at_ms,
                    d.started_at_ms,
                    d.finished_at_ms,
                ),
                // Written, not yet given to the players: what the send answered.
                (None, None) => (
                    if send.scheduled && send.due_at_ms > now_ms {
                        "scheduled"
                    } else {
                        "queued"
                    },
                    None,
                    None,
                    None,
                ),
            };
            DestinationView {
                external_id: d.external_id.clone(),
                user_id: d.user_id,
                status,
                delivered_at: delivered_ms.map(rfc3339_ms),
                started_at: started_ms.map(rfc3339_ms),
                finished_at: finished_ms.map(rfc3339_ms),
            }
        })
        .collect();
    let status = if send.due_at_ms > now_ms {
        "scheduled"
    } else if !destinations.is_empty() && destinations.iter().all(|d| d.status == "failed") {
        "failed"
    } else {
        "sent"
    };
    let priority = Priority::parse(&send.priority).unwrap_or(Priority::Normal);
    SendView {
        status,
        environment: environment_of(&send.environment),
        scheduled: send.scheduled,
        schedule_at: send.scheduled.then(|| rfc3339_ms(send.due_at_ms)),
        priority: priority.as_str(),
        repeat: u32::try_from(send.repeat).unwrap_or(1),
        volume: u8::try_from(send.volume).unwrap_or(100),
        created_at: rfc3339_ms(send.created_at_ms),
        created_ms: send.created_at_ms,
        send_id: send.id,
        audio_id: send.audio_id,
        destinations,
    }
}

/// A finished delivery of a store's history as SQLite keeps it.
pub fn stored_history_item(row: store::HistoryRow) -> HistoryItem {
    let priority = Priority::parse(&row.priority).unwrap_or(Priority::Normal);
    HistoryItem {
        finished_ms: row.finished_at_ms,
        view: DeliveryView {
            send_id: row.send_id.clone(),
            audio_id: row.audio_id,
            priority: priority.as_str(),
            repeat: u32::try_from(row.repeat).unwrap_or(1),
            volume: u8::try_from(row.volume).unwrap_or(100),
            status: store::status_of(&row.status).as_str(),
            due_at: rfc3339_ms(row.due_at_ms),
            delivered_at: row.delivered_at_ms.map(rfc3339_ms),
            started_at: row.started_at_ms.map(rfc3339_ms),
            finished_at: Some(rfc3339_ms(row.finished_at_ms)),
            plays_completed: u32::try_from(row.plays_completed).unwrap_or(0),
            interruptions: u32::try_from(row.interruptions).unwrap_or(0),
        },
        send_id: row.send_id,
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

    #[test]
    fn finished_deliveries_and_the_sends_left_with_none_leave_memory() {
        let mut company = Company::default();
        let stores = [store(1), store(2)];
        company.add_send(send("snd_a", "aud_x", 0), &stores, &[]);
        company.add_send(send("snd_b", "aud_x", 0), &stores[..1], &[]);
        company.add_send(send("snd_c", "aud_y", 10_000), &stores, &[]);
        // Two plays of a second each: snd_a has played at both stores, snd_b plays at one.
        company.advance(3_000);
        let batch = company.take_finished(usize::MAX, 0).expect("nothing to rebuild");
        let rows: Vec<(&str, i64, Status)> = (batch.rows.iter())
            .map(|r| (&*r.send_id, r.location_id, r.status))
            .collect();
        assert_eq!(rows, [("snd_a", 1, Status::Played), ("snd_a", 2, Status::Played)]);
        assert_eq!(batch.rows[0].finished_ms, 2_000);
        company.mark_stored(&batch.picks);
        assert!(
            company
                .take_finished(usize::MAX, 0)
                .expect("sealed")
                .rows
                .is_empty()
        );
        company.retire_stored();
        assert_eq!(company.counts(), (0, 3));
        let held: Vec<&str> = company.sends.iter().map(|s| &*s.id).collect();
        assert_eq!(held, ["snd_b", "snd_c"]);
        for (tag, send) in company.sends.iter().enumerate() {
            for &(p, d) in &company.placements[send.first as usize..][..send.count as usize] {
                let delivery = company.players[p as usize].player.deliveries().get(d as usize);
                assert_eq!(delivery.tag as usize, tag, "{}", send.id);
            }
        }

        // What was counted stays counted; what plays next is counted too.
        company.advance(20_000);
        assert_eq!(company.stats["aud_x"].times_played, 6);
        assert_eq!(company.stats["aud_y"].times_played, 4);
        let batch = company.take_finished(2, 0).expect("sealed");
        assert_eq!(batch.rows.len(), 2);
        company.mark_stored(&batch.picks);
        let rest = company.take_finished(2, batch.next).expect("sealed");
        assert_eq!(rest.rows.len(), 1, "the batch goes on where the first stopped");
        company.mark_stored(&rest.picks);
        company.retire_stored();
        assert_eq!(company.counts(), (0, 0));
        assert!(company.sends.is_empty() && company.placements.is_empty());

        // Sealed: a reading in the past changes nothing, and nothing is recounted.
        assert_eq!(company.advance(1_000).deliveries_started, 0);
        assert_eq!(company.reached_ms, 20_000);
        assert_eq!(company.stats["aud_x"].recipients.len(), 2);
    }

    #[test]
    fn a_cancellation_on_a_player_that_drops_nothing_survives_its_send_leaving() {
        // The clock-range test's case: an audio sent to one store of two is deleted, so both
        // players hold its cancellation; its delivery leaves memory while the other store
        // keeps everything, then the other store's own deliveries finish and leave.
        let mut company = Company::default();
        let stores = [store(1), store(2)];
        company.add_send(send("snd_a", "aud_x", 0), &stores[..1], &[]);
        company.add_send(send("snd_b", "aud_y", 10_000), &stores[1..], &[]);
        company.advance(500);
        for store in &mut company.players {
            store.player.cancel_tag(0, 500);
        }
        company.advance(500);
        let retire = |company: &mut Company| {
            let batch = company.take_finished(usize::MAX, 0).expect("sealed");
            company.mark_stored(&batch.picks);
            company.retire_stored();
            batch.rows.len()
        };
        assert_eq!(retire(&mut company), 1, "snd_a failed at store 1");
        assert_eq!(company.counts(), (0, 1));

        company.advance(20_000);
        assert_eq!(retire(&mut company), 1, "snd_b played at store 2");
        assert_eq!(company.counts(), (0, 0));
        assert!(company.sends.is_empty() && company.placements.is_empty());
    }
}
