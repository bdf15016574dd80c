//! The in-memory catalogue index that lists and searches read: summaries, sort orders and
//! folded search text, built once from SQLite. Visibility (published at or before the
//! tenant's clock) is decided per request, since tenants' clocks differ.

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use super::store::SummaryRow;

/// The 13 basic fields every tier sees, flat (spec §3): what lists and searches serialize.
#[derive(Debug, Serialize, utoipa::ToSchema)]
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
    text.nfd()
        // Only the Latin-script diacritics: other scripts' marks (Japanese dakuten) change meaning.
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Folded text of one field for every song, joined in one buffer so that a substring search
/// is one pass of `memmem` over contiguous memory instead of 100,000 small strings.
#[derive(Debug, Default)]
pub struct Column {
    text: String,
    /// Where each song's text starts; song `i` is `text[starts[i]..starts[i + 1] - 1]`.
    starts: Vec<usize>,
}

/// Separates songs in a [`Column`]; folded queries never contain it.
const SEPARATOR: char = '\u{0}';

impl Column {
    fn build<'a>(values: impl Iterator<Item = &'a str>) -> Column {
        let mut column = Column::default();
        for value in values {
            column.starts.push(column.text.len());
            column.text.push_str(value);
            column.text.push(SEPARATOR);
        }
        column.starts.push(column.text.len());
        column
    }

    pub fn get(&self, song: usize) -> &str {
        &self.text[self.starts[song]..self.starts[song + 1] - SEPARATOR.len_utf8()]
    }

    /// Calls `hit` with every song whose text contains `needle` (once per occurrence).
    pub fn find(&self, needle: &str, mut hit: impl FnMut(usize)) {
        if needle.is_empty() {
            return;
        }
        for at in memchr::memmem::find_iter(self.text.as_bytes(), needle.as_bytes()) {
            hit(self.starts.partition_point(|start| *start <= at) - 1);
        }
    }
}

/// The whole catalogue: summaries to serialize, the fields that filters and searches read
/// laid out as arrays (a scan of 100,000 songs stays in cache), and the sort orders.
///
/// Songs are stored newest first (ties by id), so a song's index is its place in the default
/// order, the visible songs are a suffix of the array, and scans run in that order.
#[derive(Debug, Default)]
pub struct Catalogue {
    pub songs: Vec<Summary>,
    pub published_ms: Vec<i64>,
    pub tempo_feel: Vec<u8>,
    pub energy_shape: Vec<u8>,
    /// `[l, c, h]`, the hue 0 when undefined (its chroma makes it irrelevant).
    pub oklch: Vec<[f64; 3]>,
    /// valence, arousal, nostalgia, melancholy, sensuality, triumph, mystery, inspirational.
    pub emotions: Vec<[u16; 8]>,
    pub titles: Column,
    pub artists: Column,
    pub albums: Column,
    /// Title A→Z, case-insensitive, ties by id.
    pub by_title: Vec<u32>,
    /// Artist A→Z, case-insensitive, ties by title then id.
    pub by_artist: Vec<u32>,
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

impl Catalogue {
    pub fn build(mut rows: Vec<SummaryRow>) -> Catalogue {
        use super::catalogue::{ENERGY_SHAPES, TEMPO_FEELS};
        rows.sort_by(|a, b| {
            b.published_at_ms
                .cmp(&a.published_at_ms)
                .then_with(|| a.id.cmp(&b.id))
        });
        let folded: Vec<[String; 3]> = rows
            .iter()
            .map(|r| [fold(&r.title), fold(&r.artist), fold(&r.album)])
            .collect();
        let all = || (0..rows.len() as u32).collect::<Vec<u32>>();
        let mut by_title = all();
        by_title.sort_by(|a, b| {
            let (fa, fb) = (&folded[*a as usize], &folded[*b as usize]);
            fa[0]
                .cmp(&fb[0])
                .then_with(|| rows[*a as usize].id.cmp(&rows[*b as usize].id))
        });
        let mut by_artist = all();
        by_artist.sort_by(|a, b| {
            let (fa, fb) = (&folded[*a as usize], &folded[*b as usize]);
            fa[1]
                .cmp(&fb[1])
                .then_with(|| fa[0].cmp(&fb[0]))
                .then_with(|| rows[*a as usize].id.cmp(&rows[*b as usize].id))
        });
        Catalogue {
            published_ms: rows.iter().map(|r| r.published_at_ms).collect(),
            tempo_feel: rows
                .iter()
                .map(|r| word_index(&TEMPO_FEELS, &r.tempo_feel))
                .collect(),
            energy_shape: rows
                .iter()
                .map(|r| word_index(&ENERGY_SHAPES, &r.energy_shape))
                .collect(),
            oklch: rows
                .iter()
                .map(|r| [r.oklch_l, r.oklch_c, r.oklch_h.unwrap_or(0.0)])
                .collect(),
            emotions: rows
                .iter()
                .map(|r| {
                    [
                        r.valence,
                        r.arousal,
                        r.nostalgia,
                        r.melancholy,
                        r.sensuality,
                        r.triumph,
                        r.mystery,
                        r.inspirational,
                    ]
                    .map(emotion)
                })
                .collect(),
            titles: Column::build(folded.iter().map(|f| f[0].as_str())),
            artists: Column::build(folded.iter().map(|f| f[1].as_str())),
            albums: Column::build(folded.iter().map(|f| f[2].as_str())),
            by_title,
            by_artist,
            songs: rows
                .into_iter()
                .map(|r| Summary {
                    id: r.id,
                    title: r.title,
                    artist: r.artist,
                    album: r.album,
                    release_year: r.release_year,
                    slug: r.slug,
                    color_hex: r.color_hex,
                    bpm: r.bpm,
                    key: r.key,
                    mode: r.mode,
                    duration_seconds: r.duration_seconds,
                    dominant_emotion: r.dominant_emotion,
                    published_at: r.published_at,
                })
                .collect(),
        }
    }

    pub fn is_visible(&self, song: usize, now_ms: i64) -> bool {
        self.published_ms[song] <= now_ms
    }

    /// The visible songs, newest first: future songs come first in storage, so the visible
    /// ones are the rest, found by binary search.
    pub fn visible_newest_first(&self, now_ms: i64) -> std::ops::Range<usize> {
        self.published_ms.partition_point(|ms| *ms > now_ms)..self.songs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_and_accents_but_keeps_other_scripts() {
        assert_eq!(fold("Café del Mar"), "cafe del mar");
        assert_eq!(fold("ÑANDÚ"), "nandu");
        assert_eq!(fold("Don't Stop"), "don't stop");
        assert_eq!(fold("Ночь"), "ночь");
        assert_eq!(fold("夜の歌"), "夜の歌");
    }

    #[test]
    fn a_column_finds_every_song_holding_the_needle_and_never_across_songs() {
        let column = Column::build(["love me", "no", "glove", "lo", "ve"].into_iter());
        let mut hits = Vec::new();
        column.find("love", |i| hits.push(i));
        assert_eq!(hits, vec![0, 2]);
        hits.clear();
        column.find("ove", |i| hits.push(i));
        assert_eq!(hits, vec![0, 2], "\"lo\" + \"ve\" are two songs, not one match");
        assert_eq!(column.get(2), "glove");
        assert_eq!(column.get(4), "ve");
    }
}
