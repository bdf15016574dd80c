//! One store's audio player, simulated: deliveries arrive, wait, fail while it is offline, and play.
//!
//! Pure and deterministic: no I/O, no locks, no clock reads. Time comes in as the tenant's
//! milliseconds, and the history is a function of what was added, so it can always be rebuilt.
//!
//! The vendor docs say "urgent interrupts what is playing, high plays next, normal queues, low
//! waits for the rest". How we read that:
//! - A delivery reaches the player at `due_ms` if it is online; an offline player leaves it
//!   `Queued` until it comes back (delivered then) or until `due_ms + fail_after_ms` (failed then),
//!   `fail_after_ms` being the one in force when it arrived.
//! - The player plays one delivery at a time, picking by priority, then delivery time, then the
//!   order deliveries were added; a delivery plays `repeat` times back to back.
//! - An urgent delivery takes the player from a non-urgent one, which goes back to the front of
//!   its class, keeps its completed plays and restarts the cut play later. This holds between two
//!   repeats too (the delivery counts an interruption though no audio was cut).
//! - Going offline stops nothing already delivered.
//! - At one instant: a play ends (and the next starts), then availability changes, then arrivals,
//!   then deadlines, then cancellations; the player picks what to play last, so an urgent delivery
//!   arriving as a delivery ends simply plays next.
//!
//! Something added at exactly the instant already reached is processed as coming just after what
//! that instant already did (an urgent one then interrupts what started at that instant); anything
//! earlier makes the next [`Player::advance_to`] rebuild the history from the start.
//!
//! Finished deliveries can be dropped ([`Player::compact`]): what follows does not depend on them.
//! The record is then no longer whole, so the player is sealed ([`Player::seal`]): it never
//! rebuilds, does not go back in time, and anything added before the instant reached counts as
//! added at that instant.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};

mod runs;
#[cfg(test)]
mod tests;

use runs::{Held, Runs};

/// An instant that has not happened, in [`Progress`], which keeps bare `i64`s rather than
/// `Option<i64>`s so that it stays at 40 bytes.
const NEVER: i64 = i64::MIN;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub fn parse(s: &str) -> Option<Priority> {
        match s {
            "low" => Some(Priority::Low),
            "normal" => Some(Priority::Normal),
            "high" => Some(Priority::High),
            "urgent" => Some(Priority::Urgent),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Not due yet.
    Scheduled,
    /// Due, but the player is offline.
    Queued,
    /// In the player's queue (again, after an interruption).
    Delivered,
    Playing,
    Played,
    /// Never reached the player, or its audio was deleted.
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Queued => "queued",
            Status::Delivered => "delivered",
            Status::Playing => "playing",
            Status::Played => "played",
            Status::Failed => "failed",
        }
    }
}

/// One send's audio bound for this player. The player keeps it as a [`Held`] in [`Runs`]: what
/// deliveries share (priority, repeat, duration) once per player, in [`Player::kinds`], and
/// consecutive sends due at one instant as one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The caller's own reference (its send's index); only [`Player::cancel_tag`] reads it.
    pub tag: u32,
    pub repeat: u16,
    pub priority: Priority,
    pub due_ms: i64,
    /// Of one play.
    pub duration_ms: i64,
}

/// What many deliveries of one player have in common: the sends of one audio with one priority
/// and repeat count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Kind {
    duration_ms: i64,
    repeat: u16,
    priority: Priority,
}

/// A player's deliveries as [`Delivery`] values, for reading.
#[derive(Clone, Copy, Debug)]
pub struct Deliveries<'a> {
    player: &'a Player,
}

impl<'a> Deliveries<'a> {
    pub fn len(&self) -> usize {
        self.player.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.player.held.is_empty()
    }

    /// Panics on an index [`Player::add`] did not return.
    pub fn get(&self, index: usize) -> Delivery {
        self.player.delivery(index as u32)
    }

    pub fn iter(&self) -> impl Iterator<Item = Delivery> + 'a {
        let player = self.player;
        player.held.iter().map(move |held| player.expand(held))
    }
}

