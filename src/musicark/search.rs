//! The three searches: text (title, artist, album), colour (OKLCH distance) and emotional
//! dimensions. Each answers summary items, for every tier.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use super::auth::ArkCaller;
use super::color::Oklch;
use super::index::{Summary, SummaryView, fold_query};
use super::params::{MAX_RESULTS, bounded_float, bounded_int, clamped_int};
use super::{ArkState, catalogue_index, envelope};
use crate::error::{Error, Result};
use crate::extract::{Caller, QueryPairs};
use crate::journal::Notes;
use crate::warnings::query_warnings;

#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchMeta {
    pub total: usize,
    pub max_results: i64,
}

fn max_results(query: &QueryPairs) -> Result<i64> {
    clamped_int(query, "max_results", 20, 1, MAX_RESULTS)
}

#[utoipa::path(
    get, path = "/api/v1/search/text", tag = "Search", operation_id = "searchText",
    extensions(
        ("x-basis" = json!({"basis": "vendor_docs", "notes": "Ranking is ours."})),
    ),
    description = "Case- and accent-insensitive match in title, artist or album. Ranking (exact title, title prefix, title, artist, album, then newest) is soundcheck's choice.",
    params(
        ("q" = String, Query, description = "The text to find; blank is a 400.", min_length = 1),
        ("max_results" = Option<i64>, Query, description = "How many results, default 20; above 100 counts as 100 (soundcheck's choice).", minimum = 1),
    ),
    responses(
        (status = 200, description = "Matching songs, best first.", body = crate::musicark::docs::SearchResults),
        (status = 400, description = "`q` is missing or blank, or `max_results` is below 1.", body = crate::musicark::docs::MusicArkError),
    )
)]
/// `GET /search/text?q=`.
pub async fn text(
    State(state): State<ArkState>,
    Caller(caller): Caller<ArkCaller>,
    notes: Notes,
    query: QueryPairs,
) -> Result<Response> {
    let q = query.get("q").map(str::trim).unwrap_or_default();
    if q.is_empty() {
        return Err(Error::validation(
            "`q` is required: the text to find in titles, artists and albums.",
        ));
    }
    let max = max_results(&query)?;
    notes.warn_all(query_warnings(
        &query.0,
        &["q", "max_results", "api_key"],
        &[("query", "q"), ("limit", "max_results"), ("text", "q")],
    ))?;
    let q = fold_query(q);
    let catalogue = catalogue_index(&state).await?;
    // Ranked by the index; ties newest first.
    let (total, found) = catalogue.search_text(&q, caller.clock.now_ms(), max as usize);
    let items: Vec<SummaryView> = found.into_iter().map(|i| catalogue.summary(i)).collect();
    envelope(
        &items,
        &SearchMeta {
            total,
            max_results: max,
        },
    )
}

// The document's shape of a colour result; served as a `SummaryView` with its distance.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WithDistance<'a> {
    #[serde(flatten)]
    #[schema(value_type = Summary)]
    pub song: &'a Summary,
    /// 100 × ΔEOK from the query colour, 2 decimals.
    pub distance: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ColorQuery {
    pub h: f64,
    pub l: f64,
    pub c: f64,
    pub max_distance: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ColorMeta {
    pub total: usize,
    pub max_results: i64,
    pub query: ColorQuery,
}

#[utoipa::path(
    get, path = "/api/v1/search/color", tag = "Search", operation_id = "searchColor",
    extensions(
        ("x-basis" = json!({"basis": "our_reading", "notes": "Distance is 100 × ΔEOK (CSS Color 4), our reading of 'OKLCH distance'."})),
    ),
    description = "Songs within `max_distance` of an OKLCH colour, nearest first. Distance = 100 × ΔEOK (CSS Color 4), soundcheck's reading of 'OKLCH distance'.",
    params(
        ("h" = f64, Query, description = "Hue, degrees.", minimum = 0, maximum = 360),
        ("l" = Option<f64>, Query, description = "Lightness, default 0.5.", minimum = 0, maximum = 1),
        ("c" = Option<f64>, Query, description = "Chroma, default 0.15.", minimum = 0, maximum = 0.4),
        ("max_distance" = Option<f64>, Query, description = "Default 50; must be above 0.", exclusive_minimum = 0),
        ("max_results" = Option<i64>, Query, description = "How many results, default 20; above 100 counts as 100 (soundcheck's choice).", minimum = 1),
    ),
    responses(
        (status = 200, description = "Songs by distance.", body = crate::musicark::docs::ColorResults),
        (status = 400, description = "A parameter is missing or out of range.", body = crate::musicark::docs::MusicArkError),
    )
)]
/// `GET /search/color?h=&l=&c=`: songs within `max_distance` (100 × ΔEOK), nearest first.
pub async fn color(
    State(state): State<ArkState>,
    Caller(caller): Caller<ArkCaller>,
    notes: Notes,
    query: QueryPairs,
) -> Result<Response> {
    let h = bounded_float(&query, "h", 0.0, 360.0, false)?
        .ok_or_else(|| Error::validation("`h` is required: a hue from 0 to 360."))?;
    let l = bounded_float(&query, "l", 0.0, 1.0, false)?.unwrap_or(0.5);
    let c = bounded_float(&query, "c", 0.0, 0.4, false)?.unwrap_or(0.15);
    let max = max_results(&query)?;
    let max_distance = bounded_float(&query, "max_distance", 0.0, f64::INFINITY, true)?.unwrap_or(50.0);
    notes.warn_all(query_warnings(
        &query.0,
        &["h", "l", "c", "max_results", "max_distance", "api_key"],
        &[
            ("hue", "h"),
            ("lightness", "l"),
            ("chroma", "c"),
            ("limit", "max_results"),
            ("distance", "max_distance"),
        ],
    ))?;

    let target = Oklch { l, c, h };
    let catalogue = catalogue_index(&state).await?;
    // Nearest first; ties newest first, then by id (the published order's own tie-break).
    let (total, found) = catalogue.search_color(target, max_distance, caller.clock.now_ms(), max as usize);
    let items: Vec<SummaryView> = found
        .into_iter()
        .map(|(d, i)| catalogue.summary(i).with_distance((d * 100.0).round() / 100.0))
        .collect();
    envelope(
        &items,
        &ColorMeta {
            total,
            max_results: max,
            query: ColorQuery {
                h,
                l,
                c,
                max_distance,
            },
        },
    )
}

