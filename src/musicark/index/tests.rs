//! The indexes against a plain scan. [`Plain`] is the catalogue as it was before the indexes:
//! every song folded, searched and measured, one by one. Over a generated catalogue and many
//! random queries, every answer must be the same songs in the same order, with the same
//! distances and totals, and every summary the same JSON.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use super::*;
use crate::musicark::catalogue::{self, FALLBACK_NOW, Song, format_rfc3339, parse_rfc3339};
use crate::musicark::color;
use crate::musicark::store::SummaryRow;

/// A song as `store::insert_songs` writes it and `store::summaries` reads it back.
fn row_of(s: &Song) -> SummaryRow {
    let e = &s.emotional;
    SummaryRow {
        id: s.song.id.clone(),
        slug: s.song.slug.clone(),
        title: s.song.title.clone(),
        artist: s.song.artist.clone(),
        album: s.song.album.clone(),
        release_year: i64::from(s.song.release_year),
        color_hex: s.color.hex.clone(),
        bpm: i64::from(s.temporal.bpm),
        key: s.harmonic.key.clone(),
        mode: s.harmonic.mode.clone(),
        duration_seconds: i64::from(s.song.duration_seconds),
        dominant_emotion: e.dominant_emotion.clone(),
        published_at: s.song.published_at.clone(),
        published_at_ms: parse_rfc3339(&s.song.published_at).unwrap_or(0) * 1000,
        tempo_feel: s.ai_analysis.tempo_feel.clone(),
        energy_shape: s.temporal.energy_shape.clone(),
        oklch_l: s.color.oklch_lightness,
        oklch_c: s.color.oklch_chroma,
        oklch_h: s.color.oklch_hue,
        valence: i64::from(e.valence),
        arousal: i64::from(e.arousal),
        nostalgia: i64::from(e.nostalgia_index),
        melancholy: i64::from(e.melancholy_index),
        sensuality: i64::from(e.sensuality_index),
        triumph: i64::from(e.triumph_index),
        mystery: i64::from(e.mystery_index),
        inspirational: i64::from(e.inspirational_quality),
    }
}

fn copy(r: &SummaryRow) -> SummaryRow {
    SummaryRow {
        id: r.id.clone(),
        slug: r.slug.clone(),
        title: r.title.clone(),
        artist: r.artist.clone(),
        album: r.album.clone(),
        color_hex: r.color_hex.clone(),
        key: r.key.clone(),
        mode: r.mode.clone(),
        dominant_emotion: r.dominant_emotion.clone(),
        published_at: r.published_at.clone(),
        tempo_feel: r.tempo_feel.clone(),
        energy_shape: r.energy_shape.clone(),
        ..*r
    }
}

/// The fold as it always was, with no shortcut for ASCII.
fn plain_fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The catalogue before the indexes: rows newest first (ties by id), searched by scans.
struct Plain {
    rows: Vec<SummaryRow>,
    folded: Vec<[String; 3]>,
    by_title: Vec<usize>,
    by_artist: Vec<usize>,
}

impl Plain {
    fn new(rows: &[SummaryRow]) -> Plain {
        let mut rows: Vec<SummaryRow> = rows.iter().map(copy).collect();
        rows.sort_by(|a, b| {
            b.published_at_ms
                .cmp(&a.published_at_ms)
                .then_with(|| a.id.cmp(&b.id))
        });
        let folded: Vec<[String; 3]> = rows
            .iter()
            .map(|r| [plain_fold(&r.title), plain_fold(&r.artist), plain_fold(&r.album)])
            .collect();
        let mut by_title: Vec<usize> = (0..rows.len()).collect();
        by_title.sort_by(|a, b| {
            folded[*a][0]
                .cmp(&folded[*b][0])
                .then_with(|| rows[*a].id.cmp(&rows[*b].id))
        });
        let mut by_artist: Vec<usize> = (0..rows.len()).collect();
        by_artist.sort_by(|a, b| {
            folded[*a][1]
                .cmp(&folded[*b][1])
                .then_with(|| folded[*a][0].cmp(&folded[*b][0]))
                .then_with(|| rows[*a].id.cmp(&rows[*b].id))
        });
        Plain {
            rows,
            folded,
            by_title,
            by_artist,
        }
    }

