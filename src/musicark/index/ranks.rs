//! How many songs of any stretch of an ordering are visible, in O(log n): a wavelet matrix over
//! the songs' places in the newest-first order, since visible means "at or past the cut".

/// One level's bits, with the count of ones before each 64-bit word.
#[derive(Debug, Default)]
struct Level {
    words: Vec<u64>,
    /// `ones[i]` = ones in `words[..i]`; one more entry than `words`.
    ones: Vec<u32>,
    zeros: usize,
}

impl Level {
    /// From the words of its bits, `len` of them.
    fn new(words: Vec<u64>, len: usize) -> Level {
        let mut ones = Vec::with_capacity(words.len() + 1);
        let mut total = 0u32;
        for w in &words {
            ones.push(total);
            total += w.count_ones();
        }
        ones.push(total);
        Level {
            words,
            ones,
            zeros: len - total as usize,
        }
    }

    /// Zeros in `[0, i)`.
    fn rank0(&self, i: usize) -> usize {
        let (word, bit) = (i / 64, i % 64);
        let below = self.words[word] & ((1u64 << bit) - 1);
        i - (self.ones[word] + below.count_ones()) as usize
    }
}

/// Counts, for a sequence of distinct song places, those at or past a cut within a range.
#[derive(Debug, Default)]
pub struct Ranks {
    levels: Vec<Level>,
    len: usize,
}

impl Ranks {
    /// Over `values`, each below `bound`.
    pub fn new(values: &[u32], bound: usize) -> Ranks {
        let depth = (usize::BITS - bound.saturating_sub(1).leading_zeros()) as usize;
        let mut current = values.to_vec();
        let (mut next, mut ones) = (vec![0u32; values.len()], vec![0u32; values.len()]);
        let mut levels = Vec::with_capacity(depth);
        for level in 0..depth {
            let shift = depth - 1 - level;
            let mut words = Vec::with_capacity(values.len() / 64 + 1);
            // One pass: each value's bit, and a stable split, zeros first, then ones. Every
            // value is written to both sides and kept on one, with no branch: the bits are
            // as good as random, and a branch on each would be mispredicted half the time.
            let (mut zeros, mut high) = (0, 0);
            for chunk in current.chunks(64) {
                let mut word = 0u64;
                for (i, v) in chunk.iter().enumerate() {
                    let bit = (v >> shift) & 1;
                    word |= u64::from(bit) << i;
                    next[zeros] = *v;
                    ones[high] = *v;
                    zeros += 1 - bit as usize;
                    high += bit as usize;
                }
                words.push(word);
            }
            if values.len().is_multiple_of(64) {
                words.push(0);
            }
            next[zeros..].copy_from_slice(&ones[..high]);
            levels.push(Level::new(words, values.len()));
            std::mem::swap(&mut current, &mut next);
        }
        Ranks {
            levels,
            len: values.len(),
        }
    }

    /// Values below `cut` among positions `[lo, hi)`.
    pub fn count_below(&self, mut lo: usize, mut hi: usize, cut: usize) -> usize {
        let depth = self.levels.len();
        if cut >> depth != 0 {
            // Past every value (or, with no levels, past the only value, 0).
            return hi - lo;
        }
        let mut below = 0;
        for (level, bits) in self.levels.iter().enumerate() {
            let (zeros_lo, zeros_hi) = (bits.rank0(lo), bits.rank0(hi));
            if (cut >> (depth - 1 - level)) & 1 == 1 {
                // Those with a 0 here are below the cut whatever their lower bits.
                below += zeros_hi - zeros_lo;
                lo = bits.zeros + (lo - zeros_lo);
                hi = bits.zeros + (hi - zeros_hi);
            } else {
                lo = zeros_lo;
                hi = zeros_hi;
            }
        }
        below
    }

    /// Values at or past `cut` among positions `[lo, hi)`.
    pub fn count_from(&self, lo: usize, hi: usize, cut: usize) -> usize {
        hi - lo - self.count_below(lo, hi, cut)
    }

    /// The position after the first `skip` values at or past `cut` (`len` when fewer).
    pub fn skip_from(&self, skip: usize, cut: usize) -> usize {
        // The first position p with count_from(0, p) > skip holds the (skip + 1)-th such value.
        let (mut lo, mut hi) = (0, self.len);
        if self.count_from(0, hi, cut) <= skip {
            return self.len;
        }
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.count_from(0, mid + 1, cut) > skip {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    }

    pub fn heap_bytes(&self) -> usize {
        self.levels
            .iter()
            .map(|l| l.words.capacity() * 8 + l.ones.capacity() * 4)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A permutation of `0..n` from a small LCG, so the test needs no crate.
    fn shuffled(n: usize, seed: u64) -> Vec<u32> {
        let mut v: Vec<u32> = (0..n as u32).collect();
        let mut state = seed;
        for i in (1..n).rev() {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            v.swap(i, (state >> 33) as usize % (i + 1));
        }
        v
    }

    #[test]
    fn counts_match_a_plain_count_for_every_range_and_cut() {
        for n in [0, 1, 2, 3, 63, 64, 65, 200] {
            let values = shuffled(n, n as u64 + 1);
            let ranks = Ranks::new(&values, n);
            for lo in 0..=n {
                for hi in lo..=n {
                    for cut in [0, 1, n / 3, n / 2, n.saturating_sub(1), n, n + 5] {
                        let plain = values[lo..hi].iter().filter(|v| (**v as usize) >= cut).count();
                        assert_eq!(
                            ranks.count_from(lo, hi, cut),
                            plain,
                            "n {n} [{lo}, {hi}) cut {cut}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn skipping_lands_on_the_next_value_past_the_cut() {
        let n = 300;
        let values = shuffled(n, 9);
        let ranks = Ranks::new(&values, n);
        for cut in [0, 1, 150, 299, 300] {
            let visible: Vec<usize> = (0..n).filter(|p| values[*p] as usize >= cut).collect();
            for skip in 0..=visible.len() + 2 {
                let expected = visible.get(skip).copied().unwrap_or(n);
                assert_eq!(ranks.skip_from(skip, cut), expected, "cut {cut} skip {skip}");
            }
        }
    }
}
