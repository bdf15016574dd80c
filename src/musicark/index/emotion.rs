//! The emotional dimensions as bit-sliced bitmaps: for each dimension, bit `b` of every song's
//! value, 64 songs to a word, so inclusive bounds are a few word operations per 64 songs and
//! the count of matches is a popcount, never a walk over each song.

/// Values are clamped to 0–1000, which fits in 10 bits.
const PLANES: usize = 10;
pub const MAX_VALUE: u16 = 1000;

/// Words of 64 songs compared at a time: the planes' stretches and the masks stay in L1.
const CHUNK: usize = 64;

/// One dimension: bit `b` of every song's value, 64 songs to a word, one array per bit.
#[derive(Debug, Default)]
struct Dimension {
    planes: [Vec<u64>; PLANES],
    /// Whether any song holds 0, which the lowest bound (1) excludes.
    has_zero: bool,
}

/// One bound to test: a dimension and which sides of `lo..=hi` can exclude a song.
struct Test<'a> {
    dimension: &'a Dimension,
    lo: Option<u16>,
    hi: Option<u16>,
}

impl Dimension {
    /// ANDs into `inside` (words `start..`) the songs whose value is at least `lo`, by the
    /// comparison of bit-sliced indexes (O'Neil): from the top bit down, who is already
    /// above and who is still equal. Below the lowest set bit of `lo`, equal is enough.
    fn at_least(&self, lo: u16, start: usize, inside: &mut [u64]) {
        let (mut above, mut equal) = ([0u64; CHUNK], [!0u64; CHUNK]);
        let n = inside.len();
        for bit in (lo.trailing_zeros().min(PLANES as u32) as usize..PLANES).rev() {
            let plane = &self.planes[bit][start..start + n];
            if (lo >> bit) & 1 == 1 {
                for (e, p) in equal.iter_mut().zip(plane) {
                    *e &= p;
                }
            } else {
                for ((a, e), p) in above.iter_mut().zip(equal.iter_mut()).zip(plane) {
                    *a |= *e & p;
                    *e &= !p;
                }
            }
        }
        for ((i, a), e) in inside.iter_mut().zip(above).zip(equal) {
            *i &= a | e;
        }
    }

    /// ANDs into `inside` the songs whose value is at most `hi`; below the lowest clear bit
    /// of `hi`, equal is enough.
    fn at_most(&self, hi: u16, start: usize, inside: &mut [u64]) {
        let (mut below, mut equal) = ([0u64; CHUNK], [!0u64; CHUNK]);
        let n = inside.len();
        for bit in (hi.trailing_ones().min(PLANES as u32) as usize..PLANES).rev() {
            let plane = &self.planes[bit][start..start + n];
            if (hi >> bit) & 1 == 1 {
                for ((b, e), p) in below.iter_mut().zip(equal.iter_mut()).zip(plane) {
                    *b |= *e & !p;
                    *e &= p;
                }
            } else {
                for (e, p) in equal.iter_mut().zip(plane) {
                    *e &= !p;
                }
            }
        }
        for ((i, b), e) in inside.iter_mut().zip(below).zip(equal) {
            *i &= b | e;
        }
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
        let words = len.div_ceil(64);
        let mut dimensions: Vec<Dimension> = (0..D)
            .map(|_| Dimension {
                planes: std::array::from_fn(|_| vec![0; words]),
                has_zero: false,
            })
            .collect();
        for (song, row) in values.enumerate() {
            let (word, bit) = (song / 64, song % 64);
            for (dimension, value) in dimensions.iter_mut().zip(row) {
                let value = value.min(MAX_VALUE);
                dimension.has_zero |= value == 0;
                let mut rest = value;
                while rest != 0 {
                    let plane = rest.trailing_zeros() as usize;
                    dimension.planes[plane][word] |= 1 << bit;
                    rest &= rest - 1;
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
        let tests: Vec<Test> = self
            .dimensions
            .iter()
            .zip(bounds)
            .map(|(dimension, &(lo, hi))| Test {
                dimension,
                lo: (lo > 1 || dimension.has_zero).then_some(lo),
                hi: (hi < MAX_VALUE).then_some(hi),
            })
            .filter(|t| t.lo.is_some() || t.hi.is_some())
            .collect();
        let (mut total, mut found) = (0, Vec::with_capacity(keep));
        let words = self.len.div_ceil(64);
        let mut start = first / 64;
        while start < words {
            let n = CHUNK.min(words - start);
            let mut inside = [!0u64; CHUNK];
            let inside = &mut inside[..n];
            if start == first / 64 {
                inside[0] &= !0u64 << (first % 64);
            }
            if start + n == words && !self.len.is_multiple_of(64) {
                inside[n - 1] &= (1u64 << (self.len % 64)) - 1;
            }
            for test in &tests {
                if let Some(lo) = test.lo {
                    test.dimension.at_least(lo, start, inside);
                }
                if let Some(hi) = test.hi {
                    test.dimension.at_most(hi, start, inside);
                }
            }
            for (i, word) in inside.iter().enumerate() {
                total += word.count_ones() as usize;
                let mut word = *word;
                while word != 0 && found.len() < keep {
                    found.push((start + i) * 64 + word.trailing_zeros() as usize);
                    word &= word - 1;
                }
            }
            start += n;
        }
        (total, found)
    }

    pub fn heap_bytes(&self) -> usize {
        self.dimensions
            .iter()
            .map(|d| d.planes.iter().map(|p| p.capacity() * 8).sum::<usize>())
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