    fn visible(&self, song: usize, now_ms: i64) -> bool {
        self.rows[song].published_at_ms <= now_ms
    }

    fn text(&self, q: &str, now_ms: i64, keep: usize) -> (usize, Vec<usize>) {
        let q: String = plain_fold(q).chars().filter(|c| !c.is_control()).collect();
        let mut found: Vec<(u8, usize)> = (0..self.rows.len())
            .filter(|s| self.visible(*s, now_ms) && !q.is_empty())
            .filter_map(|s| {
                let [title, artist, album] = &self.folded[s];
                let rank = if title == &q {
                    0
                } else if title.starts_with(&q) {
                    1
                } else if title.contains(&q) {
                    2
                } else if artist.contains(&q) {
                    3
                } else if album.contains(&q) {
                    4
                } else {
                    return None;
                };
                Some((rank, s))
            })
            .collect();
        found.sort();
        (
            found.len(),
            found.into_iter().take(keep).map(|(_, s)| s).collect(),
        )
    }

    fn color(
        &self,
        target: Oklch,
        max_distance: f64,
        now_ms: i64,
        keep: usize,
    ) -> (usize, Vec<(f64, usize)>) {
        let mut found: Vec<(f64, usize)> = (0..self.rows.len())
            .filter(|s| self.visible(*s, now_ms))
            .filter_map(|s| {
                let r = &self.rows[s];
                let song = Oklch {
                    l: r.oklch_l,
                    c: r.oklch_c,
                    h: r.oklch_h.unwrap_or(0.0),
                };
                let d = color::distance(target, song);
                (d <= max_distance).then_some((d, s))
            })
            .collect();
        found.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let total = found.len();
        found.truncate(keep);
        (total, found)
    }

    fn emotional(&self, bounds: &[(u16, u16); 8], now_ms: i64, keep: usize) -> (usize, Vec<usize>) {
        let found: Vec<usize> = (0..self.rows.len())
            .filter(|s| self.visible(*s, now_ms))
            .filter(|s| {
                let r = &self.rows[*s];
                let values = [
                    r.valence,
                    r.arousal,
                    r.nostalgia,
                    r.melancholy,
                    r.sensuality,
                    r.triumph,
                    r.mystery,
                    r.inspirational,
                ];
                values
                    .iter()
                    .zip(bounds)
                    .all(|(v, (lo, hi))| (i64::from(*lo)..=i64::from(*hi)).contains(&(*v).clamp(0, 1000)))
            })
            .collect();
        (found.len(), found.into_iter().take(keep).collect())
    }

    fn list(
        &self,
        order: Order,
        filters: (Option<u8>, Option<u8>),
        now_ms: i64,
        skip: usize,
        take: usize,
    ) -> (Vec<usize>, usize) {
        let places: Vec<usize> = match order {
            Order::Newest => (0..self.rows.len()).collect(),
            Order::Title => self.by_title.clone(),
            Order::Artist => self.by_artist.clone(),
        };
        let matching: Vec<usize> = places
            .into_iter()
            .filter(|s| self.visible(*s, now_ms))
            .filter(|s| {
                let r = &self.rows[*s];
                filters
                    .0
                    .is_none_or(|t| word_index(&TEMPO_FEELS, &r.tempo_feel) == t)
                    && filters
                        .1
                        .is_none_or(|e| word_index(&ENERGY_SHAPES, &r.energy_shape) == e)
            })
            .collect();
        let total = matching.len();
        (matching.into_iter().skip(skip).take(take).collect(), total)
    }