/// One priority's FIFO of delivery indices, kept as runs of consecutive indices: deliveries
/// reach the player in the order they were added, so a backlog of a hundred thousand is a few
/// runs, not 4 bytes each.
#[derive(Clone, Debug, Default)]
struct Fifo {
    /// `(first, count)`, front first.
    runs: VecDeque<(u32, u32)>,
}

impl Fifo {
    fn push_back(&mut self, i: u32) {
        match self.runs.back_mut() {
            Some((first, count)) if first.checked_add(*count) == Some(i) => *count += 1,
            _ => self.runs.push_back((i, 1)),
        }
    }

    fn push_front(&mut self, i: u32) {
        match self.runs.front_mut() {
            Some((first, count)) if i.checked_add(1) == Some(*first) => {
                *first = i;
                *count += 1;
            }
            _ => self.runs.push_front((i, 1)),
        }
    }

    fn front(&self) -> Option<u32> {
        self.runs.front().map(|&(first, _)| first)
    }

    fn pop_front(&mut self) -> Option<u32> {
        let (first, count) = self.runs.front_mut()?;
        let i = *first;
        if *count == 1 {
            self.runs.pop_front();
        } else {
            *first += 1;
            *count -= 1;
        }
        Some(i)
    }

    fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    fn clear(&mut self) {
        self.runs.clear();
    }

    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (self.runs.iter()).flat_map(|&(first, count)| first..first + count)
    }
}

/// Where a delivery stands as of the instant the player has reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    delivered_ms: i64,
    first_start_ms: i64,
    finished_ms: i64,
    plays_completed: u32,
    interruptions: u32,
    status: Status,
}

impl Progress {
    const NEW: Progress = Progress {
        delivered_ms: NEVER,
        first_start_ms: NEVER,
        finished_ms: NEVER,
        plays_completed: 0,
        interruptions: 0,
        status: Status::Scheduled,
    };

    pub fn status(&self) -> Status {
        self.status
    }

    /// When it reached the player.
    pub fn delivered_ms(&self) -> Option<i64> {
        instant(self.delivered_ms)
    }

    pub fn first_start_ms(&self) -> Option<i64> {
        instant(self.first_start_ms)
    }

    /// When it was played or failed.
    pub fn finished_ms(&self) -> Option<i64> {
        instant(self.finished_ms)
    }

    pub fn plays_completed(&self) -> u32 {
        self.plays_completed
    }

    /// How many times an urgent delivery took the player from it.
    pub fn interruptions(&self) -> u32 {
        self.interruptions
    }
}

fn instant(ms: i64) -> Option<i64> {
    (ms != NEVER).then_some(ms)
}

/// A delivery's state in one word. Most deliveries are waiting: not due yet, due while the
/// player is offline, or in the player's queue since the instant they fell due. Those states say
/// everything with the delivery's due time, so only a delivery that has more to remember (it
/// started, finished, or reached the player late) gets a [`Progress`], in `Player::details`.
/// A backlog of a hundred thousand waiting deliveries then costs 4 bytes each, not 44.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot(u32);

impl Slot {
    const SCHEDULED: Slot = Slot(u32::MAX);
    const QUEUED: Slot = Slot(u32::MAX - 1);
    /// Delivered at its due time and not started.
    const ON_TIME: Slot = Slot(u32::MAX - 2);
    /// Below this, an index into `Player::details`.
    const FIRST_STATE: u32 = u32::MAX - 2;

    fn detail(self) -> Option<usize> {
        (self.0 < Slot::FIRST_STATE).then_some(self.0 as usize)
    }
}

#[derive(Clone, Copy, Debug)]
struct Availability {
    at_ms: i64,
    online: bool,
    fail_after_ms: i64,
}

#[derive(Clone, Copy, Debug)]
struct Cancel {
    at_ms: i64,
    tag: u32,
    /// Only deliveries added before the cancellation, so a rebuild cancels the same ones.
    before: u32,
}

