//! The seeded MusicArk song catalogue (spec §3–4): the full song profile, the rules that derive
//! tempo_feel, tempo_marking, energy_shape, dominant_emotion, camelot and OKLCH from their
//! sources, a deterministic generator, JSONL I/O, and a checker that every derived field agrees.

use std::collections::HashSet;
use std::f64::consts::TAU;
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use super::color::{self, Oklch};

/// The vendor's tempo-feel vocabulary, slow → fast (spec §3).
#[rustfmt::skip]
pub const TEMPO_FEELS: [&str; 12] = [
    "stillness", "drift", "sway", "lean", "groove", "bounce",
    "stride", "drive", "surge", "rush", "blitz", "fury",
];
/// The lowest BPM of every tempo feel after `stillness` (spec §3's bands).
const TEMPO_FEEL_FLOORS: [u16; 11] = [60, 70, 80, 92, 104, 116, 126, 136, 150, 168, 190];
/// Italian markings, lowercase as the vendor page writes them ("moderato", "allegro").
#[rustfmt::skip]
pub const TEMPO_MARKINGS: [&str; 8] =
    ["largo", "adagio", "andante", "moderato", "allegro", "vivace", "presto", "prestissimo"];
/// The lowest BPM of every marking after `largo`, after the usual metronome ranges.
const TEMPO_MARKING_FLOORS: [u16; 7] = [66, 76, 108, 120, 156, 176, 200];
/// The vendor's energy-shape vocabulary (spec §3).
pub const ENERGY_SHAPES: [&str; 8] = [
    "steady", "build", "rise", "peak", "wave", "cascade", "bloom", "burst",
];
pub const KEYS: [&str; 12] = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
pub const MODES: [&str; 2] = ["major", "minor"];
/// Every value [`dominant_emotion`] can return.
#[rustfmt::skip]
pub const DOMINANT_EMOTIONS: [&str; 9] =
    ["neutral", "joy", "euphoria", "calm", "serenity", "tension", "anger", "melancholy", "sadness"];
/// Samples per curve (spec §3).
pub const CURVE_SAMPLES: usize = 32;

