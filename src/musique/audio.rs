//! The audio library: upload (MP3 checked by content), list, get, delete, and the bytes.

use std::borrow::Cow;

use axum::Json;
use axum::body::Body;
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{FromRequestParts, Multipart, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::MusiqueState;
use super::auth::MusiqueCaller;
use super::error::MusiqueKind;
use super::library::{AudioMeta, Entry};
use super::mp3;
use super::store::{self, DeleteOutcome, Library, NewAudio, Stats};
use crate::clock::Rfc3339Ms;
use crate::error::{APPLICATION_JSON, Error, Result};
use crate::extract::{ApiPath, Caller, QueryPairs};
use crate::ids::random_alnum;
use crate::journal::Notes;
use crate::state::Core;
use crate::warnings::{Warning, query_warnings};

/// The documented upload limit, 10 MB.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Room for the form's other parts and boundaries around a full-size file.
pub const UPLOAD_BODY_LIMIT: usize = MAX_FILE_BYTES + 256 * 1024;
const MAX_NAME_CHARS: usize = 255;
const MAX_DESCRIPTION_CHARS: usize = 2_000;
const MAX_CATEGORY_CHARS: usize = 100;

/// The audio object (spec §5): V1 says `id`, the legacy docs `audioId`; both are emitted.
/// Borrowed, so a page is serialized straight from the library's read side.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AudioObject<'a> {
    pub id: &'a str,
    pub audio_id: &'a str,
    pub name: &'a str,
    /// Where soundcheck serves the MP3.
    #[schema(value_type = String)]
    pub url: MediaUrl<'a>,
    pub duration: f64,
    pub size: i64,
    pub format: &'static str,
    #[schema(value_type = String)]
    pub created_at: Rfc3339Ms,
    /// In get and list, not in the upload's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, required = false)]
    pub description: Option<Option<&'a str>>,
    /// In get and list, not in the upload's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, required = false)]
    pub category: Option<Option<&'a str>>,
    /// In get and list, not in the upload's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub stats: Option<Stats>,
}

/// `{base}/media/audio/{id}.mp3`, written straight into the response.
#[derive(Debug)]
pub struct MediaUrl<'a> {
    base: &'a str,
    id: &'a str,
}

impl Serialize for MediaUrl<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{}/media/audio/{}.mp3", self.base, self.id))
    }
}

impl<'a> AudioObject<'a> {
    /// The full object, as get and list show it.
    fn with_stats(meta: &'a AudioMeta, stats: Stats, base_url: &'a str) -> AudioObject<'a> {
        AudioObject {
            description: Some(meta.description.as_deref()),
            category: Some(meta.category.as_deref()),
            stats: Some(stats),
            ..AudioObject::basic(meta, base_url)
        }
    }

    /// The object as the upload answers it.
    fn basic(meta: &'a AudioMeta, base_url: &'a str) -> AudioObject<'a> {
        AudioObject {
            id: &meta.id,
            audio_id: &meta.id,
            name: &meta.name,
            url: MediaUrl {
                base: base_url,
                id: &meta.id,
            },
            duration: (meta.duration * 1000.0).round() / 1000.0,
            size: meta.size,
            format: "mp3",
            created_at: Rfc3339Ms(meta.created_at_ms),
            description: None,
            category: None,
            stats: None,
        }
    }
}

/// A JSON body already serialized, into a buffer of about its size (an audio object is
/// ~400 bytes) so that a page is not copied over as the buffer doubles.
fn json_bytes(value: &impl Serialize, objects: usize) -> Result<Response> {
    let mut bytes = Vec::with_capacity(256 + 512 * objects);
    serde_json::to_writer(&mut bytes, value).map_err(|e| Error::Internal(e.into()))?;
    Ok(([(header::CONTENT_TYPE, APPLICATION_JSON)], bytes).into_response())
}

/// Where this server is reachable, as the client addressed it: [`base_url`] without a copy
/// of the request's headers (what a `HeaderMap` extractor makes).
pub struct BaseUrl(pub String);

impl FromRequestParts<MusiqueState> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &MusiqueState) -> Result<Self, Self::Rejection> {
        Ok(BaseUrl(base_url(&parts.headers, &state.core)))
    }
}

