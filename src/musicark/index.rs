//! The in-memory catalogue index that lists and searches read, built once from SQLite: each
//! song's summary fields packed (distinct names stored once, ids and colours as numbers), the
//! sort orders, and one index per search. Visibility (published at or before the tenant's
//! clock) is decided per request, since tenants' clocks differ.
//!
//! - [`texts`]   many strings in one buffer, and the interner that numbers distinct ones
//! - [`text`]    n-gram postings over folded titles, artists and albums
//! - [`color`]   a k-d tree over OKLab for nearest-colour search
//! - [`emotion`] bit-sliced bitmaps of the emotional dimensions
//! - [`ranks`]   visible songs in any stretch of an ordering, in O(log n)

mod color;
mod emotion;
mod ranks;
mod text;
mod texts;

use std::cmp::Ordering;

use serde::Serialize;
use serde::ser::SerializeStruct;
use unicode_normalization::{IsNormalized, UnicodeNormalization};

use self::ranks::Ranks;
use self::texts::{Interner, Texts};
use super::catalogue::{ENERGY_SHAPES, TEMPO_FEELS, format_rfc3339, parse_rfc3339};
use super::color::{Oklch, format_hex, parse_hex};
use super::store::SummaryRef;

/// The 13 basic fields every tier sees, flat (spec §3): what lists and searches serialize.
#[derive(Debug, Serialize, utoipa::ToSchema)]
// Tests read summaries back; `deny_unknown_fields` here would reach the document as
// `additionalProperties: false` in test builds only.
#[cfg_attr(test, derive(serde::Deserialize))]
pub struct Summary {
    pub id: String,
    pub title: String,
    pub artist: String,
    pub album: String,
    pub release_year: i64,
    pub slug: String,
    pub color_hex: String,
    pub bpm: i64,
    pub key: String,
    pub mode: String,
    pub duration_seconds: i64,
    pub dominant_emotion: String,
    pub published_at: String,
}

/// Lowercase with diacritics removed: `Café` and `CAFE` both fold to `cafe`.
pub fn fold(text: &str) -> String {
    if text.is_ascii() {
        // ASCII is its own NFD and has no marks: the same answer, without the decomposition.
        return text.to_ascii_lowercase();
    }
    // Only the Latin-script diacritics: other scripts' marks (Japanese dakuten) change meaning.
    let unmarked = |c: &char| !('\u{300}'..='\u{36f}').contains(c);
    if unicode_normalization::is_nfd_quick(text.chars()) == IsNormalized::Yes {
        // Already decomposed (most text in scripts without precomposed letters).
        return text
            .chars()
            .filter(unmarked)
            .flat_map(char::to_lowercase)
            .collect();
    }
    text.nfd().filter(unmarked).flat_map(char::to_lowercase).collect()
}

/// A text query as the index matches it: folded, without control characters (which cannot
/// occur in a title).
pub fn fold_query(q: &str) -> String {
    fold(q).chars().filter(|c| !c.is_control()).collect()
}

/// The position of `word` in `vocabulary`, or past its end for a word it does not hold.
pub fn word_index(vocabulary: &[&str], word: &str) -> u8 {
    vocabulary
        .iter()
        .position(|w| *w == word)
        .unwrap_or(vocabulary.len()) as u8
}

fn emotion(value: i64) -> u16 {
    u16::try_from(value.clamp(0, 1000)).unwrap_or(0)
}

/// Song ids: as 128-bit numbers while every id is a lowercase hyphenated UUID (whose text
/// order is its numeric order), else as text.
#[derive(Debug)]
enum Ids {
    Uuids(Vec<u128>),
    Text(Texts),
}

fn parse_uuid(id: &str) -> Option<u128> {
    let b = id.as_bytes();
    if b.len() != 36 || [b[8], b[13], b[18], b[23]] != [b'-'; 4] {
        return None;
    }
    // Each half's 16 digits into a 64-bit number (cheaper to shift than 128 bits), through a
    // table: a byte's value as a lowercase hex digit, or 16 for any other byte.
    const DIGIT: [u8; 256] = {
        let mut table = [16u8; 256];
        let mut i = 0;
        while i < 10 {
            table[b'0' as usize + i] = i as u8;
            i += 1;
        }
        while i < 16 {
            table[b'a' as usize + i - 10] = i as u8;
            i += 1;
        }
        table
    };
    fn half<'a>(digits: impl Iterator<Item = &'a u8>) -> Option<u64> {
        let (mut value, mut bad) = (0u64, 0u8);
        for c in digits {
            let d = DIGIT[usize::from(*c)];
            bad |= d & 16;
            value = value << 4 | u64::from(d & 15);
        }
        (bad == 0).then_some(value)
    }
    let high = half(b[0..8].iter().chain(&b[9..13]).chain(&b[14..18]))?;
    let low = half(b[19..23].iter().chain(&b[24..36]))?;
    Some(u128::from(high) << 64 | u128::from(low))
}

