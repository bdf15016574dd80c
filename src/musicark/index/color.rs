//! Colour search by a k-d tree over OKLab: whole boxes of songs are counted or skipped by
//! their distance to the query, and the nearest are found best first, so a search touches the
//! songs near the edge of `max_distance` and near the query, not every song.
//!
//! Distances stay exactly those of [`color::distance`] (spec §3's closed form over OKLCH): the
//! tree's coordinates (OKLab in `f32`) only decide what may be skipped, with a margin far wider
//! than their rounding, and every song that could be on either side of a bound is measured
//! with the closed form itself.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::ranks::Ranks;
use crate::musicark::color::{self, Oklch};

/// Songs per leaf: small enough that few are measured along the edge of a search, large
/// enough that the tree stays shallow.
const LEAF: usize = 16;

#[derive(Clone, Copy, Debug)]
struct Point {
    lab: [f32; 3],
    song: u32,
}

/// A node's bounds: the smallest and largest of each coordinate over its songs.
#[derive(Clone, Copy, Debug, Default)]
struct Bounds {
    min: [f32; 3],
    max: [f32; 3],
}

impl Bounds {
    /// Squared distances from `t` to the nearest and the farthest corner of the box.
    fn reach(&self, t: &[f64; 3]) -> (f64, f64) {
        let (mut near, mut far) = (0.0, 0.0);
        for ((lo, hi), t) in self.min.iter().zip(&self.max).zip(t) {
            let (lo, hi) = (f64::from(*lo), f64::from(*hi));
            let gap = (lo - t).max(t - hi).max(0.0);
            let span = (t - lo).abs().max((hi - t).abs());
            near += gap * gap;
            far += span * span;
        }
        (near, far)
    }
}

/// Every song's colour, by its place in the catalogue.
#[derive(Debug, Default)]
pub struct Colors {
    /// `[l, c, h]` as stored, the hue 0 when undefined: what distances are measured from.
    lch: Vec<[f64; 3]>,
    /// The tree's songs: each node is a contiguous stretch, each leaf sorted by place.
    points: Vec<Point>,
    /// Per node in heap order (children of `i` at `2i + 1`, `2i + 2`).
    bounds: Vec<Bounds>,
    /// Per node, the largest place below it: the node holds a visible song iff it is at or
    /// past the cut.
    latest: Vec<u32>,
    /// Visible songs in any stretch of `points`.
    ranks: Ranks,
    /// Songs whose coordinates are not finite: measured one by one.
    odd: Vec<u32>,
    /// How far (in OKLab units) an `f32` position may be from the closed form's distance.
    margin: f64,
}

fn lab_of([l, c, h]: [f64; 3]) -> [f64; 3] {
    let (sin, cos) = h.to_radians().sin_cos();
    [l, c * cos, c * sin]
}

fn squared(a: &[f32; 3], t: &[f64; 3]) -> f64 {
    (0..3).map(|d| (f64::from(a[d]) - t[d]).powi(2)).sum()
}

impl Colors {
    pub fn build(lch: Vec<[f64; 3]>) -> Colors {
        let mut points = Vec::with_capacity(lch.len());
        let mut odd = Vec::new();
        let mut largest = 0.0f64;
        for (song, value) in lch.iter().enumerate() {
            let lab = lab_of(*value);
            if lab.iter().all(|v| v.is_finite()) && value.iter().all(|v| v.is_finite()) {
                largest = lab.iter().fold(largest, |m, v| m.max(v.abs()));
                points.push(Point {
                    lab: lab.map(|v| v as f32),
                    song: song as u32,
                });
            } else {
                odd.push(song as u32);
            }
        }
        let nodes = node_count(points.len());
        let mut colors = Colors {
            lch,
            bounds: vec![Bounds::default(); nodes],
            latest: vec![0; nodes],
            points,
            ranks: Ranks::default(),
            odd,
            // f32 keeps 24 bits: each coordinate is within |v|·2⁻²⁴ of its f64, so a position
            // within √3·|v|·2⁻²⁴; the closed form and OKLab agree to ~1e-15. Ten times that.
            margin: 1e-6 * (1.0 + largest),
        };
        if !colors.points.is_empty() {
            colors.split(0, 0, colors.points.len());
        }
        let places: Vec<u32> = colors.points.iter().map(|p| p.song).collect();
        colors.ranks = Ranks::new(&places, colors.lch.len());
        colors
    }

    fn split(&mut self, node: usize, lo: usize, hi: usize) {
        let span = &mut self.points[lo..hi];
        let mut b = Bounds {
            min: [f32::INFINITY; 3],
            max: [f32::NEG_INFINITY; 3],
        };
        let mut latest = 0;
        for p in span.iter() {
            for d in 0..3 {
                b.min[d] = b.min[d].min(p.lab[d]);
                b.max[d] = b.max[d].max(p.lab[d]);
            }
            latest = latest.max(p.song);
        }
        self.bounds[node] = b;
        self.latest[node] = latest;
        if hi - lo <= LEAF {
            span.sort_unstable_by_key(|p| p.song);
            return;
        }
        let widest = (0..3)
            .max_by(|x, y| (b.max[*x] - b.min[*x]).total_cmp(&(b.max[*y] - b.min[*y])))
            .unwrap_or(0);
        let mid = (hi - lo) / 2;
        span.select_nth_unstable_by(mid, |p, q| p.lab[widest].total_cmp(&q.lab[widest]));
        self.split(2 * node + 1, lo, lo + mid);
        self.split(2 * node + 2, lo + mid, hi);
    }

