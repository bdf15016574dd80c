//! Types that exist only for the MusicArk document: the error body and the enveloped
//! successes as the handlers' `#[utoipa::path]` annotations name them (the handlers build
//! the envelope with [`super::envelope`]).

use utoipa::ToSchema;

/// `{"data": null, "meta": {}, "error": {"code", "message", "request_id"}}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MusicArkError {
    #[schema(value_type = Option<Object>)]
    data: Option<()>,
    #[schema(value_type = Object)]
    meta: (),
    error: MusicArkErrorDetail,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct MusicArkErrorDetail {
    code: String,
    message: String,
    request_id: String,
}

/// `{"data": [summary…], "meta": {total, limit, offset, has_more}, "error": null}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SongList {
    data: Vec<super::index::Summary>,
    meta: super::songs::ListMeta,
    #[schema(value_type = Option<Object>)]
    error: Option<()>,
}

/// `{"data": {section…}, "meta": {tier}, "error": null}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SongProfile {
    data: super::catalogue::Song,
    meta: super::songs::ProfileMeta,
    #[schema(value_type = Option<Object>)]
    error: Option<()>,
}

/// Text and emotional search: `{"data": [summary…], "meta": {total, max_results}, "error": null}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SearchResults {
    data: Vec<super::index::Summary>,
    meta: super::search::SearchMeta,
    #[schema(value_type = Option<Object>)]
    error: Option<()>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ColorResults {
    data: Vec<super::search::WithDistance<'static>>,
    meta: super::search::ColorMeta,
    #[schema(value_type = Option<Object>)]
    error: Option<()>,
}
