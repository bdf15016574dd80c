//! The checks, drawn from the vendors' documented behaviour (`[doc]`), our reading of it
//! (`[read]`), and a few of soundcheck's own choices (`[ours]`) worth confirming. Each is one
//! request and what its response must be; the list is the plan, so its length is the number of
//! calls a run makes.

use serde_json::{Value, json};

use super::shape::{Expect, HeaderRule as H, Rule};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    Musique,
    Musicark,
}

impl Api {
    pub fn name(self) -> &'static str {
        match self {
            Api::Musique => "musique",
            Api::Musicark => "musicark",
        }
    }

    /// The API's base path, appended to the URL a user gives unless it already ends with it.
    pub fn base(self) -> &'static str {
        match self {
            Api::Musique => "/api/v1/integration",
            Api::Musicark => "/api/v1",
        }
    }
}

/// How a request carries the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    None,
    /// `X-API-Key` (Musique) or `Authorization: Bearer` (MusicArk).
    Key,
    /// A well-formed key no service issued.
    Invalid,
    /// MusicArk's `?api_key=`.
    Query,
}

#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Json(Value),
    /// Bytes that are not JSON, sent as `application/json`.
    Raw(&'static str),
    /// The bundled MP3, as Musique's multipart upload.
    Upload,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: &'static str,
    /// Relative to the API's base, with its query.
    pub path: String,
    pub auth: Auth,
    pub body: Body,
}

fn get(path: impl Into<String>) -> Request {
    Request {
        method: "GET",
        path: path.into(),
        auth: Auth::Key,
        body: Body::Empty,
    }
}

impl Request {
    fn auth(mut self, auth: Auth) -> Request {
        self.auth = auth;
        self
    }

    fn method(mut self, method: &'static str) -> Request {
        self.method = method;
        self
    }

    fn body(mut self, body: Body) -> Request {
        self.body = body;
        self
    }
}

/// The MusicArk tier a key is, read from its monthly limit (`X-RateLimit-Limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Free,
    Pro,
    Enterprise,
}

/// What earlier checks learnt that later ones need.
#[derive(Debug, Default)]
pub struct Ctx {
    pub external_id: Option<String>,
    pub song_id: Option<String>,
    /// What this run uploaded and has not deleted yet.
    pub audio_id: Option<String>,
    pub tier: Option<Tier>,
}

/// What a step needs before it may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Nothing,
    /// `--allow-writes` and `--external-id`.
    Writes,
    /// `--probe-limits`: it makes calls until the limit answers 429.
    Probe,
}

pub struct Step {
    pub id: &'static str,
    pub api: Api,
    /// `doc`, `read` or `ours`: what the expectation rests on.
    pub basis: &'static str,
    pub title: &'static str,
    pub needs: Needs,
    /// The request, or why it cannot be made (an earlier check did not give what it needs).
    pub request: fn(&Ctx) -> Result<Request, String>,
    pub expect: fn(&Ctx) -> Expect,
    /// What the response teaches later steps.
    pub learn: fn(&mut Ctx, u16, &std::collections::BTreeMap<String, String>, Option<&Value>),
}

fn nothing(_: &mut Ctx, _: u16, _: &std::collections::BTreeMap<String, String>, _: Option<&Value>) {}

/// An audio id no one has (the documented shape: `aud_` + 14).
const NO_AUDIO: &str = "aud_0conformance0";
const NO_SONG: &str = "00000000-0000-0000-0000-000000000000";

fn musique_error(status: u16, code: &'static str, kind: &'static str) -> Expect {
    Expect::status(status)
        .field("$.error.code", Rule::Eq(json!(code)))
        .field("$.error.type", Rule::Eq(json!(kind)))
        .field("$.error.message", Rule::Type("string"))
}

fn musique_limits(expect: Expect) -> Expect {
    expect
        .header("x-ratelimit-limit", H::Integer)
        .header("x-ratelimit-remaining", H::Integer)
        .header("x-ratelimit-reset", H::Epoch)
}