/// Whether `text` is what [`format_rfc3339`] writes for `ms`, known without writing it: 20
/// bytes with `T` and `Z` in place and no leap second spell each instant one way only, so
/// parsing back to the same second is equality (a year outside 0000–9999 fails to parse and
/// is kept as text, which is merely less compact).
fn is_formatted_instant(text: &str, ms: i64) -> bool {
    let b = text.as_bytes();
    ms % 1000 == 0
        && b.len() == 20
        && b[10] == b'T'
        && b[19] == b'Z'
        && &b[17..19] != b"60"
        && parse_rfc3339(text) == Some(ms.div_euclid(1000))
}

/// `#rrggbb`, as [`format_hex`] spells it, without allocating.
fn hex_text(rgb: [u8; 3], out: &mut [u8; 7]) -> &str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out[0] = b'#';
    for (i, v) in rgb.iter().enumerate() {
        out[1 + 2 * i] = DIGITS[usize::from(v >> 4)];
        out[2 + 2 * i] = DIGITS[usize::from(v & 0xf)];
    }
    std::str::from_utf8(out).unwrap_or_default()
}

fn format_uuid(value: u128, out: &mut [u8; 36]) -> &str {
    let mut nibble = 0;
    for (i, slot) in out.iter_mut().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            *slot = b'-';
            continue;
        }
        *slot = b"0123456789abcdef"[(value >> (124 - 4 * nibble) & 0xf) as usize];
        nibble += 1;
    }
    std::str::from_utf8(out).unwrap_or_default()
}

impl Ids {
    fn push(&mut self, id: &str) {
        if let Ids::Uuids(numbers) = self {
            match parse_uuid(id) {
                Some(n) => return numbers.push(n),
                None => {
                    let mut text = Texts::with_capacity(numbers.capacity(), numbers.len() * 36);
                    let mut buf = [0u8; 36];
                    for n in numbers.iter() {
                        text.push(format_uuid(*n, &mut buf));
                    }
                    *self = Ids::Text(text);
                }
            }
        }
        if let Ids::Text(text) = self {
            text.push(id);
        }
    }

    fn compare(&self, a: u32, b: u32) -> Ordering {
        match self {
            Ids::Uuids(n) => n[a as usize].cmp(&n[b as usize]),
            Ids::Text(t) => t.get(a).cmp(t.get(b)),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Ids::Uuids(n) => n.capacity() * 16,
            Ids::Text(t) => t.heap_bytes(),
        }
    }
}

/// `#rrggbb` colours: three bytes while every one is lowercase six-digit hex, else as text.
#[derive(Debug)]
enum Hexes {
    Rgb(Vec<[u8; 3]>),
    Text(Texts),
}

impl Hexes {
    fn push(&mut self, hex: &str) {
        if let Hexes::Rgb(colours) = self {
            let mut spelled = [0u8; 7];
            match parse_hex(hex).filter(|rgb| hex_text(*rgb, &mut spelled) == hex) {
                Some(rgb) => return colours.push(rgb),
                None => {
                    let mut text = Texts::with_capacity(colours.capacity(), colours.len() * 7);
                    for rgb in colours.iter() {
                        text.push(&format_hex(*rgb));
                    }
                    *self = Hexes::Text(text);
                }
            }
        }
        if let Hexes::Text(text) = self {
            text.push(hex);
        }
    }
}

/// Whole numbers: 16 bits each while every one fits, else 64.
#[derive(Debug)]
enum Ints {
    Narrow(Vec<u16>),
    Wide(Vec<i64>),
}

impl Ints {
    fn push(&mut self, value: i64) {
        if let Ints::Narrow(narrow) = self {
            match u16::try_from(value) {
                Ok(v) => return narrow.push(v),
                Err(_) => *self = Ints::Wide(narrow.iter().map(|v| i64::from(*v)).collect()),
            }
        }
        if let Ints::Wide(wide) = self {
            wide.push(value);
        }
    }