    fn summary(&self, song: usize) -> Value {
        let r = &self.rows[song];
        serde_json::to_value(Summary {
            id: r.id.clone(),
            title: r.title.clone(),
            artist: r.artist.clone(),
            album: r.album.clone(),
            release_year: r.release_year,
            slug: r.slug.clone(),
            color_hex: r.color_hex.clone(),
            bpm: r.bpm,
            key: r.key.clone(),
            mode: r.mode.clone(),
            duration_seconds: r.duration_seconds,
            dominant_emotion: r.dominant_emotion.clone(),
            published_at: r.published_at.clone(),
        })
        .expect("a summary serializes")
    }
}

/// Both catalogues, and the checks that their answers agree.
struct Both {
    plain: Plain,
    index: Catalogue,
}

impl Both {
    fn new(rows: &[SummaryRow], shuffle: &mut StdRng) -> Both {
        let plain = Plain::new(rows);
        // The index is built from the rows in any order, as SQLite returns them.
        let mut shuffled: Vec<SummaryRow> = rows.iter().map(copy).collect();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, shuffle.random_range(0..=i));
        }
        Both {
            plain,
            index: Catalogue::build(shuffled),
        }
    }

    /// The indexed songs as the plain catalogue's, through their served JSON.
    fn same_songs(&self, indexed: &[usize], plain: &[usize], what: &str) {
        let served: Vec<Value> = indexed
            .iter()
            .map(|s| serde_json::to_value(self.index.summary(*s)).expect("a summary serializes"))
            .collect();
        let expected: Vec<Value> = plain.iter().map(|s| self.plain.summary(*s)).collect();
        if served != expected {
            let ids = |v: &[Value]| v.iter().map(|s| s["id"].to_string()).collect::<Vec<_>>();
            panic!("{what}: served {:?}, expected {:?}", ids(&served), ids(&expected));
        }
    }

    fn text(&self, q: &str, now_ms: i64, keep: usize) {
        let what = format!("text {q:?} at {now_ms} keep {keep}");
        let (plain_total, plain_found) = self.plain.text(q, now_ms, keep);
        let (total, found) = self.index.search_text(&fold_query(q), now_ms, keep);
        assert_eq!(total, plain_total, "{what}: total");
        self.same_songs(&found, &plain_found, &what);
    }

    fn color(&self, target: Oklch, max_distance: f64, now_ms: i64, keep: usize) {
        let what = format!("color {target:?} within {max_distance} at {now_ms} keep {keep}");
        let (total, found) = self.index.search_color(target, max_distance, now_ms, keep);
        let (plain_total, plain_found) = self.plain.color(target, max_distance, now_ms, keep);
        assert_eq!(total, plain_total, "{what}: total");
        let distances: Vec<f64> = found.iter().map(|(d, _)| *d).collect();
        let plain_distances: Vec<f64> = plain_found.iter().map(|(d, _)| *d).collect();
        assert_eq!(distances, plain_distances, "{what}: distances");
        let songs: Vec<usize> = found.iter().map(|(_, s)| *s).collect();
        let plain_songs: Vec<usize> = plain_found.iter().map(|(_, s)| *s).collect();
        self.same_songs(&songs, &plain_songs, &what);
    }

    fn emotional(&self, bounds: &[(u16, u16); 8], now_ms: i64, keep: usize) {
        let what = format!("emotional {bounds:?} at {now_ms} keep {keep}");
        let (total, found) = self.index.search_emotional(bounds, now_ms, keep);
        let (plain_total, plain_found) = self.plain.emotional(bounds, now_ms, keep);
        assert_eq!(total, plain_total, "{what}: total");
        self.same_songs(&found, &plain_found, &what);
    }

    fn list(&self, order: Order, filters: (Option<u8>, Option<u8>), now_ms: i64, skip: usize, take: usize) {
        let what = format!("list {order:?} {filters:?} at {now_ms} skip {skip} take {take}");
        let (page, total) = self.index.list(order, filters, now_ms, skip, take);
        let (plain_page, plain_total) = self.plain.list(order, filters, now_ms, skip, take);
        assert_eq!(total, plain_total, "{what}: total");
        self.same_songs(&page, &plain_page, &what);
    }
}

