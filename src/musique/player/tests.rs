//! The player's rules, one test each, and a randomised check that the history does not depend
//! on how the simulation is stepped.

use super::*;

fn delivery(tag: u32, due_ms: i64, priority: Priority, repeat: u16, duration_ms: i64) -> Delivery {
    Delivery {
        tag,
        due_ms,
        priority,
        repeat,
        duration_ms,
    }
}

/// One play of one second.
fn short(tag: u32, due_ms: i64, priority: Priority) -> Delivery {
    delivery(tag, due_ms, priority, 1, 1_000)
}

/// Advances and returns the first starts reported, in order.
fn advance(player: &mut Player, now_ms: i64) -> Vec<(usize, i64)> {
    let mut started = Vec::new();
    player.advance_to(now_ms, |index, _, at_ms| started.push((index, at_ms)));
    started
}

fn first_starts(player: &Player) -> Vec<Option<i64>> {
    (0..player.deliveries().len())
        .map(|i| player.progress(i).first_start_ms())
        .collect()
}

fn all_progress(player: &Player) -> Vec<Progress> {
    (0..player.deliveries().len())
        .map(|i| player.progress(i))
        .collect()
}

#[test]
fn priorities_and_statuses_read_and_write_the_wire_names() {
    for priority in [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent] {
        assert_eq!(Priority::parse(priority.as_str()), Some(priority));
    }
    assert_eq!(Priority::parse("URGENT"), None);
    assert_eq!(Status::Played.as_str(), "played");
}

#[test]
fn one_priority_plays_in_delivery_order_then_insertion_order() {
    let mut player = Player::new(true, 60_000);
    player.add(short(0, 0, Priority::Normal));
    player.add(short(1, 0, Priority::Normal));
    player.add(short(2, 10, Priority::Normal));
    player.add(short(3, 0, Priority::Normal));
    advance(&mut player, 10_000);
    assert_eq!(
        first_starts(&player),
        [Some(0), Some(1_000), Some(3_000), Some(2_000)]
    );
}

#[test]
fn high_plays_next_but_does_not_interrupt() {
    let mut player = Player::new(true, 60_000);
    player.add(short(0, 0, Priority::Normal));
    player.add(short(1, 100, Priority::Normal));
    player.add(short(2, 200, Priority::High));
    advance(&mut player, 500);
    assert_eq!(player.now_playing(), Some(0));
    assert_eq!(player.queue(), [2, 1]);
    advance(&mut player, 10_000);
    assert_eq!(first_starts(&player), [Some(0), Some(2_000), Some(1_000)]);
    assert_eq!(player.progress(0).interruptions(), 0);
}

#[test]
fn urgent_interrupts_a_normal_one_which_resumes_first_and_replays_the_cut_play() {
    let mut player = Player::new(true, 60_000);
    player.add(delivery(0, 0, Priority::Normal, 3, 1_000));
    player.add(short(1, 1_200, Priority::Normal));
    player.add(short(2, 1_500, Priority::Urgent));
    advance(&mut player, 1_500);
    assert_eq!(player.now_playing(), Some(2));
    assert_eq!(player.queue(), [0, 1]);
    let cut = player.progress(0);
    assert_eq!(cut.status(), Status::Delivered);
    assert_eq!((cut.plays_completed(), cut.interruptions()), (1, 1));

    advance(&mut player, 10_000);
    let resumed = player.progress(0);
    assert_eq!(resumed.status(), Status::Played);
    assert_eq!((resumed.plays_completed(), resumed.interruptions()), (3, 1));
    // 1 000 ms played before the cut, then 2 500..4 500 for the cut play and the last one.
    assert_eq!(
        (resumed.first_start_ms(), resumed.finished_ms()),
        (Some(0), Some(4_500))
    );
    assert_eq!(player.progress(2).finished_ms(), Some(2_500));
    assert_eq!(player.progress(1).first_start_ms(), Some(4_500));
}