    fn get(&self, row: usize) -> i64 {
        match self {
            Ints::Narrow(v) => i64::from(v[row]),
            Ints::Wide(v) => v[row],
        }
    }
}

/// Each song's summary fields, in the order the rows came (see [`Catalogue::rows`]).
#[derive(Debug)]
struct Summaries {
    ids: Ids,
    /// `None` while every `published_at` is `format_rfc3339` of its whole second.
    published_at: Option<Texts>,
    slugs: Texts,
    hexes: Hexes,
    years: Ints,
    bpms: Ints,
    durations: Ints,
    /// Title, artist and album, as numbers into `names`.
    names_of: Vec<[u32; 3]>,
    names: Texts,
    /// Key, mode and dominant emotion, as a number into `triples`, each a number into `words`.
    words_of: Vec<u32>,
    triples: Vec<[u32; 3]>,
    words: Texts,
}

/// The whole catalogue: summaries to serialize, the fields that filters and searches read
/// laid out as arrays, the sort orders and the search indexes.
///
/// Songs are numbered by their place in the default order, newest first (ties by id), so the
/// visible songs are those from a place on, found by binary search, and every index answers
/// in place order for free.
pub struct Catalogue {
    summaries: Summaries,
    /// Each place's row in [`Summaries`].
    rows: Vec<u32>,
    published_ms: Vec<i64>,
    tempo_feel: Vec<u8>,
    energy_shape: Vec<u8>,
    /// Title A→Z, case-insensitive, ties by id.
    by_title: Vec<u32>,
    /// Artist A→Z, case-insensitive, ties by title then id.
    by_artist: Vec<u32>,
    title_ranks: Ranks,
    artist_ranks: Ranks,
    words: text::Words,
    colors: color::Colors,
    emotions: emotion::Emotions,
}

/// What [`Catalogue::build`] collects from each row, in the order they come; the arrays that
/// are only needed per place are filled in [`Builder::finish`].
pub struct Builder {
    summaries: Summaries,
    published_ms: Vec<i64>,
    /// Each name's folded form, a number into `terms`.
    name_terms: Vec<u32>,
    names: Interner,
    terms: Interner,
    words: Interner,
    triples: hashbrown::HashMap<[u32; 3], u32>,
    tempo_feel: Vec<u8>,
    energy_shape: Vec<u8>,
    oklch: Vec<[f64; 3]>,
    emotions: Vec<[u16; 8]>,
}

impl Builder {
    pub fn with_capacity(rows: usize) -> Builder {
        Builder {
            summaries: Summaries {
                ids: Ids::Uuids(Vec::with_capacity(rows)),
                published_at: None,
                slugs: Texts::with_capacity(rows, rows * 48),
                hexes: Hexes::Rgb(Vec::with_capacity(rows)),
                years: Ints::Narrow(Vec::with_capacity(rows)),
                bpms: Ints::Narrow(Vec::with_capacity(rows)),
                durations: Ints::Narrow(Vec::with_capacity(rows)),
                names_of: Vec::with_capacity(rows),
                names: Texts::default(),
                words_of: Vec::with_capacity(rows),
                triples: Vec::new(),
                words: Texts::default(),
            },
            published_ms: Vec::with_capacity(rows),
            name_terms: Vec::new(),
            names: Interner::default(),
            terms: Interner::default(),
            words: Interner::default(),
            triples: hashbrown::HashMap::new(),
            tempo_feel: Vec::with_capacity(rows),
            energy_shape: Vec::with_capacity(rows),
            oklch: Vec::with_capacity(rows),
            emotions: Vec::with_capacity(rows),
        }
    }

    fn name(&mut self, text: &str) -> u32 {
        let id = self.names.intern(text);
        if id as usize == self.name_terms.len() {
            self.name_terms.push(self.terms.intern(&fold(text)));
        }
        id
    }