/// Where this server is reachable, as the client addressed it.
pub fn base_url(headers: &HeaderMap, core: &Core) -> String {
    match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) if !host.is_empty() => {
            // One allocation of the right size, where `format!` may grow its buffer.
            let mut url = String::with_capacity("http://".len() + host.len());
            url.push_str("http://");
            url.push_str(host);
            url
        }
        _ => format!("http://{}", core.config.addr),
    }
}

/// An audio object's JSON as get and list show it, written once when the library learns the
/// audio: all of it but the two parts a request decides, the base URL (from its `Host`) and
/// the stats (from the players). Escaping the name, description and category on every
/// request was the largest part of a list's cost.
#[derive(Debug)]
pub struct ObjectJson {
    /// Up to the base URL inside `"url":"…"`.
    head: Box<str>,
    /// From after the base URL up to the stats' value.
    middle: Box<str>,
}

impl ObjectJson {
    pub fn of(meta: &AudioMeta) -> ObjectJson {
        const URL: &str = ",\"url\":\"";
        let object = AudioObject {
            stats: None,
            ..AudioObject::with_stats(meta, Stats::default(), "")
        };
        let json = serde_json::to_string(&object).unwrap_or_default();
        // Only the `url` key is written as `,"url":"` with its quotes bare: a quote inside
        // the id or the name before it is escaped. `stats` is the last field.
        let (head, rest) = match json.find(URL) {
            Some(at) => json.split_at(at + URL.len()),
            None => (json.as_str(), ""),
        };
        let rest = rest.strip_suffix('}').unwrap_or(rest);
        ObjectJson {
            head: head.into(),
            middle: format!("{rest},\"stats\":").into(),
        }
    }

    /// The whole object, given the request's base URL already escaped as JSON string content.
    fn write(&self, out: &mut Vec<u8>, escaped_base: &str, stats: &Stats) -> Result<()> {
        out.extend_from_slice(self.head.as_bytes());
        out.extend_from_slice(escaped_base.as_bytes());
        out.extend_from_slice(self.middle.as_bytes());
        // The keys written as they are, not escaped again for every object.
        out.extend_from_slice(b"{\"timesPlayed\":");
        json_value(out, &stats.times_played)?;
        out.extend_from_slice(b",\"lastPlayedAt\":");
        json_value(out, &stats.last_played_at)?;
        out.extend_from_slice(b",\"totalRecipients\":");
        json_value(out, &stats.total_recipients)?;
        out.extend_from_slice(b"}}");
        Ok(())
    }
}

fn json_value(out: &mut Vec<u8>, value: &impl Serialize) -> Result<()> {
    serde_json::to_writer(out, value).map_err(|e| Error::Internal(e.into()))
}

/// `base` as the inside of a JSON string: itself, unless it holds a character JSON escapes
/// (a `Host` header with a quote, a backslash or a control character).
fn escaped(base: &str) -> Cow<'_, str> {
    if !base.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        return Cow::Borrowed(base);
    }
    let quoted = serde_json::to_string(base).unwrap_or_default();
    Cow::Owned(
        quoted
            .strip_prefix('"')
            .and_then(|q| q.strip_suffix('"'))
            .unwrap_or_default()
            .to_owned(),
    )
}

/// A page of the library as `AudioList` serializes it, from the prepared objects.
fn list_json(
    entries: &[&Entry],
    stats: &dyn Fn(&str) -> Stats,
    base: &str,
    pagination: &Pagination,
) -> Result<Response> {
    let base = escaped(base);
    let mut bytes = Vec::with_capacity(256 + 512 * entries.len());
    bytes.extend_from_slice(b"{\"audio\":[");
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            bytes.push(b',');
        }
        entry.json.write(&mut bytes, &base, &stats(&entry.meta.id))?;
    }
    bytes.extend_from_slice(b"],\"pagination\":");
    serde_json::to_writer(&mut bytes, pagination).map_err(|e| Error::Internal(e.into()))?;
    bytes.push(b'}');
    Ok(([(header::CONTENT_TYPE, APPLICATION_JSON)], bytes).into_response())
}

fn new_audio_id() -> String {
    format!("aud_{}", random_alnum(14))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub page: i64,
    pub limit: i64,
    pub total: i64,
    pub total_pages: i64,
    pub has_more: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AudioList<'a> {
    pub audio: Vec<AudioObject<'a>>,
    pub pagination: Pagination,
}

