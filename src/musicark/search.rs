//! The three searches: text (title, artist, album), colour (OKLCH distance) and emotional
//! dimensions. Each answers summary items, for every tier.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use super::color::{self, Oklch};
use super::index::{Summary, fold};
use super::params::{MAX_RESULTS, bounded_float, bounded_int, clamped_int};
use super::{ArkCaller, catalogue_index, envelope};
use crate::error::{Error, Result};
use crate::extract::QueryPairs;
use crate::state::AppState;

#[derive(Serialize)]
struct SearchMeta {
    total: usize,
    max_results: i64,
}

fn max_results(query: &QueryPairs) -> Result<i64> {
    clamped_int(query, "max_results", 20, 1, MAX_RESULTS)
}

/// Where `q` matches a song, best first: exact title, title prefix, title, artist, album.
pub fn text_rank(song: &Summary, q: &str) -> Option<u8> {
    let f = &song.folded;
    if f.title == q {
        Some(0)
    } else if f.title.starts_with(q) {
        Some(1)
    } else if f.title.contains(q) {
        Some(2)
    } else if f.artist.contains(q) {
        Some(3)
    } else if f.album.contains(q) {
        Some(4)
    } else {
        None
    }
}

/// `GET /search/text?q=`.
pub async fn text(
    State(state): State<AppState>,
    ArkCaller(caller): ArkCaller,
    query: QueryPairs,
) -> Result<Response> {
    let q = query.get("q").map(str::trim).unwrap_or_default();
    if q.is_empty() {
        return Err(Error::validation(
            "`q` is required: the text to find in titles, artists and albums.",
        ));
    }
    let max = max_results(&query)?;
    let q = fold(q);
    let catalogue = catalogue_index(&state).await?;
    // Walking newest first fills each rank's bucket already in tie order.
    let mut buckets: [Vec<&Summary>; 5] = Default::default();
    let mut total = 0;
    for song in catalogue.visible(&catalogue.by_published, caller.clock.now_ms()) {
        if let Some(rank) = text_rank(song, &q) {
            total += 1;
            let bucket = &mut buckets[rank as usize];
            if bucket.len() < max as usize {
                bucket.push(song);
            }
        }
    }
    let items: Vec<&Summary> = buckets.into_iter().flatten().take(max as usize).collect();
    envelope(
        &items,
        &SearchMeta {
            total,
            max_results: max,
        },
    )
}

#[derive(Serialize)]
struct WithDistance<'a> {
    #[serde(flatten)]
    song: &'a Summary,
    distance: f64,
}

#[derive(Serialize)]
struct ColorQuery {
    h: f64,
    l: f64,
    c: f64,
    max_distance: f64,
}

#[derive(Serialize)]
struct ColorMeta {
    total: usize,
    max_results: i64,
    query: ColorQuery,
}

/// `GET /search/color?h=&l=&c=`: songs within `max_distance` (100 × ΔEOK), nearest first.
pub async fn color(
    State(state): State<AppState>,
    ArkCaller(caller): ArkCaller,
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
    let mut found: Vec<(f64, &Summary)> = catalogue
        .visible(&catalogue.by_published, caller.clock.now_ms())
        .filter_map(|song| {
            let (l, c, h) = song.oklch;
            let d = color::distance(target, Oklch { l, c, h });
            (d <= max_distance).then_some((d, song))
        })
        .collect();
    let total = found.len();
    // Nearest first; the walk was newest first, and a stable sort keeps that for ties
    // (ties on id are already broken by the published order's own tie-break).
    let by_distance = |a: &(f64, &Summary), b: &(f64, &Summary)| a.0.total_cmp(&b.0);
    let keep = (max as usize).min(found.len());
    if keep < found.len() && keep > 0 {
        found.select_nth_unstable_by(keep - 1, |a, b| {
            by_distance(a, b)
                .then_with(|| b.1.published_at_ms.cmp(&a.1.published_at_ms))
                .then_with(|| a.1.id.cmp(&b.1.id))
        });
    }
    found.truncate(keep);
    found.sort_by(|a, b| {
        by_distance(a, b)
            .then_with(|| b.1.published_at_ms.cmp(&a.1.published_at_ms))
            .then_with(|| a.1.id.cmp(&b.1.id))
    });
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

/// `GET /search/emotional`: inclusive bounds 1–1000 on each dimension, newest first.
pub async fn emotional(
    State(state): State<AppState>,
    ArkCaller(caller): ArkCaller,
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
    for song in catalogue.visible(&catalogue.by_published, caller.clock.now_ms()) {
        let inside = song
            .emotions
            .iter()
            .zip(&bounds)
            .all(|(v, (lo, hi))| (*lo..=*hi).contains(v));
        if inside {
            total += 1;
            if items.len() < max as usize {
                items.push(song);
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