    fn distance(&self, target: Oklch, song: u32) -> f64 {
        let [l, c, h] = self.lch[song as usize];
        color::distance(target, Oklch { l, c, h })
    }

    /// The songs from place `first` on within `max_distance` of `target`: how many, and the
    /// `keep` nearest with their distances (ties: the earlier place first).
    pub fn search(
        &self,
        target: Oklch,
        max_distance: f64,
        first: usize,
        keep: usize,
    ) -> (usize, Vec<(f64, usize)>) {
        let query = Query {
            colors: self,
            target,
            lab: lab_of([target.l, target.c, target.h]),
            max_distance,
            first,
        };
        let total = query.count();
        let nearest = query.nearest(keep);
        (total, nearest)
    }

    pub fn heap_bytes(&self) -> usize {
        self.lch.capacity() * 24
            + self.points.capacity() * size_of::<Point>()
            + self.bounds.capacity() * size_of::<Bounds>()
            + self.latest.capacity() * 4
            + self.ranks.heap_bytes()
    }
}

/// Nodes of the tree over `n` songs: each node of more than [`LEAF`] songs has two children.
fn node_count(n: usize) -> usize {
    fn deepest(node: usize, len: usize) -> usize {
        if len <= LEAF {
            node
        } else {
            deepest(2 * node + 2, len - len / 2).max(deepest(2 * node + 1, len / 2))
        }
    }
    if n == 0 { 0 } else { deepest(0, n) + 1 }
}

struct Query<'a> {
    colors: &'a Colors,
    target: Oklch,
    lab: [f64; 3],
    max_distance: f64,
    first: usize,
}

/// A found song, ordered nearest first, then by place.
#[derive(Clone, Copy, PartialEq)]
struct Found(f64, u32);

impl Eq for Found {}