/// Parses an integer query parameter within `range`, naming it when it is not.
pub fn int_param(
    query: &QueryPairs,
    name: &str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64> {
    let Some(raw) = query.get(name) else {
        return Ok(default);
    };
    match raw.trim().parse::<i64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(Error::validation(format!(
            "`{name}` must be a whole number from {} to {}; got {raw:?}.",
            range.start(),
            range.end()
        ))),
    }
}

/// The query parameters `GET /audio` reads, and names clients use for them.
const LIST_PARAMS: [&str; 2] = ["page", "limit"];
const LIST_ALIASES: [(&str, &str); 4] = [
    ("per_page", "limit"),
    ("pageSize", "limit"),
    ("size", "limit"),
    ("pageNumber", "page"),
];
/// The parts an upload reads.
const UPLOAD_PARTS: [&str; 4] = ["file", "name", "description", "category"];

#[utoipa::path(
    get, path = "/api/v1/integration/audio", tag = "Audio", operation_id = "listAudio",
    extensions(
        ("x-basis" = json!({"basis": "our_choice", "notes": "Listing is documented; pagination is a vendor roadmap item, so `page`/`limit` and the `pagination` block are ours."})),
    ),
    description = "The company's library, newest first. Pagination is a roadmap item in the vendor's docs: `page`, `limit` and the `pagination` block are soundcheck's choice.",
    params(
        ("page" = Option<i64>, Query, description = "Page number, from 1.", minimum = 1, maximum = 1000000),
        ("limit" = Option<i64>, Query, description = "Items per page.", minimum = 1, maximum = 100),
    ),
    responses(
        (status = 200, description = "One page of the library.", body = AudioList),
        (status = 400, description = "`page` or `limit` out of range.", body = crate::musique::docs::MusiqueError),
    )
)]
/// `GET /audio`: newest first, `page` ≥ 1, `limit` 1–100.
pub async fn list(
    State(state): State<MusiqueState>,
    Caller(caller): Caller<MusiqueCaller>,
    notes: Notes,
    BaseUrl(base): BaseUrl,
    query: QueryPairs,
) -> Result<Response> {
    caller.require("audio.read")?;
    let page = int_param(&query, "page", 1, 1..=1_000_000)?;
    let limit = int_param(&query, "limit", 20, 1..=100)?;
    notes.warn_all(query_warnings(&query.0, &LIST_PARAMS, &LIST_ALIASES))?;
    if query.get("page").is_some() || query.get("limit").is_some() {
        notes.note(
            "Pagination is a roadmap item in the vendor's docs: the real service may ignore `page` and `limit`.",
        );
    }
    let key = Library::from(&*caller).key();
    state
        .deliveries
        .with_stats(caller.company_id, caller.clock.now_ms(), |stats| {
            state.libraries.page(key, page, limit, |entries, total| {
                let total_pages = (total + limit - 1) / limit;
                let pagination = Pagination {
                    page,
                    limit,
                    total,
                    total_pages,
                    has_more: page < total_pages,
                };
                list_json(&entries, stats, &base, &pagination)
            })
        })
}

#[utoipa::path(
    get, path = "/api/v1/integration/audio/{id}", tag = "Audio", operation_id = "getAudio",
    extensions(
        ("x-basis" = json!({"basis": "vendor_docs", "notes": "Stats count a destination when its player starts the audio."})),
    ),
    params(("id" = String, Path, description = "The audio's id, `aud_` + 14 characters.")),
    responses(
        (status = 200, description = "The audio object with its stats.", body = AudioObject),
        (status = 404, description = "No such audio in this company's library.", body = crate::musique::docs::MusiqueError),
    )
)]
/// `GET /audio/{id}`.
pub async fn get(
    State(state): State<MusiqueState>,
    Caller(caller): Caller<MusiqueCaller>,
    BaseUrl(base): BaseUrl,
    ApiPath(id): ApiPath<String>,
) -> Result<Response> {
    caller.require("audio.read")?;
    let key = Library::from(&*caller).key();
    state
        .deliveries
        .with_stats(caller.company_id, caller.clock.now_ms(), |stats| {
            state.libraries.get(key, &id, |entry| {
                let mut bytes = Vec::with_capacity(512);
                entry
                    .json
                    .write(&mut bytes, &escaped(&base), &stats(&entry.meta.id))?;
                Ok(([(header::CONTENT_TYPE, APPLICATION_JSON)], bytes).into_response())
            })
        })
        .unwrap_or(Err(MusiqueKind::AudioNotFound(id).into()))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    pub deleted: bool,
    pub audio_id: String,
    pub id: String,
}