/// `(instant, delivery index)`, earliest first. Indices are `u32` inside the player to halve the
/// queues; one store's player never holds four billion deliveries.
type Timeline = BinaryHeap<Reverse<(i64, u32)>>;

/// One store's player. What was added (deliveries, availability changes, cancellations) is the
/// record; everything else is the simulation's state at `reached`, rebuilt from the record.
#[derive(Clone, Debug)]
pub struct Player {
    held: Runs,
    /// What the deliveries held share, each once; renumbered when deliveries are dropped.
    kinds: Vec<Kind>,
    kind_of: HashMap<Kind, u32>,
    /// Per delivery: its state, or where its [`Progress`] is in `details`.
    slots: Vec<Slot>,
    details: Vec<Progress>,
    initial: (bool, i64),
    /// By instant, then the order they were recorded.
    availability: Vec<Availability>,
    cancels: Vec<Cancel>,

    /// Everything up to and including this instant has been simulated.
    reached: i64,
    /// Something was added before `reached`: the next advance rebuilds.
    stale: bool,
    online: bool,
    fail_after_ms: i64,
    next_availability: usize,
    next_cancel: usize,
    /// Deliveries not yet due, by `(due_ms, index)`, which is the order they arrive in.
    arrivals: Timeline,
    /// `Queued` deliveries by deadline.
    waiting: Timeline,
    /// What the player holds, one FIFO per priority (indexed by `Priority as usize`). Entries
    /// cancelled after delivery stay until they reach the front.
    queues: [Fifo; 4],
    playing: Option<u32>,
    /// Of one play of what is playing (its kind's, kept here for [`Player::next_event_ms`]).
    play_duration_ms: i64,
    play_started_ms: i64,
    /// Deliveries reaching the player at the instant being simulated.
    batch: Vec<u32>,
    /// How many of the deliveries held were played or failed.
    finished: usize,
    /// The history may not be rebuilt (finished deliveries were or may be dropped).
    sealed: bool,
}

impl Player {
    pub fn new(online: bool, fail_after_ms: i64) -> Player {
        Player {
            held: Runs::default(),
            kinds: Vec::new(),
            kind_of: HashMap::new(),
            slots: Vec::new(),
            details: Vec::new(),
            initial: (online, fail_after_ms.max(0)),
            availability: Vec::new(),
            cancels: Vec::new(),
            reached: i64::MIN,
            stale: false,
            online,
            fail_after_ms: fail_after_ms.max(0),
            next_availability: 0,
            next_cancel: 0,
            arrivals: BinaryHeap::new(),
            waiting: BinaryHeap::new(),
            queues: Default::default(),
            playing: None,
            play_duration_ms: 1,
            play_started_ms: 0,
            batch: Vec::new(),
            finished: 0,
            sealed: false,
        }
    }

    /// Adds a delivery (`repeat` and `duration_ms` raised to at least 1) and returns its index,
    /// which is also its rank among deliveries due and delivered at the same instant.
    pub fn add(&mut self, mut delivery: Delivery) -> usize {
        delivery.repeat = delivery.repeat.max(1);
        delivery.duration_ms = delivery.duration_ms.max(1);
        let index = self.held.len();
        if delivery.due_ms < self.reached && self.sealed {
            // No history to rewrite: it reaches the player as late as the player is.
            self.arrivals.push(Reverse((self.reached, index as u32)));
        } else if delivery.due_ms < self.reached {
            self.stale = true;
        } else if !self.stale {
            self.arrivals.push(Reverse((delivery.due_ms, index as u32)));
        }
        let kind = self.kind_index(Kind {
            duration_ms: delivery.duration_ms,
            repeat: delivery.repeat,
            priority: delivery.priority,
        });
        self.held.push(Held {
            due_ms: delivery.due_ms,
            tag: delivery.tag,
            kind,
        });
        self.slots.push(Slot::SCHEDULED);
        index
    }

    /// `kind`'s index in `kinds`, added if new. Consecutive deliveries mostly share one.
    fn kind_index(&mut self, kind: Kind) -> u32 {
        if let Some(last) = self.held.last()
            && self.kinds[last.kind as usize] == kind
        {
            return last.kind;
        }
        let kinds = &mut self.kinds;
        *self.kind_of.entry(kind).or_insert_with(|| {
            kinds.push(kind);
            kinds.len() as u32 - 1
        })
    }