#[test]
fn urgent_waits_behind_urgent() {
    let mut player = Player::new(true, 60_000);
    player.add(short(0, 0, Priority::Urgent));
    player.add(short(1, 500, Priority::Urgent));
    advance(&mut player, 10_000);
    assert_eq!(first_starts(&player), [Some(0), Some(1_000)]);
    assert_eq!(player.progress(0).interruptions(), 0);
}

#[test]
fn urgent_arriving_as_a_delivery_ends_plays_next_but_between_repeats_it_interrupts() {
    let mut player = Player::new(true, 60_000);
    player.add(short(0, 0, Priority::Normal));
    player.add(short(1, 500, Priority::Normal));
    player.add(short(2, 1_000, Priority::Urgent));
    advance(&mut player, 10_000);
    assert_eq!(first_starts(&player), [Some(0), Some(2_000), Some(1_000)]);
    assert!((0..3).all(|i| player.progress(i).interruptions() == 0));

    let mut player = Player::new(true, 60_000);
    player.add(delivery(0, 0, Priority::Normal, 2, 1_000));
    player.add(short(1, 1_000, Priority::Urgent));
    advance(&mut player, 10_000);
    let cut = player.progress(0);
    assert_eq!((cut.interruptions(), cut.finished_ms()), (1, Some(3_000)));
}

#[test]
fn low_waits_for_everything_else() {
    let mut player = Player::new(true, 60_000);
    player.add(short(0, 0, Priority::Normal));
    player.add(short(1, 100, Priority::Low));
    player.add(short(2, 200, Priority::Normal));
    player.add(short(3, 300, Priority::High));
    advance(&mut player, 500);
    assert_eq!(player.queue(), [3, 2, 1]);
    advance(&mut player, 10_000);
    assert_eq!(
        first_starts(&player),
        [Some(0), Some(3_000), Some(2_000), Some(1_000)]
    );
}

#[test]
fn repeats_play_back_to_back_to_the_millisecond() {
    let mut player = Player::new(true, 60_000);
    player.add(delivery(0, 10, Priority::Normal, 3, 1_234));
    advance(&mut player, 10 + 1_234);
    assert_eq!(player.progress(0).plays_completed(), 1);
    advance(&mut player, 10 + 3 * 1_234 - 1);
    let progress = player.progress(0);
    assert_eq!(
        (progress.status(), progress.plays_completed()),
        (Status::Playing, 2)
    );
    advance(&mut player, 10 + 3 * 1_234);
    let progress = player.progress(0);
    assert_eq!(
        (progress.status(), progress.plays_completed()),
        (Status::Played, 3)
    );
    assert_eq!(progress.finished_ms(), Some(3_712));
    assert_eq!(player.now_playing(), None);
}

#[test]
fn a_scheduled_delivery_waits_until_due_then_plays() {
    let mut player = Player::new(true, 60_000);
    player.add(short(0, 5_000, Priority::Normal));
    advance(&mut player, 4_999);
    assert_eq!(player.progress(0).status(), Status::Scheduled);
    assert_eq!(player.progress(0).delivered_ms(), None);
    assert_eq!(player.queue(), [0]);
    assert_eq!(advance(&mut player, 5_000), [(0, 5_000)]);
    assert_eq!(player.progress(0).status(), Status::Playing);
    assert_eq!(player.progress(0).delivered_ms(), Some(5_000));
}

#[test]
fn offline_arrivals_wait_as_queued_until_the_player_is_back() {
    let mut player = Player::new(true, 60_000);
    player.set_online(1_000, false, 60_000);
    player.add(short(0, 2_000, Priority::Normal));
    player.add(short(1, 3_000, Priority::Normal));
    advance(&mut player, 10_000);
    assert_eq!(player.online(), (false, 60_000));
    assert_eq!(player.progress(0).status(), Status::Queued);
    assert_eq!(player.queue(), [0, 1]);
    player.set_online(20_000, true, 60_000);
    advance(&mut player, 20_000);
    assert_eq!(player.progress(1).delivered_ms(), Some(20_000));
    assert_eq!(player.progress(0).status(), Status::Playing);
    advance(&mut player, 30_000);
    assert_eq!(first_starts(&player), [Some(20_000), Some(21_000)]);
}

