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

/// The whole catalogue: summaries plus three precomputed orders of indexes into them.
#[derive(Debug, Default)]
pub struct Catalogue {
    pub songs: Vec<Summary>,
    /// Newest first (ties by id).
    pub by_published: Vec<u32>,
    /// Title A→Z, case-insensitive, ties by id.
    pub by_title: Vec<u32>,
    /// Artist A→Z, case-insensitive, ties by title then id.
    pub by_artist: Vec<u32>,
}

impl Catalogue {
    pub fn build(rows: Vec<SummaryRow>) -> Catalogue {
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
            songs,
            by_published,
            by_title,
            by_artist,
        }
    }

    /// Songs in `order` that are visible at `now_ms`.
    pub fn visible<'a>(&'a self, order: &'a [u32], now_ms: i64) -> impl Iterator<Item = &'a Summary> + 'a {
        order
            .iter()
            .map(|i| &self.songs[*i as usize])
            .filter(move |s| s.published_at_ms <= now_ms)
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
}