    /// Delivery `i` as it was added (`repeat` and `duration_ms` at least 1).
    fn delivery(&self, i: u32) -> Delivery {
        self.expand(self.held.get(i))
    }

    fn expand(&self, held: Held) -> Delivery {
        let kind = self.kinds[held.kind as usize];
        Delivery {
            tag: held.tag,
            repeat: kind.repeat,
            priority: kind.priority,
            due_ms: held.due_ms,
            duration_ms: kind.duration_ms,
        }
    }

    fn kind(&self, i: u32) -> Kind {
        self.kinds[self.held.get(i).kind as usize]
    }

    fn due_ms(&self, i: u32) -> i64 {
        self.held.get(i).due_ms
    }

    /// Records that the player goes online or offline at `at_ms`; `fail_after_ms` is how long a
    /// delivery arriving while it is offline waits before failing.
    pub fn set_online(&mut self, at_ms: i64, online: bool, fail_after_ms: i64) {
        let at_ms = self.not_before_reached(at_ms);
        let change = Availability {
            at_ms,
            online,
            fail_after_ms: fail_after_ms.max(0),
        };
        let at = self.availability.partition_point(|c| c.at_ms <= at_ms);
        self.availability.insert(at, change);
        self.stale |= at_ms < self.reached;
    }

    /// Records that the audio of the deliveries tagged `tag` is gone at `at_ms`: each one added so
    /// far that has not been played then fails then, including one playing (it stops at once)
    /// and ones not due yet. Costs a pass over all deliveries when it takes effect.
    pub fn cancel_tag(&mut self, tag: u32, at_ms: i64) {
        let at_ms = self.not_before_reached(at_ms);
        let cancel = Cancel {
            at_ms,
            tag,
            before: self.held.len() as u32,
        };
        let at = self.cancels.partition_point(|c| c.at_ms <= at_ms);
        self.cancels.insert(at, cancel);
        self.stale |= at_ms < self.reached;
    }

    /// Simulates up to and including `now_ms`, calling `on_first_start(index, delivery, at_ms)`
    /// for each delivery that starts playing for the first time. Returns true when it had to
    /// rebuild the history (`now_ms` went back, or something was added in the past): it then
    /// calls nothing, and the caller recounts from [`Player::progress`].
    pub fn advance_to(&mut self, now_ms: i64, on_first_start: impl FnMut(usize, &Delivery, i64)) -> bool {
        self.advance_some(now_ms, usize::MAX, on_first_start).0
    }

    /// [`Player::advance_to`], but stopping once it has simulated `instants` instants at which
    /// something happened: then it has reached the last of them (as if advanced to it), not
    /// `now_ms`. A rebuild goes all the way. Returns whether it rebuilt, and whether it
    /// reached `now_ms`.
    pub fn advance_some(
        &mut self,
        now_ms: i64,
        instants: usize,
        mut on_first_start: impl FnMut(usize, &Delivery, i64),
    ) -> (bool, bool) {
        if self.sealed && now_ms < self.reached {
            return (false, true);
        }
        let rebuild = self.stale || now_ms < self.reached;
        if rebuild {
            self.reset();
        }
        let mut report = |index: usize, delivery: &Delivery, at_ms: i64| {
            if !rebuild {
                on_first_start(index, delivery, at_ms);
            }
        };
        // A rebuild is whole: it reports nothing, and the caller recounts from what it left.
        let mut budget = if rebuild { usize::MAX } else { instants };
        loop {
            let at = self.next_event_ms();
            // Nothing can happen at i64::MAX: it is where saturated deadlines and plays end.
            if at > now_ms || at == i64::MAX {
                break;
            }
            if budget == 0 {
                // Everything up to and including the last instant simulated is done.
                return (rebuild, false);
            }
            budget -= 1;
            self.step(at, &mut report);
            self.reached = self.reached.max(at);
        }
        self.reached = self.reached.max(now_ms);
        (rebuild, true)
    }