#[test]
fn going_offline_stops_nothing_the_player_already_holds() {
    let mut player = Player::new(true, 1_000);
    player.add(delivery(0, 0, Priority::Normal, 2, 1_000));
    player.add(short(1, 0, Priority::Normal));
    player.set_online(500, false, 1_000);
    advance(&mut player, 10_000);
    assert_eq!(player.progress(0).finished_ms(), Some(2_000));
    assert_eq!(player.progress(1).finished_ms(), Some(3_000));
    assert_eq!(player.progress(1).status(), Status::Played);
}

#[test]
fn an_offline_arrival_fails_exactly_at_its_deadline() {
    let mut player = Player::new(false, 5_000);
    player.add(short(0, 1_000, Priority::Normal));
    advance(&mut player, 5_999);
    assert_eq!(player.progress(0).status(), Status::Queued);
    advance(&mut player, 6_000);
    assert_eq!(player.progress(0).status(), Status::Failed);
    assert_eq!(player.progress(0).finished_ms(), Some(6_000));

    // The deadline is the one in force on arrival, not one recorded later.
    player.set_online(7_000, false, 100);
    player.add(short(1, 6_500, Priority::Normal));
    player.add(short(2, 8_000, Priority::Normal));
    advance(&mut player, 20_000);
    assert_eq!(player.progress(1).finished_ms(), Some(11_500));
    assert_eq!(player.progress(2).finished_ms(), Some(8_100));
}

#[test]
fn coming_online_at_the_deadline_instant_delivers() {
    let mut player = Player::new(false, 5_000);
    player.add(short(0, 1_000, Priority::Normal));
    player.set_online(6_000, true, 5_000);
    advance(&mut player, 6_000);
    assert_eq!(player.progress(0).status(), Status::Playing);
    assert_eq!(player.progress(0).delivered_ms(), Some(6_000));
}

#[test]
fn each_delivery_reports_its_first_start_once_however_it_is_advanced() {
    let mut player = Player::new(true, 60_000);
    player.add(delivery(0, 0, Priority::Normal, 2, 1_000));
    player.add(short(1, 0, Priority::Normal));
    player.add(short(2, 1_500, Priority::Urgent));
    let mut started = Vec::new();
    for now_ms in (0..=10_000).step_by(250) {
        started.extend(advance(&mut player, now_ms));
        started.extend(advance(&mut player, now_ms));
    }
    assert_eq!(started, [(0, 0), (2, 1_500), (1, 3_500)]);
}

#[test]
fn something_added_at_the_instant_reached_comes_after_what_that_instant_did() {
    let mut player = Player::new(true, 60_000);
    player.add(short(0, 0, Priority::Normal));
    advance(&mut player, 0);
    player.add(short(1, 0, Priority::Urgent));
    assert_eq!(player.next_event_ms(), 0);
    assert!(!player.advance_to(0, |_, _, _| {}));
    assert_eq!(player.now_playing(), Some(1));
    assert_eq!(player.progress(0).interruptions(), 1);
}

#[test]
fn moving_back_in_time_rebuilds_and_says_so() {
    let mut player = Player::new(true, 60_000);
    player.add(short(0, 0, Priority::Normal));
    player.add(short(1, 5_000, Priority::Normal));
    assert!(!player.advance_to(10_000, |_, _, _| {}));
    let mut calls = 0;
    assert!(player.advance_to(3_000, |_, _, _| calls += 1));
    assert_eq!(calls, 0, "a rebuild reports nothing; the caller recounts");
    assert_eq!(player.progress(0).status(), Status::Played);
    assert_eq!(player.progress(1).status(), Status::Scheduled);

    // Something added before the instant reached also rewrites the history.
    player.add(short(2, 500, Priority::Urgent));
    assert_eq!(player.next_event_ms(), i64::MIN);
    assert!(player.advance_to(3_000, |_, _, _| calls += 1));
    assert_eq!(player.progress(0).interruptions(), 1);
    assert_eq!(first_starts(&player), [Some(0), None, Some(500)]);
    assert_eq!(player.progress(0).finished_ms(), Some(2_500));
}