    /// Takes one row, in any order.
    pub fn push(&mut self, row: SummaryRef<'_>) {
        let names = [self.name(row.title), self.name(row.artist), self.name(row.album)];
        let triple = [row.key, row.mode, row.dominant_emotion].map(|w| self.words.intern(w));
        let next = self.triples.len() as u32;
        let words = *self.triples.entry(triple).or_insert(next);
        let s = &mut self.summaries;
        s.ids.push(row.id);
        let ms = row.published_at_ms;
        let derived = is_formatted_instant(row.published_at, ms);
        if s.published_at.is_none() && !derived {
            let mut text = Texts::with_capacity(self.published_ms.capacity(), 0);
            for earlier in &self.published_ms {
                text.push(&format_rfc3339(earlier.div_euclid(1000)));
            }
            s.published_at = Some(text);
        }
        if let Some(text) = &mut s.published_at {
            text.push(row.published_at);
        }
        self.published_ms.push(ms);
        s.slugs.push(row.slug);
        s.hexes.push(row.color_hex);
        s.years.push(row.release_year);
        s.bpms.push(row.bpm);
        s.durations.push(row.duration_seconds);
        s.names_of.push(names);
        s.words_of.push(words);
        self.tempo_feel.push(word_index(&TEMPO_FEELS, row.tempo_feel));
        self.energy_shape
            .push(word_index(&ENERGY_SHAPES, row.energy_shape));
        self.oklch
            .push([row.oklch_l, row.oklch_c, row.oklch_h.unwrap_or(0.0)]);
        self.emotions.push(
            [
                row.valence,
                row.arousal,
                row.nostalgia,
                row.melancholy,
                row.sensuality,
                row.triumph,
                row.mystery,
                row.inspirational,
            ]
            .map(emotion),
        );
    }

    pub fn finish(self) -> Catalogue {
        let Builder {
            mut summaries,
            published_ms,
            name_terms,
            names,
            terms,
            words,
            triples,
            tempo_feel,
            energy_shape,
            oklch,
            emotions,
        } = self;
        summaries.names = names.into_texts();
        summaries.words = words.into_texts();
        summaries.triples = vec![[0; 3]; triples.len()];
        for (triple, id) in triples {
            summaries.triples[id as usize] = triple;
        }
        summaries.slugs.shrink_to_fit();

        let n = published_ms.len();
        // The songs' order and the terms' order need nothing of each other: side by side.
        // Terms numbered in byte order: the sort orders compare numbers, and the text index
        // finds terms sharing a prefix (most matches) side by side in memory.
        let (rows, (terms, rank)) = std::thread::scope(|scope| {
            let terms = scope.spawn(move || in_byte_order(terms.into_texts()));
            let rows = newest_first(&published_ms, &summaries.ids);
            (rows, join(terms))
        });
        let song_terms: Vec<[u32; 3]> = rows
            .iter()
            .map(|r| summaries.names_of[*r as usize].map(|name| rank[name_terms[name as usize] as usize]))
            .collect();
        drop((rank, name_terms));

        // Every part left needs those two orders only, and no other part: two lanes, the
        // searches' indexes on a second thread and the sort orders on this one. Not a thread
        // a part: each thread's allocations go to a malloc arena of its own, and seven arenas
        // kept the build's freed memory in RSS (the 100k peak went from 65 to 83 MB).
        let ids = &summaries.ids;
        let (orders, (colors, emotions, grams, lists)) = std::thread::scope(|scope| {
            let (rows, song_terms, terms) = (&rows, &song_terms, &terms);
            let searches = scope.spawn(move || {
                let colors = color::Colors::build(permute(oklch, rows));
                let emotions = emotion::Emotions::build(permute(emotions, rows).into_iter());
                let grams = text::Grams::build(terms);
                let lists = text::Lists::build(terms.len(), song_terms);
                (colors, emotions, grams, lists)
            });
            let by_title = by_title(song_terms, rows, ids);
            let title_ranks = Ranks::new(&by_title, n);
            let by_artist = by_artist(song_terms, rows, ids);
            let artist_ranks = Ranks::new(&by_artist, n);
            let small = (
                by_place(&tempo_feel, rows),
                by_place(&energy_shape, rows),
                by_place(&published_ms, rows),
            );
            (
                (by_title, title_ranks, by_artist, artist_ranks, small),
                join(searches),
            )
        });
        let (by_title, title_ranks, by_artist, artist_ranks, (tempo_feel, energy_shape, published_ms)) =
            orders;
        let words = text::Words::from_parts(terms, lists, grams);
        Catalogue {
            summaries,
            rows,
            published_ms,
            tempo_feel,
            energy_shape,
            by_title,
            by_artist,
            title_ranks,
            artist_ranks,
            words,
            colors,
            emotions,
        }
    }
}