#[utoipa::path(
    delete, path = "/api/v1/integration/audio/{id}", tag = "Audio", operation_id = "deleteAudio",
    extensions(
        ("x-basis" = json!({"basis": "vendor_docs", "notes": "Refused with 409 while a scheduled send is pending."})),
    ),
    params(("id" = String, Path, description = "The audio's id.")),
    responses(
        (status = 200, description = "Deleted, bytes included.", body = Deleted),
        (status = 404, description = "No such audio.", body = crate::musique::docs::MusiqueError),
        (status = 409, description = "A scheduled send of it is still pending.", body = crate::musique::docs::MusiqueError),
    )
)]
/// `DELETE /audio/{id}`: refused while a scheduled send of it is pending.
pub async fn delete(
    State(state): State<MusiqueState>,
    Caller(caller): Caller<MusiqueCaller>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Deleted>> {
    caller.require("audio.delete")?;
    let (lib, now_ms) = (Library::from(&*caller), caller.clock.now_ms());
    match store::delete_audio(&state.writer, &state.deliveries, lib, id.clone(), now_ms).await? {
        DeleteOutcome::Deleted => Ok(Json(Deleted {
            deleted: true,
            audio_id: id.clone(),
            id,
        })),
        DeleteOutcome::NotFound => Err(MusiqueKind::AudioNotFound(id).into()),
        DeleteOutcome::ScheduledSendsPending => Err(MusiqueKind::ScheduledSendsPending(id).into()),
    }
}

/// What the form carried.
#[derive(Default)]
struct UploadForm {
    file: Option<(Option<String>, Vec<u8>)>,
    name: Option<String>,
    description: Option<String>,
    category: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/integration/audio", tag = "Audio", operation_id = "uploadAudio",
    extensions(
        ("x-basis" = json!({"basis": "vendor_docs", "notes": "MP3 only, checked by content; 10 MB limit from the legacy docs; duration from the frames."})),
    ),
    description = "Upload an MP3, checked by its content (not its name); the duration comes from its frames.",
    request_body(content = crate::musique::docs::UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The stored audio object.", body = AudioObject),
        (status = 400, description = "No `file` part, or a text part too long.", body = crate::musique::docs::MusiqueError),
        (status = 413, description = "The file is over 10 MB.", body = crate::musique::docs::MusiqueError),
        (status = 415, description = "The file is not a valid MP3.", body = crate::musique::docs::MusiqueError),
    )
)]
/// `POST /audio`: multipart with a `file` part, checked to be MP3 by its content.
pub async fn upload(
    State(state): State<MusiqueState>,
    Caller(caller): Caller<MusiqueCaller>,
    notes: Notes,
    headers: HeaderMap,
    multipart: std::result::Result<Multipart, MultipartRejection>,
) -> Result<Response> {
    caller.require("audio.write")?;
    let mut multipart = multipart.map_err(|_| MusiqueKind::MissingFile)?;
    // Uploads are stored one at a time by the single writer anyway; reading one body at a
    // time costs no throughput and keeps a burst of 10 MB uploads from growing the process.
    let _permit = state
        .uploads
        .acquire()
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    let expected = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_FILE_BYTES);
    let mut form = UploadForm::default();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        match name.as_str() {
            "file" => {
                if form.file.is_some() {
                    return Err(Error::validation("Only one `file` part is allowed."));
                }
                let file_name = field.file_name().map(str::to_owned);
                form.file = Some((file_name, read_file(field, expected).await?));
            }
            "name" => form.name = Some(text_field(field, "name", MAX_NAME_CHARS).await?),
            "description" => {
                form.description = Some(text_field(field, "description", MAX_DESCRIPTION_CHARS).await?)
            }
            "category" => form.category = Some(text_field(field, "category", MAX_CATEGORY_CHARS).await?),
            // Unknown parts are ignored, as a multipart parser on the real service would.
            other => notes.warn(Warning::unknown(
                "form part",
                other,
                &UPLOAD_PARTS,
                &[("audio", "file"), ("title", "name")],
            ))?,
        }
    }
    let (file_name, bytes) = form.file.ok_or(MusiqueKind::MissingFile)?;
    notes.describe_body(format!(
        "multipart/form-data: file {:?} ({} bytes){}{}",
        file_name.as_deref().unwrap_or(""),
        bytes.len(),
        form.name
            .as_ref()
            .map(|n| format!(", name {n:?}"))
            .unwrap_or_default(),
        form.category
            .as_ref()
            .map(|c| format!(", category {c:?}"))
            .unwrap_or_default(),
    ));
    if let Some(name) = &file_name
        && !name.to_ascii_lowercase().ends_with(".mp3")
    {
        notes.note(format!(
            "The file name {name:?} does not end in .mp3; soundcheck judged the file by its content."
        ));
    }
    if bytes.is_empty() {
        return Err(MusiqueKind::UnsupportedFormat("The file is empty; upload an MP3.".into()).into());
    }
    let (bytes, info) = tokio::task::spawn_blocking(move || {
        let info = mp3::inspect(&bytes);
        (bytes, info)
    })
    .await
    .map_err(|e| Error::Internal(e.into()))?;
    let info =
        info.map_err(|e| MusiqueKind::UnsupportedFormat(format!("The file is not a valid MP3: {e}.")))?;

    let name = match form.name.filter(|n| !n.trim().is_empty()) {
        Some(name) => name,
        None => default_name(file_name.as_deref()),
    };
    let id = new_audio_id();
    let created_at_ms = caller.clock.now_ms();
    let new = NewAudio {
        id,
        name,
        description: form.description.filter(|d| !d.is_empty()),
        category: form.category.filter(|c| !c.is_empty()),
        duration: info.duration_secs,
        bytes,
        created_at_ms,
    };
    let meta = store::insert_audio(&state.writer, Library::from(&*caller), new).await?;
    json_bytes(&AudioObject::basic(&meta, &base_url(&headers, &state.core)), 1)
}