const DAY_MS: i64 = 86_400_000;

/// Clocks from before the first song to after the last, and the generator's own now.
fn clock(rng: &mut StdRng) -> i64 {
    let now = FALLBACK_NOW * 1000;
    match rng.random_range(0..6) {
        0 => now,
        1 => now + 61 * DAY_MS,
        2 => now - 4 * 365 * DAY_MS,
        _ => now - rng.random_range(0..3 * 365 * DAY_MS) + rng.random_range(0..61 * DAY_MS),
    }
}

fn keep(rng: &mut StdRng) -> usize {
    [1, 3, 20, 100][rng.random_range(0..4)]
}

/// A piece of a real title, artist or album, `len` characters long, maybe in upper case.
fn piece_of(rows: &[SummaryRow], rng: &mut StdRng, len: usize) -> String {
    let r = &rows[rng.random_range(0..rows.len())];
    let field = [&r.title, &r.artist, &r.album][rng.random_range(0..3)];
    let chars: Vec<char> = field.chars().collect();
    let len = len.min(chars.len());
    let start = rng.random_range(0..=chars.len() - len);
    let piece: String = chars[start..start + len].iter().collect();
    if rng.random_bool(0.3) {
        piece.to_uppercase()
    } else {
        piece
    }
}

fn generated() -> &'static [SummaryRow] {
    static ROWS: std::sync::OnceLock<Vec<SummaryRow>> = std::sync::OnceLock::new();
    ROWS.get_or_init(|| {
        catalogue::generate_at(20_000, 7, FALLBACK_NOW)
            .iter()
            .map(row_of)
            .collect()
    })
}

fn both() -> &'static Both {
    static BOTH: std::sync::OnceLock<Both> = std::sync::OnceLock::new();
    BOTH.get_or_init(|| Both::new(generated(), &mut StdRng::seed_from_u64(1)))
}

#[test]
fn text_search_answers_what_a_scan_answers() {
    let (both, rows) = (both(), generated());
    let mut rng = StdRng::seed_from_u64(2);
    let fixed = [
        "love",
        "a",
        "e",
        "é",
        "É",
        "星",
        "の",
        "ж",
        "Ж",
        "ь",
        "la",
        "de",
        "the ",
        "'",
        "zz",
        "q",
        "ß",
        "ñ",
        "NIGHT",
        "Café",
        "1",
        " ",
        "-",
        "zzqxjv",
        "\u{301}",
        "lo\u{7}ve",
        "ü",
        "Ü",
        "ой",
        "夜の",
    ];
    for q in fixed {
        both.text(q, FALLBACK_NOW * 1000, 20);
        both.text(q, clock(&mut rng), keep(&mut rng));
    }
    for _ in 0..150 {
        let q = match rng.random_range(0..10) {
            0 => {
                let r = &rows[rng.random_range(0..rows.len())];
                r.title.clone()
            }
            1 | 2 => piece_of(rows, &mut rng, 1),
            3 | 4 => piece_of(rows, &mut rng, 2),
            _ => {
                let len = rng.random_range(3..9);
                piece_of(rows, &mut rng, len)
            }
        };
        both.text(&q, clock(&mut rng), keep(&mut rng));
    }
}

