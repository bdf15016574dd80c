//! The seeded MusicArk song catalogue (spec §3–4): the full song profile, the rules that derive
//! tempo_feel, tempo_marking, energy_shape, dominant_emotion, camelot and OKLCH from their
//! sources, a deterministic generator, JSONL I/O, and a checker that every derived field agrees.
//!
//! - `rules`    the vocabularies, every derivation rule, RFC 3339 instants and the checker
//! - `generate` the seeded generator and its PRNG
//! - `words`    the word lists and the genre table the generator draws from
//! - `jsonl`    reading and writing one song per line

use serde::{Deserialize, Serialize};

mod generate;
mod jsonl;
mod rules;
#[cfg(test)]
mod tests;
mod words;

pub use generate::{FALLBACK_NOW, GENERATOR_CHUNK, Generator, generate, generate_at};
pub use jsonl::{read_jsonl, write_jsonl};
pub use rules::{
    CatalogueCheck, DOMINANT_EMOTIONS, ENERGY_SHAPES, KEYS, MODES, TEMPO_FEELS, TEMPO_MARKINGS, camelot,
    check_catalogue, check_consistency, classify_energy_shape, color_name, dominant_emotion, format_rfc3339,
    parse_rfc3339, slugify, tempo_feel, tempo_marking,
};

/// Samples per curve (spec §3).
pub const CURVE_SAMPLES: usize = 32;

/// One song's full profile: the nested shape of `GET /songs/{id}` at the enterprise tier.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ColorSection {
    pub hex: String,
    pub oklch_lightness: f64,
    pub oklch_chroma: f64,
    /// `None` when the (rounded) chroma is ≤ 4e-6.
    pub oklch_hue: Option<f64>,
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PitchSection {
    pub melody_range_semitones: u8,
    pub median_pitch_midi: u8,
    pub pitch_salience: f64,
    /// From `median_pitch_midi`; `None` for instrumentals.
    pub vocal_register: Option<String>,
    pub melodic_complexity: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpatialSection {
    pub stereo_width: f64,
    pub phase_correlation: f64,
    pub reverb_amount: f64,
    pub depth: f64,
    /// −1 (left) … 1 (right).
    pub pan_balance: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SongPart {
    pub label: String,
    pub start_seconds: u32,
    pub end_seconds: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextualSection {
    pub activities: Vec<String>,
    pub time_of_day: String,
    pub season: String,
    pub setting: String,
    pub social_context: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NarrativeSection {
    pub summary: String,
    pub themes: Vec<String>,
    pub story_arc: String,
    pub perspective: String,
    pub imagery: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CurvesSection {
    #[serde(deserialize_with = "curve")]
    pub energy_curve: Vec<f64>,
    #[serde(deserialize_with = "curve")]
    pub brightness_curve: Vec<f64>,
    #[serde(deserialize_with = "curve")]
    pub melody_contour: Vec<f64>,
    #[serde(deserialize_with = "curve")]
    pub harmonic_tension_curve: Vec<f64>,
    pub sample_count: u32,
    pub seconds_per_sample: f64,
}

/// A curve read into room for [`CURVE_SAMPLES`] values from the start: the JSON gives no
/// length, and growing a vector to 32 takes four allocations (a seed reads four curves a song).
/// A longer curve grows past it and is read whole, as a plain `Vec` would be.
fn curve<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    struct Samples;
    impl<'de> serde::de::Visitor<'de> for Samples {
        type Value = Vec<f64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a sequence")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f64>, A::Error> {
            let mut samples = Vec::with_capacity(CURVE_SAMPLES);
            while let Some(sample) = seq.next_element()? {
                samples.push(sample);
            }
            Ok(samples)
        }
    }
    d.deserialize_seq(Samples)
}