/// `terms` in byte order, and each one's number in it.
fn in_byte_order(terms: Texts) -> (Texts, Vec<u32>) {
    // Their first 8 bytes (zero-padded) sort like the terms, ties apart.
    let prefix = |t: u32| {
        let mut head = [0u8; 8];
        let text = terms.get(t).as_bytes();
        let len = text.len().min(8);
        head[..len].copy_from_slice(&text[..len]);
        u128::from(u64::from_be_bytes(head))
    };
    let keys = (0..terms.len() as u32)
        .map(|t| prefix(t) << 32 | u128::from(t))
        .collect();
    let sorted = sorted_by_key(keys, |a, b| terms.get(a).cmp(terms.get(b)));
    let mut ordered = Texts::with_capacity(terms.len(), terms.bytes_len());
    let mut rank = vec![0u32; terms.len()];
    for (r, t) in sorted.iter().enumerate() {
        ordered.push(terms.get(*t));
        rank[*t as usize] = r as u32;
    }
    (ordered, rank)
}

/// What a scoped thread returned; its panic goes on in the caller.
fn join<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Each place's row: newest first, ties by id, then by row.
fn newest_first(published_ms: &[i64], ids: &Ids) -> Vec<u32> {
    // The instant, flipped to sort as an unsigned number, above the row.
    let newest = |ms: i64| u128::from(!((ms as u64) ^ (1 << 63)));
    let keys = published_ms
        .iter()
        .enumerate()
        .map(|(r, ms)| newest(*ms) << 32 | r as u128)
        .collect();
    sorted_by_key(keys, |a, b| ids.compare(a, b).then(a.cmp(&b)))
}

/// Places by title (terms numbered in byte order), ties by id, then by place.
fn by_title(song_terms: &[[u32; 3]], rows: &[u32], ids: &Ids) -> Vec<u32> {
    let tie = |a: u32, b: u32| ids.compare(rows[a as usize], rows[b as usize]).then(a.cmp(&b));
    let keys = song_terms
        .iter()
        .enumerate()
        .map(|(p, [title, _, _])| u128::from(*title) << 32 | p as u128)
        .collect();
    sorted_by_key(keys, tie)
}

/// Places by artist then title (terms numbered in byte order), ties by id, then by place.
fn by_artist(song_terms: &[[u32; 3]], rows: &[u32], ids: &Ids) -> Vec<u32> {
    let tie = |a: u32, b: u32| ids.compare(rows[a as usize], rows[b as usize]).then(a.cmp(&b));
    let keys = song_terms
        .iter()
        .enumerate()
        .map(|(p, [title, artist, _])| u128::from(*artist) << 64 | u128::from(*title) << 32 | p as u128)
        .collect();
    sorted_by_key(keys, tie)
}

/// `values` (one per row) by place, `rows` being each place's row, copied: for the small
/// arrays, where a second copy costs little and reading in row order once is faster.
fn by_place<T: Copy>(values: &[T], rows: &[u32]) -> Vec<T> {
    rows.iter().map(|r| values[*r as usize]).collect()
}

/// `values` (one per row) by place, `rows` being each place's row: moved in place along the
/// permutation's cycles, one bit a place marking those done, so no second copy is held.
fn permute<T: Copy>(mut values: Vec<T>, rows: &[u32]) -> Vec<T> {
    let mut done = vec![0u64; rows.len() / 64 + 1];
    for start in 0..rows.len() {
        if done[start / 64] >> (start % 64) & 1 == 1 {
            continue;
        }
        let first = values[start];
        let mut at = start;
        loop {
            done[at / 64] |= 1 << (at % 64);
            let from = rows[at] as usize;
            if from == start {
                values[at] = first;
                break;
            }
            values[at] = values[from];
            at = from;
        }
    }
    values
}

/// The numbers in the low 32 bits of `keys`, ordered by the keys above them, equal keys by
/// `tie`: sorting integers is several times faster than comparing through a closure.
fn sorted_by_key(mut keys: Vec<u128>, tie: impl Fn(u32, u32) -> Ordering) -> Vec<u32> {
    keys.sort_unstable();
    let mut out: Vec<u32> = keys.iter().map(|k| *k as u32).collect();
    let mut start = 0;
    while start < keys.len() {
        let group = keys[start] >> 32;
        let end = start + keys[start..].partition_point(|k| k >> 32 == group);
        if end - start > 1 {
            out[start..end].sort_unstable_by(|a, b| tie(*a, *b));
        }
        start = end;
    }
    out
}