/// One song's full profile: the nested shape of `GET /songs/{id}` at the enterprise tier.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Song {
    pub song: SongSection,
    pub color: ColorSection,
    pub temporal: TemporalSection,
    pub harmonic: HarmonicSection,
    pub pitch: PitchSection,
    pub timbre: TimbreSection,
    pub energy: EnergySection,
    pub spatial: SpatialSection,
    pub arrangement: ArrangementSection,
    pub ai_analysis: AiAnalysisSection,
    pub emotional: EmotionalSection,
    pub contextual: ContextualSection,
    pub narrative: NarrativeSection,
    pub cultural: CulturalSection,
    pub curves: CurvesSection,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SongSection {
    pub id: String,
    pub title: String,
    pub artist: String,
    pub album: String,
    pub release_year: u16,
    pub slug: String,
    pub duration_seconds: u32,
    /// RFC 3339 UTC with `Z`, whole seconds.
    pub published_at: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColorSection {
    pub hex: String,
    pub oklch_lightness: f64,
    pub oklch_chroma: f64,
    /// `None` when the (rounded) chroma is ≤ 4e-6.
    pub oklch_hue: Option<f64>,
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemporalSection {
    pub bpm: u16,
    pub tempo_marking: String,
    pub energy_shape: String,
    pub bpm_confidence: f64,
    pub time_signature: String,
    pub rhythm_stability: f64,
    /// Note onsets per second.
    pub onset_rate: f64,
    pub swing: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HarmonicSection {
    pub key: String,
    pub mode: String,
    pub key_confidence: f64,
    pub camelot: String,
    pub tuning_frequency_hz: f64,
    /// Chord changes per second.
    pub chord_change_rate: f64,
    pub harmonic_complexity: f64,
    pub dissonance: f64,
    /// Mean of `curves.harmonic_tension_curve`, 3 decimals.
    pub harmonic_tension: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PitchSection {
    pub melody_range_semitones: u8,
    pub median_pitch_midi: u8,
    pub pitch_salience: f64,
    /// From `median_pitch_midi`; `None` for instrumentals.
    pub vocal_register: Option<String>,
    pub melodic_complexity: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimbreSection {
    /// Mean of `curves.brightness_curve`, 3 decimals.
    pub brightness: f64,
    pub spectral_centroid_hz: f64,
    pub spectral_rolloff_hz: f64,
    pub warmth: f64,
    pub roughness: f64,
    pub zero_crossing_rate: f64,
    pub acousticness: f64,
    pub instrumentalness: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergySection {
    /// Mean of `curves.energy_curve`, 3 decimals.
    pub energy: f64,
    pub danceability: f64,
    pub loudness_lufs: f64,
    pub loudness_range_lu: f64,
    pub dynamic_complexity: f64,
    pub intensity: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpatialSection {
    pub stereo_width: f64,
    pub phase_correlation: f64,
    pub reverb_amount: f64,
    pub depth: f64,
    /// −1 (left) … 1 (right).
    pub pan_balance: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrangementSection {
    pub has_vocals: bool,
    pub vocal_presence: f64,
    pub density: f64,
    pub instrumentation: Vec<String>,
    pub section_count: u32,
    /// In order, contiguous, from 0 to `duration_seconds`.
    pub sections: Vec<SongPart>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SongPart {
    pub label: String,
    pub start_seconds: u32,
    pub end_seconds: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiAnalysisSection {
    pub tempo_feel: String,
    pub tempo_feel_confidence: f64,
    pub primary_genre: String,
    pub genre_confidence: f64,
    pub complexity: f64,
    pub novelty: f64,
    pub model_version: String,
    pub analyzed_at: String,
}

/// Integers 1–1000 (spec §3).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmotionalSection {
    pub valence: u16,
    pub arousal: u16,
    pub nostalgia_index: u16,
    pub melancholy_index: u16,
    pub sensuality_index: u16,
    pub triumph_index: u16,
    pub mystery_index: u16,
    pub inspirational_quality: u16,
    pub dominant_emotion: String,
    pub human_verified: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextualSection {
    pub activities: Vec<String>,
    pub time_of_day: String,
    pub season: String,
    pub setting: String,
    pub social_context: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NarrativeSection {
    pub summary: String,
    pub themes: Vec<String>,
    pub story_arc: String,
    pub perspective: String,
    pub imagery: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CulturalSection {
    /// The release decade, e.g. `1980s`.
    pub era: String,
    /// ISO 3166-1 alpha-2.
    pub origin_country: String,
    /// ISO 639-1 of the lyrics; `zxx` (no linguistic content) for instrumentals.
    pub language: String,
    pub scene: String,
    pub influences: Vec<String>,
}

/// Four curves of [`CURVE_SAMPLES`] values in 0–1, 3 decimals.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurvesSection {
    pub energy_curve: Vec<f64>,
    pub brightness_curve: Vec<f64>,
    pub melody_contour: Vec<f64>,
    pub harmonic_tension_curve: Vec<f64>,
    pub sample_count: u32,
    pub seconds_per_sample: f64,
}

// ---------------------------------------------------------------------------------------------
// Derivation rules: each derived field is a pure function of its source, so fixtures and the
// checker cannot drift apart.

/// Spec §3's bands: <60 stillness, 60 drift, 70 sway, 80 lean, 92 groove, 104 bounce,
/// 116 stride, 126 drive, 136 surge, 150 rush, 168 blitz, ≥190 fury.
pub fn tempo_feel(bpm: u16) -> &'static str {
    TEMPO_FEELS[TEMPO_FEEL_FLOORS
        .iter()
        .take_while(|&&floor| bpm >= floor)
        .count()]
}

/// <66 largo, 66–75 adagio, 76–107 andante, 108–119 moderato, 120–155 allegro,
/// 156–175 vivace, 176–199 presto, ≥200 prestissimo.
pub fn tempo_marking(bpm: u16) -> &'static str {
    TEMPO_MARKINGS[TEMPO_MARKING_FLOORS
        .iter()
        .take_while(|&&floor| bpm >= floor)
        .count()]
}

/// Names a curve's shape. The curve is read in thousandths (`round(v·1000)`) so the rule is
/// exact integer arithmetic; with `n` samples, `start`/`end` are the means of the first and
/// last 4. The first rule that matches wins:
/// 1. `steady`  — max − min < 0.2;
/// 2. `burst`   — some step rises by ≥ 0.3 from one sample to the next;
/// 3. `wave`    — ≥ 3 reversals, a reversal being a move of ≥ 0.15 against the running
///    direction from the latest extreme (a zigzag filter);
/// 4. `peak`    — the (first) maximum lies in the middle (19 %–81 % of the curve) and is
///    ≥ 0.2 above both `start` and `end`;
/// 5. `cascade` — `start` − `end` ≥ 0.2;
/// 6. rising (`end` − `start` ≥ 0.2), by where the curve first reaches halfway from `start`
///    to `end`: in the first 33 % `rise`, after 67 % `bloom`, otherwise `build`;
/// 7. anything else (a dip, a lopsided swell) is a `wave`.
pub fn classify_energy_shape(curve: &[f64]) -> &'static str {
    let m: Vec<i64> = curve.iter().map(|v| (v * 1000.0).round() as i64).collect();
    let (Some(&max), Some(&min)) = (m.iter().max(), m.iter().min()) else {
        return "steady";
    };
    if max - min < 200 {
        return "steady";
    }
    if m.windows(2).any(|w| w[1] - w[0] >= 300) {
        return "burst";
    }
    if reversals(&m, 150) >= 3 {
        return "wave";
    }
    let (edge, last) = (m.len().min(4), m.len() - 1);
    let start: i64 = m[..edge].iter().sum();
    let end: i64 = m[m.len() - edge..].iter().sum();
    let (k, at) = (edge as i64, |i: usize| (i * 100) as i64);
    let peak_at = m.iter().position(|&v| v == max).unwrap_or(0);
    let middle = (19 * last) as i64..=(81 * last) as i64;
    if middle.contains(&at(peak_at)) && k * max - start >= 200 * k && k * max - end >= 200 * k {
        return "peak";
    }
    if start - end >= 200 * k {
        return "cascade";
    }
    if end - start >= 200 * k {
        let halfway = m.iter().position(|&v| 2 * k * v >= start + end).unwrap_or(0);
        return if at(halfway) <= (33 * last) as i64 {
            "rise"
        } else if at(halfway) >= (67 * last) as i64 {
            "bloom"
        } else {
            "build"
        };
    }
    "wave"
}

/// Counts direction changes of at least `threshold` from the latest extreme.
fn reversals(m: &[i64], threshold: i64) -> usize {
    let Some(&first) = m.first() else { return 0 };
    let (mut hi, mut lo, mut direction, mut count) = (first, first, 0i8, 0);
    for &v in m {
        match direction {
            1 if v > hi => hi = v,
            1 if hi - v >= threshold => (direction, lo, count) = (-1, v, count + 1),
            -1 if v < lo => lo = v,
            -1 if v - lo >= threshold => (direction, hi, count) = (1, v, count + 1),
            1 | -1 => {}
            _ => {
                (hi, lo) = (hi.max(v), lo.min(v));
                if v - lo >= threshold {
                    (direction, hi) = (1, v);
                } else if hi - v >= threshold {
                    (direction, lo) = (-1, v);
                }
            }
        }
    }
    count
}

/// Russell's circumplex in quadrants around (500, 500): within 100 of the centre on both axes
/// `neutral`; otherwise "high" means > 500 and the quadrant's word is the strong one when either
/// axis is more than 350 from the centre. High valence: high arousal joy/euphoria, low arousal
/// calm/serenity. Low valence: high arousal tension/anger, low arousal melancholy/sadness.
pub fn dominant_emotion(valence: u16, arousal: u16) -> &'static str {
    let (v, a) = (i32::from(valence) - 500, i32::from(arousal) - 500);
    if v.abs() <= 100 && a.abs() <= 100 {
        return "neutral";
    }
    match (v > 0, a > 0, v.abs().max(a.abs()) > 350) {
        (true, true, false) => "joy",
        (true, true, true) => "euphoria",
        (true, false, false) => "calm",
        (true, false, true) => "serenity",
        (false, true, false) => "tension",
        (false, true, true) => "anger",
        (false, false, false) => "melancholy",
        (false, false, true) => "sadness",
    }
}

/// The Camelot wheel position: C major is 8B, A minor 8A, each fifth up adds one.
pub fn camelot(key: &str, mode: &str) -> Option<String> {
    let pitch = KEYS.iter().position(|k| *k == key)?;
    let (major_pitch, letter) = match mode {
        "major" => (pitch, 'B'),
        "minor" => ((pitch + 3) % 12, 'A'), // a minor key sits beside its relative major
        _ => return None,
    };
    Some(format!("{}{letter}", (major_pitch * 7 + 7) % 12 + 1))
}

/// A short English name from lightness and hue, e.g. `deep violet`, `pale rose`; below 0.03
/// chroma a grey by lightness: black, charcoal, grey, silver, white.
pub fn color_name(lightness: f64, chroma: f64, hue: Option<f64>) -> String {
    #[rustfmt::skip]
    const FAMILIES: [(f64, &str); 11] = [
        (20.0, "rose"), (45.0, "red"), (70.0, "orange"), (95.0, "amber"), (125.0, "yellow"),
        (165.0, "green"), (200.0, "teal"), (240.0, "cyan"), (275.0, "blue"), (315.0, "violet"),
        (345.0, "magenta"),
    ];
    let Some(hue) = hue.filter(|_| chroma >= 0.03) else {
        let greys = [(0.2, "black"), (0.4, "charcoal"), (0.65, "grey"), (0.9, "silver")];
        return greys
            .iter()
            .find(|(top, _)| lightness < *top)
            .map_or("white", |g| g.1)
            .to_string();
    };
    let family = FAMILIES
        .iter()
        .find(|(top, _)| hue < *top)
        .map_or("rose", |f| f.1);
    let shade = [(0.4, "deep "), (0.6, ""), (0.8, "soft ")]
        .into_iter()
        .find(|(top, _)| lightness < *top);
    format!("{}{family}", shade.map_or("pale ", |s| s.1))
}

fn vocal_register(median_pitch_midi: u8) -> &'static str {
    match median_pitch_midi {
        ..50 => "bass",
        50..55 => "baritone",
        55..60 => "tenor",
        60..65 => "alto",
        65..69 => "mezzo-soprano",
        _ => "soprano",
    }
}

/// The `color` section of an sRGB colour: OKLCH rounded to 6 decimals, hue `None` for greys.
fn color_section(rgb: [u8; 3]) -> ColorSection {
    let o = color::hex_to_oklch(rgb);
    let (l, c) = (round_to(o.l, 6), round_to(o.c, 6));
    // Decided on the rounded chroma, so the stored record is consistent with itself.
    let hue = color::hue_is_defined(c).then(|| round_to(o.h, 6) % 360.0);
    ColorSection {
        hex: color::format_hex(rgb),
        oklch_lightness: l,
        oklch_chroma: c,
        oklch_hue: hue,
        name: color_name(l, c, hue),
    }
}

/// Lowercase ASCII words joined by `-`: Latin accents folded, Cyrillic and Greek
/// transliterated, apostrophes dropped; other scripts vanish (the caller falls back to an id).
pub fn slugify(text: &str) -> String {
    let (mut slug, mut gap) = (String::with_capacity(text.len()), false);
    let mut buf = [0u8; 4];
    for ch in text.chars().flat_map(char::to_lowercase) {
        let piece = if ch.is_ascii_alphanumeric() {
            &*ch.encode_utf8(&mut buf)
        } else {
            transliterate(ch)
        };
        if piece == " " {
            gap = true;
            continue;
        }
        for out in piece.chars() {
            if gap && !slug.is_empty() {
                slug.push('-');
            }
            gap = false;
            slug.push(out);
        }
    }
    slug
}

/// `""` drops the character, `" "` separates words.
fn transliterate(ch: char) -> &'static str {
    match ch {
        '\'' | '’' | '\u{300}'..='\u{36f}' => "",
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' | 'а' | 'α' | 'ά' => "a",
        'ç' | 'ć' | 'č' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' | 'е' | 'ё' | 'э' | 'ε' | 'έ' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' | 'и' | 'і' | 'η' | 'ή' | 'ι' | 'ί' | 'ϊ' | 'ΐ' => {
            "i"
        }
        'ñ' | 'ń' | 'ň' | 'н' | 'ν' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'о' | 'ο' | 'ό' | 'ω' | 'ώ' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'у' => "u",
        'ý' | 'ÿ' | 'й' | 'ы' | 'υ' | 'ύ' | 'ϋ' | 'ΰ' => "y",
        'ś' | 'š' | 'ş' | 'с' | 'σ' | 'ς' => "s",
        'ź' | 'ż' | 'ž' | 'з' | 'ζ' => "z",
        'ł' | 'л' | 'λ' => "l",
        'ğ' | 'г' | 'ґ' | 'γ' => "g",
        'đ' | 'ð' | 'ď' | 'д' | 'δ' => "d",
        'ř' | 'р' | 'ρ' => "r",
        'ť' | 'т' | 'τ' => "t",
        'б' => "b",
        'в' | 'β' => "v",
        'к' | 'κ' => "k",
        'м' | 'μ' => "m",
        'п' | 'π' => "p",
        'ф' | 'φ' => "f",
        'ξ' => "x",
        'æ' => "ae",
        'œ' => "oe",
        'ß' => "ss",
        'þ' | 'θ' => "th",
        'ж' => "zh",
        'х' => "kh",
        'χ' => "ch",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ю' => "yu",
        'я' => "ya",
        'ї' => "yi",
        'є' => "ye",
        'ψ' => "ps",
        'ъ' | 'ь' => "",
        _ => " ",
    }
}

// ---------------------------------------------------------------------------------------------
// RFC 3339 instants as Unix seconds (Howard Hinnant's civil-date algorithms), so this module
// needs no date crate.

/// Used by [`generate`] when `now` does not parse: 2026-01-01T00:00:00Z.
pub const FALLBACK_NOW: i64 = 1_767_225_600;

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` to Unix seconds (fraction dropped).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0i64, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, c)| b.get(at) != Some(&c)) || !matches!(b.get(10), Some(b'T' | b't')) {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (oh, om) = (num(s.len() - 5, 2)?, num(s.len() - 2, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            if *sign == b'-' {
                -(oh * 3600 + om * 60)
            } else {
                oh * 3600 + om * 60
            }
        }
        _ => return None,
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
    }
    // Pushing digits by hand: the generator formats two instants per song, and `format!` was a
    // measurable share of generating 100,000.
    let mut out = String::with_capacity(20);
    for (value, width, after) in [
        (y, 4, '-'),
        (m, 2, '-'),
        (d, 2, 'T'),
        (secs / 3600, 2, ':'),
        (secs / 60 % 60, 2, ':'),
        (secs % 60, 2, 'Z'),
    ] {
        for place in (0..width).rev() {
            out.push(char::from(b'0' + (value / 10i64.pow(place) % 10) as u8));
        }
        out.push(after);
    }
    out
}

fn year_of(unix: i64) -> i64 {
    civil_from_days(unix.div_euclid(86_400)).0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let (day, month) = (
        doy - (153 * mp + 2) / 5 + 1,
        if mp < 10 { mp + 3 } else { mp - 9 },
    );
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

// ---------------------------------------------------------------------------------------------
// The generator.

/// [`generate_at`] with `now` as RFC 3339; an unparseable `now` means [`FALLBACK_NOW`].
pub fn generate(n: usize, seed: u64, now: &str) -> Vec<Song> {
    generate_at(n, seed, parse_rfc3339(now).unwrap_or(FALLBACK_NOW))
}

/// `n` songs, byte-identical for a given `(n, seed, now)` forever: the PRNG is written here,
/// every song draws from its own stream (so song `i` depends only on the seed, `i` and the
/// artist roster, whose size follows `n`), and floats are rounded to 3–6 decimals before they
/// are stored, which hides last-bit differences between libm implementations. Songs are published over the 3 years before `now`; when `n` ≥ 100, about 1 %
/// (at least 3) are published up to 60 days after it, evenly spaced through the list.
/// Songs are built on up to 8 threads; the output does not depend on how many.
pub fn generate_at(n: usize, seed: u64, now: i64) -> Vec<Song> {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).min(8);
    generate_on(n, seed, now, threads)
}

/// [`generate_at`] on up to `threads` threads (at most one per 5,000 songs).
fn generate_on(n: usize, seed: u64, now: i64, threads: usize) -> Vec<Song> {
    let threads = threads.clamp(1, n / 5_000 + 1);
    let lexicon = Lexicon::new();
    // About 40 songs per artist at scale keeps names within what the word lists can make unique.
    let roster_size = (n / 8).clamp(30, 2_500);
    let mut roster_rng = Rng(mix64(seed ^ 0x0A57_1575));
    let roster = roster(&mut roster_rng, &lexicon, roster_size, year_of(now));
    let future_spacing = (n >= 100).then(|| n / (n / 100).max(3));
    let song_at = |i: usize| {
        let mut rng = Rng(mix64(seed ^ mix64(i as u64 ^ 0x50_4E65)));
        let published = if future_spacing.is_some_and(|k| i % k == k / 2) {
            now + rng.int(3_600, 60 * 86_400) as i64
        } else {
            now - rng.int(0, 3 * 365 * 86_400) as i64
        };
        make_song(&mut rng, &lexicon, &roster, published)
    };
    // Songs are independent draws, so splitting the range over threads changes only the wall
    // time; slugs, which depend on earlier songs, are settled afterwards in order.
    let per_thread = n.div_ceil(threads).max(1);
    // Filled in place, so 100,000 songs are not built in one buffer and copied to another.
    let mut songs = vec![Song::default(); n];
    std::thread::scope(|scope| {
        for (t, chunk) in songs.chunks_mut(per_thread).enumerate() {
            let song_at = &song_at;
            scope.spawn(move || {
                chunk
                    .iter_mut()
                    .enumerate()
                    .for_each(|(j, slot)| *slot = song_at(t * per_thread + j))
            });
        }
    });
    let mut taken = HashSet::with_capacity(n);
    for s in &mut songs {
        s.song.slug = unique_slug(&s.song.title, &s.song.artist, &s.song.id, &mut taken);
    }
    songs
}

struct Artist {
    name: String,
    culture: usize,
    genre: usize,
    country: &'static str,
    city: &'static str,
    albums: Vec<(String, u16)>,
}

fn roster(rng: &mut Rng, lex: &Lexicon, size: usize, now_year: i64) -> Vec<Artist> {
    let mut names = HashSet::with_capacity(size);
    let now_year = now_year.clamp(1990, 9999) as u64;
    (0..size)
        .map(|_| {
            let culture = lex.culture_index(rng);
            let c = &lex.cultures[culture];
            let template = rng.word(&c.artists);
            let mut name = lex.fill(rng, c, template);
            for attempt in 1.. {
                if names.insert(name.clone()) {
                    break;
                }
                name = if attempt < 16 {
                    let template = rng.word(&c.artists);
                    lex.fill(rng, c, template)
                } else {
                    format!("{name} ({attempt})") // as Discogs tells namesakes apart
                };
            }
            let (country, city) = c.cities[rng.below(c.cities.len())];
            // Squaring the draw favours artists whose careers began recently.
            let debut = now_year - (rng.unit().powi(2) * (now_year - 1965) as f64) as u64;
            let albums = (0..rng.int(1, 5))
                .map(|_| {
                    let title = if rng.chance(0.12) {
                        name.clone()
                    } else {
                        lex.title(rng, c)
                    };
                    (title, rng.int(debut, now_year) as u16)
                })
                .collect();
            Artist {
                name,
                culture,
                genre: c.genres[rng.below(c.genres.len())],
                country,
                city,
                albums,
            }
        })
        .collect()
}

/// One song, its slug left empty for [`generate_at`] to make unique.
fn make_song(rng: &mut Rng, lex: &Lexicon, roster: &[Artist], published: i64) -> Song {
    // Squaring the draw makes a few artists prolific, as in any real catalogue.
    let artist = &roster[((rng.unit().powi(2) * roster.len() as f64) as usize).min(roster.len() - 1)];
    let culture = &lex.cultures[artist.culture];
    let genre_index = if rng.chance(0.85) {
        artist.genre
    } else {
        culture.genres[rng.below(culture.genres.len())]
    };
    let genre = &GENRES[genre_index];
    let id = uuid_v4(rng);
    let title = lex.title(rng, culture);
    let (album, album_year) = artist.albums[rng.below(artist.albums.len())].clone();
    let published_year = year_of(published);
    let release_year = album_year.min(published_year.clamp(0, 9999) as u16);
    let duration = 90 + (330.0 * rng.bell().powf(1.4)).round() as u32;
    let has_vocals = rng.chance(genre.vocals);
    let bpm = rng.int(genre.bpm_lo, genre.bpm_hi) as u16;
    let tempo = f64::from(bpm.saturating_sub(48)) / 172.0;
    let major = rng.chance(0.6);

    let shape = rng.below(ENERGY_SHAPES.len());
    let energy_curve = energy_curve(rng, shape);
    let energy = mean3(&energy_curve);
    let spread = energy_curve.iter().fold(0.0f64, |m, v| m.max(*v))
        - energy_curve.iter().fold(1.0f64, |m, v| m.min(*v));
    let base_brightness = rng.range(0.2, 0.8);
    let brightness_curve = follow(rng, &energy_curve, base_brightness, 0.3, 0.05);
    let brightness = mean3(&brightness_curve);
    let melody_start = rng.range(0.3, 0.7);
    let melody_contour = walk(rng, melody_start, 0.09);
    let tension_base = rng.range(0.15, 0.6);
    let harmonic_tension_curve = follow(rng, &energy_curve, tension_base, 0.35, 0.08);

    let valence_f = 0.6 * rng.unit() + if major { 0.15 } else { 0.0 } + 0.25 * brightness;
    let arousal_f = 0.3 * energy + 0.3 * tempo + 0.4 * rng.unit();
    let (valence, arousal) = (index(valence_f), index(arousal_f));
    let age = (published_year - i64::from(release_year)) as f64 / 50.0;
    let rhythm_stability = round3(rng.range(0.45, 0.98));
    let median_pitch = rng.int(45, 76) as u8;
    let harmonic_complexity = round3(rng.range(0.1, 0.95));
    let melodic_complexity = round3(rng.range(0.1, 0.9));
    let key = KEYS[rng.below(KEYS.len())];
    let mode = if major { "major" } else { "minor" };
    let centroid = round1(600.0 + brightness * 3800.0 + rng.range(-150.0, 150.0));
    let rgb = song_colour(rng, valence_f, arousal_f, brightness, energy);
    let (theme_count, image_count) = (rng.int(2, 3) as usize, rng.int(2, 3) as usize);
    let themes = rng.distinct(&lex.themes, theme_count);
    let imagery = rng.distinct(&lex.imagery, image_count);
    let story_arc = rng.word(&lex.arcs);
    let perspective = if has_vocals {
        rng.word(&lex.perspectives)
    } else {
        "none"
    };
    let mut instrumentation = if has_vocals {
        vec!["vocals".to_string()]
    } else {
        Vec::new()
    };
    let instrument_count = rng.int(2, 5) as usize;
    instrumentation.extend(rng.distinct(&lex.instruments[genre_index], instrument_count));
    let sections = sections(rng, duration, has_vocals);
    type Words = &'static [&'static str];
    let by_arousal = |low: Words, mid: Words, high: Words| match arousal {
        ..400 => low,
        400..700 => mid,
        _ => high,
    };

    Song {
        song: SongSection {
            id,
            title,
            artist: artist.name.clone(),
            album,
            release_year,
            slug: String::new(),
            duration_seconds: duration,
            published_at: format_rfc3339(published),
        },
        color: color_section(rgb),
        temporal: TemporalSection {
            bpm,
            tempo_marking: tempo_marking(bpm).to_string(),
            energy_shape: classify_energy_shape(&energy_curve).to_string(),
            bpm_confidence: round3(rng.range(0.6, 0.99)),
            time_signature: rng
                .word(&[
                    "4/4", "4/4", "4/4", "4/4", "4/4", "4/4", "3/4", "6/8", "5/4", "7/8",
                ])
                .into(),
            rhythm_stability,
            onset_rate: round3(f64::from(bpm) / 60.0 * rng.range(0.8, 2.6)),
            swing: round3(rng.unit().powi(2) * 0.7),
        },
        harmonic: HarmonicSection {
            key: key.to_string(),
            mode: mode.to_string(),
            key_confidence: round3(rng.range(0.5, 0.98)),
            camelot: camelot(key, mode).unwrap_or_default(),
            tuning_frequency_hz: match rng.below(20) {
                0 => 432.0,
                1 => round1(rng.range(441.0, 444.0)),
                _ => round1(rng.range(438.5, 441.5)),
            },
            chord_change_rate: round3(rng.range(0.1, 1.2)),
            harmonic_complexity,
            dissonance: round3(rng.range(0.05, 0.7)),
            harmonic_tension: mean3(&harmonic_tension_curve),
        },
        pitch: PitchSection {
            melody_range_semitones: rng.int(5, 31) as u8,
            median_pitch_midi: median_pitch,
            pitch_salience: round3(if has_vocals {
                rng.range(0.45, 0.95)
            } else {
                rng.range(0.1, 0.6)
            }),
            vocal_register: has_vocals.then(|| vocal_register(median_pitch).to_string()),
            melodic_complexity,
        },
        timbre: TimbreSection {
            brightness,
            spectral_centroid_hz: centroid,
            spectral_rolloff_hz: round1(centroid * rng.range(1.8, 2.8)),
            warmth: round3((1.0 - brightness) * 0.7 + rng.range(0.0, 0.3)),
            roughness: round3(0.2 * energy + rng.range(0.02, 0.6)),
            zero_crossing_rate: round3(0.02 + brightness * 0.12 + rng.range(0.0, 0.04)),
            acousticness: round3((genre.acoustic + rng.range(-0.2, 0.2)).clamp(0.0, 1.0)),
            instrumentalness: round3(if has_vocals {
                rng.range(0.0, 0.35)
            } else {
                rng.range(0.65, 0.99)
            }),
        },
        energy: EnergySection {
            energy,
            danceability: round3(
                ((0.9 - f64::from(bpm.abs_diff(118)) / 120.0 + rng.range(-0.15, 0.1))
                    * rhythm_stability.sqrt())
                .clamp(0.0, 1.0),
            ),
            loudness_lufs: round1(-22.0 + energy * 16.0 + rng.range(-2.0, 2.0)),
            loudness_range_lu: round1(rng.range(2.0, 10.0) * (1.0 + spread)),
            dynamic_complexity: round3((spread * 0.8 + rng.range(0.0, 0.2)).clamp(0.0, 1.0)),
            intensity: round3((0.6 * energy + 0.4 * tempo).clamp(0.0, 1.0)),
        },
        spatial: SpatialSection {
            stereo_width: round3(rng.range(0.2, 0.95)),
            phase_correlation: round3(rng.range(0.3, 0.98)),
            reverb_amount: round3(rng.range(0.05, 0.8)),
            depth: round3(rng.range(0.1, 0.9)),
            pan_balance: round3(rng.range(-0.15, 0.15)),
        },
        arrangement: ArrangementSection {
            has_vocals,
            vocal_presence: if has_vocals {
                round3(rng.range(0.35, 0.95))
            } else {
                0.0
            },
            density: round3((0.3 + 0.5 * energy + rng.range(-0.15, 0.15)).clamp(0.0, 1.0)),
            instrumentation,
            section_count: sections.len() as u32,
            sections,
        },
        ai_analysis: AiAnalysisSection {
            tempo_feel: tempo_feel(bpm).to_string(),
            tempo_feel_confidence: round3(rng.range(0.62, 0.98)),
            primary_genre: genre.name.to_string(),
            genre_confidence: round3(rng.range(0.5, 0.97)),
            complexity: round3((harmonic_complexity + melodic_complexity) / 2.0),
            novelty: round3(rng.range(0.05, 0.95)),
            model_version: rng.word(&["ark-2.8.4", "ark-3.0.1", "ark-3.1.0"]).to_string(),
            analyzed_at: format_rfc3339(published - rng.int(3_600, 30 * 86_400) as i64),
        },
        emotional: EmotionalSection {
            valence,
            arousal,
            nostalgia_index: index(0.2 + 0.4 * age.min(1.0) + 0.4 * rng.unit()),
            melancholy_index: index(0.7 * (1.0 - valence_f) + 0.3 * rng.unit()),
            sensuality_index: index(0.4 * (1.0 - (arousal_f - 0.45).abs() * 2.0) + 0.6 * rng.unit()),
            triumph_index: index(0.35 * valence_f + 0.35 * arousal_f + 0.3 * rng.unit()),
            mystery_index: index(
                if major { 0.05 } else { 0.3 } + 0.3 * (1.0 - brightness) + 0.4 * rng.unit(),
            ),
            inspirational_quality: index(0.5 * valence_f + 0.2 * arousal_f + 0.3 * rng.unit()),
            dominant_emotion: dominant_emotion(valence, arousal).to_string(),
            human_verified: rng.chance(0.3),
        },
        contextual: ContextualSection {
            activities: rng.distinct(
                by_arousal(&CALM_ACTIVITIES, &MID_ACTIVITIES, &LIVELY_ACTIVITIES),
                2,
            ),
            time_of_day: rng.word(by_arousal(&TIMES[2..], &TIMES, &TIMES[..4])).into(),
            season: rng
                .word(match valence {
                    ..400 => &["autumn", "winter"][..],
                    400..600 => &["spring", "summer", "autumn", "winter"],
                    _ => &["spring", "summer"],
                })
                .into(),
            setting: rng.word(&lex.settings).into(),
            social_context: rng
                .word(by_arousal(&SOCIAL[..2], &SOCIAL[..3], &SOCIAL[2..]))
                .into(),
        },
        narrative: NarrativeSection {
            summary: if has_vocals {
                format!(
                    "A {story_arc} in the {perspective}: {} and {}, told through {}.",
                    themes[0], themes[1], imagery[0]
                )
            } else {
                format!(
                    "An instrumental {story_arc}: {} and {}, evoking {}.",
                    themes[0], themes[1], imagery[0]
                )
            },
            themes,
            story_arc: story_arc.to_string(),
            perspective: perspective.to_string(),
            imagery,
        },
        cultural: CulturalSection {
            era: era(release_year),
            origin_country: artist.country.to_string(),
            language: if has_vocals { culture.lang } else { "zxx" }.to_string(),
            scene: format!("{} {}", artist.city, genre.name),
            influences: rng
                .distinct(&lex.genre_names, 3)
                .into_iter()
                .filter(|g| g != genre.name)
                .take(2)
                .collect(),
        },
        curves: CurvesSection {
            energy_curve,
            brightness_curve,
            melody_contour,
            harmonic_tension_curve,
            sample_count: CURVE_SAMPLES as u32,
            // duration / 32 is exact in binary, so it survives JSON unchanged.
            seconds_per_sample: f64::from(duration) / CURVE_SAMPLES as f64,
        },
    }
}

/// A curve drawn to look like one shape; [`classify_energy_shape`] still has the last word.
fn energy_curve(rng: &mut Rng, shape: usize) -> Vec<f64> {
    let lo = rng.range(0.1, 0.35);
    let hi = rng.range(lo + 0.35, 0.95);
    let (level, phase, cycles) = (rng.range(0.3, 0.75), rng.unit(), rng.range(2.0, 3.0));
    let (centre, width, jump_at) = (
        rng.range(0.38, 0.62),
        rng.range(0.14, 0.22),
        rng.range(0.25, 0.75),
    );
    (0..CURVE_SAMPLES)
        .map(|i| {
            let t = i as f64 / (CURVE_SAMPLES - 1) as f64;
            let v = match ENERGY_SHAPES[shape] {
                "steady" => level + 0.05 * (TAU * (t + phase)).sin(),
                "build" => lo + (hi - lo) * t,
                "rise" => lo + (hi - lo) * (1.0 - (1.0 - t).powi(3)),
                "peak" => lo + (hi - lo) * (-((t - centre) / width).powi(2)).exp(),
                "wave" => 0.5 + 0.25 * (TAU * (cycles * t + phase)).sin(),
                "cascade" => hi - (hi - lo) * ((t * 4.0).floor().min(3.0) / 3.0),
                "bloom" => lo + (hi - lo) * t.powi(3),
                _ if t < jump_at => lo,
                _ => hi.max(lo + 0.5) * (1.0 - 0.3 * (t - jump_at)),
            };
            round3((v + rng.range(-0.03, 0.03)).clamp(0.0, 1.0))
        })
        .collect()
}

/// A curve around `base` that follows `guide`'s swings by `gain`, with `noise`.
fn follow(rng: &mut Rng, guide: &[f64], base: f64, gain: f64, noise: f64) -> Vec<f64> {
    let mean = guide.iter().sum::<f64>() / guide.len().max(1) as f64;
    guide
        .iter()
        .map(|g| round3((base + gain * (g - mean) + rng.range(-noise, noise)).clamp(0.0, 1.0)))
        .collect()
}

/// A bounded random walk.
fn walk(rng: &mut Rng, start: f64, step: f64) -> Vec<f64> {
    let mut v = start;
    (0..CURVE_SAMPLES)
        .map(|_| {
            v = (v + rng.range(-step, step)).clamp(0.0, 1.0);
            round3(v)
        })
        .collect()
}

/// Song parts with random relative lengths, snapped to whole seconds, covering 0..duration.
fn sections(rng: &mut Rng, duration: u32, vocals: bool) -> Vec<SongPart> {
    let forms: &[&str] = if vocals {
        &[
            "intro verse chorus verse chorus bridge chorus outro",
            "verse chorus verse chorus outro",
            "intro verse pre-chorus chorus verse pre-chorus chorus bridge chorus",
            "intro verse verse chorus outro",
        ]
    } else {
        &[
            "intro theme development breakdown climax outro",
            "intro build drop breakdown drop outro",
            "intro theme variation theme coda",
        ]
    };
    let labels: Vec<&str> = forms[rng.below(forms.len())].split(' ').collect();
    let weights: Vec<f64> = labels
        .iter()
        .map(|l| {
            if matches!(*l, "intro" | "outro" | "coda") {
                rng.range(0.4, 0.8)
            } else {
                rng.range(0.7, 1.4)
            }
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let (mut start, mut so_far) = (0, 0.0);
    labels
        .iter()
        .zip(&weights)
        .enumerate()
        .map(|(i, (label, w))| {
            so_far += w;
            let end = if i + 1 == labels.len() {
                duration
            } else {
                (f64::from(duration) * so_far / total).round() as u32
            };
            let part = SongPart {
                label: label.to_string(),
                start_seconds: start,
                end_seconds: end,
            };
            start = end;
            part
        })
        .collect()
}

/// The colour "heard" in a song: hue from the mood's angle on the valence/arousal plane,
/// lightness from brightness, chroma from energy; 2 % are greys.
fn song_colour(rng: &mut Rng, valence: f64, arousal: f64, brightness: f64, energy: f64) -> [u8; 3] {
    if rng.chance(0.02) {
        let v = rng.int(10, 245) as u8;
        return [v, v, v];
    }
    let mood = (arousal - 0.5).atan2(valence - 0.5).to_degrees();
    let h = (mood + rng.range(-60.0, 60.0)).rem_euclid(360.0);
    let l = (0.25 + 0.6 * brightness + rng.range(-0.1, 0.1)).clamp(0.15, 0.95);
    color::oklch_to_hex(Oklch {
        l,
        c: rng.range(0.03, 0.25) * (0.6 + 0.6 * energy),
        h,
    })
}

/// `slugify(title)-slugify(artist)`, with `song-<first 8 of id>` standing in for a title in a
/// script we do not transliterate; a collision appends the id's first 8, then all 32, hex digits.
fn unique_slug(title: &str, artist: &str, id: &str, taken: &mut HashSet<String>) -> String {
    let base = slug_base(title, artist, id);
    let short = format!("{base}-{}", id.get(..8).unwrap_or(id));
    for candidate in [base.clone(), short] {
        if taken.insert(candidate.clone()) {
            return candidate;
        }
    }
    let full = format!("{base}-{}", id.replace('-', ""));
    taken.insert(full.clone());
    full
}

fn slug_base(title: &str, artist: &str, id: &str) -> String {
    let mut title = slugify(title);
    if title.is_empty() {
        title = format!("song-{}", id.get(..8).unwrap_or(id));
    }
    match slugify(artist) {
        artist if artist.is_empty() => title,
        artist => format!("{title}-{artist}"),
    }
}

fn uuid_v4(rng: &mut Rng) -> String {
    let hi = (rng.next_u64() & !0xf000) | 0x4000; // version 4
    let lo = (rng.next_u64() & !(0b11 << 62)) | (0b10 << 62); // RFC 4122 variant
    let bits = (u128::from(hi) << 64) | u128::from(lo);
    let mut id = String::with_capacity(36);
    for nibble in 0..32 {
        if matches!(nibble, 8 | 12 | 16 | 20) {
            id.push('-');
        }
        id.push(char::from(
            b"0123456789abcdef"[((bits >> (124 - 4 * nibble)) & 0xf) as usize],
        ));
    }
    id
}

fn is_uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

fn era(release_year: u16) -> String {
    format!("{}s", release_year / 10 * 10)
}

/// Maps 0–1 onto the emotional scale's integers 1–1000.
fn index(f: f64) -> u16 {
    (f.clamp(0.0, 1.0) * 999.0).round() as u16 + 1
}

fn round_to(v: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (v * scale).round() / scale
}

fn round1(v: f64) -> f64 {
    round_to(v, 1)
}

fn round3(v: f64) -> f64 {
    round_to(v, 3)
}

fn mean3(curve: &[f64]) -> f64 {
    round3(curve.iter().sum::<f64>() / curve.len().max(1) as f64)
}

// ---------------------------------------------------------------------------------------------
// JSONL and the consistency checker.

/// One song per line, in order.
pub fn write_jsonl(songs: &[Song], w: impl Write) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(w);
    for song in songs {
        serde_json::to_writer(&mut w, song)?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

/// Reads [`write_jsonl`]'s output; blank lines are skipped, errors name the line.
pub fn read_jsonl(r: impl BufRead) -> Result<Vec<Song>, String> {
    let mut songs = Vec::new();
    for (i, line) in r.lines().enumerate() {
        let line = line.map_err(|e| format!("line {}: {e}", i + 1))?;
        if !line.trim().is_empty() {
            songs.push(serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", i + 1))?);
        }
    }
    Ok(songs)
}

/// Checks one song: shapes of ids, slugs and instants, ranges, and every derived field against
/// its source. The error names the song and the first disagreement.
pub fn check_consistency(s: &Song) -> Result<(), String> {
    check_song(s).map_err(|e| format!("song {} ({:?}): {e}", s.song.id, s.song.title))
}

/// [`check_consistency`] for each song, plus unique ids and slugs.
pub fn check_catalogue(songs: &[Song]) -> Result<(), String> {
    let (mut ids, mut slugs) = (HashSet::new(), HashSet::new());
    for s in songs {
        check_consistency(s)?;
        if !ids.insert(s.song.id.as_str()) {
            return Err(format!("duplicate id {}", s.song.id));
        }
        if !slugs.insert(s.song.slug.as_str()) {
            return Err(format!("duplicate slug {}", s.song.slug));
        }
    }
    Ok(())
}

fn check_song(s: &Song) -> Result<(), String> {
    let (song, t, h, e, c, a) = (
        &s.song,
        &s.temporal,
        &s.harmonic,
        &s.emotional,
        &s.curves,
        &s.arrangement,
    );
    let published = parse_rfc3339(&song.published_at).ok_or("published_at is not RFC 3339")?;
    let analyzed = parse_rfc3339(&s.ai_analysis.analyzed_at).ok_or("analyzed_at is not RFC 3339")?;
    let rgb = color::parse_hex(&s.color.hex).ok_or("color.hex is not #rrggbb")?;
    let base = slug_base(&song.title, &song.artist, &song.id);
    let id_hex = song.id.replace('-', "");
    let slug_ok = [
        base.clone(),
        format!("{base}-{}", id_hex.get(..8).unwrap_or("")),
        format!("{base}-{id_hex}"),
    ]
    .contains(&song.slug);
    let (release_year, duration) = (i64::from(song.release_year), f64::from(song.duration_seconds));
    let register = a
        .has_vocals
        .then(|| vocal_register(s.pitch.median_pitch_midi).to_string());
    let mut at = 0;
    let contiguous = a.sections.iter().all(|part| {
        let ok = part.start_seconds == at && part.end_seconds > at;
        at = part.end_seconds;
        ok
    });
    let indices = [
        e.valence,
        e.arousal,
        e.nostalgia_index,
        e.melancholy_index,
        e.sensuality_index,
    ];
    let more_indices = [e.triumph_index, e.mystery_index, e.inspirational_quality];
    let curves = [
        &c.energy_curve,
        &c.brightness_curve,
        &c.melody_contour,
        &c.harmonic_tension_curve,
    ];
    let units = [
        t.bpm_confidence,
        t.rhythm_stability,
        t.swing,
        h.key_confidence,
        s.pitch.pitch_salience,
        a.density,
    ];
    let more_units = [
        s.timbre.acousticness,
        s.timbre.instrumentalness,
        s.energy.danceability,
        s.energy.intensity,
    ];
    // One rule a line, like a table; rustfmt would spread each over four.
    #[rustfmt::skip]
    let rules = [
        ("id is a lowercase v4 UUID", is_uuid_v4(&song.id)),
        ("title, artist, album set", [&song.title, &song.artist, &song.album].iter().all(|x| !x.is_empty())),
        ("slug derives from title, artist and id", slug_ok),
        ("published_at is UTC `Z`, whole seconds", format_rfc3339(published) == song.published_at),
        ("analyzed_at is not after published_at", analyzed <= published),
        ("release_year is 1950..=published year", (1950..=year_of(published)).contains(&release_year)),
        ("duration_seconds is 90–420", (90..=420).contains(&song.duration_seconds)),
        ("color agrees with color.hex", color_section(rgb) == s.color),
        ("tempo_marking agrees with bpm", t.tempo_marking == tempo_marking(t.bpm)),
        ("tempo_feel agrees with bpm", s.ai_analysis.tempo_feel == tempo_feel(t.bpm)),
        ("energy_shape agrees with energy_curve", t.energy_shape == classify_energy_shape(&c.energy_curve)),
        ("key and mode are known", KEYS.contains(&h.key.as_str()) && MODES.contains(&h.mode.as_str())),
        ("camelot agrees with key and mode", camelot(&h.key, &h.mode).as_deref() == Some(h.camelot.as_str())),
        ("harmonic_tension is its curve's mean", h.harmonic_tension == mean3(&c.harmonic_tension_curve)),
        ("brightness is its curve's mean", s.timbre.brightness == mean3(&c.brightness_curve)),
        ("energy is its curve's mean", s.energy.energy == mean3(&c.energy_curve)),
        ("vocal_register agrees with vocals and pitch", s.pitch.vocal_register == register),
        ("instrumentals have no vocal_presence", a.has_vocals || a.vocal_presence == 0.0),
        ("language is zxx exactly for instrumentals", (s.cultural.language == "zxx") != a.has_vocals),
        ("section_count counts sections", a.section_count as usize == a.sections.len()),
        ("sections are contiguous from 0", contiguous),
        ("sections end at duration_seconds", at == song.duration_seconds),
        ("emotional indices are 1–1000", indices.iter().chain(&more_indices).all(|v| (1..=1000).contains(v))),
        ("dominant_emotion fits its quadrant", e.dominant_emotion == dominant_emotion(e.valence, e.arousal)),
        ("era is the release decade", s.cultural.era == era(song.release_year)),
        ("every curve has 32 samples", curves.iter().all(|v| v.len() == CURVE_SAMPLES)),
        ("curve values are 0–1", curves.iter().flat_map(|v| v.iter()).all(|v| (0.0..=1.0).contains(v))),
        ("sample_count is 32", c.sample_count as usize == CURVE_SAMPLES),
        ("seconds_per_sample is duration / 32", c.seconds_per_sample == duration / CURVE_SAMPLES as f64),
        ("0–1 fields are within 0–1", units.iter().chain(&more_units).all(|v| (0.0..=1.0).contains(v))),
    ];
    match rules.iter().find(|(_, holds)| !holds) {
        Some((rule, _)) => Err(format!("expected {rule}")),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// The PRNG and the word lists.

/// SplitMix64 (Steele, Lea & Flood 2014): tiny and fully specified here, so a seed means the
/// same catalogue on every platform and release, which `rand`'s generators do not promise.
struct Rng(u64);

fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.0)
    }

    /// Uniform in [0, 1), 53 bits.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in `lo..=hi` by multiply-shift (bias below 2⁻⁵⁰ for our small ranges).
    fn int(&mut self, lo: u64, hi: u64) -> u64 {
        lo + ((u128::from(self.next_u64()) * u128::from(hi - lo + 1)) >> 64) as u64
    }

    /// Uniform in `0..n`; 0 when `n` is 0.
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.int(0, n as u64 - 1) as usize
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Mean of three uniforms: 0–1, peaked at 0.5.
    fn bell(&mut self) -> f64 {
        (self.unit() + self.unit() + self.unit()) / 3.0
    }

    fn word(&mut self, words: &[&'static str]) -> &'static str {
        words.get(self.below(words.len())).copied().unwrap_or("")
    }

    /// Up to `k` different words from `words`, in drawing order.
    fn distinct(&mut self, words: &[&'static str], k: usize) -> Vec<String> {
        let mut picked: Vec<String> = Vec::with_capacity(k);
        // Redraw on a repeat: k is tiny next to the list, so this ends fast.
        while picked.len() < k.min(words.len()) {
            let word = self.word(words);
            if !picked.iter().any(|p| p == word) {
                picked.push(word.to_string());
            }
        }
        picked
    }
}

struct Genre {
    name: &'static str,
    bpm_lo: u64,
    bpm_hi: u64,
    /// Probability that a song has vocals.
    vocals: f64,
    acoustic: f64,
    instruments: &'static str,
}

const fn genre(
    name: &'static str,
    bpm: (u64, u64),
    vocals: f64,
    acoustic: f64,
    instruments: &'static str,
) -> Genre {
    Genre {
        name,
        bpm_lo: bpm.0,
        bpm_hi: bpm.1,
        vocals,
        acoustic,
        instruments,
    }
}

/// Tempo ranges are wide enough that every tempo feel and marking occurs.
#[rustfmt::skip]
const GENRES: [Genre; 42] = [
    genre("pop", (90, 135), 0.95, 0.3, "synthesizer|drum machine|bass|electric guitar|piano|strings"),
    genre("ambient", (48, 90), 0.15, 0.3, "synthesizer|pads|field recordings|piano|drones|tape loops"),
    genre("classical", (50, 176), 0.1, 0.95, "strings|piano|woodwinds|brass|harp|timpani|choir"),
    genre("jazz", (58, 200), 0.35, 0.85, "piano|double bass|drums|saxophone|trumpet|guitar|vibraphone"),
    genre("blues", (60, 130), 0.85, 0.7, "electric guitar|harmonica|bass|drums|piano|organ"),
    genre("soul", (62, 115), 0.95, 0.5, "bass|drums|organ|horns|strings|electric guitar"),
    genre("r&b", (60, 110), 0.95, 0.3, "drum machine|bass|synthesizer|electric piano|strings"),
    genre("hip hop", (70, 100), 0.95, 0.15, "drum machine|sampler|bass|turntables|synthesizer"),
    genre("lo-fi", (60, 92), 0.2, 0.4, "sampler|electric piano|vinyl crackle|bass|drum machine"),
    genre("ballad", (58, 90), 0.95, 0.6, "piano|strings|acoustic guitar|bass|drums"),
    genre("folk", (70, 150), 0.85, 0.9, "acoustic guitar|fiddle|banjo|mandolin|accordion|upright bass"),
    genre("country", (75, 150), 0.95, 0.7, "acoustic guitar|pedal steel|fiddle|bass|drums|banjo"),
    genre("indie rock", (95, 165), 0.9, 0.45, "electric guitar|bass|drums|synthesizer|tambourine"),
    genre("funk", (92, 122), 0.8, 0.4, "bass|electric guitar|drums|horns|clavinet|congas"),
    genre("disco", (110, 132), 0.9, 0.35, "bass|strings|drums|electric guitar|horns|synthesizer"),
    genre("house", (118, 130), 0.5, 0.1, "drum machine|synthesizer|bass|piano|sampler"),
    genre("techno", (124, 145), 0.1, 0.05, "drum machine|synthesizer|modular synth|sampler"),
    genre("trance", (128, 150), 0.3, 0.05, "synthesizer|pads|drum machine|arpeggiator"),
    genre("drum and bass", (160, 180), 0.4, 0.1, "breakbeats|bass|synthesizer|sampler|pads"),
    genre("punk", (150, 210), 0.95, 0.35, "electric guitar|bass|drums"),
    genre("metal", (90, 220), 0.85, 0.2, "electric guitar|bass|drums|double kick|synthesizer"),
    genre("hardcore", (180, 220), 0.9, 0.2, "electric guitar|bass|drums"),
    genre("latin pop", (90, 130), 0.95, 0.4, "guitar|percussion|bass|synthesizer|horns"),
    genre("reggaeton", (88, 100), 0.95, 0.15, "drum machine|bass|synthesizer|sampler"),
    genre("cumbia", (85, 115), 0.85, 0.6, "accordion|guacharaca|bass|percussion|guitar"),
    genre("flamenco", (90, 180), 0.8, 0.95, "flamenco guitar|cajón|palmas|bass"),
    genre("bolero", (60, 100), 0.95, 0.85, "guitar|requinto|maracas|bass|piano"),
    genre("chanson", (60, 130), 0.95, 0.75, "accordion|piano|guitar|strings|bass"),
    genre("bossa nova", (60, 140), 0.85, 0.9, "nylon guitar|double bass|brushes|flute|piano"),
    genre("samba", (90, 140), 0.8, 0.8, "cavaquinho|surdo|pandeiro|guitar|brass"),
    genre("fado", (55, 110), 0.95, 0.95, "portuguese guitar|classical guitar|bass"),
    genre("rebetiko", (60, 130), 0.9, 0.9, "bouzouki|baglamas|guitar|accordion"),
    genre("laiko", (70, 140), 0.95, 0.6, "bouzouki|synthesizer|bass|drums"),
    genre("tarab", (50, 120), 0.95, 0.85, "oud|qanun|violin|riq|ney"),
    genre("raï", (90, 130), 0.95, 0.4, "synthesizer|darbuka|bass|accordion"),
    genre("k-pop", (95, 150), 0.95, 0.15, "synthesizer|drum machine|bass|strings|sampler"),
    genre("j-pop", (100, 180), 0.95, 0.3, "synthesizer|electric guitar|bass|drums|piano"),
    genre("city pop", (88, 124), 0.9, 0.35, "electric piano|bass|electric guitar|drums|horns|synthesizer"),
    genre("c-pop", (70, 130), 0.95, 0.4, "piano|strings|synthesizer|bass|drums|erhu"),
    genre("bollywood", (80, 150), 0.95, 0.4, "tabla|sitar|strings|synthesizer|dholak|bass"),
    genre("ghazal", (50, 100), 0.95, 0.9, "harmonium|tabla|sarangi|santoor"),
    genre("krautrock", (100, 150), 0.4, 0.3, "motorik drums|bass|synthesizer|electric guitar|organ"),
];

const CALM_ACTIVITIES: [&str; 6] = [
    "relaxing",
    "studying",
    "reading",
    "sleeping",
    "meditation",
    "dinner",
];
const MID_ACTIVITIES: [&str; 6] = [
    "driving",
    "cooking",
    "working",
    "commuting",
    "road trip",
    "gaming",
];
const LIVELY_ACTIVITIES: [&str; 6] = ["dancing", "running", "workout", "partying", "driving", "cleaning"];
const TIMES: [&str; 5] = ["morning", "afternoon", "evening", "night", "late night"];
const SOCIAL: [&str; 5] = ["solo", "duo", "small group", "party", "crowd"];

/// A language community's words. Lists are `|`-separated; templates use `{N}`/`{M}` noun,
/// `{J}` adjective, `{F}` first name, `{L}` last name, `{V}` English verb phrase, `{P}` place,
/// `{X}` an upper-case English "adjective noun" (as K-pop and J-pop acts style themselves).
struct CultureSpec {
    lang: &'static str,
    weight: u32,
    first: &'static str,
    last: &'static str,
    nouns: &'static str,
    adjs: &'static str,
    titles: &'static str,
    artists: &'static str,
    /// `CC:City` pairs.
    cities: &'static str,
    genres: &'static str,
}

struct Culture {
    lang: &'static str,
    weight: u32,
    first: Vec<&'static str>,
    last: Vec<&'static str>,
    nouns: Vec<&'static str>,
    adjs: Vec<&'static str>,
    titles: Vec<&'static str>,
    artists: Vec<&'static str>,
    cities: Vec<(&'static str, &'static str)>,
    genres: Vec<usize>,
}

struct Lexicon {
    cultures: Vec<Culture>,
    verbs: Vec<&'static str>,
    places: Vec<&'static str>,
    suffixes: Vec<&'static str>,
    themes: Vec<&'static str>,
    imagery: Vec<&'static str>,
    arcs: Vec<&'static str>,
    perspectives: Vec<&'static str>,
    settings: Vec<&'static str>,
    genre_names: Vec<&'static str>,
    /// `GENRES[i].instruments`, split.
    instruments: Vec<Vec<&'static str>>,
}

fn list(words: &'static str) -> Vec<&'static str> {
    words.split('|').filter(|w| !w.is_empty()).collect()
}

impl Lexicon {
    fn new() -> Self {
        let cultures = CULTURES
            .iter()
            .map(|c| Culture {
                lang: c.lang,
                weight: c.weight,
                first: list(c.first),
                last: list(c.last),
                nouns: list(c.nouns),
                adjs: list(c.adjs),
                titles: list(c.titles),
                artists: list(c.artists),
                cities: list(c.cities)
                    .into_iter()
                    .filter_map(|pair| pair.split_once(':'))
                    .collect(),
                genres: list(c.genres)
                    .into_iter()
                    .map(|name| GENRES.iter().position(|g| g.name == name).unwrap_or(0))
                    .collect(),
            })
            .collect();
        Lexicon {
            cultures,
            verbs: list(EN_VERBS),
            places: list(PLACES),
            suffixes: list(
                " (Remix)| (Live)| (Acoustic)| (Reprise)| Pt. II| (Demo)| (Radio Edit)| (Night Version)",
            ),
            themes: list(THEMES),
            imagery: list(IMAGERY),
            arcs: list(
                "rise|fall|journey|homecoming|farewell|awakening|reunion|standstill|transformation|chase",
            ),
            perspectives: list("first person|second person|third person|collective voice"),
            settings: list(SETTINGS),
            genre_names: GENRES.iter().map(|g| g.name).collect(),
            instruments: GENRES.iter().map(|g| list(g.instruments)).collect(),
        }
    }

    fn culture_index(&self, rng: &mut Rng) -> usize {
        let total: u32 = self.cultures.iter().map(|c| c.weight).sum();
        let mut ticket = rng.int(0, u64::from(total.max(1)) - 1) as u32;
        for (i, c) in self.cultures.iter().enumerate() {
            if ticket < c.weight {
                return i;
            }
            ticket -= c.weight;
        }
        0
    }

    fn title(&self, rng: &mut Rng, c: &Culture) -> String {
        let template = rng.word(&c.titles);
        let mut title = self.fill(rng, c, template);
        if rng.chance(0.08) {
            title.push_str(rng.word(&self.suffixes));
        }
        title
    }

    fn fill(&self, rng: &mut Rng, c: &Culture, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 24);
        let mut chars = template.chars();
        while let Some(ch) = chars.next() {
            if ch != '{' {
                out.push(ch);
                continue;
            }
            let key = chars.next();
            chars.next(); // the closing brace
            match key {
                Some('N' | 'M') => out.push_str(rng.word(&c.nouns)),
                Some('J') => out.push_str(rng.word(&c.adjs)),
                Some('F') => out.push_str(rng.word(&c.first)),
                Some('L') => out.push_str(rng.word(&c.last)),
                Some('V') => out.push_str(rng.word(&self.verbs)),
                Some('P') => out.push_str(rng.word(&self.places)),
                Some('X') => {
                    let english = &self.cultures[0];
                    let (adj, noun) = (rng.word(&english.adjs), rng.word(&english.nouns));
                    out.push_str(&format!("{adj} {noun}").to_uppercase());
                }
                _ => {}
            }
        }
        out
    }
}

const EN_VERBS: &str = "Stop|Leave|Go|Break My Heart|Wake Me Up|Look Back|Forget|Cry|Fade Away|Run|Wait|Lie|\
    Say Goodbye|Give Up|Fall|Hide|Change|Let Go|Stop the Music|Tell Me Why|Call Me|Look Down|Think Twice";
const PLACES: &str = "Paris|Tokyo|Berlin|Lagos|São Paulo|Reykjavík|Montréal|Zürich|Kraków|İstanbul|Malmö|\
    Bogotá|Havana|Lisbon|Marrakech|Seoul|Mumbai|Athens|Cairo|Nashville|Memphis|Brooklyn|Kyoto|Napoli|Köln|\
    Curaçao|Córdoba|Asunción|Detroit|Kingston";
const THEMES: &str = "love|loss|freedom|nostalgia|rebellion|hope|heartbreak|escape|friendship|identity|\
    longing|celebration|solitude|redemption|desire|memory|ambition|home|the city|the sea";
const IMAGERY: &str = "city lights|ocean waves|empty streets|neon signs|summer rain|a starry sky|\
    burning bridges|open roads|falling leaves|morning coffee|desert highways|midnight trains|candlelight|\
    snowfall|broken glass|wildflowers|a full moon|smoke and mirrors";
const SETTINGS: &str = "city streets|beach|nightclub|bedroom|open road|forest|rooftop|coffee shop|\
    concert hall|desert|subway|kitchen|festival field|lakeside|harbour|mountain cabin";

/// The first culture must be English: `{X}` borrows its words.
const CULTURES: [CultureSpec; 13] = [
    CultureSpec {
        lang: "en",
        weight: 52,
        first: "James|Mary|Olivia|Liam|Noah|Ava|Mia|Ethan|Lucas|Chloe|Zoë|Maya|Leo|Ruby|Oscar|Hazel|Felix|\
            Iris|Jude|Nora|Miles|Ivy|Otis|June|Theo|Stella|Wren|Callum|Niamh|Chidi|Amara|Tobi|Renée",
        last: "Carter|Hayes|Brooks|Walker|Reed|Parker|Quinn|Ellis|Sloane|Harper|Vance|Monroe|Fox|Hale|Blake|\
            O'Connor|O'Neill|Winters|Summers|Gray|Stone|Rivers|Knight|Bishop|Fairweather|Adeyemi|Okafor|\
            Bell",
        nouns: "Love|Love|Love|Night|Night|Night|Heart|Dream|Fire|Rain|River|Ocean|Moon|Sun|Star|Sky|City|\
            Road|Highway|Garden|Bloom|Flower|Rose|Shadow|Light|Mirror|Window|Door|Letter|Song|Echo|Wave|\
            Storm|Thunder|Summer|Winter|Morning|Evening|Midnight|Memory|Promise|Secret|Ghost|Angel|Devil|\
            Kiss|Heartbeat|Horizon|Island|Desert|Forest|Mountain|Valley|Harbor|Station|Train|Satellite|\
            Signal|Radio|Engine|Machine|Paradise|Heaven|Gravity|Orbit|Comet|Galaxy|Planet|Diamond|Gold|\
            Silver|Glass|Stone|Feather|Thread|Ribbon|Lantern|Candle|Smoke|Ash|Dust|Snow|Ice|Tide|Bridge|\
            Tower|Castle|Crown|Kingdom|Empire|Rebel|Runaway|Stranger|Lover|Friend|Sister|Brother|Queen|King|\
            Wolf|Tiger|Fox|Swan|Butterfly|Honey|Sugar|Wine|Whiskey|Coffee|Café|Dance|Party|Disco|Street|\
            Avenue|Boulevard|Rooftop|Motel|Casino|Arcade|Cinema|Carnival|Parade|Festival|Sunset|Sunrise|\
            Twilight|Daylight|Moonlight|Starlight|Lightning|Rainbow|Autumn",
        adjs: "Golden|Silver|Neon|Electric|Velvet|Broken|Endless|Midnight|Summer|Winter|Wild|Quiet|Burning|\
            Hollow|Paper|Crystal|Faded|Hidden|Lonely|Restless|Distant|Secret|Sweet|Bitter|Blue|Crimson|\
            Violet|Amber|Scarlet|Emerald|Silent|Dancing|Falling|Rising|Lost|Sacred|Tender|Heavy|Little|Last|\
            First|Northern|Southern|Lucky|Honest|Gentle|Savage|Frozen|Liquid|Cosmic|Analog|Digital|Stolen|\
            Perfect|Strange|Wicked|Brave|Deep|Bright|Dark|Soft|Loud|Slow|Early|Late|Open|Empty|Naïve",
        titles: "{J} {N}|{J} {N}|{J} {N}|The {J} {N}|{N} of {M}|{N} in the {M}|Don't {V}|Don't {V} in {P}|\
            {N} Tonight|Love Is a {J} {N}|Rock 'n' Roll {N}|{N} at Midnight|Another {J} Night|We Were {J}|\
            Café {P}|Ain't No {N}|{P} {N}|{N} & {M}|Night {N}|{J} Love|My {J} {N}|{N}|Love in {P}|{J} Nights|\
            I'm Not Your {N}|{N} Bloom|Señor {N}|{F}'s {N}",
        artists: "{F} {L}|{F} {L}|{F} {L}|The {J} {N}s|{N} Club|DJ {F}|{F} & the {N}s|{J} {N}|\
            {P} Sound System|{F} {L} Trio|{L} & {L}",
        cities: "GB:London|GB:Manchester|US:Nashville|US:Memphis|US:Detroit|US:Chicago|US:Brooklyn|\
            US:Los Angeles|AU:Melbourne|CA:Toronto|IE:Dublin|NG:Lagos|JM:Kingston|NZ:Auckland",
        genres: "pop|indie rock|hip hop|r&b|soul|folk|country|house|techno|drum and bass|punk|metal|ambient|\
            jazz|blues|funk|disco|lo-fi|trance|hardcore|ballad|classical",
    },
    CultureSpec {
        lang: "es",
        weight: 8,
        first: "José|María|Lucía|Sofía|Mateo|Diego|Valentina|Camila|Joaquín|Inés|Andrés|Ramón|Begoña|Íñigo|\
            Nuria|Alejandro|Mónica",
        last: "García|Fernández|López|Martínez|Sánchez|Pérez|Gómez|Núñez|Muñoz|Ibáñez|Peña|Ortega|Castillo|\
            Rivas|Cortés",
        nouns: "Amor|Amor|Noche|Noche|Corazón|Luna|Sol|Mar|Cielo|Fuego|Lluvia|Sueño|Canción|Camino|Ciudad|\
            Flor|Estrella|Tierra|Río|Alma|Vida|Fiesta|Calle|Ventana|Mañana|Verano|Invierno|Ñandú|Guitarra|\
            Baile|Tango|Bolero|Café|Madrugada|Desierto|Espejo|Silencio|Viento",
        adjs: "Azul|Gris|Feliz|Triste|Salvaje|Dulce|Verde|Libre|Rebelde|Tropical|Caliente|Brillante|Grande|\
            Breve|Fugaz",
        titles: "{N} {J}|{N} {J}|{N} de {M}|Mi {N}|Sin {N}|Noche de {N}|¿Dónde Está Mi {N}?|{N} y {M}|\
            Señor {N}|Amor {J}|Bajo la Luna de {P}|{N}|Canción para {F}|¡Ay, {N}!",
        artists: "{F} {L}|{F} {L}|{F} {L}|Los {N}s|{F} y los {N}s|DJ {F}",
        cities: "ES:Madrid|ES:Sevilla|ES:Barcelona|MX:Ciudad de México|AR:Buenos Aires|CO:Bogotá|\
            CU:La Habana|CL:Santiago|PE:Lima",
        genres: "latin pop|flamenco|cumbia|reggaeton|bolero|pop|indie rock|jazz",
    },
    CultureSpec {
        lang: "fr",
        weight: 5,
        first: "Amélie|Céline|Hélène|Zoé|Léa|Chloé|Théo|Jérôme|Étienne|François|Noël|Anaïs|Gaël|Loïc|Manon|\
            Clément",
        last: "Dubois|Lefèvre|Moreau|Girard|Bérard|Rousseau|Fontaine|Mercier|Chevalier|Lemaître|Faure|Benoît|\
            Delacroix",
        nouns: "Amour|Nuit|Nuit|Cœur|Rêve|Ciel|Mer|Soleil|Lune|Étoile|Pluie|Fleur|Chanson|Ville|Rue|Fenêtre|\
            Été|Hiver|Printemps|Automne|Café|Lumière|Ombre|Mémoire|Valse|Fête|Âme|Château|Forêt|Désir|\
            Minuit",
        adjs: "Rouge|Rose|Triste|Sauvage|Libre|Fragile|Tendre|Sombre|Calme|Étrange|Magique|Électrique|Jaune|\
            Mélancolique",
        titles: "{N} {J}|{N} {J}|{N} et {M}|Sans {N}|Toujours {N}|Café {J}|Je t'aime, {N}|C'est la {N}|\
            {N} de {P}|{N}|L'Amour {J}|Qu'est-ce que l'{N} ?",
        artists: "{F} {L}|{F} {L}|{F} {L}|Les {N}s|{F} {L} Quartet",
        cities: "FR:Paris|FR:Marseille|FR:Lyon|BE:Bruxelles|CA:Montréal|CH:Genève|SN:Dakar",
        genres: "chanson|pop|house|jazz|indie rock|classical",
    },
    CultureSpec {
        lang: "de",
        weight: 3,
        first: "Jürgen|Jörg|Björn|Lena|Jonas|Lukas|Hannah|Mia|Felix|Käthe|Sören|Anja|Günter|Maximilian",
        last: "Müller|Schäfer|Weiß|Böhm|Schröder|Köhler|Krüger|Fischer|Wagner|Becker|Hoffmann|Groß",
        nouns: "Liebe|Nacht|Herz|Traum|Himmel|Meer|Sonne|Mond|Stern|Regen|Straße|Stadt|Sommer|Winter|\
            Frühling|Feuer|Zeit|Welt|Wald|See|Lied|Tanz|Sehnsucht|Fernweh|Glück|Brücke|Mitternacht",
        adjs: "",
        titles: "{N} und {M}|Ohne {N}|Für immer {N}|{N} aus Glas|{N}|Nie wieder {N}|Über {P}|{N} in {P}",
        artists: "{F} {L}|{F} {L}|Die {N}|{L} & {L}",
        cities: "DE:Berlin|DE:Hamburg|DE:Köln|DE:München|AT:Wien|CH:Zürich|DE:Düsseldorf",
        genres: "techno|trance|krautrock|classical|metal|pop",
    },
    CultureSpec {
        lang: "pt",
        weight: 4,
        first: "João|Conceição|Antônio|Luíza|Thiago|Gonçalo|Inês|Beatriz|Caetano|Marília|Sebastião|Léo",
        last: "Gonçalves|Araújo|Simões|Magalhães|Brandão|Loureiro|Guimarães|Silva|Costa",
        nouns: "Amor|Noite|Noite|Coração|Saudade|Lua|Sol|Mar|Céu|Chuva|Canção|Cidade|Flor|Estrela|Vida|Alma|\
            Verão|Inverno|Janela|Caminho|Manhã|Maré|Sertão",
        adjs: "Azul|Triste|Feliz|Doce|Leve|Breve|Livre|Verde|Selvagem|Tropical",
        titles: "{N} {J}|{N} de {M}|Sem {N}|{N} e {M}|Saudade de {P}|{N}|Só {N}",
        artists: "{F} {L}|{F} {L}|{F}|Banda {N}",
        cities: "BR:São Paulo|BR:Rio de Janeiro|BR:Salvador|PT:Lisboa|PT:Porto|BR:Belo Horizonte|CV:Praia",
        genres: "bossa nova|samba|fado|pop|jazz",
    },
    CultureSpec {
        lang: "sv",
        weight: 2,
        first: "Åsa|Björn|Märta|Göran|Linnéa|Elin|Oskar|Saga|Nils|Ingrid|Axel|Stina|Måns",
        last: "Sjöberg|Åkesson|Öberg|Lindström|Nyström|Ekström|Holmqvist|Söderberg|Bergström",
        nouns: "Natt|Kärlek|Hjärta|Dröm|Himmel|Hav|Sol|Måne|Stjärna|Regn|Sommar|Vinter|Skog|Älv|Ö|Midsommar|\
            Ljus|Skugga",
        adjs: "Blå|Röd|Vit|Svart|Mörk|Stilla|Vild|Söt|Kall|Varm",
        titles: "{J} {N}|{N} och {M}|Utan {N}|{N}|{J} {N} i {P}",
        artists: "{F} {L}|{F} {L}|{J} {N}",
        cities: "SE:Stockholm|SE:Göteborg|SE:Malmö|NO:Oslo|FI:Helsinki|IS:Reykjavík|DK:København",
        genres: "pop|metal|folk|ambient|house",
    },
    CultureSpec {
        lang: "ja",
        weight: 6,
        first: "ひかり|美雨|陽菜|翔太|蓮|さくら|結衣|大輝|葵|悠真|あおい|ゆき",
        last: "星野|坂本|中村|高橋|山田|佐藤|藤原|松本|小林|森",
        nouns: "夜|恋|夢|桜|月|星|雨|海|空|風|光|影|花|東京|心|涙|夏|冬|ナイト|ラブ|メモリー|シティ|季節|約束",
        adjs: "",
        titles: "{N}の{M}|{N}の{M}|{N}と{M}|さよなら{N}|{N}|{N}のうた|真夜中の{N}|{N} Night|Love {N}|{N}の{M}の{N}",
        artists: "{L} {F}|{L}{F}|{L} {F}|{X}",
        cities: "JP:Tokyo|JP:Osaka|JP:Kyoto|JP:Fukuoka|JP:Sapporo",
        genres: "j-pop|city pop|ambient|metal|jazz|punk|classical",
    },
    CultureSpec {
        lang: "ru",
        weight: 4,
        first: "Ирина|Алексей|Наталья|Дмитрий|Ольга|Сергей|Анна|Михаил|Юлия|Артём|Ксения|Иван",
        last: "Шевченко|Бондаренко|Ковальчук|Мельник|Гордиенко|Лысенко|Ткаченко|Кравец",
        nouns: "Ночь|Любовь|Сердце|Мечта|Звезда|Луна|Солнце|Море|Небо|Дождь|Город|Река|Весна|Зима|Лето|Осень|\
            Ветер|Огонь|Сон|Песня",
        adjs: "",
        titles: "{N} и {M}|{N} и {M}|{N}|{N}, {M}|{N} (Ремикс)|Белая {N}|Тише, {N}",
        artists: "{F} {L}|{F} {L}|Группа «{N}»|{X}",
        cities: "RU:Moscow|RU:Saint Petersburg|RU:Novosibirsk|KZ:Almaty|BY:Minsk",
        genres: "pop|folk|classical|metal|techno",
    },
    CultureSpec {
        lang: "el",
        weight: 2,
        first: "Νίκος|Ελένη|Γιώργος|Μαρία|Κώστας|Δήμητρα|Άννα|Σπύρος|Ειρήνη|Γιάννης",
        last: "Οικονόμου|Αλεξίου|Ιωάννου|Γεωργίου|Δημητρίου|Νικολάου|Κωνσταντίνου",
        nouns: "Νύχτα|Αγάπη|Καρδιά|Όνειρο|Θάλασσα|Ήλιος|Φεγγάρι|Αστέρι|Βροχή|Πόλη|Καλοκαίρι|Χειμώνας|Άνεμος|\
            Φως|Σκιά|Τραγούδι",
        adjs: "",
        titles: "{N} και {M}|{N} και {M}|{N}|{N} μου|Ξανά {N}",
        artists: "{F} {L}|{F} {L}|{X}",
        cities: "GR:Athens|GR:Thessaloniki|CY:Nicosia|GR:Heraklion",
        genres: "rebetiko|laiko|pop|folk",
    },
    CultureSpec {
        lang: "ar",
        weight: 3,
        first: "ليلى|عمر|نور|يوسف|سلمى|كريم|هدى|رامي|مريم|زياد",
        last: "حداد|الخوري|منصور|عطية|ناصر|سليمان|الأمين|شاهين",
        nouns: "ليل|حب|قلب|حلم|بحر|شمس|قمر|نجمة|مطر|مدينة|صيف|شتاء|ريح|نور|ظل|أغنية",
        adjs: "",
        titles: "{N} و{M}|{N}|يا {N}|{N} {M}",
        artists: "{F} {L}|{F} {L}|{F}",
        cities: "LB:Beirut|EG:Cairo|MA:Casablanca|DZ:Oran|TN:Tunis|JO:Amman",
        genres: "tarab|raï|pop",
    },
    CultureSpec {
        lang: "ko",
        weight: 5,
        first: "하늘|지민|서연|민준|하은|도윤|수아|예준|유나",
        last: "김|이|박|최|정|강|윤|한",
        nouns: "밤|사랑|마음|꿈|바다|태양|달|별|비|도시|여름|겨울|바람|빛|그림자|노래",
        adjs: "",
        titles: "{N}의 {M}|{N}의 {M}|{N}|너의 {N}|{N}, {M}|{X}|{X}",
        artists: "{L}{F}|{L}{F}|{X}|{X}",
        cities: "KR:Seoul|KR:Busan|KR:Incheon|KR:Daegu",
        genres: "k-pop|r&b|hip hop|indie rock|ballad",
    },
    CultureSpec {
        lang: "zh",
        weight: 3,
        first: "小月|伟|芳|静|磊|婷|浩然|雨桐|子涵|思远",
        last: "王|李|张|刘|陈|杨|黄|周|林|吴",
        nouns: "夜|爱|心|梦|海|太阳|月亮|星|雨|城市|夏天|冬天|风|光|影|歌",
        adjs: "",
        titles: "{N}的{M}|{N}的{M}|{N}|{N}之歌|{N}与{M}|{N}{M}",
        artists: "{L}{F}|{L}{F}|{X}",
        cities: "CN:Beijing|CN:Shanghai|TW:Taipei|HK:Hong Kong|SG:Singapore|CN:Chengdu",
        genres: "c-pop|folk|classical|indie rock",
    },
    CultureSpec {
        lang: "hi",
        weight: 3,
        first: "आरव|अनन्या|विवान|दीया|कबीर|मीरा|रोहन|प्रिया|ईशा|अर्जुन",
        last: "शर्मा|वर्मा|पटेल|गुप्ता|सिंह|मेहता|राव|कपूर",
        nouns: "रात|प्यार|दिल|सपना|समंदर|सूरज|चाँद|तारा|बारिश|शहर|गर्मी|सर्दी|हवा|रोशनी|साया|गीत",
        adjs: "",
        titles: "{N} और {M}|{N} और {M}|{N}|{N} {M}|ओ {N}",
        artists: "{F} {L}|{F} {L}|{X}",
        cities: "IN:Mumbai|IN:Delhi|IN:Kolkata|IN:Bengaluru|IN:Chennai",
        genres: "bollywood|ghazal|classical|pop",
    },
];

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const NOW: &str = "2026-06-15T12:00:00Z";

    fn catalogue() -> &'static [Song] {
        static SONGS: std::sync::OnceLock<Vec<Song>> = std::sync::OnceLock::new();
        SONGS.get_or_init(|| generate(5_000, 42, NOW))
    }

    fn jsonl(songs: &[Song]) -> Vec<u8> {
        let mut out = Vec::new();
        write_jsonl(songs, &mut out).expect("writing to a Vec cannot fail");
        out
    }

    fn count_by<'a>(songs: &'a [Song], field: impl Fn(&'a Song) -> &'a str) -> HashMap<&'a str, usize> {
        let mut counts = HashMap::new();
        for s in songs {
            *counts.entry(field(s)).or_insert(0) += 1;
        }
        counts
    }

    #[test]
    fn the_thread_count_does_not_change_the_catalogue() {
        let now = parse_rfc3339(NOW).expect("valid");
        assert_eq!(
            jsonl(&generate_on(5_001, 3, now, 1)),
            jsonl(&generate_on(5_001, 3, now, 2))
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
        let first = jsonl(&generate(300, 7, NOW));
        assert_eq!(first, jsonl(&generate(300, 7, NOW)));
        assert_ne!(first, jsonl(&generate(300, 8, NOW)));
        assert_eq!(
            first.iter().filter(|b| **b == b'\n').count(),
            300,
            "one line per song"
        );
    }

    #[test]
    fn every_song_of_a_5000_catalogue_is_consistent_with_unique_ids_and_slugs() {
        check_catalogue(catalogue()).expect("consistent catalogue");
        assert_eq!(catalogue().len(), 5_000);
    }

    #[test]
    fn jsonl_round_trips_and_stays_consistent() {
        let songs = &catalogue()[..500];
        let back = read_jsonl(&jsonl(songs)[..]).expect("readable");
        assert_eq!(back, songs);
        check_catalogue(&back).expect("still consistent after JSON");
    }

    #[test]
    fn read_jsonl_names_the_bad_line() {
        let text = format!(
            "{}\n{{\"song\": 1}}\n",
            String::from_utf8(jsonl(&catalogue()[..1])).expect("utf-8")
        );
        let err = read_jsonl(text.as_bytes()).expect_err("line 3 is not a song");
        assert!(err.starts_with("line 3:"), "{err}");
    }

    #[test]
    fn all_twelve_tempo_feels_and_eight_energy_shapes_occur() {
        let feels = count_by(catalogue(), |s| &s.ai_analysis.tempo_feel);
        let shapes = count_by(catalogue(), |s| &s.temporal.energy_shape);
        let markings = count_by(catalogue(), |s| &s.temporal.tempo_marking);
        for feel in TEMPO_FEELS {
            assert!(feels.get(feel).copied().unwrap_or(0) >= 10, "{feel}: {feels:?}");
        }
        for shape in ENERGY_SHAPES {
            assert!(
                shapes.get(shape).copied().unwrap_or(0) >= 100,
                "{shape}: {shapes:?}"
            );
        }
        for marking in TEMPO_MARKINGS {
            assert!(markings.contains_key(marking), "{marking}: {markings:?}");
        }
    }

    #[test]
    fn emotions_and_modes_are_varied() {
        let emotions = count_by(catalogue(), |s| &s.emotional.dominant_emotion);
        assert!(emotions.len() >= 8, "{emotions:?}");
        let modes = count_by(catalogue(), |s| &s.harmonic.mode);
        assert_eq!(modes.len(), 2);
        let greys = catalogue().iter().filter(|s| s.color.oklch_hue.is_none()).count();
        assert!((20..300).contains(&greys), "{greys} greys");
    }

    #[test]
    fn a_share_of_titles_and_artists_is_not_ascii() {
        let songs = catalogue();
        let non_ascii = songs
            .iter()
            .filter(|s| !s.song.title.is_ascii() || !s.song.artist.is_ascii())
            .count();
        assert!(non_ascii * 10 >= songs.len(), "{non_ascii} of {}", songs.len());
        for script in [
            '\u{3040}', '\u{0400}', '\u{0370}', '\u{0600}', '\u{AC00}', '\u{4E00}', '\u{0900}',
        ] {
            let block = script as u32..script as u32 + 0x100;
            assert!(
                songs
                    .iter()
                    .any(|s| s.song.title.chars().any(|c| block.contains(&(c as u32)))),
                "no title in the script of U+{:04X}",
                script as u32
            );
        }
        let apostrophes = songs.iter().filter(|s| s.song.title.contains('\'')).count();
        assert!(apostrophes > 20, "{apostrophes} titles with apostrophes");
    }

    #[test]
    fn titles_are_varied_and_common_words_are_common() {
        let songs = catalogue();
        let distinct: HashSet<&str> = songs.iter().map(|s| s.song.title.as_str()).collect();
        assert!(
            distinct.len() * 10 >= songs.len() * 7,
            "{} distinct titles",
            distinct.len()
        );
        for word in ["love", "night"] {
            let hits = songs
                .iter()
                .filter(|s| s.song.title.to_lowercase().contains(word))
                .count();
            assert!(hits >= 150, "{word}: {hits} hits");
        }
    }

    #[test]
    fn about_one_percent_is_published_in_the_future_the_rest_within_three_years() {
        let now = parse_rfc3339(NOW).expect("valid");
        let published: Vec<i64> = catalogue()
            .iter()
            .filter_map(|s| parse_rfc3339(&s.song.published_at))
            .collect();
        let future = published.iter().filter(|t| **t > now).count();
        assert!((50..=55).contains(&future), "{future} future songs");
        assert!(
            published
                .iter()
                .all(|t| (now - 3 * 365 * 86_400..=now + 60 * 86_400).contains(t))
        );
        let small = generate(100, 1, NOW);
        assert!(
            small
                .iter()
                .filter(|s| s.song.published_at.as_str() > NOW)
                .count()
                >= 3
        );
    }

    #[test]
    fn check_consistency_catches_a_tampered_field() {
        let good = &catalogue()[0];
        type Tamper = fn(&mut Song);
        let tampered: [(&str, Tamper); 7] = [
            ("bpm", |s| {
                s.temporal.bpm = if s.temporal.bpm < 100 { 200 } else { 50 }
            }),
            ("energy curve", |s| {
                s.curves.energy_curve.iter_mut().for_each(|v| *v = 0.5)
            }),
            ("hex", |s| s.color.hex = "#00ff00".into()),
            ("valence", |s| {
                s.emotional.valence = if s.emotional.valence > 500 { 1 } else { 1000 }
            }),
            ("key", |s| {
                s.harmonic.key = if s.harmonic.key == "C" {
                    "D".into()
                } else {
                    "C".into()
                }
            }),
            ("sections", |s| s.arrangement.sections.pop().map_or((), drop)),
            ("emotion bound", |s| s.emotional.mystery_index = 1001),
        ];
        for (what, tamper) in tampered {
            let mut song = good.clone();
            tamper(&mut song);
            assert!(
                check_consistency(&song).is_err(),
                "tampering with the {what} went unnoticed"
            );
        }
    }

    #[test]
    fn tempo_feel_follows_the_spec_bands() {
        let cases = [
            (59, "stillness"),
            (60, "drift"),
            (69, "drift"),
            (70, "sway"),
            (91, "lean"),
            (92, "groove"),
        ];
        let more = [
            (115, "bounce"),
            (116, "stride"),
            (126, "drive"),
            (149, "surge"),
            (167, "rush"),
            (189, "blitz"),
        ];
        for (bpm, feel) in
            cases
                .into_iter()
                .chain(more)
                .chain([(190, "fury"), (300, "fury"), (0, "stillness")])
        {
            assert_eq!(tempo_feel(bpm), feel, "bpm {bpm}");
        }
    }

    #[test]
    fn tempo_marking_follows_its_bands() {
        let cases = [
            (65, "largo"),
            (66, "adagio"),
            (76, "andante"),
            (107, "andante"),
            (108, "moderato"),
        ];
        let more = [
            (120, "allegro"),
            (155, "allegro"),
            (156, "vivace"),
            (176, "presto"),
            (200, "prestissimo"),
        ];
        for (bpm, marking) in cases.into_iter().chain(more) {
            assert_eq!(tempo_marking(bpm), marking, "bpm {bpm}");
        }
    }

    #[test]
    fn energy_shapes_of_hand_made_curves() {
        let curve = |f: &dyn Fn(f64) -> f64| -> Vec<f64> {
            (0..32).map(|i| round3(f(f64::from(i) / 31.0))).collect()
        };
        assert_eq!(classify_energy_shape(&curve(&|t| 0.5 + 0.05 * t)), "steady");
        assert_eq!(classify_energy_shape(&curve(&|t| 0.2 + 0.6 * t)), "build");
        assert_eq!(
            classify_energy_shape(&curve(&|t| 0.2 + 0.6 * (1.0 - (1.0 - t).powi(3)))),
            "rise"
        );
        assert_eq!(classify_energy_shape(&curve(&|t| 0.2 + 0.6 * t.powi(3))), "bloom");
        assert_eq!(
            classify_energy_shape(&curve(&|t| 0.2 + 0.6 * (1.0 - (2.0 * t - 1.0).powi(2)))),
            "peak"
        );
        assert_eq!(classify_energy_shape(&curve(&|t| 0.8 - 0.6 * t)), "cascade");
        assert_eq!(
            classify_energy_shape(&curve(&|t| 0.5 + 0.3 * (TAU * 2.5 * t).sin())),
            "wave"
        );
        assert_eq!(
            classify_energy_shape(&curve(&|t| if t < 0.5 { 0.2 } else { 0.8 })),
            "burst"
        );
        assert_eq!(
            classify_energy_shape(&curve(&|t| 0.2 + 0.6 * (2.0 * t - 1.0).powi(2))),
            "wave",
            "a dip"
        );
        assert_eq!(classify_energy_shape(&[]), "steady");
    }

    #[test]
    fn dominant_emotion_by_quadrant() {
        let cases = [
            (500, 500, "neutral"),
            (600, 400, "neutral"),
            (700, 700, "joy"),
            (900, 700, "euphoria"),
        ];
        let more = [
            (700, 300, "calm"),
            (700, 100, "serenity"),
            (300, 700, "tension"),
            (100, 980, "anger"),
        ];
        let last = [
            (300, 300, "melancholy"),
            (1, 1, "sadness"),
            (500, 700, "tension"),
            (601, 500, "calm"),
        ];
        for (v, a, emotion) in cases.into_iter().chain(more).chain(last) {
            assert_eq!(dominant_emotion(v, a), emotion, "valence {v}, arousal {a}");
            assert!(DOMINANT_EMOTIONS.contains(&emotion));
        }
    }

    #[test]
    fn camelot_positions() {
        let cases = [
            ("C", "major", "8B"),
            ("A", "minor", "8A"),
            ("G", "major", "9B"),
            ("E", "minor", "9A"),
        ];
        let more = [
            ("B", "major", "1B"),
            ("F#", "major", "2B"),
            ("D#", "minor", "2A"),
            ("F", "major", "7B"),
        ];
        for (key, mode, expected) in cases.into_iter().chain(more) {
            assert_eq!(camelot(key, mode).as_deref(), Some(expected), "{key} {mode}");
        }
        assert_eq!(camelot("H", "major"), None);
        assert_eq!(camelot("C", "dorian"), None);
    }

    #[test]
    fn slugify_folds_accents_and_transliterates() {
        let cases = [
            ("Café Señor", "cafe-senor"),
            ("Don't Stop", "dont-stop"),
            ("Rock 'n' Roll Night", "rock-n-roll-night"),
            ("Ñandú & Straße", "nandu-strasse"),
            ("İstanbul", "istanbul"),
            ("Белая ночь", "belaya-noch"),
            ("Νύχτα και Θάλασσα", "nychta-kai-thalassa"),
            ("東京の夜", ""),
            ("  ¿Dónde Está?  ", "donde-esta"),
        ];
        for (text, slug) in cases {
            assert_eq!(slugify(text), slug, "{text}");
        }
    }

    #[test]
    fn slugs_fall_back_to_the_id_for_untransliterated_scripts() {
        let id = "1a2b3c4d-0000-4000-8000-000000000000";
        assert_eq!(slug_base("東京の夜", "星野 ひかり", id), "song-1a2b3c4d");
        assert_eq!(
            slug_base("東京の夜", "NEON BLOOM", id),
            "song-1a2b3c4d-neon-bloom"
        );
        let mut taken = HashSet::new();
        assert_eq!(unique_slug("Love", "Mia", id, &mut taken), "love-mia");
        assert_eq!(unique_slug("Love", "Mia", id, &mut taken), "love-mia-1a2b3c4d");
    }

    #[test]
    fn rfc3339_parses_and_formats() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2026-01-01T00:00:00Z"), Some(FALLBACK_NOW));
        assert_eq!(parse_rfc3339("2026-01-01T02:00:00.123+02:00"), Some(FALLBACK_NOW));
        assert_eq!(parse_rfc3339("2025-12-31T19:30:00-04:30"), Some(FALLBACK_NOW));
        assert_eq!(
            format_rfc3339(parse_rfc3339("2024-02-29T23:59:59Z").expect("leap day")),
            "2024-02-29T23:59:59Z"
        );
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59Z");
        for bad in [
            "",
            "2026-01-01",
            "2026-02-30T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
        assert_eq!(generate(3, 1, "not a date"), generate_at(3, 1, FALLBACK_NOW));
    }

    #[test]
    fn word_lists_are_complete() {
        let lexicon = Lexicon::new();
        assert_eq!(
            lexicon.cultures[0].lang, "en",
            "{{X}} borrows the first culture's words"
        );
        for (spec, c) in CULTURES.iter().zip(&lexicon.cultures) {
            for name in list(spec.genres) {
                assert!(
                    GENRES.iter().any(|g| g.name == name),
                    "{}: unknown genre {name}",
                    c.lang
                );
            }
            assert!(!c.first.is_empty() && !c.last.is_empty() && !c.nouns.is_empty() && !c.cities.is_empty());
            let templates = c.titles.iter().chain(&c.artists);
            assert!(
                templates
                    .clone()
                    .all(|t| !c.adjs.is_empty() || !t.contains("{J}")),
                "{}: {{J}} without adjectives",
                c.lang
            );
            assert_eq!(
                c.cities.len(),
                list(spec.cities).len(),
                "{}: a city without its country",
                c.lang
            );
        }
    }

    #[test]
    fn ids_are_v4_uuids() {
        assert!(catalogue().iter().all(|s| is_uuid_v4(&s.song.id)));
        assert!(!is_uuid_v4("1a2b3c4d-0000-1000-8000-000000000000"));
    }
}
