//! The vocabularies, the rules that derive each field from its source, RFC 3339 instants, the checker.
//!
//! Each derived field is a pure function of its source, so fixtures and the checker cannot drift apart.

use std::collections::HashSet;

use super::{CURVE_SAMPLES, ColorSection, Song};
use crate::musicark::color;

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

pub(super) fn vocal_register(median_pitch_midi: u8) -> &'static str {
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
pub(super) fn color_section(rgb: [u8; 3]) -> ColorSection {
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
// Helpers the generator and the checker share, so both derive slugs, eras and means alike.

pub(super) fn slug_base(title: &str, artist: &str, id: &str) -> String {
    let mut title = slugify(title);
    if title.is_empty() {
        title = format!("song-{}", id.get(..8).unwrap_or(id));
    }
    match slugify(artist) {
        artist if artist.is_empty() => title,
        artist => format!("{title}-{artist}"),
    }
}

/// Whether `slug` is `base`, `base-` and the first 8 digits of `id_hex`, or `base-` and all of
/// them: the three slugs a song may have, compared without building them.
pub(super) fn slug_is_one_of(slug: &str, base: &str, id_hex: &str) -> bool {
    match slug.strip_prefix(base) {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('-')
            .is_some_and(|digits| digits == id_hex.get(..8).unwrap_or("") || digits == id_hex),
        None => false,
    }
}

pub(super) fn is_uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

pub(super) fn era(release_year: u16) -> String {
    format!("{}s", release_year / 10 * 10)
}

fn round_to(v: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (v * scale).round() / scale
}

pub(super) fn round1(v: f64) -> f64 {
    round_to(v, 1)
}

pub(super) fn round3(v: f64) -> f64 {
    round_to(v, 3)
}

pub(super) fn mean3(curve: &[f64]) -> f64 {
    round3(curve.iter().sum::<f64>() / curve.len().max(1) as f64)
}

// ---------------------------------------------------------------------------------------------
// RFC 3339 instants as Unix seconds (Howard Hinnant's civil-date algorithms), so this module
// needs no date crate.

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

pub(super) fn year_of(unix: i64) -> i64 {
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
// The consistency checker.

/// Checks one song: shapes of ids, slugs and instants, ranges, and every derived field against
/// its source. The error names the song and the first disagreement.
pub fn check_consistency(s: &Song) -> Result<(), String> {
    check_song(s).map_err(|e| format!("song {} ({:?}): {e}", s.song.id, s.song.title))
}

/// [`check_consistency`] for each song, plus unique ids and slugs.
pub fn check_catalogue(songs: &[Song]) -> Result<(), String> {
    CatalogueCheck::default().check(songs)
}

/// [`check_catalogue`] of a catalogue given a part at a time, in order: the ids and slugs
/// seen so far.
#[derive(Debug, Default)]
pub struct CatalogueCheck {
    /// Checked ids are v4 UUIDs: kept as their 128 bits, a sixth of a string's memory.
    ids: HashSet<u128>,
    slugs: HashSet<Box<str>>,
}

impl CatalogueCheck {
    /// Checks the next songs of the catalogue.
    pub fn check(&mut self, songs: &[Song]) -> Result<(), String> {
        for s in songs {
            check_consistency(s)?;
            let id = u128::from_str_radix(&s.song.id.replace('-', ""), 16).map_err(|e| e.to_string())?;
            if !self.ids.insert(id) {
                return Err(format!("duplicate id {}", s.song.id));
            }
            if !self.slugs.insert(s.song.slug.as_str().into()) {
                return Err(format!("duplicate slug {}", s.song.slug));
            }
        }
        Ok(())
    }
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
    let slug_ok = slug_is_one_of(&song.slug, &base, &id_hex);
    let (release_year, duration) = (i64::from(song.release_year), f64::from(song.duration_seconds));
    let register = a.has_vocals.then(|| vocal_register(s.pitch.median_pitch_midi));
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
        ("vocal_register agrees with vocals and pitch", s.pitch.vocal_register.as_deref() == register),
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
