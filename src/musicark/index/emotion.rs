//! The emotional dimensions as bit-sliced bitmaps: for each dimension, bit `b` of every song's
//! value, 64 songs to a word, so inclusive bounds are a few word operations per 64 songs and
//! the count of matches is a popcount, never a walk over each song.

/// Values are clamped to 0–1000, which fits in 10 bits.
const PLANES: usize = 10;
pub const MAX_VALUE: u16 = 1000;

/// One dimension: for each word of 64 songs, the 10 bit planes of their values.
#[derive(Debug, Default)]
struct Dimension {
    words: Vec<[u64; PLANES]>,
    /// Whether any song holds 0, which the lowest bound (1) excludes.
    has_zero: bool,
}

impl Dimension {
    /// The songs of `word` whose value lies in `lo..=hi`, by the comparison of bit-sliced
    /// indexes (O'Neil): from the top bit down, keep who is still equal to the bound and who is
    /// already past it.
    fn within(&self, word: usize, lo: u16, hi: u16, test_lo: bool, test_hi: bool) -> u64 {
        let planes = &self.words[word];
        let (mut above_lo, mut equal_lo) = (0u64, !0u64);
        let (mut below_hi, mut equal_hi) = (0u64, !0u64);
        for bit in (0..PLANES).rev() {
            let plane = planes[bit];
            if test_lo {
                if (lo >> bit) & 1 == 1 {
                    equal_lo &= plane;
                } else {
                    above_lo |= equal_lo & plane;
                    equal_lo &= !plane;
                }
            }
            if test_hi {
                if (hi >> bit) & 1 == 1 {
                    below_hi |= equal_hi & !plane;
                    equal_hi &= plane;
                } else {
                    equal_hi &= !plane;
                }
            }
        }
        let mut inside = !0u64;
        if test_lo {
            inside &= above_lo | equal_lo;
        }
        if test_hi {
            inside &= below_hi | equal_hi;
        }
        inside
    }
}

/// Every song's eight emotional values, in the catalogue's order.
#[derive(Debug, Default)]
pub struct Emotions {
    dimensions: Vec<Dimension>,
    len: usize,
}

impl Emotions {
    /// From each song's values in order, each already clamped to 0–1000.
    pub fn build<const D: usize>(values: impl ExactSizeIterator<Item = [u16; D]>) -> Emotions {
        let len = values.len();
        let mut dimensions: Vec<Dimension> = (0..D)
            .map(|_| Dimension {
                words: vec![[0; PLANES]; len.div_ceil(64)],
                has_zero: false,
            })
            .collect();
        for (song, row) in values.enumerate() {
            let (word, bit) = (song / 64, song % 64);
            for (dimension, value) in dimensions.iter_mut().zip(row) {
                let value = value.min(MAX_VALUE);
                dimension.has_zero |= value == 0;
                for (plane, slot) in dimension.words[word].iter_mut().enumerate() {
                    *slot |= u64::from((value >> plane) & 1) << bit;
                }
            }
        }
        Emotions { dimensions, len }
    }

    /// The songs from `first` on whose every value lies inside its bounds (`bounds[d]` for
    /// dimension `d`, inclusive, within 1–1000): how many, and the first `keep` of them.
    pub fn search(&self, bounds: &[(u16, u16)], first: usize, keep: usize) -> (usize, Vec<usize>) {
        // Only the bounds that can exclude a song are tested: every value is at most 1000, and
        // at least 1 unless some song holds 0.
        let mut tests: Vec<(&Dimension, u16, u16, bool, bool)> = self
            .dimensions
            .iter()
            .zip(bounds)
            .filter_map(|(d, &(lo, hi))| {
                let (test_lo, test_hi) = (lo > 1 || d.has_zero, hi < MAX_VALUE);
                (test_lo || test_hi).then_some((d, lo, hi, test_lo, test_hi))
            })
            .collect();
        // Narrow bounds first: a word whose songs all fail stops early.
        tests.sort_by_key(|(_, lo, hi, _, _)| hi.saturating_sub(*lo));
        let (mut total, mut found) = (0, Vec::with_capacity(keep));
        let words = self.len.div_ceil(64);
        for word in first / 64..words {
            let mut inside = !0u64;
            if word == first / 64 {
                inside &= !0u64 << (first % 64);
            }
            if word == words - 1 && !self.len.is_multiple_of(64) {
                inside &= (1u64 << (self.len % 64)) - 1;
            }
            for (d, lo, hi, test_lo, test_hi) in &tests {
                if inside == 0 {
                    break;
                }
                inside &= d.within(word, *lo, *hi, *test_lo, *test_hi);
            }
            total += inside.count_ones() as usize;
            while inside != 0 && found.len() < keep {
                found.push(word * 64 + inside.trailing_zeros() as usize);
                inside &= inside - 1;
            }
        }
        (total, found)
    }

    pub fn heap_bytes(&self) -> usize {
        self.dimensions
            .iter()
            .map(|d| d.words.capacity() * size_of::<[u64; PLANES]>())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(values: &[[u16; 2]], bounds: &[(u16, u16)], first: usize) -> Vec<usize> {
        (first..values.len())
            .filter(|s| {
                values[*s]
                    .iter()
                    .zip(bounds)
                    .all(|(v, (lo, hi))| (*lo..=*hi).contains(&(*v).min(MAX_VALUE)))
            })
            .collect()
    }

    #[test]
    fn bounds_are_inclusive_and_match_a_plain_scan() {
        let values: Vec<[u16; 2]> = (0..300u16)
            .map(|i| [(i * 37) % 1001, (i * 11 + 5) % 1001])
            .collect();
        let index = Emotions::build(values.iter().copied());
        let cases = [
            [(1, 1000), (1, 1000)],
            [(500, 1000), (1, 600)],
            [(37, 37), (1, 1000)],
            [(1, 1), (16, 16)],
            [(999, 1000), (1, 1000)],
            [(1, 511), (512, 1000)],
            [(1000, 1000), (1, 1000)],
        ];
        for bounds in cases {
            for first in [0, 1, 63, 64, 65, 299, 300] {
                let expected = plain(&values, &bounds, first);
                let (total, found) = index.search(&bounds, first, 5);
                assert_eq!(total, expected.len(), "{bounds:?} from {first}");
                assert_eq!(
                    found,
                    expected[..expected.len().min(5)],
                    "{bounds:?} from {first}"
                );
            }
        }
    }

    #[test]
    fn a_zero_is_outside_even_the_widest_bounds() {
        // Values are clamped to 0–1000; bounds start at 1, so a song holding 0 never matches.
        let values = [[0u16, 5], [5, 5], [2000, 5]];
        let index = Emotions::build(values.iter().copied());
        assert_eq!(index.search(&[(1, 1000), (1, 1000)], 0, 10), (2, vec![1, 2]));
        assert_eq!(index.search(&[(1000, 1000), (1, 1000)], 0, 10), (1, vec![2]));
    }

    #[test]
    fn an_empty_catalogue_matches_nothing() {
        let index = Emotions::build(std::iter::empty::<[u16; 8]>());
        assert_eq!(index.search(&[(1, 1000); 8], 0, 10), (0, vec![]));
    }
}
