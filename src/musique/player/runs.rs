//! A player's deliveries as they were added, kept as runs: consecutive deliveries of one kind,
//! due at one instant, whose tags count up by one (consecutive sends to one store) are one
//! 24-byte [`Run`]. A backlog of a hundred thousand sends that arrived a few per millisecond is
//! then a few bytes per delivery instead of 16. Read one by one, by index or in order, it gives
//! back exactly the [`Held`] values pushed.

/// A delivery as a player holds it: 16 bytes instead of [`super::Delivery`]'s 24.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Held {
    pub due_ms: i64,
    pub tag: u32,
    /// Its index in `Player::kinds`.
    pub kind: u32,
}

/// Deliveries `first..` up to the next run's `first` (or the end): the `k`-th of them has tag
/// `tag + k`, and all have `due_ms` and `kind`.
#[derive(Clone, Copy, Debug)]
struct Run {
    first: u32,
    tag: u32,
    kind: u32,
    due_ms: i64,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Runs {
    runs: Vec<Run>,
    len: u32,
}

impl Runs {
    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many runs hold the deliveries (for tests and measurements).
    #[cfg(test)]
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    pub fn push(&mut self, held: Held) {
        let index = self.len;
        self.len = index
            .checked_add(1)
            .expect("a player holds fewer than 2³² deliveries");
        if let Some(last) = self.runs.last()
            && last.kind == held.kind
            && last.due_ms == held.due_ms
            && last.tag.checked_add(index - last.first) == Some(held.tag)
        {
            return;
        }
        self.runs.push(Run {
            first: index,
            tag: held.tag,
            kind: held.kind,
            due_ms: held.due_ms,
        });
    }

    /// Panics on an index not below [`Runs::len`].
    pub fn get(&self, index: u32) -> Held {
        assert!(index < self.len, "delivery {index} of {}", self.len);
        let run = self.runs[self.runs.partition_point(|r| r.first <= index) - 1];
        held(run, index)
    }

    pub fn last(&self) -> Option<Held> {
        let run = *self.runs.last()?;
        Some(held(run, self.len - 1))
    }

    pub fn iter(&self) -> impl Iterator<Item = Held> + '_ {
        (self.runs.iter().enumerate()).flat_map(move |(r, &run)| {
            let end = self.runs.get(r + 1).map_or(self.len, |next| next.first);
            (run.first..end).map(move |i| held(run, i))
        })
    }

    /// Every delivery rewritten by `f`, in order (runs split or merge as the results say).
    pub fn rewrite(&mut self, mut f: impl FnMut(Held) -> Held) {
        let mut out = Runs {
            runs: Vec::with_capacity(self.runs.len()),
            len: 0,
        };
        for held in self.iter() {
            out.push(f(held));
        }
        *self = out;
    }

    /// Only the deliveries `keep` says yes to (by index), in order.
    pub fn retain(&mut self, mut keep: impl FnMut(u32) -> bool) {
        let mut out = Runs::default();
        for (i, held) in self.iter().enumerate() {
            if keep(i as u32) {
                out.push(held);
            }
        }
        super::shrink(&mut out.runs);
        *self = out;
    }
}

fn held(run: Run, index: u32) -> Held {
    Held {
        due_ms: run.due_ms,
        // Never overflows: `push` only extends a run whose next tag exists.
        tag: run.tag + (index - run.first),
        kind: run.kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), so a failure names its seed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Deliveries the way sends make them: mostly the next tag, the same kind and due time,
    /// sometimes a jump, a repeated tag, another kind, a later or earlier due time, tags at
    /// the top of the range.
    fn deliveries(rng: &mut Rng, n: usize) -> Vec<Held> {
        let mut out = Vec::new();
        let mut next = Held {
            due_ms: rng.below(1000) as i64 - 500,
            tag: rng.below(5) as u32,
            kind: 0,
        };
        for _ in 0..n {
            out.push(next);
            match rng.below(10) {
                0 => next.due_ms += rng.below(3) as i64,
                1 => next.due_ms -= rng.below(3) as i64,
                2 => next.kind = rng.below(3) as u32,
                3 => next.tag = next.tag.wrapping_add(rng.below(3) as u32),
                4 => next.tag = u32::MAX - rng.below(3) as u32,
                _ => next.tag = next.tag.wrapping_add(1),
            }
            if rng.below(4) == 0 {
                next.tag = next.tag.wrapping_add(1);
            }
        }
        out
    }

    fn same(runs: &Runs, plain: &[Held]) {
        assert_eq!(runs.len(), plain.len());
        assert_eq!(runs.is_empty(), plain.is_empty());
        assert_eq!(runs.iter().collect::<Vec<_>>(), plain);
        for (i, held) in plain.iter().enumerate() {
            assert_eq!(runs.get(i as u32), *held, "delivery {i}");
        }
        assert_eq!(runs.last(), plain.last().copied());
    }

    #[test]
    fn runs_give_back_every_delivery_in_order_for_random_inputs() {
        for seed in 1..300u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let n = rng.below(200) as usize;
            let mut plain = deliveries(&mut rng, n);
            let mut runs = Runs::default();
            for (i, &held) in plain.iter().enumerate() {
                runs.push(held);
                same(&runs, &plain[..=i]);
            }
            same(&runs, &plain);

            let shift = rng.below(3) as u32;
            let rewrite = |h: Held| Held {
                tag: h.tag / 2 + shift,
                kind: h.kind % 2,
                ..h
            };
            runs.rewrite(rewrite);
            plain.iter_mut().for_each(|h| *h = rewrite(*h));
            same(&runs, &plain);

            let keep: Vec<bool> = (0..plain.len()).map(|_| rng.below(3) != 0).collect();
            runs.retain(|i| keep[i as usize]);
            let mut at = 0;
            plain.retain(|_| {
                at += 1;
                keep[at - 1]
            });
            same(&runs, &plain);
        }
    }

    #[test]
    fn consecutive_sends_due_at_one_instant_are_one_run() {
        let mut runs = Runs::default();
        for tag in 0..100_000 {
            runs.push(Held {
                due_ms: 7 + i64::from(tag / 10_000),
                tag,
                kind: 3,
            });
        }
        assert_eq!(runs.runs(), 10);
        assert_eq!(
            runs.get(54_321),
            Held {
                due_ms: 12,
                tag: 54_321,
                kind: 3
            }
        );
        // A repeated tag, another kind or another instant starts a run.
        let last = runs.last().expect("a delivery");
        runs.push(last);
        runs.push(Held {
            kind: 4,
            tag: last.tag + 1,
            ..last
        });
        runs.push(Held {
            due_ms: 99,
            tag: last.tag + 2,
            kind: 4,
        });
        assert_eq!(runs.runs(), 13);
        assert_eq!(runs.len(), 100_003);
    }

    #[test]
    #[should_panic(expected = "delivery 3 of 3")]
    fn an_index_past_the_end_panics() {
        let mut runs = Runs::default();
        (0..3).for_each(|tag| {
            runs.push(Held {
                due_ms: 0,
                tag,
                kind: 0,
            })
        });
        runs.get(3);
    }
}