#[test]
fn colour_search_answers_what_a_scan_answers() {
    let (both, rows) = (both(), generated());
    let mut rng = StdRng::seed_from_u64(3);
    for _ in 0..120 {
        let h = rng.random_range(0.0..=360.0);
        let l = if rng.random_bool(0.5) {
            0.5
        } else {
            rng.random_range(0.0..=1.0)
        };
        let c = if rng.random_bool(0.5) {
            0.15
        } else {
            rng.random_range(0.0..=0.4)
        };
        let mut target = Oklch { l, c, h };
        if rng.random_bool(0.15) {
            // A song's own colour: a distance of 0, and ties with the songs sharing it.
            let r = &rows[rng.random_range(0..rows.len())];
            target = Oklch {
                l: r.oklch_l,
                c: r.oklch_c,
                h: r.oklch_h.unwrap_or(0.0),
            };
        }
        let max_distance = match rng.random_range(0..6) {
            0 | 1 => 50.0,
            2 => rng.random_range(0.01..30.0),
            3 => 1000.0,
            4 => 0.001,
            _ => {
                // Exactly some song's distance: that song sits on the edge.
                let r = &rows[rng.random_range(0..rows.len())];
                let song = Oklch {
                    l: r.oklch_l,
                    c: r.oklch_c,
                    h: r.oklch_h.unwrap_or(0.0),
                };
                color::distance(target, song).max(f64::MIN_POSITIVE)
            }
        };
        both.color(target, max_distance, clock(&mut rng), keep(&mut rng));
    }
}

#[test]
fn emotional_search_answers_what_a_scan_answers() {
    let both = both();
    let mut rng = StdRng::seed_from_u64(4);
    both.emotional(&[(1, 1000); 8], FALLBACK_NOW * 1000, 20);
    let mut bench = [(1, 1000); 8];
    (bench[0], bench[1], bench[2]) = ((500, 1000), (1, 600), (300, 1000));
    both.emotional(&bench, FALLBACK_NOW * 1000, 20);
    for _ in 0..150 {
        let mut bounds = [(1u16, 1000u16); 8];
        for bound in &mut bounds {
            if rng.random_bool(0.35) {
                let (a, b) = (rng.random_range(1..=1000), rng.random_range(1..=1000));
                *bound = match rng.random_range(0..3) {
                    0 => (a, 1000),
                    1 => (1, a),
                    _ => (a.min(b), a.max(b)),
                };
            }
        }
        both.emotional(&bounds, clock(&mut rng), keep(&mut rng));
    }
}

#[test]
fn lists_answer_what_a_scan_answers() {
    let both = both();
    let n = generated().len();
    let mut rng = StdRng::seed_from_u64(5);
    for _ in 0..120 {
        let order = [Order::Newest, Order::Title, Order::Artist][rng.random_range(0..3)];
        let filters = (
            rng.random_bool(0.3).then(|| rng.random_range(0..12)),
            rng.random_bool(0.3).then(|| rng.random_range(0..8)),
        );
        let skip = match rng.random_range(0..4) {
            0 => 0,
            1 => n * 9 / 10,
            2 => n + rng.random_range(0..10),
            _ => rng.random_range(0..n),
        };
        both.list(order, filters, clock(&mut rng), skip, keep(&mut rng));
    }
}

fn row(id: &str, title: &str, published_at: &str) -> SummaryRow {
    SummaryRow {
        id: id.to_owned(),
        slug: format!("slug-{id}"),
        title: title.to_owned(),
        artist: "Ärtist".to_owned(),
        album: "Album".to_owned(),
        release_year: 1999,
        color_hex: "#5554b6".to_owned(),
        bpm: 120,
        key: "C".to_owned(),
        mode: "major".to_owned(),
        duration_seconds: 200,
        dominant_emotion: "joy".to_owned(),
        published_at: published_at.to_owned(),
        published_at_ms: parse_rfc3339(published_at).unwrap_or(0) * 1000,
        tempo_feel: "stride".to_owned(),
        energy_shape: "wave".to_owned(),
        oklch_l: 0.4996,
        oklch_c: 0.151,
        oklch_h: Some(279.89),
        valence: 500,
        arousal: 500,
        nostalgia: 500,
        melancholy: 500,
        sensuality: 500,
        triumph: 500,
        mystery: 500,
        inspirational: 500,
    }
}