fn rfc3339_z(s: &str) -> bool {
    s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

fn audio_object(expect: Expect, prefix: &'static [&'static str; 8]) -> Expect {
    let [id, audio_id, name, url, duration, size, format, created] = *prefix;
    expect
        .fields(&[
            (id, "string"),
            (audio_id, "string"),
            (name, "string"),
            (url, "string"),
        ])
        .fields(&[(duration, "number"), (size, "integer")])
        .field(format, Rule::Eq(json!("mp3")))
        .field(created, Rule::Matches("RFC 3339 UTC (Z)", rfc3339_z))
}

fn audio_id(ctx: &Ctx) -> Result<String, String> {
    ctx.audio_id
        .clone()
        .ok_or_else(|| "nothing was uploaded".to_string())
}

fn external_id(ctx: &Ctx) -> Result<String, String> {
    ctx.external_id
        .clone()
        .ok_or_else(|| "no --external-id".to_string())
}

fn learn_upload(
    ctx: &mut Ctx,
    status: u16,
    _: &std::collections::BTreeMap<String, String>,
    body: Option<&Value>,
) {
    if status == 200 {
        // Also under `data` (the legacy wrapper), so that what was uploaded is still deleted.
        let object = body.map(|b| b.get("data").unwrap_or(b));
        let id = object.and_then(|b| b.get("id").or_else(|| b.get("audioId")));
        ctx.audio_id = id.and_then(Value::as_str).map(str::to_string);
    }
}

fn learn_delete(
    ctx: &mut Ctx,
    status: u16,
    _: &std::collections::BTreeMap<String, String>,
    _: Option<&Value>,
) {
    if status == 200 {
        ctx.audio_id = None;
    }
}