/// The orders `GET /songs` pages through.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Order {
    Newest,
    Title,
    Artist,
}

/// A catalogue prints as its size: its arrays would fill a log.
impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue")
            .field("songs", &self.len())
            .field("heap_bytes", &self.heap_bytes())
            .finish_non_exhaustive()
    }
}

impl Catalogue {
    /// The index of the catalogue `db` holds, each summary taken as it is decoded: the rows
    /// are never held all at once.
    pub async fn load(db: &crate::db::Db) -> anyhow::Result<Catalogue> {
        let builder = super::store::fold_summaries(db, Builder::with_capacity, |b, row| b.push(row)).await?;
        Ok(tokio::task::spawn_blocking(move || builder.finish()).await?)
    }

    /// The index of rows already held (tests); the server builds with [`Catalogue::load`].
    #[cfg(test)]
    pub fn build(rows: Vec<super::store::SummaryRow>) -> Catalogue {
        let mut builder = Builder::with_capacity(rows.len());
        for row in &rows {
            builder.push(row.as_ref());
        }
        drop(rows);
        builder.finish()
    }

    pub fn len(&self) -> usize {
        self.published_ms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.published_ms.is_empty()
    }

    pub fn is_visible(&self, song: usize, now_ms: i64) -> bool {
        self.published_ms[song] <= now_ms
    }

    /// The first visible place: future songs come first, so the visible ones are the rest.
    pub fn first_visible(&self, now_ms: i64) -> usize {
        self.published_ms.partition_point(|ms| *ms > now_ms)
    }

    /// The visible songs, newest first.
    pub fn visible_newest_first(&self, now_ms: i64) -> std::ops::Range<usize> {
        self.first_visible(now_ms)..self.len()
    }

    /// A page of `GET /songs`: the visible songs in `order` that pass the filters, after the
    /// first `skip`, at most `take`; and how many pass in all.
    pub fn list(
        &self,
        order: Order,
        filters: (Option<u8>, Option<u8>),
        now_ms: i64,
        skip: usize,
        take: usize,
    ) -> (Vec<usize>, usize) {
        let first = self.first_visible(now_ms);
        let (tempo_feel, energy_shape) = filters;
        if tempo_feel.is_none() && energy_shape.is_none() {
            // Unfiltered, the total is known without a walk.
            return (self.page(order, first, skip, take), self.len() - first);
        }
        let wanted = |p: &usize| {
            *p >= first
                && tempo_feel.is_none_or(|t| self.tempo_feel[*p] == t)
                && energy_shape.is_none_or(|e| self.energy_shape[*p] == e)
        };
        let (mut total, mut page) = (0, Vec::with_capacity(take.min(self.len())));
        let mut walk = |places: &mut dyn Iterator<Item = usize>| {
            for p in places.filter(wanted) {
                if total >= skip && page.len() < take {
                    page.push(p);
                }
                total += 1;
            }
        };
        match order {
            Order::Newest => walk(&mut (first..self.len())),
            Order::Title => walk(&mut self.by_title.iter().map(|p| *p as usize)),
            Order::Artist => walk(&mut self.by_artist.iter().map(|p| *p as usize)),
        }
        (page, total)
    }

    /// The visible songs (from place `first` on) in `order` after the first `skip`, at most
    /// `take`; the visible ones before are skipped by counting, not walked.
    fn page(&self, order: Order, first: usize, skip: usize, take: usize) -> Vec<usize> {
        let (places, ranks) = match order {
            Order::Newest => {
                let start = first.saturating_add(skip).min(self.len());
                return (start..self.len()).take(take).collect();
            }
            Order::Title => (&self.by_title, &self.title_ranks),
            Order::Artist => (&self.by_artist, &self.artist_ranks),
        };
        let start = ranks.skip_from(skip, first);
        places[start..]
            .iter()
            .map(|p| *p as usize)
            .filter(|p| *p >= first)
            .take(take)
            .collect()
    }

    /// Text search over folded `q` (see [`text::Words::search`]).
    pub fn search_text(&self, q: &str, now_ms: i64, keep: usize) -> (usize, Vec<usize>) {
        self.words.search(q, self.first_visible(now_ms), keep)
    }

    /// Colour search (see [`color::Colors::search`]).
    pub fn search_color(
        &self,
        target: Oklch,
        max_distance: f64,
        now_ms: i64,
        keep: usize,
    ) -> (usize, Vec<(f64, usize)>) {
        self.colors
            .search(target, max_distance, self.first_visible(now_ms), keep)
    }