#[test]
fn summaries_that_do_not_pack_are_served_as_they_were_stored() {
    // Each of these leaves a packed column for text (or wide numbers) partway through.
    let mut rows = vec![
        row(
            "6f1c3c5e-0000-4000-8000-000000000001",
            "One",
            "2025-01-01T00:00:00Z",
        ),
        row(
            "6f1c3c5e-0000-4000-8000-000000000002",
            "Two",
            "2025-01-02T00:00:00Z",
        ),
    ];
    let mut odd = row("not-a-uuid", "Three", "2025-01-03T00:00:00.250Z");
    odd.color_hex = "#5554B6".to_owned();
    odd.release_year = -3;
    odd.bpm = 1_000_000;
    odd.duration_seconds = i64::MAX;
    odd.key = "H".to_owned();
    rows.push(odd);
    let mut late = row(
        "6F1C3C5E-0000-4000-8000-000000000004",
        "Four",
        "2025-01-04t00:00:00Z",
    );
    late.color_hex = "5554b6".to_owned();
    rows.push(late);
    rows.push(row(
        "6f1c3c5e-0000-4000-8000-000000000005",
        "Five",
        "2025-01-05T00:00:00Z",
    ));
    let both = Both::new(&rows, &mut StdRng::seed_from_u64(6));
    let now = 2_000_000_000_000;
    both.list(Order::Newest, (None, None), now, 0, 10);
    both.list(Order::Title, (None, None), now, 0, 10);
    both.text("ärtist", now, 10);
}

#[test]
fn an_empty_catalogue_answers_nothing() {
    let both = Both::new(&[], &mut StdRng::seed_from_u64(7));
    both.text("a", 0, 20);
    both.color(
        Oklch {
            l: 0.5,
            c: 0.15,
            h: 280.0,
        },
        50.0,
        0,
        20,
    );
    both.emotional(&[(1, 1000); 8], 0, 20);
    both.list(Order::Title, (None, None), 0, 0, 20);
    assert!(both.index.is_empty());
}

#[test]
fn folding_ignores_case_and_accents_but_keeps_other_scripts() {
    assert_eq!(fold("Café del Mar"), "cafe del mar");
    assert_eq!(fold("ÑANDÚ"), "nandu");
    assert_eq!(fold("Don't Stop"), "don't stop");
    assert_eq!(fold("Ночь"), "ночь");
    assert_eq!(fold("夜の歌"), "夜の歌");
    for text in ["Don't STOP", "abc XYZ 123 !?", "", "\u{7f}~"] {
        assert_eq!(
            fold(text),
            plain_fold(text),
            "{text:?}: the ASCII shortcut folds the same"
        );
    }
}

#[test]
fn an_instant_is_derived_only_when_formatting_it_gives_the_same_text() {
    let mut rng = StdRng::seed_from_u64(8);
    for _ in 0..20_000 {
        let secs = rng.random_range(-62_135_596_800..253_402_300_800i64); // years 1–9999
        let text = format_rfc3339(secs);
        assert!(is_formatted_instant(&text, secs * 1000), "{text}");
        assert!(
            !is_formatted_instant(&text, secs * 1000 + 1),
            "{text} with milliseconds"
        );
        assert!(
            !is_formatted_instant(&text, (secs + 1) * 1000),
            "{text} a second later"
        );
    }
    for (text, secs) in [
        ("2025-01-01T00:00:60Z", 1_735_689_660), // a leap second parses as the next minute
        ("2025-01-01t00:01:00Z", 1_735_689_660),
        ("2025-01-01T00:01:00z", 1_735_689_660),
        ("2025-01-01T00:01:00.0Z", 1_735_689_660),
        ("2025-01-01T01:01:00+01:00", 1_735_689_660),
    ] {
        assert_eq!(parse_rfc3339(text), Some(secs), "{text} parses");
        assert_ne!(format_rfc3339(secs), text);
        assert!(
            !is_formatted_instant(text, secs * 1000),
            "{text} is not how it is formatted"
        );
    }
}

