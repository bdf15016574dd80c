//! The in-memory catalogue index that lists and searches read: summaries, sort orders and
//! folded search text, built once from SQLite. Visibility (published at or before the
//! tenant's clock) is decided per request, since tenants' clocks differ.

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use super::store::SummaryRow;

/// The 13 basic fields every tier sees, flat (spec §3), plus what filters and searches need.
#[derive(Debug, Serialize)]
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
    #[serde(skip)]
    pub published_at_ms: i64,
    #[serde(skip)]
    pub tempo_feel: String,
    #[serde(skip)]
    pub energy_shape: String,
    #[serde(skip)]
    pub oklch: (f64, f64, f64),
    /// valence, arousal, nostalgia, melancholy, sensuality, triumph, mystery, inspirational.
    #[serde(skip)]
    pub emotions: [i64; 8],
    #[serde(skip)]
    pub folded: Folded,
}

/// Title, artist and album folded for case- and accent-insensitive matching.
#[derive(Debug, Default)]
pub struct Folded {
    pub title: String,
    pub artist: String,
    pub album: String,
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
/// laid out as arrays (a scan of 100,000 songs stays in cache), and three sort orders.
#[derive(Debug, Default)]
pub struct Catalogue {
    pub songs: Vec<Summary>,
    pub published_ms: Vec<i64>,
    pub tempo_feel: Vec<u8>,
    pub energy_shape: Vec<u8>,
    /// `[l, c, h]`, the hue 0 when undefined (its chroma makes it irrelevant).
    pub oklch: Vec<[f64; 3]>,
    pub emotions: Vec<[i64; 8]>,
    pub titles: Column,
    pub artists: Column,
    pub albums: Column,
    /// Newest first (ties by id).
    pub by_published: Vec<u32>,
    /// Each song's place in `by_published`: ties elsewhere break on it.
    pub published_rank: Vec<u32>,
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

impl Catalogue {
    pub fn build(rows: Vec<SummaryRow>) -> Catalogue {
        use super::catalogue::{ENERGY_SHAPES, TEMPO_FEELS};
        let songs: Vec<Summary> = rows
            .into_iter()
            .map(|r| Summary {
                folded: Folded {
                    title: fold(&r.title),
                    artist: fold(&r.artist),
                    album: fold(&r.album),
                },
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
                published_at_ms: r.published_at_ms,
                tempo_feel: r.tempo_feel,
                energy_shape: r.energy_shape,
                oklch: (r.oklch_l, r.oklch_c, r.oklch_h.unwrap_or(0.0)),
                emotions: [
                    r.valence,
                    r.arousal,
                    r.nostalgia,
                    r.melancholy,
                    r.sensuality,
                    r.triumph,
                    r.mystery,
                    r.inspirational,
                ],
            })
            .collect();
        let all = || (0..songs.len() as u32).collect::<Vec<u32>>();
        let song = |i: &u32| &songs[*i as usize];

        let mut by_published = all();
        by_published.sort_by(|a, b| {
            let (a, b) = (song(a), song(b));
            b.published_at_ms
                .cmp(&a.published_at_ms)
                .then_with(|| a.id.cmp(&b.id))
        });
        let mut published_rank = vec![0; songs.len()];
        for (rank, i) in by_published.iter().enumerate() {
            published_rank[*i as usize] = rank as u32;
        }
        let mut by_title = all();
        by_title.sort_by(|a, b| {
            let (a, b) = (song(a), song(b));
            a.folded.title.cmp(&b.folded.title).then_with(|| a.id.cmp(&b.id))
        });
        let mut by_artist = all();
        by_artist.sort_by(|a, b| {
            let (a, b) = (song(a), song(b));
            a.folded
                .artist
                .cmp(&b.folded.artist)
                .then_with(|| a.folded.title.cmp(&b.folded.title))
                .then_with(|| a.id.cmp(&b.id))
        });
        Catalogue {
            published_ms: songs.iter().map(|s| s.published_at_ms).collect(),
            tempo_feel: songs
                .iter()
                .map(|s| word_index(&TEMPO_FEELS, &s.tempo_feel))
                .collect(),
            energy_shape: songs
                .iter()
                .map(|s| word_index(&ENERGY_SHAPES, &s.energy_shape))
                .collect(),
            oklch: songs.iter().map(|s| [s.oklch.0, s.oklch.1, s.oklch.2]).collect(),
            emotions: songs.iter().map(|s| s.emotions).collect(),
            titles: Column::build(songs.iter().map(|s| s.folded.title.as_str())),
            artists: Column::build(songs.iter().map(|s| s.folded.artist.as_str())),
            albums: Column::build(songs.iter().map(|s| s.folded.album.as_str())),
            songs,
            by_published,
            published_rank,
            by_title,
            by_artist,
        }
    }

    pub fn is_visible(&self, song: usize, now_ms: i64) -> bool {
        self.published_ms[song] <= now_ms
    }

    /// The visible songs, newest first: future songs sort first in `by_published`, so the
    /// visible ones are the rest of it, found by binary search.
    pub fn visible_newest_first(&self, now_ms: i64) -> &[u32] {
        let first = self
            .by_published
            .partition_point(|i| self.published_ms[*i as usize] > now_ms);
        &self.by_published[first..]
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