/// The query parameters `GET /search/emotional` reads: a bound of each of [`DIMENSIONS`].
const EMOTIONAL_PARAMS: [&str; 18] = [
    "min_valence",
    "max_valence",
    "min_arousal",
    "max_arousal",
    "min_nostalgia",
    "max_nostalgia",
    "min_melancholy",
    "max_melancholy",
    "min_sensuality",
    "max_sensuality",
    "min_triumph",
    "max_triumph",
    "min_mystery",
    "max_mystery",
    "min_inspirational",
    "max_inspirational",
    "max_results",
    "api_key",
];

/// The emotional dimensions: query name and index into [`Summary::emotions`].
pub const DIMENSIONS: [&str; 8] = [
    "valence",
    "arousal",
    "nostalgia",
    "melancholy",
    "sensuality",
    "triumph",
    "mystery",
    "inspirational",
];

#[utoipa::path(
    get, path = "/api/v1/search/emotional", tag = "Search", operation_id = "searchEmotional",
    extensions(
        ("x-basis" = json!({"basis": "vendor_docs", "notes": "Bounds are inclusive; results newest first (ours)."})),
    ),
    description = "Inclusive bounds 1-1000 on each emotional dimension; results newest first (soundcheck's choice). `min_x` greater than `max_x` is a 400.",
    params(
        ("min_valence" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("max_valence" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("min_arousal" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("max_arousal" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("min_nostalgia" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("max_nostalgia" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("min_melancholy" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("max_melancholy" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("min_sensuality" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("max_sensuality" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("min_triumph" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("max_triumph" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("min_mystery" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("max_mystery" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("min_inspirational" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("max_inspirational" = Option<i64>, Query, minimum = 1, maximum = 1000),
        ("max_results" = Option<i64>, Query, description = "How many results, default 20; above 100 counts as 100 (soundcheck's choice).", minimum = 1),
    ),
    responses(
        (status = 200, description = "Songs inside every bound.", body = crate::musicark::docs::SearchResults),
        (status = 400, description = "A bound is out of range, not an integer, or min > max.", body = crate::musicark::docs::MusicArkError),
    )
)]
/// `GET /search/emotional`: inclusive bounds 1–1000 on each dimension, newest first.
pub async fn emotional(
    State(state): State<ArkState>,
    Caller(caller): Caller<ArkCaller>,
    notes: Notes,
    query: QueryPairs,
) -> Result<Response> {
    let mut bounds = [(1u16, 1000u16); 8];
    for (i, name) in DIMENSIONS.iter().enumerate() {
        let min = bounded_int(&query, &format!("min_{name}"), 1, 1000)?;
        let max = bounded_int(&query, &format!("max_{name}"), 1, 1000)?;
        if let (Some(lo), Some(hi)) = (min, max)
            && lo > hi
        {
            return Err(Error::validation(format!(
                "`min_{name}` ({lo}) must not be greater than `max_{name}` ({hi})."
            )));
        }
        // Both lie in 1–1000, checked above.
        let narrow = |v: Option<i64>, default: u16| v.and_then(|v| u16::try_from(v).ok()).unwrap_or(default);
        bounds[i] = (narrow(min, 1), narrow(max, 1000));
    }
    let max = max_results(&query)?;
    notes.warn_all(query_warnings(
        &query.0,
        &EMOTIONAL_PARAMS,
        &[("limit", "max_results")],
    ))?;
    let catalogue = catalogue_index(&state).await?;
    let (total, found) = catalogue.search_emotional(&bounds, caller.clock.now_ms(), max as usize);
    let items: Vec<SummaryView> = found.into_iter().map(|i| catalogue.summary(i)).collect();
    envelope(
        &items,
        &SearchMeta {
            total,
            max_results: max,
        },
    )
}
