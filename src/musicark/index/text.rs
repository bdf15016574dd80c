//! Text search by n-gram postings: each distinct folded title, artist and album (a term) is
//! indexed once under every 1-, 2- and 3-byte sequence it holds, and lists its songs per field.
//! A search finds the terms that hold the query (through the postings of its rarest trigram,
//! each candidate checked with `memmem`; a 1- or 2-byte query's postings are its answer), then
//! counts and ranks their songs without looking at any other song.
//!
//! Matching is on bytes of the folded UTF-8, which for valid UTF-8 is matching on characters:
//! the same substring test the plain scan makes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::texts::Texts;

/// The fields a term can be, in the order of their rank.
pub const TITLE: usize = 0;
pub const ARTIST: usize = 1;
pub const ALBUM: usize = 2;

/// No term.
const NONE: u32 = u32::MAX;

/// A song in one of a term's lists, with the song's terms in the other two fields: a search
/// reads what it needs from the lists themselves, in order, never from a per-song array.
#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    song: u32,
    /// For a title list the artist and album terms, for an artist list title and album, for
    /// an album list title and artist.
    others: [u32; 2],
}

impl Entry {
    /// The song's title, artist and album terms, `term` being this list's, in `field`.
    fn terms(&self, term: u32, field: usize) -> [u32; 3] {
        let [a, b] = self.others;
        match field {
            TITLE => [term, a, b],
            ARTIST => [a, term, b],
            _ => [a, b, term],
        }
    }
}

/// For each term and field, its songs, ascending (newest first): term `t`'s songs in field `f`
/// are stretch `f·terms + t`, so with terms in byte order the songs of the terms a query
/// matches by prefix, in one field, lie side by side.
#[derive(Debug, Default)]
pub struct Lists {
    terms: usize,
    /// Per stretch, where it starts in `entries` and its first (newest) song: a stretch whose
    /// first song is visible is visible whole, known without reading its entries.
    heads: Vec<[u32; 2]>,
    entries: Vec<Entry>,
}

impl Lists {
    /// Over `terms` terms and each song's title, artist and album term, in place order.
    pub fn build(terms: usize, song_terms: &[[u32; 3]]) -> Lists {
        let stretch = |t: u32, field: usize| field * terms + t as usize;
        let mut heads = vec![[0u32, u32::MAX]; 3 * terms + 1];
        for fields in song_terms {
            for (field, t) in fields.iter().enumerate() {
                heads[stretch(*t, field) + 1][0] += 1;
            }
        }
        for i in 1..heads.len() {
            heads[i][0] += heads[i - 1][0];
        }
        let mut next: Vec<u32> = heads[..3 * terms].iter().map(|h| h[0]).collect();
        let mut entries = vec![Entry::default(); 3 * song_terms.len()];
        for (song, &[title, artist, album]) in song_terms.iter().enumerate() {
            let song = song as u32;
            for (field, t, others) in [
                (TITLE, title, [artist, album]),
                (ARTIST, artist, [title, album]),
                (ALBUM, album, [title, artist]),
            ] {
                let i = stretch(t, field);
                // Songs come in order, so the first one a stretch gets is its newest.
                heads[i][1] = heads[i][1].min(song);
                entries[next[i] as usize] = Entry { song, others };
                next[i] += 1;
            }
        }
        Lists {
            terms,
            heads,
            entries,
        }
    }

    /// The songs of `term` in `field` at or past `first`.
    fn visible(&self, term: u32, field: usize, first: usize) -> &[Entry] {
        let i = field * self.terms + term as usize;
        let ([start, newest], end) = (self.heads[i], self.heads[i + 1][0]);
        let all = &self.entries[start as usize..end as usize];
        if newest as usize >= first {
            return all;
        }
        &all[all.partition_point(|e| (e.song as usize) < first)..]
    }

    fn heap_bytes(&self) -> usize {
        self.heads.capacity() * 8 + self.entries.capacity() * size_of::<Entry>()
    }
}

/// Whether `hay` holds `needle` (not empty): each place its first byte occurs, compared.
/// Terms are short, so this beats a searcher that must be set up per term.
fn holds(hay: &[u8], needle: &[u8]) -> bool {
    let Some((first, rest)) = needle.split_first() else {
        return false;
    };
    memchr::memchr_iter(*first, hay).any(|at| hay[at + 1..].starts_with(rest))
}

/// A 1-, 2- or 3-byte sequence as one number: its length above its bytes.
fn gram(bytes: &[u8]) -> u32 {
    let packed = bytes.iter().fold(0u32, |key, b| key << 8 | u32::from(*b));
    (bytes.len() as u32) << 24 | packed
}

/// Term numbers, ascending, as LEB128 gaps: most gaps take one byte.
#[derive(Debug, Default)]
struct Postings {
    last: u32,
    count: u32,
    bytes: Vec<u8>,
}