    /// The earliest instant at which something may change: a play ends, a delivery falls due,
    /// the player goes online or offline, a deadline passes, a cancellation takes effect.
    /// `i64::MAX` when nothing is pending; `i64::MIN` when the next advance must rebuild.
    pub fn next_event_ms(&self) -> i64 {
        if self.stale {
            return i64::MIN;
        }
        let play_end = self.playing.map(|_| self.play_end_ms());
        let first = |timeline: &Timeline| timeline.peek().map(|Reverse((at, _))| *at);
        [
            play_end,
            first(&self.arrivals),
            self.availability.get(self.next_availability).map(|c| c.at_ms),
            first(&self.waiting),
            self.cancels.get(self.next_cancel).map(|c| c.at_ms),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(i64::MAX)
    }

    pub fn deliveries(&self) -> Deliveries<'_> {
        Deliveries { player: self }
    }

    /// How many of [`Player::deliveries`] were played or failed.
    pub fn finished(&self) -> usize {
        self.finished
    }

    /// The instant simulated so far (`i64::MIN` before the first advance).
    pub fn reached_ms(&self) -> i64 {
        self.reached
    }

    /// From now on the history is never rebuilt: the player does not go back in time, and what
    /// is added before the instant reached counts as added at that instant. A player whose next
    /// advance must rebuild ([`Player::next_event_ms`] is `i64::MIN`) is left as it is.
    pub fn seal(&mut self) {
        self.sealed |= !self.stale;
    }

    pub fn is_sealed(&self) -> bool {
        self.sealed
    }

    /// Seals the player and drops the finished deliveries `gone` picks (it is not asked about
    /// others). Returns, for each old index, the new one (`u32::MAX` for a dropped delivery).
    /// The rest keep their order, so their ranks do not change: what happens next is what
    /// would have happened. A player whose next advance must rebuild drops nothing.
    pub fn compact(&mut self, mut gone: impl FnMut(usize) -> bool) -> Vec<u32> {
        self.seal();
        let mut remap: Vec<u32> = (0..self.held.len() as u32).collect();
        if !self.sealed {
            return remap;
        }
        let mut details = Vec::new();
        let mut kept = 0;
        for (i, moved) in remap.iter_mut().enumerate() {
            if matches!(self.status(i as u32), Status::Played | Status::Failed) && gone(i) {
                *moved = u32::MAX;
                continue;
            }
            *moved = kept as u32;
            self.slots[kept] = match self.slots[i].detail() {
                Some(at) => {
                    details.push(self.details[at]);
                    Slot(details.len() as u32 - 1)
                }
                None => self.slots[i],
            };
            kept += 1;
        }
        // The details were renumbered in delivery order, dropped or not.
        self.details = details;
        if kept == self.held.len() {
            return remap;
        }
        self.held.retain(|i| remap[i as usize] != u32::MAX);
        self.renumber_kinds();
        self.slots.truncate(kept);
        let moved = |i: u32| Some(remap[i as usize]).filter(|&n| n != u32::MAX);
        let rebuild = |timeline: &Timeline| -> Timeline {
            (timeline.iter())
                .filter_map(|Reverse((at, i))| moved(*i).map(|n| Reverse((*at, n))))
                .collect()
        };
        self.arrivals = rebuild(&self.arrivals);
        self.waiting = rebuild(&self.waiting);
        for queue in &mut self.queues {
            let mut kept = Fifo::default();
            queue.iter().filter_map(moved).for_each(|i| kept.push_back(i));
            *queue = kept;
        }
        self.playing = self.playing.and_then(moved);
        // Only changes still to come matter now: nothing will be replayed.
        self.availability.drain(..self.next_availability);
        self.next_availability = 0;
        self.cancels.drain(..self.next_cancel);
        self.next_cancel = 0;
        for cancel in &mut self.cancels {
            let before = cancel.before as usize;
            cancel.before = (0..before)
                .rev()
                .find_map(|i| moved(i as u32))
                .map_or(0, |n| n + 1);
        }
        self.finished = (0..kept as u32)
            .filter(|&i| matches!(self.status(i), Status::Played | Status::Failed))
            .count();
        shrink(&mut self.slots);
        shrink(&mut self.details);
        remap
    }