/// The file name without its extension, or a neutral name when the client sent none.
fn default_name(file_name: Option<&str>) -> String {
    let file_name = file_name.unwrap_or_default();
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or_default();
    let stem = match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    };
    if stem.trim().is_empty() {
        "Untitled audio".to_owned()
    } else {
        stem.chars().take(MAX_NAME_CHARS).collect()
    }
}

/// Reads the file part, refusing it as soon as it passes 10 MB or stops looking like MP3.
/// `expected` (the body's length, capped at the limit) sizes the buffer once.
async fn read_file(mut field: Field<'_>, expected: usize) -> Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(expected);
    let mut checked_start = false;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if bytes.len() + chunk.len() > MAX_FILE_BYTES {
            return Err(MusiqueKind::FileTooLarge { limit_mb: 10 }.into());
        }
        bytes.extend_from_slice(&chunk);
        // Enough to see an ID3 header or a frame sync: a text file or a WAV is refused
        // without reading the rest of it.
        if !checked_start && bytes.len() >= 16 {
            checked_start = true;
            if !mp3::looks_like_mp3_start(&bytes) {
                return Err(MusiqueKind::UnsupportedFormat(
                    "The file is not an MP3: its content starts with neither an ID3 tag nor an MPEG audio frame.".into(),
                )
                .into());
            }
        }
    }
    Ok(bytes)
}

async fn text_field(field: Field<'_>, name: &str, max_chars: usize) -> Result<String> {
    let bytes = field.bytes().await.map_err(multipart_error)?;
    if bytes.len() > max_chars * 4 {
        return Err(Error::validation(format!(
            "`{name}` must be at most {max_chars} characters."
        )));
    }
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| Error::validation(format!("`{name}` must be UTF-8 text.")))?;
    if text.chars().count() > max_chars {
        return Err(Error::validation(format!(
            "`{name}` must be at most {max_chars} characters."
        )));
    }
    Ok(text.trim().to_owned())
}

fn multipart_error(err: MultipartError) -> Error {
    if let Some(timeout) = crate::serve::body_timeout(&err) {
        Error::BodyTimeout(timeout)
    } else if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        MusiqueKind::FileTooLarge { limit_mb: 10 }.into()
    } else {
        Error::validation(format!("The multipart body is malformed: {}", err.body_text()))
    }
}

