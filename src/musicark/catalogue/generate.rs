//! The seeded generator: a catalogue of any size, byte-identical for a seed, drawn from SplitMix64.

use std::collections::HashSet;
use std::f64::consts::TAU;

use super::rules::{
    ENERGY_SHAPES, KEYS, camelot, classify_energy_shape, color_section, dominant_emotion, era,
    format_rfc3339, mean3, parse_rfc3339, round1, round3, slug_base, tempo_feel, tempo_marking,
    vocal_register, year_of,
};
use super::words::{CALM_ACTIVITIES, GENRES, LIVELY_ACTIVITIES, Lexicon, MID_ACTIVITIES, SOCIAL, TIMES};
use super::{
    AiAnalysisSection, ArrangementSection, CURVE_SAMPLES, ContextualSection, CulturalSection, CurvesSection,
    EmotionalSection, EnergySection, HarmonicSection, NarrativeSection, PitchSection, Song, SongPart,
    SongSection, SpatialSection, TemporalSection, TimbreSection,
};
use crate::musicark::color::{self, Oklch};

/// Used by [`generate`] when `now` does not parse: 2026-01-01T00:00:00Z.
pub const FALLBACK_NOW: i64 = 1_767_225_600;

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
    generate_on(n, seed, now, default_threads())
}

/// [`generate_at`] on up to `threads` threads (at most one per 5,000 songs).
pub(super) fn generate_on(n: usize, seed: u64, now: i64, threads: usize) -> Vec<Song> {
    let mut songs = Vec::with_capacity(n);
    let mut generator = Generator::on_threads(n, seed, now, threads);
    while let Some(chunk) = generator.next_chunk() {
        songs.extend(chunk);
    }
    songs
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |t| t.get()).min(8)
}

/// Songs per [`Generator::next_chunk`]: a million-song catalogue is made and written a chunk
/// at a time, so memory stays at a chunk (about 30 MB) plus the slugs taken so far.
pub const GENERATOR_CHUNK: usize = 8_192;

/// The songs of [`generate_at`], in order, [`GENERATOR_CHUNK`] at a time.
pub struct Generator {
    n: usize,
    seed: u64,
    now: i64,
    threads: usize,
    lexicon: Lexicon,
    roster: Vec<Artist>,
    future_spacing: Option<usize>,
    /// Slugs depend on every earlier song's: the ones given out so far.
    taken: HashSet<String>,
    next: usize,
}

impl Generator {
    /// The songs of `generate_at(n, seed, now)`.
    pub fn new(n: usize, seed: u64, now: i64) -> Generator {
        Generator::on_threads(n, seed, now, default_threads())
    }

    fn on_threads(n: usize, seed: u64, now: i64, threads: usize) -> Generator {
        let lexicon = Lexicon::new();
        // About 40 songs per artist at scale keeps names within what the word lists can make unique.
        let roster_size = (n / 8).clamp(30, 2_500);
        let mut roster_rng = Rng(mix64(seed ^ 0x0A57_1575));
        let roster = roster(&mut roster_rng, &lexicon, roster_size, year_of(now));
        Generator {
            n,
            seed,
            now,
            threads: threads.clamp(1, n / 5_000 + 1),
            lexicon,
            roster,
            future_spacing: (n >= 100).then(|| n / (n / 100).max(3)),
            taken: HashSet::with_capacity(n),
            next: 0,
        }
    }

    /// The next songs in order (at most [`GENERATOR_CHUNK`]), or `None` after the last.
    pub fn next_chunk(&mut self) -> Option<Vec<Song>> {
        let start = self.next;
        let len = self.n.saturating_sub(start).min(GENERATOR_CHUNK);
        if len == 0 {
            return None;
        }
        self.next += len;
        let this = &*self;
        let song_at = |i: usize| {
            let mut rng = Rng(mix64(this.seed ^ mix64(i as u64 ^ 0x50_4E65)));
            let published = if this.future_spacing.is_some_and(|k| i % k == k / 2) {
                this.now + rng.int(3_600, 60 * 86_400) as i64
            } else {
                this.now - rng.int(0, 3 * 365 * 86_400) as i64
            };
            make_song(&mut rng, &this.lexicon, &this.roster, published)
        };
        // Songs are independent draws, so splitting the range over threads changes only the
        // wall time; slugs, which depend on earlier songs, are settled afterwards in order.
        let per_thread = len.div_ceil(self.threads).max(1);
        // Filled in place, so the chunk is not built in one buffer and copied to another.
        let mut songs = vec![Song::default(); len];
        std::thread::scope(|scope| {
            for (t, part) in songs.chunks_mut(per_thread).enumerate() {
                let song_at = &song_at;
                scope.spawn(move || {
                    part.iter_mut()
                        .enumerate()
                        .for_each(|(j, slot)| *slot = song_at(start + t * per_thread + j))
                });
            }
        });
        for s in &mut songs {
            s.song.slug = unique_slug(&s.song.title, &s.song.artist, &s.song.id, &mut self.taken);
        }
        Some(songs)
    }
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
pub(super) fn unique_slug(title: &str, artist: &str, id: &str, taken: &mut HashSet<String>) -> String {
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

/// Maps 0–1 onto the emotional scale's integers 1–1000.
fn index(f: f64) -> u16 {
    (f.clamp(0.0, 1.0) * 999.0).round() as u16 + 1
}

/// SplitMix64 (Steele, Lea & Flood 2014): tiny and fully specified here, so a seed means the
/// same catalogue on every platform and release, which `rand`'s generators do not promise.
pub(super) struct Rng(u64);

fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.0)
    }

    /// Uniform in [0, 1), 53 bits.
    pub(super) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(super) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in `lo..=hi` by multiply-shift (bias below 2⁻⁵⁰ for our small ranges).
    pub(super) fn int(&mut self, lo: u64, hi: u64) -> u64 {
        lo + ((u128::from(self.next_u64()) * u128::from(hi - lo + 1)) >> 64) as u64
    }

    /// Uniform in `0..n`; 0 when `n` is 0.
    pub(super) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.int(0, n as u64 - 1) as usize
        }
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Mean of three uniforms: 0–1, peaked at 0.5.
    pub(super) fn bell(&mut self) -> f64 {
        (self.unit() + self.unit() + self.unit()) / 3.0
    }

    pub(super) fn word(&mut self, words: &[&'static str]) -> &'static str {
        words.get(self.below(words.len())).copied().unwrap_or("")
    }

    /// Up to `k` different words from `words`, in drawing order.
    pub(super) fn distinct(&mut self, words: &[&'static str], k: usize) -> Vec<String> {
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