    /// Rewrites the caller's tags: `remap[old]` is the new tag, `u32::MAX` for one that is gone
    /// (a cancellation waiting for it is dropped; no delivery held may carry it).
    pub fn retag(&mut self, remap: &[u32]) {
        let new = |tag: u32| remap.get(tag as usize).copied().unwrap_or(u32::MAX);
        self.held.rewrite(|held| Held {
            tag: new(held.tag),
            ..held
        });
        // Cancellations that took effect stay until a compaction drops something (and a player
        // that must rebuild replays them all): `next_cancel` keeps naming the same next one.
        let (mut at, mut gone_before) = (0, 0);
        self.cancels.retain_mut(|cancel| {
            cancel.tag = new(cancel.tag);
            let kept = cancel.tag != u32::MAX;
            gone_before += usize::from(!kept && at < self.next_cancel);
            at += 1;
            kept
        });
        self.next_cancel -= gone_before;
    }

    /// As of the last [`Player::advance_to`]. Panics on an index [`Player::add`] did not return.
    pub fn progress(&self, index: usize) -> Progress {
        self.progress_due(index, || self.held.get(index as u32).due_ms)
    }

    /// [`Player::progress`] of delivery `index` read already from [`Player::deliveries`]: it
    /// looks nothing up again.
    pub fn progress_of(&self, index: usize, delivery: &Delivery) -> Progress {
        self.progress_due(index, || delivery.due_ms)
    }

    fn progress_due(&self, index: usize, due_ms: impl FnOnce() -> i64) -> Progress {
        match self.slots[index] {
            Slot::SCHEDULED => Progress::NEW,
            Slot::QUEUED => Progress {
                status: Status::Queued,
                ..Progress::NEW
            },
            Slot::ON_TIME => Progress {
                status: Status::Delivered,
                delivered_ms: due_ms(),
                ..Progress::NEW
            },
            slot => self.details[slot.0 as usize],
        }
    }

    /// [`Player::progress`]'s status alone, which does not read the delivery.
    pub fn status_at(&self, index: usize) -> Status {
        self.status(index as u32)
    }

    fn status(&self, index: u32) -> Status {
        match self.slots[index as usize] {
            Slot::SCHEDULED => Status::Scheduled,
            Slot::QUEUED => Status::Queued,
            Slot::ON_TIME => Status::Delivered,
            slot => self.details[slot.0 as usize].status,
        }
    }

    /// The delivery's [`Progress`], to change: given one first if it had none.
    fn progress_mut(&mut self, index: u32) -> &mut Progress {
        let slot = self.slots[index as usize];
        let at = match slot.detail() {
            Some(at) => at,
            None => {
                let at = self.details.len();
                assert!(
                    at < Slot::FIRST_STATE as usize,
                    "a player holds fewer than 2³² deliveries"
                );
                self.details.push(self.progress(index as usize));
                self.slots[index as usize] = Slot(at as u32);
                at
            }
        };
        &mut self.details[at]
    }

    pub fn now_playing(&self) -> Option<usize> {
        self.playing.map(|i| i as usize)
    }

    /// What waits, in the order it will reach the speaker as things stand: the player's queue,
    /// then what waits for it to come online, then what is not due yet (both by due time). A
    /// view for reading: it costs a sort of everything pending.
    pub fn queue(&self) -> Vec<usize> {
        let status = |i: u32| self.status(i);
        let mut order: Vec<usize> = (self.queues.iter().rev().flat_map(Fifo::iter))
            .filter(|&i| status(i) == Status::Delivered)
            .map(|i| i as usize)
            .collect();
        let mut pending: Vec<(bool, i64, u32)> = (self.waiting.iter().map(|Reverse((_, i))| *i))
            .chain(self.arrivals.iter().map(|Reverse((_, i))| *i))
            .filter(|&i| matches!(status(i), Status::Queued | Status::Scheduled))
            .map(|i| (status(i) == Status::Scheduled, self.due_ms(i), i))
            .collect();
        pending.sort_unstable();
        order.extend(pending.into_iter().map(|(_, _, i)| i as usize));
        order
    }