    /// Emotional search, `bounds` inclusive per dimension (see [`emotion::Emotions::search`]).
    pub fn search_emotional(
        &self,
        bounds: &[(u16, u16); 8],
        now_ms: i64,
        keep: usize,
    ) -> (usize, Vec<usize>) {
        self.emotions.search(bounds, self.first_visible(now_ms), keep)
    }

    /// A song's summary, ready to serialize.
    pub fn summary(&self, song: usize) -> SummaryView<'_> {
        SummaryView {
            catalogue: self,
            song,
            distance: None,
        }
    }

    /// Bytes held on the heap, for the log line at build.
    pub fn heap_bytes(&self) -> usize {
        let s = &self.summaries;
        let ints = |i: &Ints| match i {
            Ints::Narrow(v) => v.capacity() * 2,
            Ints::Wide(v) => v.capacity() * 8,
        };
        let hexes = match &s.hexes {
            Hexes::Rgb(v) => v.capacity() * 3,
            Hexes::Text(t) => t.heap_bytes(),
        };
        s.ids.heap_bytes()
            + s.published_at.as_ref().map_or(0, Texts::heap_bytes)
            + s.slugs.heap_bytes()
            + hexes
            + ints(&s.years)
            + ints(&s.bpms)
            + ints(&s.durations)
            + s.names_of.capacity() * 12
            + s.names.heap_bytes()
            + s.words_of.capacity() * 4
            + self.rows.capacity() * 4
            + self.published_ms.capacity() * 8
            + self.tempo_feel.capacity()
            + self.energy_shape.capacity()
            + (self.by_title.capacity() + self.by_artist.capacity()) * 4
            + self.title_ranks.heap_bytes()
            + self.artist_ranks.heap_bytes()
            + self.words.heap_bytes()
            + self.colors.heap_bytes()
            + self.emotions.heap_bytes()
    }
}

/// One song's [`Summary`], serialized straight from the catalogue's arrays, with the distance
/// a colour search adds.
#[derive(Clone, Copy)]
pub struct SummaryView<'a> {
    catalogue: &'a Catalogue,
    song: usize,
    distance: Option<f64>,
}

impl SummaryView<'_> {
    /// With `distance` after the 13 fields.
    pub fn with_distance(self, distance: f64) -> Self {
        SummaryView {
            distance: Some(distance),
            ..self
        }
    }
}

impl Serialize for SummaryView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let c = self.catalogue;
        let s = &c.summaries;
        let row = c.rows[self.song] as usize;
        let fields = if self.distance.is_some() { 14 } else { 13 };
        let mut out = serializer.serialize_struct("Summary", fields)?;
        let mut buf = [0u8; 36];
        let id = match &s.ids {
            Ids::Uuids(n) => format_uuid(n[row], &mut buf),
            Ids::Text(t) => t.get(row as u32),
        };
        let [title, artist, album] = s.names_of[row];
        let [key, mode, emotion] = s.triples[s.words_of[row] as usize];
        out.serialize_field("id", id)?;
        out.serialize_field("title", s.names.get(title))?;
        out.serialize_field("artist", s.names.get(artist))?;
        out.serialize_field("album", s.names.get(album))?;
        out.serialize_field("release_year", &s.years.get(row))?;
        out.serialize_field("slug", s.slugs.get(row as u32))?;
        let mut hex = [0u8; 7];
        let color_hex = match &s.hexes {
            Hexes::Rgb(v) => hex_text(v[row], &mut hex),
            Hexes::Text(t) => t.get(row as u32),
        };
        out.serialize_field("color_hex", color_hex)?;
        out.serialize_field("bpm", &s.bpms.get(row))?;
        out.serialize_field("key", s.words.get(key))?;
        out.serialize_field("mode", s.words.get(mode))?;
        out.serialize_field("duration_seconds", &s.durations.get(row))?;
        out.serialize_field("dominant_emotion", s.words.get(emotion))?;
        match &s.published_at {
            Some(t) => out.serialize_field("published_at", t.get(row as u32))?,
            None => out.serialize_field(
                "published_at",
                &format_rfc3339(c.published_ms[self.song].div_euclid(1000)),
            )?,
        }
        if let Some(distance) = self.distance {
            out.serialize_field("distance", &distance)?;
        }
        out.end()
    }
}

#[cfg(test)]
mod tests;