pub fn musique() -> Vec<Step> {
    use Api::Musique as M;
    vec![
        Step {
            id: "musique.auth.missing_key",
            api: M,
            basis: "doc",
            title: "no X-API-Key → 401 missing_api_key in the error envelope",
            needs: Needs::Nothing,
            request: |_| Ok(get("/health").auth(Auth::None)),
            expect: |_| musique_error(401, "missing_api_key", "authentication_error"),
            learn: nothing,
        },
        Step {
            id: "musique.auth.invalid_key",
            api: M,
            basis: "doc",
            title: "an unknown key → 401 invalid_api_key",
            needs: Needs::Nothing,
            request: |_| Ok(get("/health").auth(Auth::Invalid)),
            expect: |_| musique_error(401, "invalid_api_key", "authentication_error"),
            learn: nothing,
        },
        Step {
            id: "musique.info",
            api: M,
            basis: "doc",
            title: "GET / → name, version, documentation; the rate-limit header triple",
            needs: Needs::Nothing,
            request: |_| Ok(get("/")),
            expect: |_| {
                musique_limits(Expect::status(200))
                    .field("$.name", Rule::Eq(json!("Musique Partner API")))
                    .fields(&[("$.version", "string"), ("$.documentation", "string")])
            },
            learn: nothing,
        },
        Step {
            id: "musique.health",
            api: M,
            basis: "doc",
            title: "GET /health → status, version, timestamp, services",
            needs: Needs::Nothing,
            request: |_| Ok(get("/health")),
            expect: |_| {
                musique_limits(Expect::status(200))
                    .field("$.status", Rule::OneOf(&["healthy", "degraded", "down"]))
                    .fields(&[
                        ("$.version", "string"),
                        ("$.timestamp", "string"),
                        ("$.services", "object"),
                    ])
                    .fields(&[
                        ("$.services.database", "string"),
                        ("$.services.storage", "string"),
                        ("$.services.messaging", "string"),
                    ])
            },
            learn: nothing,
        },
        Step {
            id: "musique.audio.list",
            api: M,
            basis: "ours",
            title: "GET /audio?page=1&limit=5 → audio[] and pagination",
            needs: Needs::Nothing,
            request: |_| Ok(get("/audio?page=1&limit=5")),
            expect: |_| {
                musique_limits(Expect::status(200))
                    .fields(&[
                        ("$.audio", "array"),
                        ("$.audio[].id", "string"),
                        ("$.audio[].name", "string"),
                    ])
                    .fields(&[
                        ("$.pagination.page", "integer"),
                        ("$.pagination.limit", "integer"),
                    ])
                    .fields(&[
                        ("$.pagination.total", "integer"),
                        ("$.pagination.totalPages", "integer"),
                    ])
                    .field("$.pagination.hasMore", Rule::Type("boolean"))
            },
            learn: nothing,
        },
        Step {
            id: "musique.audio.list.bad_limit",
            api: M,
            basis: "ours",
            title: "GET /audio?limit=0 → 400 validation_error",
            needs: Needs::Nothing,
            request: |_| Ok(get("/audio?limit=0")),
            expect: |_| musique_error(400, "validation_error", "invalid_request_error"),
            learn: nothing,
        },
        Step {
            id: "musique.audio.unknown",
            api: M,
            basis: "doc",
            title: "GET /audio/{unknown} → 404 audio_not_found",
            needs: Needs::Nothing,
            request: |_| Ok(get(format!("/audio/{NO_AUDIO}"))),
            expect: |_| musique_error(404, "audio_not_found", "not_found_error"),
            learn: nothing,
        },
        Step {
            id: "musique.send.invalid_json",
            api: M,
            basis: "doc",
            title: "POST /audio/{unknown}/send with a body that is not JSON → 400 invalid_json (sends nothing)",
            needs: Needs::Nothing,
            request: |_| {
                Ok(get(format!("/audio/{NO_AUDIO}/send"))
                    .method("POST")
                    .body(Body::Raw("{\"externalIds\": [")))
            },
            expect: |_| musique_error(400, "invalid_json", "invalid_request_error"),
            learn: nothing,
        },
        Step {
            id: "musique.route.unknown",
            api: M,
            basis: "ours",
            title: "an unknown path → 404 not_found in the envelope",
            needs: Needs::Nothing,
            request: |_| Ok(get("/conformance-no-such-route")),
            expect: |_| musique_error(404, "not_found", "not_found_error"),
            learn: nothing,
        },
        Step {
            id: "musique.method.not_allowed",
            api: M,
            basis: "ours",
            title: "DELETE /health → 405 method_not_allowed",
            needs: Needs::Nothing,
            request: |_| Ok(get("/health").method("DELETE")),
            expect: |_| musique_error(405, "method_not_allowed", "invalid_request_error"),
            learn: nothing,
        },
        Step {
            id: "musique.audio.upload",
            api: M,
            basis: "doc",
            title: "POST /audio (a 1 s MP3, multipart) → the audio object",
            needs: Needs::Writes,
            request: |_| Ok(get("/audio").method("POST").body(Body::Upload)),
            expect: |_| {
                audio_object(
                    musique_limits(Expect::status(200)),
                    &[
                        "$.id",
                        "$.audioId",
                        "$.name",
                        "$.url",
                        "$.duration",
                        "$.size",
                        "$.format",
                        "$.createdAt",
                    ],
                )
            },
            learn: learn_upload,
        },
        Step {
            id: "musique.audio.list.contains",
            api: M,
            basis: "read",
            title: "GET /audio?limit=100 lists what was uploaded",
            needs: Needs::Writes,
            request: |ctx| audio_id(ctx).map(|_| get("/audio?limit=100")),
            expect: |ctx| {
                Expect::status(200).field(
                    "$.audio",
                    Rule::Contains("id", ctx.audio_id.clone().unwrap_or_default()),
                )
            },
            learn: nothing,
        },
        Step {
            id: "musique.audio.get",
            api: M,
            basis: "doc",
            title: "GET /audio/{id} → the audio object with description, category and stats",
            needs: Needs::Writes,
            request: |ctx| audio_id(ctx).map(|id| get(format!("/audio/{id}"))),
            expect: |_| {
                audio_object(
                    Expect::status(200),
                    &[
                        "$.id",
                        "$.audioId",
                        "$.name",
                        "$.url",
                        "$.duration",
                        "$.size",
                        "$.format",
                        "$.createdAt",
                    ],
                )
                .field("$.description", Rule::Nullable("string"))
                .field("$.category", Rule::Nullable("string"))
                .fields(&[
                    ("$.stats.timesPlayed", "integer"),
                    ("$.stats.totalRecipients", "integer"),
                ])
                .field("$.stats.lastPlayedAt", Rule::Nullable("string"))
            },
            learn: nothing,
        },
        Step {
            id: "musique.send.bad_volume",
            api: M,
            basis: "doc",
            title: "POST /audio/{id}/send to the one --external-id with volume 101 → 400 validation_error",
            needs: Needs::Writes,
            request: |ctx| {
                let (id, to) = (audio_id(ctx)?, external_id(ctx)?);
                Ok(get(format!("/audio/{id}/send"))
                    .method("POST")
                    .body(Body::Json(json!({"externalIds": [to], "volume": 101}))))
            },
            expect: |_| musique_error(400, "validation_error", "invalid_request_error"),
            learn: nothing,
        },
        Step {
            id: "musique.send",
            api: M,
            basis: "doc",
            title: "POST /audio/{id}/send to the one --external-id → sent, its destination queued",
            needs: Needs::Writes,
            request: |ctx| {
                let (id, to) = (audio_id(ctx)?, external_id(ctx)?);
                Ok(get(format!("/audio/{id}/send"))
                    .method("POST")
                    .body(Body::Json(json!({"externalIds": [to]}))))
            },
            expect: |_| {
                musique_limits(Expect::status(200))
                    .fields(&[
                        ("$.sendId", "string"),
                        ("$.audioId", "string"),
                        ("$.destinations", "array"),
                    ])
                    .fields(&[
                        ("$.destinations[].externalId", "string"),
                        ("$.destinations[].userId", "integer"),
                    ])
                    .field("$.destinations[].status", Rule::Eq(json!("queued")))
                    .field("$.scheduled", Rule::Eq(json!(false)))
                    .field("$.scheduleAt", Rule::Eq(Value::Null))
                    .field("$.status", Rule::Eq(json!("sent")))
            },
            learn: nothing,
        },
        Step {
            id: "musique.audio.delete",
            api: M,
            basis: "doc",
            title: "DELETE /audio/{id} → deleted: true",
            needs: Needs::Writes,
            request: |ctx| audio_id(ctx).map(|id| get(format!("/audio/{id}")).method("DELETE")),
            expect: |_| {
                Expect::status(200)
                    .field("$.deleted", Rule::Eq(json!(true)))
                    .fields(&[("$.audioId", "string"), ("$.id", "string")])
            },
            learn: learn_delete,
        },
        Step {
            id: "musique.rate_limit.exceeded",
            api: M,
            basis: "doc",
            title: "past the minute's limit → 429 rate_limit_exceeded, retryAfter and Retry-After",
            needs: Needs::Probe,
            request: |_| Ok(get("/health")),
            expect: |_| {
                musique_error(429, "rate_limit_exceeded", "rate_limit_error")
                    .field("$.error.retryAfter", Rule::Type("integer"))
                    .header("retry-after", H::Integer)
            },
            learn: nothing,
        },
    ]
}