#[test]
fn next_event_is_the_earliest_pending_change() {
    let mut player = Player::new(true, 1_000);
    assert_eq!(player.next_event_ms(), i64::MAX);
    player.add(short(0, 5_000, Priority::Normal));
    assert_eq!(player.next_event_ms(), 5_000);
    advance(&mut player, 5_000);
    assert_eq!(player.next_event_ms(), 6_000, "the play ends");
    player.set_online(5_500, false, 1_000);
    player.add(short(1, 5_800, Priority::Normal));
    assert_eq!(player.next_event_ms(), 5_500);
    advance(&mut player, 5_500);
    assert_eq!(player.next_event_ms(), 5_800);
    advance(&mut player, 5_800);
    assert_eq!(player.next_event_ms(), 6_000);
    advance(&mut player, 6_000);
    assert_eq!(player.next_event_ms(), 6_800, "the deadline");
    advance(&mut player, 6_800);
    assert_eq!(player.progress(1).status(), Status::Failed);
    assert_eq!(player.next_event_ms(), i64::MAX);
}

#[test]
fn cancelling_a_tag_fails_what_has_not_played_and_stops_what_plays() {
    let mut player = Player::new(true, 60_000);
    player.add(delivery(1, 0, Priority::Normal, 3, 1_000));
    player.add(short(1, 0, Priority::Normal));
    player.add(short(2, 0, Priority::Normal));
    player.add(short(1, 50_000, Priority::Normal));
    player.cancel_tag(1, 1_500);
    advance(&mut player, 1_500);
    for i in [0, 1, 3] {
        assert_eq!(player.progress(i).status(), Status::Failed, "delivery {i}");
        assert_eq!(player.progress(i).finished_ms(), Some(1_500), "delivery {i}");
    }
    assert_eq!(player.progress(0).plays_completed(), 1);
    assert_eq!(player.now_playing(), Some(2));
    assert_eq!(player.queue(), Vec::<usize>::new());
    assert_eq!(
        player.next_event_ms(),
        2_500,
        "the cancelled delivery is no longer pending"
    );

    player.cancel_tag(2, 3_000);
    advance(&mut player, 100_000);
    assert_eq!(player.progress(2).status(), Status::Played);
    assert_eq!(player.progress(3).finished_ms(), Some(1_500));
}

/// xorshift64*: enough randomness for scenarios, and no new dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

struct Scenario {
    online: bool,
    deliveries: Vec<Delivery>,
    availability: Vec<(i64, bool, i64)>,
    cancels: Vec<(u32, i64)>,
}

fn scenario(rng: &mut Rng) -> Scenario {
    let priorities = [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent];
    let count = 1 + rng.below(40);
    let deliveries = (0..count)
        .map(|tag| {
            let priority = priorities[rng.below(4) as usize];
            let due_ms = rng.below(20) as i64 * 1_000 + rng.below(3) as i64 * 250;
            let repeat = 1 + rng.below(3) as u16;
            delivery(tag as u32, due_ms, priority, repeat, 1 + rng.below(2_000) as i64)
        })
        .collect();
    let availability = (0..rng.below(5))
        .map(|_| {
            (
                rng.below(25_000) as i64,
                rng.below(2) == 0,
                rng.below(5_000) as i64,
            )
        })
        .collect();
    let cancels = (0..rng.below(3))
        .map(|_| (rng.below(count) as u32, rng.below(15_000) as i64 * 2))
        .collect();
    Scenario {
        online: rng.below(2) == 0,
        deliveries,
        availability,
        cancels,
    }
}