    /// Whether the player is online, and the `fail_after_ms` in force, as of the last advance.
    pub fn online(&self) -> (bool, i64) {
        (self.online, self.fail_after_ms)
    }

    /// At or after the instant reached, once sealed: there is no history to rewrite.
    fn not_before_reached(&self, at_ms: i64) -> i64 {
        if self.sealed {
            at_ms.max(self.reached)
        } else {
            at_ms
        }
    }

    /// Back to before anything happened, keeping the record.
    fn reset(&mut self) {
        self.slots.fill(Slot::SCHEDULED);
        self.details.clear();
        self.arrivals = (self.held.iter().enumerate())
            .map(|(i, d)| Reverse((d.due_ms, i as u32)))
            .collect();
        self.waiting.clear();
        self.queues.iter_mut().for_each(Fifo::clear);
        self.batch.clear();
        (self.online, self.fail_after_ms) = self.initial;
        self.next_availability = 0;
        self.next_cancel = 0;
        self.playing = None;
        self.reached = i64::MIN;
        self.stale = false;
        self.finished = 0;
    }

    /// When the current play of what is playing ends.
    fn play_end_ms(&self) -> i64 {
        (self.play_started_ms).saturating_add(self.play_duration_ms)
    }

    /// Everything that happens at `at_ms`, in the order the module's header gives.
    fn step(&mut self, at_ms: i64, on_first_start: &mut dyn FnMut(usize, &Delivery, i64)) {
        if let Some(i) = self.playing
            && self.play_end_ms() <= at_ms
        {
            let repeat = u32::from(self.kind(i).repeat);
            let progress = self.progress_mut(i);
            progress.plays_completed += 1;
            if progress.plays_completed >= repeat {
                progress.status = Status::Played;
                progress.finished_ms = at_ms;
                self.playing = None;
                self.finished += 1;
            } else {
                self.play_started_ms = at_ms;
            }
        }

        while let Some(change) = self.availability.get(self.next_availability).copied()
            && change.at_ms <= at_ms
        {
            self.next_availability += 1;
            if change.online && !self.online {
                let slots = &self.slots;
                let back = self.waiting.drain().map(|Reverse((_, i))| i);
                self.batch
                    .extend(back.filter(|&i| slots[i as usize] == Slot::QUEUED));
            }
            self.online = change.online;
            self.fail_after_ms = change.fail_after_ms;
        }

        while let Some(&Reverse((due_ms, i))) = self.arrivals.peek()
            && due_ms <= at_ms
        {
            self.arrivals.pop();
            if self.slots[i as usize] != Slot::SCHEDULED {
                continue; // cancelled before it was due
            }
            if self.online {
                self.batch.push(i);
            } else {
                self.slots[i as usize] = Slot::QUEUED;
                let deadline = due_ms.saturating_add(self.fail_after_ms);
                self.waiting.push(Reverse((deadline, i)));
            }
        }

        while let Some(&Reverse((deadline, i))) = self.waiting.peek()
            && deadline <= at_ms
        {
            self.waiting.pop();
            if self.slots[i as usize] == Slot::QUEUED {
                let progress = self.progress_mut(i);
                progress.status = Status::Failed;
                progress.finished_ms = at_ms;
                self.finished += 1;
            }
        }

        // Everything in the batch shares its delivery time, so insertion order alone ranks it.
        let mut batch = std::mem::take(&mut self.batch);
        batch.sort_unstable();
        for i in batch.drain(..) {
            let held = self.held.get(i);
            if held.due_ms == at_ms && self.slots[i as usize].detail().is_none() {
                self.slots[i as usize] = Slot::ON_TIME;
            } else {
                let progress = self.progress_mut(i);
                progress.status = Status::Delivered;
                progress.delivered_ms = at_ms;
            }
            self.queues[self.kinds[held.kind as usize].priority as usize].push_back(i);
        }
        self.batch = batch;

        while let Some(cancel) = self.cancels.get(self.next_cancel).copied()
            && cancel.at_ms <= at_ms
        {
            self.next_cancel += 1;
            self.cancel(cancel, at_ms);
        }

        self.drop_dead_fronts();
        if let Some(i) = self.playing
            && self.kind(i).priority != Priority::Urgent
            && !self.queues[Priority::Urgent as usize].is_empty()
        {
            let progress = self.progress_mut(i);
            progress.status = Status::Delivered;
            progress.interruptions += 1;
            self.queues[self.kind(i).priority as usize].push_front(i);
            self.playing = None;
        }
        if self.playing.is_none()
            && let Some(i) = self.queues.iter_mut().rev().find_map(Fifo::pop_front)
        {
            self.start(i, at_ms, on_first_start);
        }

        // Cancellations leave dead entries; off the tops, so next_event_ms names a real change.
        let slots = &self.slots;
        drop_while(&mut self.arrivals, |i| slots[i as usize] != Slot::SCHEDULED);
        drop_while(&mut self.waiting, |i| slots[i as usize] != Slot::QUEUED);
    }