#[utoipa::path(
    get, path = "/media/audio/{file}", tag = "Media", operation_id = "getAudioFile",
    extensions(
        ("x-basis" = json!({"basis": "our_choice", "notes": "Where soundcheck serves the bytes behind each audio object's `url`."})),
    ),
    description = "Where soundcheck serves the bytes behind an audio object's `url` (soundcheck's choice): keyless and unguessable, like a CDN URL. Supports one `Range`.",
    security(()),
    params(
        ("file" = String, Path, description = "`{id}.mp3`."),
        ("Range" = Option<String>, Header, description = "`bytes=start-end`."),
    ),
    responses(
        (status = 200, description = "The MP3.", content_type = "audio/mpeg", body = Vec<u8>),
        (status = 206, description = "The requested range.", content_type = "audio/mpeg", body = Vec<u8>),
        (status = 404, description = "No such file.", body = crate::musique::docs::MusiqueError),
        (status = 416, description = "The range starts past the end of the file (`Content-Range: bytes */{length}`). A `Range` of another unit or not in the `bytes` grammar is ignored (200).", body = crate::musique::docs::MusiqueError,
            headers(("Content-Range" = String, description = "`bytes */{length}`: the file's length (RFC 9110)."))),
    )
)]
/// `GET /media/audio/{id}.mp3`: the stored bytes, with single-range support.
pub async fn media(
    State(state): State<MusiqueState>,
    ApiPath(file): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let id = file.strip_suffix(".mp3").unwrap_or(&file);
    let bytes = store::audio_bytes(&state.core.db, id)
        .await?
        .ok_or_else(|| MusiqueKind::AudioNotFound(id.to_owned()))?;
    let total = bytes.len() as u64;
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| (v, parse_range(v, total)));
    let response = match range {
        None | Some((_, Range::Ignored)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "audio/mpeg".to_owned()),
                (header::ACCEPT_RANGES, "bytes".to_owned()),
            ],
            Body::from(bytes),
        )
            .into_response(),
        Some((_, Range::Bytes(start, end))) => {
            let slice = bytes[start as usize..=end as usize].to_vec();
            (
                StatusCode::PARTIAL_CONTENT,
                [
                    (header::CONTENT_TYPE, "audio/mpeg".to_owned()),
                    (header::ACCEPT_RANGES, "bytes".to_owned()),
                    (header::CONTENT_RANGE, format!("bytes {start}-{end}/{total}")),
                ],
                Body::from(slice),
            )
                .into_response()
        }
        // The error adds `Content-Range: bytes */{total}`.
        Some((value, Range::Unsatisfiable)) => {
            return Err(Error::RangeNotSatisfiable {
                range: value.trim().chars().take(100).collect(),
                total,
            });
        }
    };
    Ok(response)
}

/// What a `Range` header asks of a body.
#[derive(Debug, PartialEq, Eq)]
pub enum Range {
    /// Inclusive offsets of the first range.
    Bytes(u64, u64),
    /// A valid `bytes` range that starts past the end (or a body of 0 bytes): 416.
    Unsatisfiable,
    /// Another unit, or not the `bytes` grammar: RFC 9110 §14.2 says to serve the whole body.
    Ignored,
}