#[test]
fn the_history_is_the_same_however_the_simulation_is_stepped() {
    const END: i64 = 1_000_000;
    for seed in 1..=200u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let s = scenario(&mut rng);
        let recorded = || {
            let mut player = Player::new(s.online, 2_000);
            for d in &s.deliveries {
                player.add(*d);
            }
            for &(at_ms, online, fail_after_ms) in &s.availability {
                player.set_online(at_ms, online, fail_after_ms);
            }
            player
        };

        let mut whole = recorded();
        s.cancels
            .iter()
            .for_each(|&(tag, at_ms)| whole.cancel_tag(tag, at_ms));
        let mut whole_starts = advance(&mut whole, END);
        whole_starts.sort_unstable();

        let mut stepped = recorded();
        s.cancels
            .iter()
            .for_each(|&(tag, at_ms)| stepped.cancel_tag(tag, at_ms));
        let mut stepped_starts = Vec::new();
        let mut now_ms = 0;
        for step in 0.. {
            if now_ms >= END {
                break;
            }
            stepped_starts.extend(advance(&mut stepped, now_ms));
            assert!(
                stepped.next_event_ms() > now_ms,
                "seed {seed}: an event was left behind"
            );
            // Mid-run too, the state is the one a single run to this instant gives.
            if step % 16 == 0 && now_ms < 40_000 {
                let mut replay = recorded();
                s.cancels
                    .iter()
                    .for_each(|&(tag, at_ms)| replay.cancel_tag(tag, at_ms));
                advance(&mut replay, now_ms);
                assert_eq!(
                    all_progress(&replay),
                    all_progress(&stepped),
                    "seed {seed} at {now_ms}"
                );
                assert_eq!(replay.queue(), stepped.queue(), "seed {seed} at {now_ms}");
            }
            now_ms += 1 + rng.below(1_500) as i64;
        }
        stepped_starts.extend(advance(&mut stepped, END));
        stepped_starts.sort_unstable();

        // Deliveries trickle in as the simulation runs; those already in the past force rebuilds.
        // Odd instants reached, even ones recorded: nothing lands on an instant already reached.
        let mut trickled = Player::new(s.online, 2_000);
        for &(at_ms, online, fail_after_ms) in &s.availability {
            trickled.set_online(at_ms, online, fail_after_ms);
        }
        for d in &s.deliveries {
            advance(&mut trickled, d.due_ms - 1 - rng.below(3) as i64 * 500);
            trickled.add(*d);
        }
        s.cancels
            .iter()
            .for_each(|&(tag, at_ms)| trickled.cancel_tag(tag, at_ms));
        advance(&mut trickled, END);

        assert_eq!(all_progress(&whole), all_progress(&stepped), "seed {seed}");
        assert_eq!(whole_starts, stepped_starts, "seed {seed}");
        assert_eq!(all_progress(&whole), all_progress(&trickled), "seed {seed}");
        let mut rebuilt = whole.clone();
        assert!(rebuilt.advance_to(END / 2, |_, _, _| {}));
        advance(&mut rebuilt, END);
        assert_eq!(all_progress(&whole), all_progress(&rebuilt), "seed {seed}");

        for (i, d) in whole.deliveries().iter().enumerate() {
            let p = whole.progress(i);
            match p.status() {
                Status::Played => assert_eq!(p.plays_completed(), u32::from(d.repeat), "seed {seed}"),
                Status::Failed => {}
                other => panic!("seed {seed}: delivery {i} still {other:?} at the end"),
            }
        }
    }
}