impl PartialOrd for Found {
    fn partial_cmp(&self, other: &Found) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Found {
    fn cmp(&self, other: &Found) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

impl Query<'_> {
    fn radius(&self) -> f64 {
        self.max_distance / 100.0
    }

    /// The visible part of a leaf (its songs are sorted by place).
    fn visible(&self, lo: usize, hi: usize) -> &[Point] {
        let leaf = &self.colors.points[lo..hi];
        &leaf[leaf.partition_point(|p| (p.song as usize) < self.first)..]
    }

    fn inside(&self, song: u32) -> bool {
        self.colors.distance(self.target, song) <= self.max_distance
    }

    fn count(&self) -> usize {
        let c = self.colors;
        let margin = c.margin;
        let r = self.radius();
        // Within `sure` every song is inside; past `beyond` every song is outside.
        let sure = if r > margin { (r - margin).powi(2) } else { -1.0 };
        let beyond = (r + margin).powi(2);
        let odd = c
            .odd
            .iter()
            .filter(|s| **s as usize >= self.first && self.inside(**s))
            .count();
        if c.points.is_empty() {
            return odd;
        }
        let mut total = odd;
        let mut stack = vec![(0usize, 0usize, c.points.len())];
        while let Some((node, lo, hi)) = stack.pop() {
            if (c.latest[node] as usize) < self.first {
                continue;
            }
            let (near, far) = c.bounds[node].reach(&self.lab);
            if near > beyond {
                continue;
            }
            if far < sure {
                total += c.ranks.count_from(lo, hi, self.first);
                continue;
            }
            if hi - lo <= LEAF {
                for p in self.visible(lo, hi) {
                    let e = squared(&p.lab, &self.lab);
                    if e < sure || (e <= beyond && self.inside(p.song)) {
                        total += 1;
                    }
                }
                continue;
            }
            let mid = lo + (hi - lo) / 2;
            stack.push((2 * node + 1, lo, mid));
            stack.push((2 * node + 2, mid, hi));
        }
        total
    }

    fn nearest(&self, keep: usize) -> Vec<(f64, usize)> {
        let c = self.colors;
        let margin = c.margin;
        let mut best: BinaryHeap<Found> = BinaryHeap::with_capacity(keep + 1);
        let offer = |best: &mut BinaryHeap<Found>, song: u32| {
            let d = c.distance(self.target, song);
            // Written so that a NaN distance (a colour that is not finite) stays out.
            let inside = d <= self.max_distance;
            if !inside {
                return;
            }
            let found = Found(d, song);
            if best.len() < keep {
                best.push(found);
            } else if best.peek().is_some_and(|worst| found < *worst) {
                best.pop();
                best.push(found);
            }
        };
        // Anything farther than this (in OKLab units) cannot make the list.
        let reach = |best: &BinaryHeap<Found>| {
            let r = self.radius();
            match best.peek() {
                Some(worst) if best.len() == keep => r.min(worst.0 / 100.0),
                _ => r,
            }
        };
        for song in &c.odd {
            if *song as usize >= self.first {
                offer(&mut best, *song);
            }
        }
        if keep == 0 {
            return Vec::new();
        }
        if !c.points.is_empty() {
            // Nodes nearest first; a node is opened only while it could hold a better song.
            let mut queue = BinaryHeap::new();
            queue.push(Reverse((0u64, 0usize, 0usize, c.points.len())));
            while let Some(Reverse((near_bits, node, lo, hi))) = queue.pop() {
                let limit = reach(&best) + margin;
                if f64::from_bits(near_bits) > limit * limit {
                    break;
                }
                if hi - lo <= LEAF {
                    for p in self.visible(lo, hi) {
                        let limit = reach(&best) + margin;
                        if squared(&p.lab, &self.lab) <= limit * limit {
                            offer(&mut best, p.song);
                        }
                    }
                    continue;
                }
                let mid = lo + (hi - lo) / 2;
                for (child, lo, hi) in [(2 * node + 1, lo, mid), (2 * node + 2, mid, hi)] {
                    if (c.latest[child] as usize) < self.first {
                        continue;
                    }
                    let (near, _) = c.bounds[child].reach(&self.lab);
                    // Squared distances are never negative, so their bits order like them.
                    queue.push(Reverse((near.to_bits(), child, lo, hi)));
                }
            }
        }
        let mut found = best.into_sorted_vec();
        found.truncate(keep);
        found.into_iter().map(|Found(d, s)| (d, s as usize)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Colours on a lattice, with repeats (ties) and a few greys.
    fn colours(n: usize) -> Vec<[f64; 3]> {
        (0..n)
            .map(|i| {
                let l = (i * 7 % 101) as f64 / 100.0;
                let c = if i % 13 == 0 {
                    0.0
                } else {
                    (i * 3 % 38) as f64 / 100.0
                };
                let h = (i * 37 % 360) as f64;
                [l, c, h]
            })
            .collect()
    }

    fn plain(lch: &[[f64; 3]], target: Oklch, max: f64, first: usize) -> Vec<(f64, usize)> {
        let mut found: Vec<(f64, usize)> = (first..lch.len())
            .map(|s| {
                let [l, c, h] = lch[s];
                (color::distance(target, Oklch { l, c, h }), s)
            })
            .filter(|(d, _)| *d <= max)
            .collect();
        found.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        found
    }

    #[test]
    fn the_tree_answers_what_measuring_every_song_answers() {
        let lch = colours(2_000);
        let colors = Colors::build(lch.clone());
        for (h, l, c) in [
            (280.0, 0.5, 0.15),
            (0.0, 0.0, 0.0),
            (359.9, 1.0, 0.4),
            (120.0, 0.7, 0.05),
        ] {
            let target = Oklch { l, c, h };
            for max in [50.0, 0.001, 5.0, 20.0, 1000.0] {
                for first in [0, 1, 500, 1999, 2000] {
                    for keep in [1, 20, 100] {
                        let expected = plain(&lch, target, max, first);
                        let (total, nearest) = colors.search(target, max, first, keep);
                        let what = format!("h {h} l {l} c {c} max {max} first {first} keep {keep}");
                        assert_eq!(total, expected.len(), "{what}");
                        assert_eq!(nearest, expected[..expected.len().min(keep)], "{what}");
                    }
                }
            }
        }
    }

    #[test]
    fn songs_exactly_on_the_edge_count_as_inside() {
        // Distance 5.21 (spec §3's check value) and a bound of exactly that distance.
        let lch = vec![[0.5, 0.15, 300.0]; 40];
        let colors = Colors::build(lch.clone());
        let target = Oklch {
            l: 0.5,
            c: 0.15,
            h: 280.0,
        };
        let d = color::distance(
            target,
            Oklch {
                l: 0.5,
                c: 0.15,
                h: 300.0,
            },
        );
        assert_eq!(colors.search(target, d, 0, 3).0, 40);
        assert_eq!(colors.search(target, d * (1.0 - 1e-15), 0, 3).0, 0);
        let (_, nearest) = colors.search(target, d, 10, 3);
        assert_eq!(nearest, vec![(d, 10), (d, 11), (d, 12)], "ties by place");
    }

    #[test]
    fn colours_that_are_not_finite_are_measured_one_by_one() {
        let mut lch = colours(100);
        lch[5] = [f64::NAN, 0.1, 10.0];
        lch[7] = [0.5, f64::INFINITY, 10.0];
        let colors = Colors::build(lch.clone());
        let target = Oklch {
            l: 0.5,
            c: 0.15,
            h: 280.0,
        };
        let expected = plain(&lch, target, 50.0, 0);
        assert_eq!(colors.search(target, 50.0, 0, 100), (expected.len(), expected));
    }

    #[test]
    fn an_empty_catalogue_has_no_colours() {
        let colors = Colors::build(Vec::new());
        let target = Oklch {
            l: 0.5,
            c: 0.15,
            h: 280.0,
        };
        assert_eq!(colors.search(target, 50.0, 0, 20), (0, vec![]));
    }
}