/// One `bytes=` range of RFC 9110 against a body of `total` bytes. Multiple ranges are
/// answered with the first.
pub fn parse_range(value: &str, total: u64) -> Range {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Range::Ignored;
    };
    let spec = spec.split(',').next().unwrap_or("").trim();
    let Some((start, end)) = spec.split_once('-') else {
        return Range::Ignored;
    };
    let number =
        |s: &str| (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u64>().ok());
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => match number(suffix) {
            // A suffix longer than any u64 asks for the whole body.
            Some(n) => {
                let n = n.unwrap_or(u64::MAX);
                if n == 0 || total == 0 {
                    return Range::Unsatisfiable;
                }
                (total.saturating_sub(n), total - 1)
            }
            None => return Range::Ignored,
        },
        (start, end) => {
            let Some(first) = number(start) else {
                return Range::Ignored;
            };
            let last = if end.is_empty() {
                Some(u64::MAX)
            } else {
                match number(end) {
                    Some(last) => Some(last.unwrap_or(u64::MAX)),
                    None => return Range::Ignored,
                }
            };
            let (Some(first), Some(last)) = (first, last) else {
                // A first byte beyond u64 is past any end.
                return Range::Unsatisfiable;
            };
            if last < first {
                // RFC 9110 §14.1.1: last < first makes the range invalid, not unsatisfiable.
                return Range::Ignored;
            }
            if first >= total {
                return Range::Unsatisfiable;
            }
            (first, last.min(total - 1))
        }
    };
    Range::Bytes(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, description: Option<&str>, category: Option<&str>) -> Entry {
        let meta = AudioMeta {
            id: format!("aud_{:014}", name.len()),
            name: name.to_owned(),
            description: description.map(str::to_owned),
            category: category.map(str::to_owned),
            duration: 12.345,
            size: 123_456,
            created_at_ms: 1_764_590_400_123,
            seq: 1,
        };
        let json = ObjectJson::of(&meta);
        Entry { meta, json }
    }

    fn played(n: i64) -> Stats {
        Stats {
            times_played: n,
            last_played_at: (n > 0).then_some(crate::clock::Rfc3339Ms(1_764_583_200_000)),
            total_recipients: n / 2,
        }
    }

    async fn body_of(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[tokio::test]
    async fn a_prepared_page_is_byte_for_byte_what_serde_writes() {
        let entries = [
            entry("Plain", None, None),
            entry(
                "Quote \" and \\ and ,\"url\":\" inside",
                Some("Line\nbreak\ttab \u{1}"),
                Some("Caf\u{e9} \u{1f3b5}"),
            ),
            entry("\u{0}", Some(""), Some("\"}")),
        ];
        // "Plain" has never played; the others have.
        let stats = |id: &str| played(id[4..].parse::<i64>().expect("digits") % 5);
        for base in [
            "http://127.0.0.1:8080",
            "http://odd\"host\\",
            "http://tab\there\u{1f}",
            "",
        ] {
            for count in 0..=entries.len() {
                let page: Vec<&Entry> = entries[..count].iter().collect();
                let pagination = || Pagination {
                    page: 1,
                    limit: 20,
                    total: count as i64,
                    total_pages: 1,
                    has_more: false,
                };
                let prepared = body_of(list_json(&page, &stats, base, &pagination()).expect("list")).await;
                let expected = serde_json::to_string(&AudioList {
                    audio: page
                        .iter()
                        .map(|e| AudioObject::with_stats(&e.meta, stats(&e.meta.id), base))
                        .collect(),
                    pagination: pagination(),
                })
                .expect("serde");
                assert_eq!(prepared, expected, "base {base:?}, {count} objects");
            }
        }
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        use Range::*;
        let cases = [
            ("bytes=0-99", Bytes(0, 99)),
            ("bytes=900-", Bytes(900, 999)),
            ("bytes=-100", Bytes(900, 999)),
            ("bytes=-5000", Bytes(0, 999)),
            ("bytes=990-2000", Bytes(990, 999)),
            ("bytes=0-0,5-9", Bytes(0, 0)),
            ("bytes=999-999", Bytes(999, 999)),
            ("bytes=0-99999999999999999999999", Bytes(0, 999)),
            // Starting at or past the end, or asking for no bytes: 416.
            ("bytes=1000-", Unsatisfiable),
            ("bytes=1000-1000", Unsatisfiable),
            ("bytes=99999999999999999999999-", Unsatisfiable),
            ("bytes=-0", Unsatisfiable),
            // Not the bytes grammar, or another unit: the whole file.
            ("bytes=5-4", Ignored),
            ("bytes=abc", Ignored),
            ("bytes=1-x", Ignored),
            ("bytes=+1-2", Ignored),
            ("bytes=", Ignored),
            ("items=0-1", Ignored),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_range(value, 1000), expected, "{value}");
        }
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=-1", 0), Unsatisfiable);
    }

    #[test]
    fn the_default_name_is_the_file_name_without_extension() {
        assert_eq!(default_name(Some("promo.mp3")), "promo");
        assert_eq!(default_name(Some("C:\\ads\\summer.sale.mp3")), "summer.sale");
        assert_eq!(default_name(Some(".mp3")), ".mp3");
        assert_eq!(default_name(None), "Untitled audio");
    }
}