#[test]
fn uuids_pack_only_in_their_lowercase_hyphenated_form() {
    let id = "6f1c3c5e-09ab-4cde-8f00-123456789abc";
    let mut buf = [0u8; 36];
    assert_eq!(
        parse_uuid(id).map(|n| format_uuid(n, &mut buf).to_owned()),
        Some(id.to_owned())
    );
    for other in [
        "6F1C3C5E-09AB-4CDE-8F00-123456789ABC",
        "6f1c3c5e09ab4cde8f00123456789abc",
        "6f1c3c5e-09ab-4cde-8f00-123456789ab",
        "6f1c3c5e+09ab-4cde-8f00-123456789abc",
        "",
    ] {
        assert_eq!(parse_uuid(other), None, "{other:?}");
    }
    let mut hex = [0u8; 7];
    assert_eq!(hex_text([0x55, 0x04, 0xb6], &mut hex), "#5504b6");
}

#[test]
fn the_index_holds_far_less_than_a_summary_per_song_would() {
    // 13 owned strings per song took ~700 bytes; the packed catalogue with every index must
    // stay well under that.
    let both = both();
    let per_song = both.index.heap_bytes() / both.index.len();
    assert!(per_song < 400, "{per_song} bytes per song");
}

#[test]
fn the_orders_built_from_keys_are_the_comparison_sorts() {
    // Few titles, artists and instants, and some ids twice: most keys tie.
    let mut rng = StdRng::seed_from_u64(13);
    let n = 3_000;
    let ids = {
        let mut ids = Ids::Uuids(Vec::new());
        for _ in 0..n {
            let id: u128 = rng.random_range(0..n as u128 / 2);
            ids.push(format_uuid(id, &mut [0u8; 36]));
        }
        ids
    };
    let published_ms: Vec<i64> = (0..n).map(|_| rng.random_range(-3..4) * 1000).collect();
    let rows = newest_first(&published_ms, &ids);
    let mut expected: Vec<u32> = (0..n as u32).collect();
    expected.sort_by(|a, b| {
        let ms = |r: u32| published_ms[r as usize];
        ms(*b).cmp(&ms(*a)).then(ids.compare(*a, *b)).then(a.cmp(b))
    });
    assert_eq!(rows, expected);

    let song_terms: Vec<[u32; 3]> = (0..n)
        .map(|_| {
            [
                rng.random_range(0..40),
                rng.random_range(0..7),
                rng.random_range(0..9),
            ]
        })
        .collect();
    let tie = |a: &u32, b: &u32| ids.compare(rows[*a as usize], rows[*b as usize]).then(a.cmp(b));
    let mut titles: Vec<u32> = (0..n as u32).collect();
    titles.sort_by(|a, b| {
        song_terms[*a as usize][0]
            .cmp(&song_terms[*b as usize][0])
            .then(tie(a, b))
    });
    assert_eq!(by_title(&song_terms, &rows, &ids), titles);
    let mut artists: Vec<u32> = (0..n as u32).collect();
    let artist_title = |p: &u32| (song_terms[*p as usize][1], song_terms[*p as usize][0]);
    artists.sort_by(|a, b| artist_title(a).cmp(&artist_title(b)).then(tie(a, b)));
    assert_eq!(by_artist(&song_terms, &rows, &ids), artists);
}

#[test]
fn copying_by_place_gives_what_moving_in_place_gives() {
    let mut rng = StdRng::seed_from_u64(5);
    for n in [0, 1, 2, 64, 1_000] {
        let mut rows: Vec<u32> = (0..n).collect();
        for i in (1..rows.len()).rev() {
            rows.swap(i, rng.random_range(0..=i));
        }
        let values: Vec<i64> = (0..n).map(|_| rng.random_range(-50..50)).collect();
        assert_eq!(by_place(&values, &rows), permute(values.clone(), &rows), "n {n}");
    }
}