#[test]
fn a_delivery_and_its_state_stay_small() {
    // Benchmarks queue ~200 000 deliveries: each costs its record, a slot and a 4-byte index
    // in a queue; only those that started or finished also get a `Progress`.
    assert_eq!(size_of::<Delivery>(), 24);
    assert_eq!(size_of::<Slot>(), 4);
    assert!(size_of::<Progress>() <= 40);
}

#[test]
fn waiting_deliveries_take_no_progress_record() {
    let mut player = Player::new(true, 2_000);
    for tag in 0..100 {
        player.add(short(tag, 0, Priority::Normal));
    }
    player.add(short(100, 5_000, Priority::Normal));
    advance(&mut player, 1_500);
    // One played, one playing; 98 wait in the queue since they fell due, one is not due.
    assert_eq!(player.details.len(), 2);
    let waiting = player.progress(50);
    assert_eq!(waiting.status(), Status::Delivered);
    assert_eq!(waiting.delivered_ms(), Some(0));
    assert_eq!(waiting.first_start_ms(), None);
    assert_eq!(player.progress(100), Progress::NEW);

    player.set_online(1_600, false, 2_000);
    player.add(short(101, 1_700, Priority::Normal));
    advance(&mut player, 1_800);
    assert_eq!(player.progress(101).status(), Status::Queued);
    assert_eq!(player.details.len(), 2);
    player.set_online(1_900, true, 2_000);
    advance(&mut player, 1_900);
    // Reached the player late: that is worth a record.
    assert_eq!(player.progress(101).delivered_ms(), Some(1_900));
    assert_eq!(player.details.len(), 3);
}

fn finished_count(player: &Player) -> usize {
    all_progress(player)
        .iter()
        .filter(|p| matches!(p.status(), Status::Played | Status::Failed))
        .count()
}

/// A player whose finished deliveries are dropped as it goes, with what each original delivery
/// became: its progress when dropped, or now.
struct Compacting {
    player: Player,
    /// Current index → index in the scenario.
    original: Vec<usize>,
    dropped: Vec<Option<Progress>>,
    starts: Vec<(usize, i64)>,
}

impl Compacting {
    fn new(player: Player, count: usize) -> Compacting {
        Compacting {
            original: (0..player.deliveries().len()).collect(),
            player,
            dropped: vec![None; count],
            starts: Vec::new(),
        }
    }

    fn add(&mut self, d: Delivery, original: usize) {
        self.player.add(d);
        self.original.push(original);
    }

    fn advance(&mut self, now_ms: i64) {
        let original = &self.original;
        let starts = &mut self.starts;
        self.player
            .advance_to(now_ms, |i, _, at| starts.push((original[i], at)));
    }

    /// Whether it reached `now_ms`.
    fn advance_some(&mut self, now_ms: i64, instants: usize) -> bool {
        let original = &self.original;
        let starts = &mut self.starts;
        let (_, done) = self
            .player
            .advance_some(now_ms, instants, |i, _, at| starts.push((original[i], at)));
        done
    }

    /// Drops what finished, every other one when `half`.
    fn compact(&mut self, half: bool) {
        let before: Vec<Progress> = all_progress(&self.player);
        let mut flip = false;
        let remap = self.player.compact(|_| {
            flip = !flip;
            !half || flip
        });
        let mut original = vec![0; self.player.deliveries().len()];
        for (old, new) in remap.iter().enumerate() {
            if *new == u32::MAX {
                self.dropped[self.original[old]] = Some(before[old]);
            } else {
                original[*new as usize] = self.original[old];
            }
        }
        self.original = original;
        assert_eq!(self.player.finished(), finished_count(&self.player));
    }

    fn outcome(&self) -> Vec<Progress> {
        let mut all = self.dropped.clone();
        for (i, o) in self.original.iter().enumerate() {
            assert!(all[*o].is_none(), "delivery {o} both dropped and held");
            all[*o] = Some(self.player.progress(i));
        }
        all.into_iter()
            .map(|p| p.expect("every delivery is accounted for"))
            .collect()
    }
}