impl Postings {
    fn add(&mut self, term: u32) {
        if self.count > 0 && self.last == term {
            return;
        }
        let mut gap = if self.count == 0 { term } else { term - self.last };
        loop {
            let low = (gap & 0x7f) as u8;
            gap >>= 7;
            if gap == 0 {
                self.bytes.push(low);
                break;
            }
            self.bytes.push(low | 0x80);
        }
        self.last = term;
        self.count += 1;
    }
}

/// The terms in `bytes`, decoded.
fn decode(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    let (mut at, mut term) = (0, 0u32);
    let mut started = false;
    std::iter::from_fn(move || {
        if at >= bytes.len() {
            return None;
        }
        let (mut gap, mut shift) = (0u32, 0);
        loop {
            let b = bytes[at];
            at += 1;
            gap |= u32::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        term = if started { term + gap } else { gap };
        started = true;
        Some(term)
    })
}

/// Every gram's postings, one buffer, found by binary search over the sorted grams.
#[derive(Debug, Default)]
pub struct Grams {
    keys: Vec<u32>,
    counts: Vec<u32>,
    /// `starts[i]..starts[i + 1]` are gram `i`'s bytes.
    starts: Vec<usize>,
    bytes: Vec<u8>,
}

impl Grams {
    pub fn build(terms: &Texts) -> Grams {
        // Singles and pairs of bytes are few enough to address directly; triples are hashed.
        let mut ones: Vec<Postings> = (0..256).map(|_| Postings::default()).collect();
        let mut twos: Vec<Postings> = (0..65_536).map(|_| Postings::default()).collect();
        let mut threes: hashbrown::HashMap<u32, Postings> = hashbrown::HashMap::new();
        for t in 0..terms.len() as u32 {
            let b = terms.get(t).as_bytes();
            for (i, byte) in b.iter().enumerate() {
                ones[*byte as usize].add(t);
                if i + 1 < b.len() {
                    twos[usize::from(*byte) << 8 | usize::from(b[i + 1])].add(t);
                }
                if i + 2 < b.len() {
                    threes.entry(gram(&b[i..i + 3])).or_default().add(t);
                }
            }
        }
        let mut all: Vec<(u32, Postings)> = ones
            .into_iter()
            .enumerate()
            .map(|(i, p)| (gram(&[i as u8]), p))
            .chain(
                twos.into_iter()
                    .enumerate()
                    .map(|(i, p)| (gram(&[(i >> 8) as u8, i as u8]), p)),
            )
            .filter(|(_, p)| p.count > 0)
            .chain(threes)
            .collect();
        all.sort_unstable_by_key(|(key, _)| *key);
        let mut grams = Grams {
            keys: Vec::with_capacity(all.len()),
            counts: Vec::with_capacity(all.len()),
            starts: Vec::with_capacity(all.len() + 1),
            bytes: Vec::with_capacity(all.iter().map(|(_, p)| p.bytes.len()).sum()),
        };
        for (key, postings) in all {
            grams.keys.push(key);
            grams.counts.push(postings.count);
            grams.starts.push(grams.bytes.len());
            grams.bytes.extend_from_slice(&postings.bytes);
        }
        grams.starts.push(grams.bytes.len());
        grams
    }

    /// How many terms hold `bytes` (1–3 of them), and those terms.
    fn find(&self, bytes: &[u8]) -> Option<(u32, &[u8])> {
        let i = self.keys.binary_search(&gram(bytes)).ok()?;
        Some((self.counts[i], &self.bytes[self.starts[i]..self.starts[i + 1]]))
    }

    fn heap_bytes(&self) -> usize {
        self.keys.capacity() * 8 + self.starts.capacity() * 8 + self.bytes.capacity()
    }
}

/// A set of terms, one bit each.
struct Marks(Vec<u64>);

impl Marks {
    fn new(terms: usize) -> Marks {
        Marks(vec![0; terms / 64 + 1])
    }

    fn set(&mut self, t: u32) {
        self.0[t as usize / 64] |= 1 << (t % 64);
    }

    fn has(&self, t: u32) -> bool {
        self.0[t as usize / 64] & (1 << (t % 64)) != 0
    }
}

/// The text index: terms, their songs per field, and the grams.
#[derive(Debug, Default)]
pub struct Words {
    terms: Texts,
    lists: Lists,
    grams: Grams,
}

/// The terms matched by a query, and how each ranks as a title.
struct Matched {
    marks: Marks,
    /// The term equal to the query, if any.
    exact: u32,
    /// Terms starting with the query (the exact one included).
    prefix: Marks,
    terms: Vec<u32>,
}

impl Words {
    /// Over `terms` (distinct, folded) and each song's three terms, in the catalogue's order.
    #[cfg(test)]
    pub fn build(terms: Texts, song_terms: Vec<[u32; 3]>) -> Words {
        let lists = Lists::build(terms.len(), &song_terms);
        let grams = Grams::build(&terms);
        Words::from_parts(terms, lists, grams)
    }

    /// From its parts, each built on its own ([`Lists::build`] of `terms.len()` terms and
    /// [`Grams::build`] of `terms`): what [`Words::build`] does, part by part.
    pub fn from_parts(terms: Texts, lists: Lists, grams: Grams) -> Words {
        Words { terms, lists, grams }
    }

    /// The terms holding `q`, ascending.
    fn holding(&self, q: &str) -> Vec<u32> {
        let b = q.as_bytes();
        if b.is_empty() {
            return Vec::new();
        }
        if b.len() <= 3 {
            // A gram's postings are exactly the terms that hold it.
            return self
                .grams
                .find(b)
                .map(|(_, bytes)| decode(bytes).collect())
                .unwrap_or_default();
        }
        let mut rarest: Option<(u32, &[u8])> = None;
        for window in b.windows(3) {
            match self.grams.find(window) {
                None => return Vec::new(),
                Some(found) if rarest.is_none_or(|r| found.0 < r.0) => rarest = Some(found),
                Some(_) => {}
            }
        }
        let Some((_, bytes)) = rarest else {
            return Vec::new();
        };
        decode(bytes)
            .filter(|t| holds(self.terms.get(*t).as_bytes(), b))
            .collect()
    }

    fn matched(&self, q: &str) -> Matched {
        let terms = self.holding(q);
        let mut m = Matched {
            marks: Marks::new(self.terms.len()),
            exact: NONE,
            prefix: Marks::new(self.terms.len()),
            terms,
        };
        for t in &m.terms {
            m.marks.set(*t);
            let text = self.terms.get(*t);
            if text.starts_with(q) {
                m.prefix.set(*t);
                if text.len() == q.len() {
                    m.exact = *t;
                }
            }
        }
        m
    }

    /// The rank `term` gives a song as its title: 0 exact, 1 prefix, 2 anywhere.
    fn title_rank(m: &Matched, term: u32) -> Option<usize> {
        if !m.marks.has(term) {
            None
        } else if term == m.exact {
            Some(0)
        } else if m.prefix.has(term) {
            Some(1)
        } else {
            Some(2)
        }
    }

    /// A song's rank (0–2 by title, 3 artist, 4 album) from its terms: its best field.
    fn rank_of(m: &Matched, [title, artist, album]: [u32; 3]) -> Option<usize> {
        Self::title_rank(m, title).or_else(|| {
            if m.marks.has(artist) {
                Some(3)
            } else if m.marks.has(album) {
                Some(4)
            } else {
                None
            }
        })
    }

    /// The songs from place `first` on whose folded title, artist or album holds `q` (folded):
    /// how many, and the first `keep` by rank (exact title, title prefix, title, artist, album),
    /// then place.
    pub fn search(&self, q: &str, first: usize, keep: usize) -> (usize, Vec<usize>) {
        let m = self.matched(q);
        if m.terms.is_empty() {
            return (0, Vec::new());
        }
        // Each matched term's visible songs, per field, found once: a term's three stretches
        // are side by side, so in one pass.
        let mut lists: [Vec<(u32, &[Entry])>; 3] = Default::default();
        for t in &m.terms {
            for (field, list) in lists.iter_mut().enumerate() {
                let entries = self.lists.visible(*t, field, first);
                if !entries.is_empty() {
                    list.push((*t, entries));
                }
            }
        }
        let sizes = lists
            .each_ref()
            .map(|l| l.iter().map(|(_, entries)| entries.len()).sum::<usize>());
        let total = Self::count(&m, &lists, sizes);
        let mut found = Vec::with_capacity(keep.min(total));
        for rank in 0..5usize {
            let need = keep - found.len();
            if need == 0 {
                break;
            }
            let field = rank.saturating_sub(2).min(ALBUM);
            let stretches: Vec<(u32, &[Entry])> = lists[field]
                .iter()
                .filter(|(t, _)| field != TITLE || Self::title_rank(&m, *t) == Some(rank))
                .copied()
                .collect();
            merge(
                &stretches,
                field,
                |terms| Self::rank_of(&m, terms) == Some(rank),
                need,
                &mut found,
            );
        }
        (total, found)
    }

    /// How many songs match, from each field's visible lists and their sizes: every title
    /// match, then artist and album matches less the songs a better field already counted
    /// (each overlap counted from whichever side has fewer songs).
    fn count(m: &Matched, lists: &[Vec<(u32, &[Entry])>; 3], sizes: [usize; 3]) -> usize {
        let [titles, artists, albums] = sizes;
        // How many entries of `field`'s lists pass `test` on the song's terms.
        let passing = |field: usize, test: &dyn Fn([u32; 3]) -> bool| {
            lists[field]
                .iter()
                .map(|(t, entries)| entries.iter().filter(|e| test(e.terms(*t, field))).count())
                .sum::<usize>()
        };
        let has = |t: u32| m.marks.has(t);
        let artist_and_title = if artists <= titles {
            passing(ARTIST, &|[title, _, _]| has(title))
        } else {
            passing(TITLE, &|[_, artist, _]| has(artist))
        };
        let album_and_better = if albums <= titles + artists {
            passing(ALBUM, &|[title, artist, _]| has(title) || has(artist))
        } else {
            passing(TITLE, &|[_, _, album]| has(album))
                + passing(ARTIST, &|[title, _, album]| !has(title) && has(album))
        };
        titles + (artists - artist_and_title) + (albums - album_and_better)
    }

    pub fn heap_bytes(&self) -> usize {
        self.terms.heap_bytes() + self.lists.heap_bytes() + self.grams.heap_bytes()
    }
}

/// The first `need` songs of the union of `stretches` (each ascending, of `field`) that
/// `belongs` accepts by their terms, ascending.
fn merge(
    stretches: &[(u32, &[Entry])],
    field: usize,
    belongs: impl Fn([u32; 3]) -> bool,
    need: usize,
    out: &mut Vec<usize>,
) {
    let mut heap: BinaryHeap<Reverse<(u32, usize, usize)>> = stretches
        .iter()
        .enumerate()
        .filter_map(|(i, (_, l))| l.first().map(|e| Reverse((e.song, i, 0))))
        .collect();
    let goal = out.len() + need;
    while let Some(Reverse((song, i, at))) = heap.pop() {
        let (term, entries) = stretches[i];
        if belongs(entries[at].terms(term, field)) {
            out.push(song as usize);
            if out.len() == goal {
                return;
            }
        }
        if let Some(next) = entries.get(at + 1) {
            heap.push(Reverse((next.song, i, at + 1)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::musicark::index::texts::Interner;

    #[test]
    fn postings_round_trip_through_their_gaps() {
        let mut p = Postings::default();
        let terms = [0u32, 1, 2, 127, 128, 300, 16_384, 2_000_000, u32::MAX - 1];
        for t in terms {
            p.add(t);
            p.add(t);
        }
        assert_eq!(p.count as usize, terms.len());
        assert_eq!(decode(&p.bytes).collect::<Vec<_>>(), terms);
    }

    #[test]
    fn grams_of_different_lengths_never_collide() {
        let keys = [
            gram(b"a"),
            gram(b"\0a"),
            gram(b"a\0"),
            gram(b"\0\0a"),
            gram(b"aa"),
            gram(b"aaa"),
        ];
        let mut unique = keys.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "{keys:x?}");
    }

    fn words(songs: &[[&str; 3]]) -> Words {
        let mut terms = Interner::default();
        let song_terms = songs
            .iter()
            .map(|fields| fields.map(|f| terms.intern(f)))
            .collect();
        Words::build(terms.into_texts(), song_terms)
    }

    #[test]
    fn a_song_ranks_by_its_best_field_and_counts_once() {
        let w = words(&[
            ["star", "star", "star"],  // 0: exact title (and artist, album)
            ["dust", "starling", "x"], // 1: artist
            ["stardust", "x", "star"], // 2: title prefix
            ["lone star", "x", "x"],   // 3: title
            ["x", "x", "stars"],       // 4: album
            ["y", "y", "y"],           // 5: nothing
        ]);
        assert_eq!(w.search("star", 0, 10), (5, vec![0, 2, 3, 1, 4]));
        assert_eq!(
            w.search("star", 1, 10),
            (4, vec![2, 3, 1, 4]),
            "place 0 not visible"
        );
        assert_eq!(w.search("star", 0, 2), (5, vec![0, 2]));
        assert_eq!(w.search("ar", 0, 10), (5, vec![0, 2, 3, 1, 4]));
        assert_eq!(
            w.search("s", 0, 10),
            (5, vec![0, 2, 1, 3, 4]),
            "\"dust\" holds an s"
        );
        assert_eq!(w.search("zz", 0, 10), (0, vec![]));
        assert_eq!(w.search("", 0, 10), (0, vec![]));
        assert_eq!(w.search("stardusty", 0, 10), (0, vec![]));
    }

    #[test]
    fn a_match_never_spans_two_terms() {
        let w = words(&[["lo", "ve", "x"], ["glove", "y", "y"]]);
        assert_eq!(w.search("love", 0, 10), (1, vec![1]));
        assert_eq!(w.search("ove", 0, 10), (1, vec![1]));
    }
}
