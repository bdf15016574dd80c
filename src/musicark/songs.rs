//! `GET /songs` (paged, sorted, filtered summaries) and `GET /songs/{id}` (the nested
//! profile, cut to what the key's tier may see).

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use serde_json::{Map, Value};

use super::auth::ArkCaller;
use super::catalogue::{ENERGY_SHAPES, TEMPO_FEELS};
use super::index::{Order, SummaryView, word_index};
use super::params::{MAX_RESULTS, clamped_int, word};
use super::{ArkState, catalogue_index, envelope, store};
use crate::auth::Tier;
use crate::error::{Error, Result};
use crate::extract::{ApiPath, Caller, QueryPairs};
use crate::journal::Notes;
use crate::warnings::query_warnings;

const SORTS: [&str; 3] = ["published_at", "title", "artist"];

#[derive(Serialize, utoipa::ToSchema)]
pub struct ListMeta {
    pub total: usize,
    pub limit: i64,
    pub offset: i64,
    pub has_more: bool,
}

/// The query parameters `GET /songs` reads (`api_key` is the key's), and names clients use.
const LIST_PARAMS: [&str; 6] = ["limit", "offset", "sort", "tempo_feel", "energy_shape", "api_key"];
const LIST_ALIASES: [(&str, &str); 4] = [
    ("per_page", "limit"),
    ("order", "sort"),
    ("tempo", "tempo_feel"),
    ("shape", "energy_shape"),
];

#[utoipa::path(
    get, path = "/api/v1/songs", tag = "Songs", operation_id = "listSongs",
    extensions(
        ("x-basis" = json!({"basis": "vendor_docs", "notes": "Sorting ties and clamping of `limit` are ours."})),
    ),
    description = "Published songs as summary items. Tie-breaks of the sorts and clamping `limit` above 100 are soundcheck's choice.",
    params(
        ("limit" = Option<i64>, Query, description = "Default 20; above 100 counts as 100.", minimum = 1),
        ("offset" = Option<i64>, Query, minimum = 0),
        ("sort" = Option<String>, Query, description = "`published_at` (newest first, default), `title` or `artist` (A-Z).", pattern = "^(published_at|title|artist)$"),
        ("tempo_feel" = Option<String>, Query, description = "One of the documented tempo feels.", pattern = "^(stillness|drift|sway|lean|groove|bounce|stride|drive|surge|rush|blitz|fury)$"),
        ("energy_shape" = Option<String>, Query, description = "One of the documented energy shapes.", pattern = "^(steady|build|rise|peak|wave|cascade|bloom|burst)$"),
    ),
    responses(
        (status = 200, description = "One page of songs.", body = crate::musicark::docs::SongList),
        (status = 400, description = "A parameter is out of range or not in its vocabulary.", body = crate::musicark::docs::MusicArkError),
    )
)]
/// `GET /songs`.
pub async fn list(
    State(state): State<ArkState>,
    Caller(caller): Caller<ArkCaller>,
    notes: Notes,
    query: QueryPairs,
) -> Result<Response> {
    let limit = clamped_int(&query, "limit", 20, 1, MAX_RESULTS)?;
    let offset = clamped_int(&query, "offset", 0, 0, i64::MAX)?;
    let sort = word(&query, "sort", &SORTS)?.unwrap_or("published_at");
    let tempo_feel = word(&query, "tempo_feel", &TEMPO_FEELS)?;
    let energy_shape = word(&query, "energy_shape", &ENERGY_SHAPES)?;
    notes.warn_all(query_warnings(&query.0, &LIST_PARAMS, &LIST_ALIASES))?;

    let catalogue = catalogue_index(&state).await?;
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    let take = usize::try_from(limit).unwrap_or(0);
    let filters = (
        tempo_feel.map(|w| word_index(&TEMPO_FEELS, w)),
        energy_shape.map(|w| word_index(&ENERGY_SHAPES, w)),
    );
    let order = match sort {
        "title" => Order::Title,
        "artist" => Order::Artist,
        _ => Order::Newest,
    };
    let (page, total) = catalogue.list(order, filters, caller.clock.now_ms(), skip, take);
    let page: Vec<SummaryView> = page.into_iter().map(|i| catalogue.summary(i)).collect();
    let has_more = skip.saturating_add(page.len()) < total;
    envelope(
        &page,
        &ListMeta {
            total,
            limit,
            offset,
            has_more,
        },
    )
}

/// Each tier's view of the profile (spec §3): a section name with `None` shows every field.
type Visible = &'static [(&'static str, Option<&'static [&'static str]>)];

const FREE: Visible = &[
    (
        "song",
        Some(&[
            "id",
            "title",
            "artist",
            "album",
            "release_year",
            "slug",
            "duration_seconds",
            "published_at",
        ]),
    ),
    ("color", Some(&["hex"])),
    ("temporal", Some(&["bpm"])),
    ("harmonic", Some(&["key", "mode"])),
    ("emotional", Some(&["dominant_emotion"])),
];