#[test]
fn dropping_finished_deliveries_changes_nothing_that_follows() {
    const END: i64 = 1_000_000;
    for seed in 1..=200u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let s = scenario(&mut rng);
        let count = s.deliveries.len();
        // Availability only; each run adds the deliveries in its own way.
        let recorded = || {
            let mut player = Player::new(s.online, 2_000);
            for &(at_ms, online, fail_after_ms) in &s.availability {
                player.set_online(at_ms, online, fail_after_ms);
            }
            player
        };
        // Cancellations recorded after the first half: they cover those deliveries only.
        let with_cancels = || {
            let mut player = recorded();
            let (first, second) = s.deliveries.split_at(count / 2);
            for d in first {
                player.add(*d);
            }
            s.cancels
                .iter()
                .for_each(|&(tag, at_ms)| player.cancel_tag(tag, at_ms));
            for d in second {
                player.add(*d);
            }
            player
        };
        let mut whole = with_cancels();
        let mut whole_starts = advance(&mut whole, END);
        whole_starts.sort_unstable();
        let expected = all_progress(&whole);

        // Everything recorded up front, stepped, compacted now and then (cancellations waiting
        // across a compaction keep to the deliveries they were recorded before).
        let mut stepped = Compacting::new(with_cancels(), count);
        let mut now_ms = 0;
        while now_ms < END {
            stepped.advance(now_ms);
            assert_eq!(
                stepped.player.finished(),
                finished_count(&stepped.player),
                "seed {seed}"
            );
            if rng.below(3) == 0 {
                stepped.compact(rng.below(2) == 0);
                assert!(
                    stepped.player.next_event_ms() > now_ms,
                    "seed {seed}: an event was lost"
                );
            }
            now_ms += 1 + rng.below(1_500) as i64;
        }
        stepped.advance(END);
        assert_eq!(stepped.outcome(), expected, "seed {seed} stepped");
        stepped.starts.sort_unstable();
        assert_eq!(stepped.starts, whole_starts, "seed {seed} stepped");

        // Sealed, and advanced to the end a few instants at a time.
        let mut sliced = Compacting::new(with_cancels(), count);
        sliced.player.seal();
        while !sliced.advance_some(END, 1 + rng.below(4) as usize) {
            let reached = sliced.player.reached_ms();
            assert!(
                sliced.player.next_event_ms() > reached,
                "seed {seed}: an instant left half done"
            );
            if rng.below(2) == 0 {
                sliced.compact(false);
            }
        }
        assert_eq!(sliced.outcome(), expected, "seed {seed} sliced");
        sliced.starts.sort_unstable();
        assert_eq!(sliced.starts, whole_starts, "seed {seed} sliced");

        // Deliveries trickling in by due time, compacted before each one arrives (no
        // cancellations: one recorded late covers fewer deliveries than in the whole run).
        let mut by_due: Vec<(usize, Delivery)> = s.deliveries.iter().copied().enumerate().collect();
        by_due.sort_by_key(|(_, d)| d.due_ms);
        let mut whole = recorded();
        by_due.iter().for_each(|(_, d)| {
            whole.add(*d);
        });
        advance(&mut whole, END);
        let mut expected = vec![Progress::NEW; count];
        for (rank, (i, _)) in by_due.iter().enumerate() {
            expected[*i] = whole.progress(rank);
        }
        let mut trickled = Compacting::new(recorded(), count);
        for (i, d) in &by_due {
            trickled.advance(d.due_ms - 1 - rng.below(3) as i64 * 500);
            trickled.compact(false);
            trickled.add(*d, *i);
        }
        trickled.advance(END);
        assert_eq!(trickled.outcome(), expected, "seed {seed} trickled");
    }
}