/// The 13 basic fields of every list and search item, every tier.
const SUMMARY: &[(&str, &str)] = &[
    ("$.data[].id", "string"),
    ("$.data[].title", "string"),
    ("$.data[].artist", "string"),
    ("$.data[].album", "string"),
    ("$.data[].release_year", "integer"),
    ("$.data[].slug", "string"),
    ("$.data[].bpm", "number"),
    ("$.data[].key", "string"),
    ("$.data[].duration_seconds", "number"),
    ("$.data[].dominant_emotion", "string"),
];

fn hex_color(s: &str) -> bool {
    s.len() == 7
        && s.starts_with('#')
        && s[1..]
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

fn musicark_ok() -> Expect {
    Expect::status(200)
        .field("$.error", Rule::Eq(Value::Null))
        .field("$.meta", Rule::Type("object"))
        .header("x-ratelimit-limit", H::Integer)
        .header("x-ratelimit-remaining", H::Integer)
        .header("x-ratelimit-reset", H::MonthStart)
}

fn summaries(expect: Expect) -> Expect {
    expect
        .field("$.data", Rule::Type("array"))
        .fields(SUMMARY)
        .field(
            "$.data[].color_hex",
            Rule::Matches("#rrggbb, lowercase", hex_color),
        )
        .field("$.data[].mode", Rule::OneOf(&["major", "minor"]))
        .field(
            "$.data[].published_at",
            Rule::Matches("RFC 3339 UTC (Z)", rfc3339_z),
        )
}

fn musicark_error(status: u16, code: &'static str) -> Expect {
    Expect::status(status)
        .field("$.data", Rule::Eq(Value::Null))
        .field("$.error.code", Rule::Eq(json!(code)))
        .field("$.error.message", Rule::Type("string"))
}

fn learn_list(
    ctx: &mut Ctx,
    status: u16,
    headers: &std::collections::BTreeMap<String, String>,
    body: Option<&Value>,
) {
    if status != 200 {
        return;
    }
    let first = body.and_then(|b| b.pointer("/data/0/id")).and_then(Value::as_str);
    ctx.song_id = first.map(str::to_string);
    ctx.tier = headers
        .get("x-ratelimit-limit")
        .and_then(|l| l.parse::<u64>().ok())
        .map(|limit| match limit {
            100 => Tier::Free,
            5000 => Tier::Pro,
            _ => Tier::Enterprise,
        });
}

/// The sections of a song's profile, and the tiers that see each (a section no field of which
/// a tier sees is omitted).
const SECTIONS: &[(&str, Tier)] = &[
    ("$.data.song", Tier::Free),
    ("$.data.color", Tier::Free),
    ("$.data.temporal", Tier::Free),
    ("$.data.harmonic", Tier::Free),
    ("$.data.emotional", Tier::Free),
    ("$.data.pitch", Tier::Pro),
    ("$.data.timbre", Tier::Pro),
    ("$.data.energy", Tier::Pro),
    ("$.data.spatial", Tier::Pro),
    ("$.data.arrangement", Tier::Pro),
    ("$.data.ai_analysis", Tier::Pro),
    ("$.data.contextual", Tier::Enterprise),
    ("$.data.narrative", Tier::Enterprise),
    ("$.data.cultural", Tier::Enterprise),
    ("$.data.curves", Tier::Enterprise),
];

fn rank(tier: Tier) -> u8 {
    match tier {
        Tier::Free => 0,
        Tier::Pro => 1,
        Tier::Enterprise => 2,
    }
}

fn profile(ctx: &Ctx) -> Expect {
    let tier = ctx.tier.unwrap_or(Tier::Free);
    let mut expect = musicark_ok()
        .fields(&[
            ("$.data.song.id", "string"),
            ("$.data.song.title", "string"),
            ("$.data.song.slug", "string"),
        ])
        .field("$.data.color.hex", Rule::Matches("#rrggbb, lowercase", hex_color))
        .field("$.data.temporal.bpm", Rule::Type("number"))
        .field("$.data.emotional.dominant_emotion", Rule::Type("string"));
    for (path, from) in SECTIONS {
        expect = expect.field(
            path,
            if rank(tier) >= rank(*from) {
                Rule::Type("object")
            } else {
                Rule::Absent
            },
        );
    }
    // Inside a section, the tier decides the fields too.
    let (pro, enterprise) = (rank(tier) >= 1, rank(tier) >= 2);
    let seen = |on: bool, kind: &'static str| if on { Rule::Type(kind) } else { Rule::Absent };
    expect
        .field("$.data.color.oklch_lightness", seen(pro, "number"))
        .field("$.data.ai_analysis.tempo_feel", seen(pro, "string"))
        .field("$.data.emotional.valence", seen(enterprise, "integer"))
}

pub fn musicark() -> Vec<Step> {
    use Api::Musicark as A;
    vec![
        Step {
            id: "musicark.auth.missing_key",
            api: A,
            basis: "doc",
            title: "no key → 401 in the envelope, WWW-Authenticate Bearer, no quota headers",
            needs: Needs::Nothing,
            request: |_| Ok(get("/songs?limit=1").auth(Auth::None)),
            expect: |_| {
                musicark_error(401, "unauthorized")
                    .header("www-authenticate", H::Contains("Bearer realm=\"musicark\""))
                    .header("x-ratelimit-remaining", H::Absent)
            },
            learn: nothing,
        },
        Step {
            id: "musicark.auth.invalid_key",
            api: A,
            basis: "doc",
            title: "an unknown key → 401, WWW-Authenticate with error=\"invalid_token\"",
            needs: Needs::Nothing,
            request: |_| Ok(get("/songs?limit=1").auth(Auth::Invalid)),
            expect: |_| {
                musicark_error(401, "unauthorized")
                    .header("www-authenticate", H::Contains("error=\"invalid_token\""))
            },
            learn: nothing,
        },
        Step {
            id: "musicark.songs.list",
            api: A,
            basis: "doc",
            title: "GET /songs?limit=2 → summaries in {data, meta, error}, the quota header triple",
            needs: Needs::Nothing,
            request: |_| Ok(get("/songs?limit=2")),
            expect: |_| {
                summaries(musicark_ok())
                    .fields(&[
                        ("$.meta.total", "integer"),
                        ("$.meta.limit", "integer"),
                        ("$.meta.offset", "integer"),
                    ])
                    .field("$.meta.has_more", Rule::Type("boolean"))
            },
            learn: learn_list,
        },
        Step {
            id: "musicark.auth.query_key",
            api: A,
            basis: "doc",
            title: "the key as ?api_key= → 200",
            needs: Needs::Nothing,
            request: |_| Ok(get("/songs?limit=1").auth(Auth::Query)),
            expect: |_| musicark_ok().field("$.data", Rule::Type("array")),
            learn: nothing,
        },
        Step {
            id: "musicark.songs.limit_zero",
            api: A,
            basis: "doc",
            title: "GET /songs?limit=0 → 400",
            needs: Needs::Nothing,
            request: |_| Ok(get("/songs?limit=0")),
            expect: |_| musicark_error(400, "bad_request"),
            learn: nothing,
        },
        Step {
            id: "musicark.songs.limit_capped",
            api: A,
            basis: "doc",
            title: "GET /songs?limit=101 → 200 with meta.limit 100",
            needs: Needs::Nothing,
            request: |_| Ok(get("/songs?limit=101")),
            expect: |_| musicark_ok().field("$.meta.limit", Rule::Eq(json!(100))),
            learn: nothing,
        },
        Step {
            id: "musicark.songs.offset",
            api: A,
            basis: "doc",
            title: "GET /songs?limit=1&offset=1&sort=title → meta.offset 1",
            needs: Needs::Nothing,
            request: |_| Ok(get("/songs?limit=1&offset=1&sort=title")),
            expect: |_| summaries(musicark_ok()).field("$.meta.offset", Rule::Eq(json!(1))),
            learn: nothing,
        },
        Step {
            id: "musicark.songs.bad_tempo_feel",
            api: A,
            basis: "doc",
            title: "GET /songs?tempo_feel=<not a word of the vocabulary> → 400",
            needs: Needs::Nothing,
            request: |_| Ok(get("/songs?tempo_feel=conformance")),
            expect: |_| musicark_error(400, "bad_request"),
            learn: nothing,
        },
        Step {
            id: "musicark.songs.get",
            api: A,
            basis: "doc",
            title: "GET /songs/{id} → the nested profile, the sections of the key's tier",
            needs: Needs::Nothing,
            request: |ctx| {
                let id = ctx.song_id.clone().ok_or("musicark.songs.list gave no song id")?;
                Ok(get(format!("/songs/{id}")))
            },
            expect: profile,
            learn: nothing,
        },
        Step {
            id: "musicark.songs.unknown",
            api: A,
            basis: "doc",
            title: "GET /songs/{unknown id} → 404",
            needs: Needs::Nothing,
            request: |_| Ok(get(format!("/songs/{NO_SONG}"))),
            expect: |_| musicark_error(404, "not_found"),
            learn: nothing,
        },
        Step {
            id: "musicark.search.text",
            api: A,
            basis: "doc",
            title: "GET /search/text?q=a&max_results=2 → summaries, meta {total, max_results}",
            needs: Needs::Nothing,
            request: |_| Ok(get("/search/text?q=a&max_results=2")),
            expect: |_| {
                summaries(musicark_ok())
                    .fields(&[("$.meta.total", "integer"), ("$.meta.max_results", "integer")])
            },
            learn: nothing,
        },
        Step {
            id: "musicark.search.text.blank",
            api: A,
            basis: "doc",
            title: "GET /search/text?q= → 400",
            needs: Needs::Nothing,
            request: |_| Ok(get("/search/text?q=")),
            expect: |_| musicark_error(400, "bad_request"),
            learn: nothing,
        },
        Step {
            id: "musicark.search.color",
            api: A,
            basis: "doc",
            title: "GET /search/color?h=280&max_results=2 → items with distance, meta.query",
            needs: Needs::Nothing,
            request: |_| Ok(get("/search/color?h=280&max_results=2")),
            expect: |_| {
                summaries(musicark_ok())
                    .field("$.data[].distance", Rule::Type("number"))
                    .fields(&[("$.meta.total", "integer"), ("$.meta.max_results", "integer")])
                    .fields(&[
                        ("$.meta.query.h", "number"),
                        ("$.meta.query.l", "number"),
                        ("$.meta.query.c", "number"),
                    ])
                    .field("$.meta.query.max_distance", Rule::Type("number"))
            },
            learn: nothing,
        },
        Step {
            id: "musicark.search.color.bad_hue",
            api: A,
            basis: "doc",
            title: "GET /search/color?h=400 → 400",
            needs: Needs::Nothing,
            request: |_| Ok(get("/search/color?h=400")),
            expect: |_| musicark_error(400, "bad_request"),
            learn: nothing,
        },
        Step {
            id: "musicark.search.emotional",
            api: A,
            basis: "doc",
            title: "GET /search/emotional?min_valence=1&max_results=2 → summaries",
            needs: Needs::Nothing,
            request: |_| Ok(get("/search/emotional?min_valence=1&max_results=2")),
            expect: |_| summaries(musicark_ok()),
            learn: nothing,
        },
        Step {
            id: "musicark.search.emotional.min_over_max",
            api: A,
            basis: "doc",
            title: "GET /search/emotional?min_valence=600&max_valence=500 → 400",
            needs: Needs::Nothing,
            request: |_| Ok(get("/search/emotional?min_valence=600&max_valence=500")),
            expect: |_| musicark_error(400, "bad_request"),
            learn: nothing,
        },
        Step {
            id: "musicark.method.not_allowed",
            api: A,
            basis: "ours",
            title: "POST /songs → 405 method_not_allowed in the envelope",
            needs: Needs::Nothing,
            request: |_| Ok(get("/songs").method("POST")),
            expect: |_| musicark_error(405, "method_not_allowed"),
            learn: nothing,
        },
        Step {
            id: "musicark.quota.exceeded",
            api: A,
            basis: "doc",
            title: "past the month's quota → 429 \"Rate limit exceeded. Resets first of next month.\"",
            needs: Needs::Probe,
            request: |_| Ok(get("/songs?limit=1")),
            expect: |_| {
                Expect::status(429)
                    .field("$.data", Rule::Eq(Value::Null))
                    .field(
                        "$.error.message",
                        Rule::Eq(json!("Rate limit exceeded. Resets first of next month.")),
                    )
                    .header("x-ratelimit-remaining", H::Eq("0"))
                    .header("x-ratelimit-reset", H::MonthStart)
            },
            learn: nothing,
        },
    ]
}
