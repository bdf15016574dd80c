//! The three searches: text (title, artist, album), colour (OKLCH distance) and emotional
//! dimensions. Each answers summary items, for every tier.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use super::auth::ArkCaller;
use super::color::{self, Oklch};
use super::index::{Summary, fold};
use super::params::{MAX_RESULTS, bounded_float, bounded_int, clamped_int};
use super::{ArkState, catalogue_index, envelope};
use crate::error::{Error, Result};
use crate::extract::{Caller, QueryPairs};

#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchMeta {
    pub total: usize,
    pub max_results: i64,
}

fn max_results(query: &QueryPairs) -> Result<i64> {
    clamped_int(query, "max_results", 20, 1, MAX_RESULTS)
}

/// No match; the ranks of a match are 0 exact title, 1 title prefix, 2 title, 3 artist,
/// 4 album: best first.
const NO_MATCH: u8 = u8::MAX;

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
    query: QueryPairs,
) -> Result<Response> {
    let q = query.get("q").map(str::trim).unwrap_or_default();
    if q.is_empty() {
        return Err(Error::validation(
            "`q` is required: the text to find in titles, artists and albums.",
        ));
    }
    let max = max_results(&query)?;
    // Control characters cannot occur in a title; dropping them also keeps the column
    // separator out of the needle.
    let q: String = fold(q).chars().filter(|c| !c.is_control()).collect();
    let catalogue = catalogue_index(&state).await?;
    let now_ms = caller.clock.now_ms();

    let mut rank = vec![NO_MATCH; catalogue.songs.len()];
    catalogue.albums.find(&q, |i| rank[i] = rank[i].min(4));
    catalogue.artists.find(&q, |i| rank[i] = rank[i].min(3));
    catalogue.titles.find(&q, |i| {
        let title = catalogue.titles.get(i);
        let r = if title == q {
            0
        } else if title.starts_with(q.as_str()) {
            1
        } else {
            2
        };
        rank[i] = rank[i].min(r);
    });
    let mut found: Vec<(u8, u32, usize)> = rank
        .iter()
        .enumerate()
        .filter(|(i, r)| **r != NO_MATCH && catalogue.is_visible(*i, now_ms))
        .map(|(i, r)| (*r, i as u32, i))
        .collect();
    let total = found.len();
    // Ties: newest first, which is storage order.
    found.sort_unstable();
    let items: Vec<&Summary> = found
        .iter()
        .take(max as usize)
        .map(|(_, _, i)| &catalogue.songs[*i])
        .collect();
    envelope(
        &items,
        &SearchMeta {
            total,
            max_results: max,
        },
    )
}

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
    query: QueryPairs,
) -> Result<Response> {
    let h = bounded_float(&query, "h", 0.0, 360.0, false)?
        .ok_or_else(|| Error::validation("`h` is required: a hue from 0 to 360."))?;
    let l = bounded_float(&query, "l", 0.0, 1.0, false)?.unwrap_or(0.5);
    let c = bounded_float(&query, "c", 0.0, 0.4, false)?.unwrap_or(0.15);
    let max = max_results(&query)?;
    let max_distance = bounded_float(&query, "max_distance", 0.0, f64::INFINITY, true)?.unwrap_or(50.0);

    let target = Oklch { l, c, h };
    let catalogue = catalogue_index(&state).await?;
    let now_ms = caller.clock.now_ms();
    let mut found: Vec<(f64, u32, usize)> = catalogue
        .oklch
        .iter()
        .enumerate()
        .filter(|(i, _)| catalogue.is_visible(*i, now_ms))
        .filter_map(|(i, [l, c, h])| {
            let d = color::distance(target, Oklch { l: *l, c: *c, h: *h });
            (d <= max_distance).then_some((d, i as u32, i))
        })
        .collect();
    let total = found.len();
    // Nearest first; ties newest first, then by id (the published order's own tie-break).
    let order = |a: &(f64, u32, usize), b: &(f64, u32, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    let keep = (max as usize).min(found.len());
    if keep > 0 && keep < found.len() {
        found.select_nth_unstable_by(keep - 1, order);
    }
    found.truncate(keep);
    found.sort_unstable_by(order);
    let found: Vec<(f64, &Summary)> = found
        .into_iter()
        .map(|(d, _, i)| (d, &catalogue.songs[i]))
        .collect();
    let items: Vec<WithDistance> = found
        .into_iter()
        .map(|(d, song)| WithDistance {
            song,
            distance: (d * 100.0).round() / 100.0,
        })
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
    query: QueryPairs,
) -> Result<Response> {
    let mut bounds = [(1, 1000); 8];
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
        bounds[i] = (min.unwrap_or(1), max.unwrap_or(1000));
    }
    let max = max_results(&query)?;
    let catalogue = catalogue_index(&state).await?;
    let mut total = 0;
    let mut items = Vec::new();
    for i in catalogue.visible_newest_first(caller.clock.now_ms()) {
        let inside = catalogue.emotions[i]
            .iter()
            .zip(&bounds)
            .all(|(v, (lo, hi))| (*lo..=*hi).contains(&i64::from(*v)));
        if inside {
            total += 1;
            if items.len() < max as usize {
                items.push(&catalogue.songs[i]);
            }
        }
    }
    envelope(
        &items,
        &SearchMeta {
            total,
            max_results: max,
        },
    )
}