#[test]
fn a_sealed_player_keeps_its_past_and_takes_what_comes_late_as_now() {
    let mut player = Player::new(true, 60_000);
    player.add(short(0, 0, Priority::Normal));
    player.add(short(1, 0, Priority::Normal));
    advance(&mut player, 1_500);
    let remap = player.compact(|_| true);
    assert_eq!(remap, [u32::MAX, 0]);
    assert!(player.is_sealed());
    assert_eq!(player.deliveries().len(), 1);
    assert_eq!(player.now_playing(), Some(0));

    // Back in time: nothing is rebuilt, nothing reported.
    assert!(!player.advance_to(500, |_, _, _| panic!("nothing starts")));
    assert_eq!(player.reached_ms(), 1_500);
    assert_eq!(player.progress(0).status(), Status::Playing);

    // Added in the past: it arrives at the instant reached, after what that instant did.
    player.add(short(2, 200, Priority::Urgent));
    assert_eq!(player.next_event_ms(), 1_500);
    advance(&mut player, 1_500);
    assert_eq!(player.now_playing(), Some(1), "urgent interrupts");
    assert_eq!(player.progress(1).delivered_ms(), Some(1_500));
    player.set_online(100, false, 1_000);
    advance(&mut player, 1_500);
    assert_eq!(player.online(), (false, 1_000));
    advance(&mut player, 10_000);
    // Cut at 1 500, the play starts again after the urgent second.
    assert_eq!(player.progress(0).finished_ms(), Some(3_500));
    assert_eq!(player.finished(), 2);

    // A player that must rebuild is not sealed and drops nothing.
    let mut stale = Player::new(true, 60_000);
    stale.add(short(0, 0, Priority::Normal));
    advance(&mut stale, 5_000);
    stale.add(short(1, 100, Priority::Normal));
    assert_eq!(stale.compact(|_| true), [0, 1]);
    assert!(!stale.is_sealed());
}

#[test]
fn retagging_renames_deliveries_and_forgets_cancellations_of_gone_tags() {
    let mut player = Player::new(true, 60_000);
    player.add(short(5, 0, Priority::Normal));
    player.add(short(7, 10_000, Priority::Normal));
    player.cancel_tag(7, 20_000);
    player.cancel_tag(9, 20_000);
    player.retag(&[0, 0, 0, 0, 0, 1, 0, 2, 0, u32::MAX]);
    assert_eq!(
        player.deliveries().iter().map(|d| d.tag).collect::<Vec<_>>(),
        [1, 2]
    );
    advance(&mut player, 30_000);
    assert_eq!(
        player.progress(1).status(),
        Status::Played,
        "due before its cancellation"
    );
    assert_eq!(player.cancels.len(), 1);
}

#[test]
fn retagging_away_a_cancellation_that_took_effect_keeps_the_ones_to_come() {
    // A company cancels on every player, so this one holds tag 0's cancellation though none of
    // its deliveries carries tag 0; tag 0's send then leaves with the deliveries another player
    // dropped, while this one drops nothing.
    let mut player = Player::new(true, 60_000);
    player.add(short(1, 0, Priority::Normal));
    player.add(short(2, 5_000, Priority::Normal));
    player.cancel_tag(0, 500);
    player.cancel_tag(2, 3_000);
    advance(&mut player, 2_000);
    assert_eq!(player.compact(|_| false), [0, 1]);
    player.retag(&[u32::MAX, 0, 1]);
    advance(&mut player, 10_000);
    assert_eq!(
        player.progress(1).status(),
        Status::Failed,
        "tag 2's cancellation still takes effect"
    );
    assert_eq!(player.compact(|_| true), [u32::MAX, u32::MAX]);

    // The cancellation that took effect was the last: the next drop still finds its place.
    let mut player = Player::new(true, 60_000);
    player.add(short(1, 0, Priority::Normal));
    player.cancel_tag(0, 500);
    advance(&mut player, 2_000);
    assert_eq!(player.compact(|_| false), [0]);
    player.retag(&[u32::MAX, 0]);
    assert_eq!(player.compact(|_| true), [u32::MAX]);
    assert!(player.deliveries().is_empty());
}