const PRO: Visible = &[
    ("song", None),
    ("color", None),
    ("temporal", None),
    ("harmonic", None),
    ("pitch", None),
    ("timbre", None),
    ("energy", None),
    ("spatial", None),
    ("arrangement", None),
    ("ai_analysis", None),
    ("emotional", Some(&["dominant_emotion"])),
];

/// Cuts a full profile down to what `tier` sees; sections with nothing visible are left out.
pub fn for_tier(profile: Map<String, Value>, tier: Tier) -> Map<String, Value> {
    let visible = match tier {
        Tier::Enterprise => return profile,
        Tier::Pro => PRO,
        Tier::Free => FREE,
    };
    let mut profile = profile;
    let mut out = Map::new();
    for (section, fields) in visible {
        let Some(Value::Object(mut content)) = profile.remove(*section) else {
            continue;
        };
        if let Some(fields) = fields {
            content.retain(|name, _| fields.contains(&name.as_str()));
        }
        if !content.is_empty() {
            out.insert((*section).to_owned(), Value::Object(content));
        }
    }
    out
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProfileMeta {
    /// The key's tier, which decides the fields shown.
    pub tier: &'static str,
}

#[utoipa::path(
    get, path = "/api/v1/songs/{id}", tag = "Songs", operation_id = "getSong",
    extensions(
        ("x-basis" = json!({"basis": "vendor_docs", "notes": "Fields per tier are documented; omitted empty sections and slug lookup are ours."})),
    ),
    description = "The nested profile; the key's tier decides which fields are present, and a section with nothing visible is left out (soundcheck's choice, as is finding a song by its slug).",
    params(("id" = String, Path, description = "The song's UUID or its slug.")),
    responses(
        (status = 200, description = "The song's profile for this tier.", body = crate::musicark::docs::SongProfile),
        (status = 404, description = "No published song has this id or slug.", body = crate::musicark::docs::MusicArkError),
    )
)]
/// `GET /songs/{id}`: by id or by slug.
pub async fn get(
    State(state): State<ArkState>,
    Caller(caller): Caller<ArkCaller>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response> {
    let not_found = || Error::ResourceNotFound(format!("No song has the id or slug {id:?}."));
    // The catalogue is seeded in the background at first start; wait for it like lists do.
    catalogue_index(&state).await?;
    let Some((published_at_ms, profile)) = store::profile(&state.core.db, &id).await? else {
        return Err(not_found());
    };
    // A song published after the tenant's clock does not exist yet.
    if published_at_ms > caller.clock.now_ms() {
        return Err(not_found());
    }
    let Value::Object(profile) = serde_json::from_str(&profile).map_err(|e| Error::Internal(e.into()))?
    else {
        return Err(Error::Internal(anyhow::anyhow!(
            "song {id} has a profile that is not an object"
        )));
    };
    envelope(
        &for_tier(profile, caller.tier),
        &ProfileMeta {
            tier: caller.tier.as_str(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile() -> Map<String, Value> {
        let value = json!({
            "song": {"id": "x", "title": "t", "artist": "a", "album": "b", "release_year": 1999, "slug": "s",
                     "duration_seconds": 200, "published_at": "2026-01-01T00:00:00Z"},
            "color": {"hex": "#ffffff", "oklch_lightness": 1.0, "oklch_chroma": 0.0, "oklch_hue": null, "name": "white"},
            "temporal": {"bpm": 120, "tempo_marking": "allegro"},
            "harmonic": {"key": "C", "mode": "major", "camelot": "8B"},
            "pitch": {"vocal_register": null},
            "ai_analysis": {"tempo_feel": "stride"},
            "emotional": {"valence": 700, "dominant_emotion": "joy"},
            "curves": {"energy_curve": [0.1]},
            "narrative": {"summary": "…"}
        });
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn free_sees_only_the_basic_fields() {
        let free = Value::Object(for_tier(profile(), Tier::Free));
        assert_eq!(free["color"], json!({"hex": "#ffffff"}));
        assert_eq!(free["temporal"], json!({"bpm": 120}));
        assert_eq!(free["emotional"], json!({"dominant_emotion": "joy"}));
        assert_eq!(free["song"].as_object().map(Map::len), Some(8));
        for hidden in ["pitch", "ai_analysis", "curves", "narrative"] {
            assert!(free.get(hidden).is_none(), "{hidden} must be omitted, not null");
        }
    }

    #[test]
    fn pro_sees_whole_sections_but_only_the_dominant_emotion() {
        let pro = Value::Object(for_tier(profile(), Tier::Pro));
        assert_eq!(pro["color"]["name"], "white");
        assert_eq!(pro["ai_analysis"]["tempo_feel"], "stride");
        assert_eq!(
            pro["pitch"],
            json!({"vocal_register": null}),
            "null fields stay: the section is visible"
        );
        assert_eq!(pro["emotional"], json!({"dominant_emotion": "joy"}));
        assert!(pro.get("curves").is_none() && pro.get("narrative").is_none());
    }

    #[test]
    fn enterprise_sees_everything() {
        assert_eq!(for_tier(profile(), Tier::Enterprise), profile());
    }
}