    fn cancel(&mut self, cancel: Cancel, at_ms: i64) {
        let tagged: Vec<u32> = (self.held.iter().take(cancel.before as usize))
            .enumerate()
            .filter(|(_, held)| held.tag == cancel.tag)
            .map(|(i, _)| i as u32)
            .collect();
        for i in tagged {
            if !matches!(self.status(i), Status::Played | Status::Failed) {
                let progress = self.progress_mut(i);
                progress.status = Status::Failed;
                progress.finished_ms = at_ms;
                self.finished += 1;
            }
        }
        if let Some(i) = self.playing
            && self.status(i) == Status::Failed
        {
            self.playing = None;
        }
    }

    /// Pops cancelled entries off the front of each priority queue.
    fn drop_dead_fronts(&mut self) {
        for p in 0..self.queues.len() {
            while let Some(i) = self.queues[p].front()
                && self.status(i) != Status::Delivered
            {
                self.queues[p].pop_front();
            }
        }
    }

    fn start(&mut self, i: u32, at_ms: i64, on_first_start: &mut dyn FnMut(usize, &Delivery, i64)) {
        let progress = self.progress_mut(i);
        progress.status = Status::Playing;
        let first = progress.first_start_ms == NEVER;
        if first {
            progress.first_start_ms = at_ms;
        }
        self.playing = Some(i);
        self.play_started_ms = at_ms;
        self.play_duration_ms = self.kind(i).duration_ms;
        if first {
            on_first_start(i as usize, &self.delivery(i), at_ms);
        }
    }
}

impl Player {
    /// After deliveries were dropped: only the kinds still held stay, so the table is never
    /// longer than the deliveries held.
    fn renumber_kinds(&mut self) {
        let mut new = vec![u32::MAX; self.kinds.len()];
        let mut kinds = Vec::new();
        let old = &self.kinds;
        self.held.rewrite(|mut held| {
            let k = &mut new[held.kind as usize];
            if *k == u32::MAX {
                *k = kinds.len() as u32;
                kinds.push(old[held.kind as usize]);
            }
            held.kind = *k;
            held
        });
        self.kind_of = (kinds.iter().enumerate())
            .map(|(i, &kind)| (kind, i as u32))
            .collect();
        self.kinds = kinds;
    }
}

/// Gives memory back once a vector holds much less than it did.
pub fn shrink<T>(v: &mut Vec<T>) {
    if v.capacity() > 64 && v.len() < v.capacity() / 4 {
        v.shrink_to(v.len() * 2);
    }
}

fn drop_while(timeline: &mut Timeline, dead: impl Fn(u32) -> bool) {
    while let Some(&Reverse((_, i))) = timeline.peek()
        && dead(i)
    {
        timeline.pop();
    }
}
