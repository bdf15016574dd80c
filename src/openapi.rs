//! The OpenAPI documents of both APIs and of the control plane, served with a docs page.
//!
//! Operations are described beside their handlers (`#[utoipa::path]`) and listed by each
//! route table (`musique::openapi`, …), at the paths they are served at; here is only what a
//! whole document says: its info, server, security schemes and tags, and what every
//! operation of an API shares (its key, the rate-limit and request-id headers, the 401 and
//! 429 answers, error examples), added once by each document's modifier. The committed copies
//! under `openapi/` are compared with these in a test; `soundcheck openapi` rewrites
//! them.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;
use serde_json::{Value, json};
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Header, ObjectBuilder, OpenApi as Document, Ref, RefOr, Type};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_swagger_ui::{Config, SwaggerUi, Url};

use crate::config::Envelope;
use crate::error::Error;
use crate::musicark::docs::MusicArkError;
use crate::musique::docs::MusiqueError;
use crate::{control, musicark, musique};

mod polish;

pub use polish::WARNING_HEADER;

/// The docs page at `/docs` (Swagger UI, served by soundcheck itself: nothing comes from a
/// CDN) and the four documents it shows, each built on its first request and kept as the
/// JSON it is served as. Built at start, they were most of a start's CPU and ~5 MB of
/// documents held for requests that most runs never make. Under `--envelope wrapped` the
/// Musique documents are the wrapped ones.
pub fn routes(envelope: Envelope) -> Router {
    let (musique, legacy): (&'static Served, &'static Served) = match envelope {
        Envelope::Bare => (&MUSIQUE, &MUSIQUE_LEGACY),
        Envelope::Wrapped => (&MUSIQUE_WRAPPED, &MUSIQUE_LEGACY_WRAPPED),
    };
    let served: [(&str, &'static str, &'static Served); 4] = [
        ("Musique Partner API", "/openapi/musique.json", musique),
        (LEGACY_TITLE, "/openapi/musique-legacy.json", legacy),
        ("MusicArk API", "/openapi/musicark.json", &MUSICARK),
        ("soundcheck control plane", "/openapi/control.json", &CONTROL),
    ];
    let config = Config::new(served.iter().map(|(name, url, _)| Url::new(name, url)));
    let initializer = Bytes::from(initializer(config.clone()));
    let mut docs: Router = SwaggerUi::new("/docs").config(config).into();
    docs = docs.route(
        "/docs/swagger-initializer.js",
        get(move || {
            let js = (
                [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                initializer.clone(),
            );
            std::future::ready(js.into_response())
        }),
    );
    for (_, url, document) in served {
        docs = docs.route(url, get(move || document.response()));
    }
    docs.layer(axum::middleware::from_fn(docs_errors_in_the_envelope))
}

/// The root-served part of the Musique API: its own document, so that its server is the
/// document's (generators ignore a path's own `servers`).
const LEGACY_TITLE: &str = "Musique Partner API: legacy paths and audio files";

/// The default sandbox's keys, put in each Authorize dialog by the docs page (header schemes
/// only: a query key would land in the URL). They are the fixtures' public test values.
pub const DEFAULT_KEYS: [(&str, &str); 2] = [
    ("api_key", "msk_prod_1234567890abcdef"),
    ("bearer", "mk_live_enterprise0000000000000000000000"),
];

/// Swagger UI's initializer with a plugin that authorizes each document's header scheme with
/// the default sandbox's key as the document loads, so "Try it out" works unedited.
fn initializer(config: Config<'static>) -> String {
    let served = utoipa_swagger_ui::serve("swagger-initializer.js", std::sync::Arc::new(config));
    let Ok(Some(file)) = served else {
        // The vendored Swagger UI always has it; without it the page would be blank anyway.
        return String::from("document.body.textContent = 'Swagger UI has no initializer';");
    };
    let keys: serde_json::Map<String, serde_json::Value> = DEFAULT_KEYS
        .iter()
        .map(|(scheme, key)| ((*scheme).to_owned(), json!(key)))
        .collect();
    let plugin = format!(
        "// soundcheck: the default sandbox's keys in each Authorize dialog.\n\
         const SOUNDCHECK_DEFAULT_KEYS = {};\n\
         const SoundcheckDefaultKeys = () => ({{ statePlugins: {{ spec: {{ wrapActions: {{\n\
         \x20 updateJsonSpec: (next) => (spec) => {{\n\
         \x20   const result = next(spec);\n\
         \x20   const schemes = (spec && spec.components && spec.components.securitySchemes) || {{}};\n\
         \x20   setTimeout(() => {{\n\
         \x20     for (const [name, key] of Object.entries(SOUNDCHECK_DEFAULT_KEYS)) {{\n\
         \x20       if (schemes[name] && window.ui) window.ui.preauthorizeApiKey(name, key);\n\
         \x20     }}\n\
         \x20   }}, 0);\n\
         \x20   return result;\n\
         \x20 }},\n\
         }} }} }} }});\n",
        serde_json::Value::Object(keys)
    );
    let js = String::from_utf8_lossy(&file.bytes).replace(
        "SwaggerUIBundle.plugins.DownloadUrl",
        "SwaggerUIBundle.plugins.DownloadUrl,\n      SoundcheckDefaultKeys",
    );
    plugin + &js
}

static MUSIQUE: Served = Served::new(|| musique_documents(Envelope::Bare).0);
static MUSIQUE_LEGACY: Served = Served::new(|| musique_documents(Envelope::Bare).1);
static MUSIQUE_WRAPPED: Served = Served::new(|| musique_documents(Envelope::Wrapped).0);
static MUSIQUE_LEGACY_WRAPPED: Served = Served::new(|| musique_documents(Envelope::Wrapped).1);
static MUSICARK: Served = Served::new(musicark_document);
static CONTROL: Served = Served::new(control_document);

/// A document's compact JSON, rendered once.
struct Served {
    build: fn() -> Value,
    json: OnceLock<Bytes>,
}

impl Served {
    const fn new(build: fn() -> Value) -> Served {
        Served {
            build,
            json: OnceLock::new(),
        }
    }

    async fn response(&'static self) -> axum::response::Response {
        let json = match self.json.get() {
            Some(json) => json.clone(),
            None => {
                // Building a document is milliseconds of CPU: not on a runtime thread.
                let build = self.build;
                let rendered = tokio::task::spawn_blocking(move || serde_json::to_vec(&build()))
                    .await
                    .map_err(anyhow::Error::from)
                    .and_then(|json| json.map_err(anyhow::Error::from));
                match rendered {
                    Ok(json) => self.json.get_or_init(|| Bytes::from(json)).clone(),
                    Err(err) => return Error::Internal(err).into_response(),
                }
            }
        };
        ([(header::CONTENT_TYPE, crate::error::APPLICATION_JSON)], json).into_response()
    }
}

/// The Swagger UI router answers an unknown file with an empty 404 and a failure with plain
/// text: both become errors in the control plane's envelope, like every other response.
async fn docs_errors_in_the_envelope(req: Request, next: Next) -> axum::response::Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let response = next.run(req).await;
    let status = response.status();
    if status == StatusCode::NOT_FOUND {
        return Error::RouteNotFound(format!("{method} {path}")).into_response();
    }
    if status.is_server_error() {
        return Error::Internal(anyhow::anyhow!("the docs page answered {status} for {path}"))
            .into_response();
    }
    response
}

/// Every document with the file it is committed as (the bare envelope's).
pub fn documents() -> [(&'static str, Value); 4] {
    let (musique, legacy) = musique_documents(Envelope::Bare);
    [
        ("musique.json", musique),
        ("musique-legacy.json", legacy),
        ("musicark.json", musicark_document()),
        ("control.json", control_document()),
    ]
}

/// A document as committed: pretty JSON and a final newline.
pub fn render(document: &Value) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(document)? + "\n")
}

/// The Musique documents under an envelope: the V1 operations at `/api/v1/integration`, and
/// the legacy paths and audio files at the root.
pub fn musique_documents(envelope: Envelope) -> (Value, Value) {
    let doc = document(
        MusiqueDoc::openapi(),
        musique::openapi(),
        musique::BASE,
        &MusiqueModifier,
    );
    let mut doc = serde_json::to_value(doc).expect("a document is JSON");
    polish::tighten_schemas(&mut doc);
    polish::summaries(&mut doc);
    let not_media = |path: &str| !path.starts_with("/media/");
    polish::api_operations(&mut doc, "MusiqueError", musique_503(), &not_media, true);
    musique_bodies(&mut doc);
    if envelope == Envelope::Wrapped {
        doc["info"]["description"] = json!(
            "The Musique Partner API as soundcheck emulates it, as served under `--envelope wrapped`: \
            every success body is `{\"data\": <body>, \"timestamp\": \"…\"}` (the legacy docs' \
            envelope); errors are unchanged. The legacy paths and the audio files are served from \
            the root: their document is `/openapi/musique-legacy.json`. A `Soundcheck-Warning` \
            header says when soundcheck accepted something the real service might treat \
            differently; with `--strict` such a request is a 400 instead."
        );
        // Every JSON success is wrapped (the legacy token issuer's too); the audio files are
        // bytes.
        polish::wrap_successes(&mut doc, &|path, _method| not_media(path));
    }
    let root = |path: &str| path.starts_with("/api/") || path.starts_with("/media/");
    let mut legacy = polish::split(
        &mut doc,
        root,
        json!({"url": "/", "description": "soundcheck, at its root (real host: https://api.musique.app)"}),
    );
    legacy["info"]["title"] = json!(LEGACY_TITLE);
    legacy["info"]["description"] = json!(
        "The Musique Partner API's operations served from the root, as soundcheck emulates them: \
        the older docs' paths (deprecated; on the same state as V1, see `/openapi/musique.json`) \
        and the audio files behind each audio object's `url`. Their own document, so that every \
        generator reaches them at its server. Errors, headers and `--envelope` are V1's."
    );
    (doc, legacy)
}

fn musique_503() -> Value {
    json!({"error": {"code": "service_unavailable", "message": "Injected fault: 503 Service Unavailable.", "type": "api_error", "requestId": "req_4f9c2a7d1e8b3a6c5d0e"}})
}

/// What the Musique bodies say beyond the derives: MP3 bytes, the send body's examples and
/// optionality, the typed `externalIds`.
fn musique_bodies(doc: &mut Value) {
    for status in ["200", "206"] {
        polish::set(
            doc,
            &format!("/paths/~1media~1audio~1{{file}}/get/responses/{status}/content/audio~1mpeg/schema"),
            polish::mp3_bytes(if status == "200" {
                "The whole MP3."
            } else {
                "The requested bytes of the MP3."
            }),
        );
    }
    // Swagger UI prefills a path parameter with its example: the default sandbox's example
    // announcement, so that "Try it out" finds it unedited.
    param_examples(
        doc,
        &[
            ("id", json!(EXAMPLE_AUDIO_ID)),
            ("audioId", json!(EXAMPLE_AUDIO_ID)),
            ("file", json!(format!("{EXAMPLE_AUDIO_ID}.mp3"))),
        ],
        &[],
    );
    let mut file =
        polish::mp3_bytes("The MP3, at most 10 MB; checked by its content (anything else is 415).");
    file["format"] = json!("binary");
    polish::set(doc, "/components/schemas/UploadForm/properties/file", file);
    polish::set(
        doc,
        "/components/schemas/UploadForm/properties/name/example",
        json!("Lunch menu promo"),
    );
    polish::set(
        doc,
        "/components/schemas/UploadForm/properties/description/example",
        json!("Two for one, 12:00 to 14:00."),
    );
    polish::set(
        doc,
        "/components/schemas/UploadForm/properties/category/example",
        json!("promotions"),
    );
    polish::set(
        doc,
        "/components/schemas/SendBody/properties/scheduleAt/pattern",
        json!(RFC3339),
    );
    let external_ids = json!({
        "description": "`\"all\"` (every store of the company) or the External IDs the key is scoped to.",
        "oneOf": [
            {"type": "string", "enum": ["all"]},
            {"type": "array", "items": {"type": "string"}},
        ],
    });
    polish::set(
        doc,
        "/components/schemas/Integration/properties/externalIds",
        external_ids,
    );
    for path in ["/audio/{id}/send", "/api/{audioId}/send"] {
        let pointer = format!("/paths/{}/post/requestBody", path.replace('/', "~1"));
        // An empty POST is accepted (a broadcast, with a `Soundcheck-Warning`).
        polish::set(doc, &format!("{pointer}/required"), json!(false));
        polish::set(
            doc,
            &format!("{pointer}/content/application~1json/example"),
            json!({"externalIds": [EXAMPLE_STORE], "priority": "normal"}),
        );
    }
    polish::set(
        doc,
        "/paths/~1api~1integration~1auth/post/requestBody/content/application~1json/example",
        json!({"externalId": EXAMPLE_STORE, "companyToken": "msk_company_1234567890abcdef"}),
    );
}

/// A store of the default sandbox.
const EXAMPLE_STORE: &str = "store_001";
/// The default sandbox's example announcement (`fixtures/musique.json`).
const EXAMPLE_AUDIO_ID: &str = crate::fixtures::EXAMPLE_AUDIO_ID;

/// Gives every path or query parameter of these names the example (each operation but those
/// `skip` names), which Swagger UI prefills.
fn param_examples(doc: &mut Value, examples: &[(&str, Value)], skip: &[&str]) {
    polish::each_operation(doc, |_, _, op| {
        if skip.contains(&op["operationId"].as_str().unwrap_or_default()) {
            return;
        }
        for param in op
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if !["path", "query"].contains(&param["in"].as_str().unwrap_or_default()) {
                continue;
            }
            if let Some((_, example)) = examples.iter().find(|(name, _)| param["name"] == *name) {
                param["example"] = example.clone();
            }
        }
    });
}
/// RFC 3339 with a time zone, as `scheduleAt` and the clock accept it.
const RFC3339: &str = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$";

pub fn musicark_document() -> Value {
    let doc = document(
        MusicArkDoc::openapi(),
        musicark::openapi(),
        musicark::BASE,
        &MusicArkModifier,
    );
    let mut doc = serde_json::to_value(doc).expect("a document is JSON");
    polish::tighten_schemas(&mut doc);
    polish::summaries(&mut doc);
    let example = json!({"data": null, "meta": {}, "error": {"code": "service_unavailable", "message": "Injected fault: 503 Service Unavailable.", "request_id": "req_4f9c2a7d1e8b3a6c5d0e"}});
    polish::api_operations(&mut doc, "MusicArkError", example, &|_| true, true);
    // Clamped, not refused: no `maximum` (nor int64's bounds) for a generator to respect.
    polish::each_operation(&mut doc, |_, _, op| {
        for param in op
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let name = param["name"].as_str().unwrap_or_default().to_owned();
            if let Some(schema) = param.get_mut("schema").and_then(Value::as_object_mut)
                && ["limit", "offset", "max_results"].contains(&name.as_str())
            {
                schema.remove("format");
                schema.remove("maximum");
            }
        }
    });
    polish::set(
        &mut doc,
        "/paths/~1songs~1{id}/get/parameters/0/example",
        json!("sacred-kiss-blake-reed"),
    );
    // What Swagger UI prefills: a search that finds songs of the bundled catalogue.
    param_examples(&mut doc, &[("q", json!("kiss")), ("h", json!(210))], &[]);
    doc
}

pub fn control_document() -> Value {
    let doc = document(
        ControlDoc::openapi(),
        control::openapi(),
        control::BASE,
        &ControlModifier,
    );
    let mut doc = serde_json::to_value(doc).expect("a document is JSON");
    polish::tighten_schemas(&mut doc);
    polish::summaries(&mut doc);
    polish::api_operations(&mut doc, "MusiqueError", musique_503(), &|_| false, false);
    let external_ids = json!({
        "description": "`\"all\"` or the listed External IDs.",
        "oneOf": [
            {"type": "string", "enum": ["all"]},
            {"type": "array", "items": {"type": "string"}},
        ],
    });
    polish::set(
        &mut doc,
        "/components/schemas/CreatedToken/properties/externalIds",
        external_ids,
    );
    // A fault's counts are read as 64-bit; the journal's `after` accepts any digits.
    for pointer in [
        "/components/schemas/FaultSpec/properties/times/format",
        "/components/schemas/Fault/properties/times/format",
        "/components/schemas/Fault/properties/remaining/format",
    ] {
        polish::set(&mut doc, pointer, json!("int64"));
    }
    // A fault's `seed` is any unsigned 64-bit number, past int64's top.
    for schema in ["FaultSpec", "Fault", "ScenarioFault"] {
        polish::set(
            &mut doc,
            &format!("/components/schemas/{schema}/properties/seed/format"),
            json!("uint64"),
        );
    }
    // Each event of the live page's stream, as a Server-Sent Events reader sees it.
    polish::set(
        &mut doc,
        "/paths/~1tenants~1{tenant}~1events/get/responses/200/content/text~1event-stream/schema",
        json!({
            "type": "object",
            "description": "One event: `hello` (first) or `change` (the tenant changed: read again), with `data` `{\"version\", \"nowMs\"}`; or `gone` (the tenant was deleted), with `data` `{\"tenant\"}`. A comment line every 20 s keeps the stream open.",
            "required": ["event", "data"],
            "properties": {
                "event": {"type": "string", "enum": ["hello", "change", "gone"]},
                "data": {"type": "string", "description": "A JSON object, as text."},
                "id": {"type": "string"},
                "retry": {"type": "integer", "minimum": 0},
            },
        }),
    );
    polish::each_operation(&mut doc, |_, _, op| {
        for param in op
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if param["name"] == "after"
                && let Some(schema) = param.get_mut("schema").and_then(Value::as_object_mut)
            {
                schema.remove("format");
            }
        }
    });
    // What Swagger UI prefills, so that "Try it out" works on the default sandbox unedited.
    // Deleting a tenant takes one made before (the default cannot be deleted), so its
    // `tenant` has no example; nor have the ids the server makes (faults, webhooks, sends).
    param_examples(
        &mut doc,
        &[
            ("tenant", json!("default")),
            ("external_id", json!(EXAMPLE_STORE)),
        ],
        &["deleteTenant"],
    );
    for (path, example) in [
        (
            "/tenants",
            json!({"name": "CI sandbox", "musique": {"stores": 5}}),
        ),
        ("/tenants/{tenant}/clock", json!({"advance": "1h"})),
        (
            "/tenants/{tenant}/faults",
            json!({"path": "/api/v1/integration/health", "status": 503, "times": 1}),
        ),
        (
            "/tenants/{tenant}/webhooks",
            json!({"url": "http://127.0.0.1:8080/webhooks", "events": ["send.created"]}),
        ),
        (
            "/tenants/{tenant}/locations/{external_id}/player",
            json!({"online": true}),
        ),
    ] {
        polish::set(
            &mut doc,
            &format!(
                "/paths/{}/post/requestBody/content/application~1json/example",
                path.replace('/', "~1")
            ),
            example,
        );
    }
    // No body (or an empty one) is `{}`: `curl -X POST .../tenants` makes a tenant of defaults.
    polish::set(
        &mut doc,
        "/paths/~1tenants/post/requestBody/required",
        json!(false),
    );
    // The control plane's health says `ok` (the Musique API's says `healthy`).
    polish::set(
        &mut doc,
        "/components/schemas/Health/properties/status/enum",
        json!(["ok", "down"]),
    );
    polish::each_operation(&mut doc, |_, _, op| {
        for param in op
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let words = match param["name"].as_str() {
                Some("environment") => json!(["prod", "dev"]),
                Some("api") => json!(["musique", "musicark"]),
                _ => continue,
            };
            if let Some(schema) = param.get_mut("schema").and_then(Value::as_object_mut) {
                schema.insert("enum".into(), words);
            }
        }
    });
    doc
}

/// A document: what it says of itself (`doc`), the operations of its route table with the
/// paths under its server written relative to that server, then what all its operations
/// share (`modifier`).
fn document(mut doc: Document, operations: Document, server: &str, modifier: &dyn Modify) -> Document {
    let mut paths = operations.paths;
    paths.paths = paths
        .paths
        .into_iter()
        .map(|(path, item)| match path.strip_prefix(server) {
            Some("") => ("/".to_owned(), item),
            Some(rest) if rest.starts_with('/') => (rest.to_owned(), item),
            _ => (path, item),
        })
        .collect();
    // Paths keep their route table's order (`preserve_path_order`: the coverage list
    // follows it); a document lists them sorted, as it always has.
    paths.paths.sort_keys();
    doc.paths = paths;
    if let Some(components) = operations.components {
        doc.components
            .get_or_insert_with(Default::default)
            .schemas
            .extend(components.schemas);
    }
    modifier.modify(&mut doc);
    doc
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Musique Partner API",
        version = "1.0.0",
        description = "The Musique Partner API as soundcheck emulates it. Success bodies are bare (the \
        `--envelope wrapped` server option wraps them in `{data, timestamp}`, from the legacy docs). \
        Where the vendor's docs are silent, an operation's description says that the behaviour is \
        soundcheck's choice. The legacy paths and the audio files are served from the root: their \
        document is `/openapi/musique-legacy.json`. When soundcheck accepts something the real \
        service might treat differently (an unknown or misspelt field or parameter, an explicit \
        `null`, an empty send body read as a broadcast, a legacy environment word), the response \
        says so in a `Soundcheck-Warning` header; with `--strict` such a request is a 400 instead."
    ),
    servers((url = "/api/v1/integration", description = "soundcheck (real host: https://api.musique.app)")),
    security(("api_key" = [])),
    tags(
        (name = "Audio", description = "The company's audio library and sends."),
        (name = "System", description = "Info and health."),
        (name = "Media", description = "The audio files themselves."),
        (name = "Legacy", description = "The older docs' paths, on the same state as V1. Deprecated."),
    )
)]
struct MusiqueDoc;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "MusicArk API",
        version = "1.0.0",
        description = "The MusicArk API as soundcheck emulates it: read-only song intelligence whose \
        fields depend on the key's tier, with a monthly quota per key. Where the vendor's page is \
        silent, an operation's description says that the behaviour is soundcheck's choice. When \
        soundcheck accepts something the real service might treat differently (an unknown or \
        misspelt query parameter, a value accepted leniently), the response says so in a \
        `Soundcheck-Warning` header; with `--strict` such a request is a 400 instead."
    ),
    servers((url = "/api/v1", description = "soundcheck (real host: https://admin.musicark.dev)")),
    security(("bearer" = []), ("query_key" = [])),
    tags(
        (name = "Songs", description = "The catalogue: a page of songs, or one song's profile (its sections depend on the key's tier)."),
        (name = "Search", description = "Songs found by text, by emotional dimensions or by colour.")
    )
)]
struct MusicArkDoc;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "soundcheck control plane",
        version = env!("CARGO_PKG_VERSION"),
        description = "soundcheck's own endpoints: per-test tenants, their clocks, the simulated \
        store players, the request journal and fault injection. With `--admin-token` every \
        operation but health needs `Authorization: Bearer <token>`; without one, every operation \
        but health refuses what a web page of another site could send (403: a `Host` that is not \
        loopback, the bound address or one of `--allowed-hosts`; an `Origin` that is not the \
        server's own or loopback; `Sec-Fetch-Site: cross-site`). A body of a POST, PUT, PATCH or \
        DELETE must be `Content-Type: application/json` (415); a bodiless call needs no type. \
        Errors use the Musique shape. To look rather than read: the live page \
        [/_soundcheck/ui](/_soundcheck/ui) shows a tenant's stores, timeline, library, journal, \
        limits and controls."
    ),
    servers((url = "/_soundcheck", description = "soundcheck")),
    security((), ("admin_token" = [])),
    tags(
        (name = "Tenants", description = "Isolated sandboxes: each has its own keys, stores, library, clock and journal."),
        (name = "Time", description = "Each tenant's clock: read, set, advance, freeze."),
        (name = "Players", description = "The simulated player of each store: its queue, and taking it offline or making it fail."),
        (name = "Journal", description = "Every API request a tenant received, and the sends it made."),
        (name = "Faults", description = "Statuses, latency and dropped connections injected into a tenant's API traffic."),
        (name = "Webhooks", description = "Where a tenant's events are delivered, and the outbox of deliveries."),
        (name = "Live page", description = "What the live page at /_soundcheck/ui reads: a tenant's stores, library and limits in one call each, and its change events."),
        (name = "Health", description = "Whether soundcheck is up, ready, and what it emulates.")
    )
)]
struct ControlDoc;

fn string_header(description: &str) -> RefOr<Header> {
    let mut header = Header::new(ObjectBuilder::new().schema_type(Type::String));
    header.description = Some(description.to_owned());
    RefOr::T(header)
}

fn integer_header(description: &str) -> RefOr<Header> {
    let mut header = Header::new(ObjectBuilder::new().schema_type(Type::Integer));
    header.description = Some(description.to_owned());
    RefOr::T(header)
}

/// Every operation of a document, with its path.
fn operations(doc: &mut Document) -> impl Iterator<Item = (&String, &mut Operation)> {
    doc.paths
        .paths
        .iter_mut()
        .flat_map(|(path, item): (&String, &mut PathItem)| {
            [
                &mut item.get,
                &mut item.post,
                &mut item.delete,
                &mut item.put,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            .map(move |op| (path, op))
        })
}

fn error_response(description: &str, schema: &str, example: serde_json::Value) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(schema)))
                    .example(Some(example))
                    .build(),
            )
            .build(),
    )
}

/// Adds `status` to an operation unless it documents it already.
fn ensure(op: &mut Operation, status: &str, response: RefOr<Response>) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert(response);
}

/// Gives every content of a response this example, unless it has one.
fn set_example(response: &mut Response, example: &serde_json::Value) {
    for content in response.content.values_mut() {
        if let RefOr::T(content) = content
            && content.example.is_none()
        {
            content.example = Some(example.clone());
        }
    }
}

fn for_each_response(op: &mut Operation, mut f: impl FnMut(&str, &mut Response)) {
    for (status, response) in op.responses.responses.iter_mut() {
        if let RefOr::T(response) = response {
            f(status, response);
        }
    }
}

/// A link from an operation's response to another operation, for clients and stateful
/// contract tests: `parameters` map the target's parameters to runtime expressions.
fn link(doc: &mut Document, from: (&str, &str, &str), name: &str, to: &str, parameters: &[(&str, &str)]) {
    let (path, method, status) = from;
    let Some(item) = doc.paths.paths.get_mut(path) else {
        return;
    };
    let op = match method {
        "get" => item.get.as_mut(),
        "post" => item.post.as_mut(),
        _ => None,
    };
    let Some(RefOr::T(response)) = op.and_then(|op| op.responses.responses.get_mut(status)) else {
        return;
    };
    let mut builder = LinkBuilder::new().operation_id(to);
    for (param, expression) in parameters {
        builder = builder.parameter(*param, *expression);
    }
    response.links.insert(name.to_owned(), RefOr::T(builder.build()));
}

fn add_schema<T: ToSchema>(doc: &mut Document) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.insert(T::name().into_owned(), T::schema());
    let mut more = Vec::new();
    T::schemas(&mut more);
    components.schemas.extend(more);
}

/// A Musique error example for a status, as an operation of `path` would give it.
fn musique_example(status: &str, path: &str) -> Option<serde_json::Value> {
    let (code, kind, message) = match status {
        "400" if path.ends_with("/send") => (
            "validation_error",
            "invalid_request_error",
            "`repeat` must be a whole number from 1 to 10; got 0.",
        ),
        "400" if path == "/audio" => (
            "validation_error",
            "invalid_request_error",
            "`limit` must be a whole number from 1 to 100; got \"500\".",
        ),
        "400" => ("missing_file", "invalid_request_error", "No file was uploaded."),
        "401" => (
            "invalid_api_key",
            "authentication_error",
            "The API key is invalid or has been revoked.",
        ),
        "403" => (
            "insufficient_permissions",
            "permission_error",
            "This API key lacks the `audio.send` permission.",
        ),
        "404" if path.ends_with("/send") => (
            "external_id_not_found",
            "not_found_error",
            "Unknown External IDs: store_999. Nothing was sent.",
        ),
        "404" => (
            "audio_not_found",
            "not_found_error",
            "Audio `aud_0000000000000x` was not found.",
        ),
        "409" => (
            "audio_has_scheduled_sends",
            "conflict_error",
            "Audio `aud_0000000000000x` has a scheduled send that is still pending.",
        ),
        "413" => (
            "file_too_large",
            "invalid_request_error",
            "The file is larger than the 10 MB limit.",
        ),
        "415" => (
            "unsupported_format",
            "invalid_request_error",
            "The file is not a valid MP3.",
        ),
        "416" => (
            "range_not_satisfiable",
            "invalid_request_error",
            "The range `bytes=9000-` cannot be satisfied: the file has 8836 bytes.",
        ),
        "429" => (
            "rate_limit_exceeded",
            "rate_limit_error",
            "Rate limit exceeded: 100 requests allowed in this window. Retry after 42 seconds.",
        ),
        _ => return None,
    };
    let mut error =
        json!({"code": code, "message": message, "type": kind, "requestId": "req_4f9c2a7d1e8b3a6c5d0e"});
    if status == "429" {
        error["retryAfter"] = json!(42);
    }
    Some(json!({ "error": error }))
}

struct MusiqueModifier;

impl Modify for MusiqueModifier {
    fn modify(&self, doc: &mut Document) {
        add_schema::<MusiqueError>(doc);
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "`{companyPrefix}_{environmentPrefix}_{hashToken}`. The default sandbox's key with every permission is `msk_prod_1234567890abcdef` (the docs page fills it in).",
            ))),
        );
        let id = [("id", "$response.body#/id")];
        link(doc, ("/audio", "post", "200"), "GetAudio", "getAudio", &id);
        link(doc, ("/audio", "post", "200"), "SendAudio", "sendAudio", &id);
        link(doc, ("/audio", "post", "200"), "DeleteAudio", "deleteAudio", &id);
        link(
            doc,
            ("/audio", "get", "200"),
            "GetFirstAudio",
            "getAudio",
            &[("id", "$response.body#/audio/0/id")],
        );
        for (path, op) in operations(doc) {
            if path.starts_with("/media") {
                let path = path.clone();
                for_each_response(op, |status, r| {
                    r.headers
                        .insert("X-Request-Id".into(), string_header("The request's id, `req_…`."));
                    if status.starts_with('4')
                        && let Some(example) = musique_example(status, &path)
                    {
                        set_example(r, &example);
                    }
                });
                continue;
            }
            let example = |status: &str| musique_example(status, path).unwrap_or_default();
            ensure(
                op,
                "401",
                error_response(
                    "No key, or an unknown, malformed or revoked key.",
                    "MusiqueError",
                    example("401"),
                ),
            );
            let open = [
                "/",
                "/health",
                "/api/integration",
                "/api/integration/health",
                "/api/integration/test",
            ];
            if !open.contains(&path.as_str()) && !path.starts_with("/api/integration/") {
                ensure(
                    op,
                    "403",
                    error_response("The token lacks the permission.", "MusiqueError", example("403")),
                );
            }
            ensure(
                op,
                "429",
                error_response(
                    "A rate-limit window is full; or, for a key not yet verified, the server's key hashing queue is full (then without `X-RateLimit-*`).",
                    "MusiqueError",
                    example("429"),
                ),
            );
            let path = path.clone();
            for_each_response(op, |status, r| {
                r.headers.insert(
                    "X-Request-Id".into(),
                    string_header("The request's id, `req_…`; also `error.requestId`."),
                );
                if status != "401" {
                    r.headers.insert(
                        "X-RateLimit-Limit".into(),
                        integer_header("The limit of the window with the fewest requests left."),
                    );
                    r.headers.insert(
                        "X-RateLimit-Remaining".into(),
                        integer_header("Requests left in that window."),
                    );
                    r.headers.insert(
                        "X-RateLimit-Reset".into(),
                        integer_header("When that window is full again, Unix epoch seconds."),
                    );
                }
                if status == "429" {
                    r.headers.insert(
                        "Retry-After".into(),
                        integer_header("Seconds to wait, at least 1."),
                    );
                }
                if let Some(example) = musique_example(status, &path) {
                    set_example(r, &example);
                }
            });
        }
    }
}

struct MusicArkModifier;

fn musicark_example(status: &str) -> Option<serde_json::Value> {
    let (code, message) = match status {
        "400" => ("bad_request", "`limit` must be at least 1; got 0."),
        "401" => ("unauthorized", "The API key is invalid or has been revoked."),
        "404" => ("not_found", "No song has the id or slug \"nope\"."),
        "429" => ("rate_limit_exceeded", musicark::quota::EXCEEDED),
        _ => return None,
    };
    Some(
        json!({"data": null, "meta": {}, "error": {"code": code, "message": message, "request_id": "req_4f9c2a7d1e8b3a6c5d0e"}}),
    )
}

impl Modify for MusicArkModifier {
    fn modify(&self, doc: &mut Document) {
        add_schema::<MusicArkError>(doc);
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`mk_live_` + 32 alphanumerics; wins over `query_key`. The default sandbox's enterprise key is `mk_live_enterprise0000000000000000000000` (the docs page fills it in); free: `mk_live_free0000000000000000000000000000`, pro: `mk_live_pro00000000000000000000000000000`."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "query_key",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "api_key",
                "The same key as `?api_key=`: it lands in URLs and logs, so prefer the `Authorization` header (`bearer`).",
            ))),
        );
        // Tier-dependent profile sections: a field a tier cannot see is left out, so no field
        // of a section is required.
        for (name, schema) in components.schemas.iter_mut() {
            let tiered = name == "Song" || name.ends_with("Section");
            if tiered && let RefOr::T(utoipa::openapi::Schema::Object(object)) = schema {
                object.required.clear();
            }
        }
        for (_, op) in operations(doc) {
            let example = |status: &str| musicark_example(status).unwrap_or_default();
            ensure(
                op,
                "401",
                error_response(
                    "No key, or an unknown or revoked key.",
                    "MusicArkError",
                    example("401"),
                ),
            );
            ensure(
                op,
                "429",
                error_response(
                    "The month's quota is spent; or, for a key not yet verified, the server's key hashing queue is full.",
                    "MusicArkError",
                    example("429"),
                ),
            );
            for_each_response(op, |status, r| {
                r.headers
                    .insert("X-Request-Id".into(), string_header("The request's id, `req_…`."));
                if status == "401" {
                    r.headers.insert(
                        "WWW-Authenticate".into(),
                        string_header("`Bearer realm=\"musicark\"` (RFC 6750)."),
                    );
                } else {
                    r.headers.insert(
                        "X-RateLimit-Limit".into(),
                        integer_header("The key's monthly limit."),
                    );
                    r.headers.insert(
                        "X-RateLimit-Remaining".into(),
                        integer_header("Calls left this month."),
                    );
                    r.headers.insert(
                        "X-RateLimit-Reset".into(),
                        string_header("The first instant of next month, UTC, ISO 8601."),
                    );
                }
                if status == "429" {
                    r.headers
                        .insert("Retry-After".into(), integer_header("Seconds until the reset."));
                }
                if let Some(example) = musicark_example(status) {
                    set_example(r, &example);
                }
            });
        }
    }
}

struct ControlModifier;

impl Modify for ControlModifier {
    fn modify(&self, doc: &mut Document) {
        add_schema::<MusiqueError>(doc);
        let tenant = [("tenant", "$response.body#/id")];
        for (name, to) in [
            ("GetTenant", "getTenant"),
            ("ResetTenant", "resetTenant"),
            ("GetClock", "getClock"),
            ("SetClock", "setClock"),
            ("ListSends", "listSends"),
            ("ListRequests", "listRequests"),
            ("ClearRequests", "clearRequests"),
            ("CreateFault", "createFault"),
            ("ListFaults", "listFaults"),
            ("CreateWebhook", "createWebhook"),
            ("ListOutbox", "listOutbox"),
            ("DeleteTenant", "deleteTenant"),
        ] {
            link(doc, ("/tenants", "post", "201"), name, to, &tenant);
        }
        let store = [
            ("tenant", "$response.body#/id"),
            ("external_id", "$response.body#/musique/locations/0/externalId"),
        ];
        link(doc, ("/tenants", "post", "201"), "GetPlayer", "getPlayer", &store);
        link(doc, ("/tenants", "post", "201"), "SetPlayer", "setPlayer", &store);
        link(
            doc,
            ("/tenants/{tenant}/faults", "post", "201"),
            "DeleteFault",
            "deleteFault",
            &[
                ("tenant", "$request.path.tenant"),
                ("fault", "$response.body#/id"),
            ],
        );
        link(
            doc,
            ("/tenants", "get", "200"),
            "GetFirstTenant",
            "getTenant",
            &[("tenant", "$response.body#/tenants/0/id")],
        );
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Only when the server runs with `--admin-token`."))
                    .build(),
            ),
        );
        for item in doc.paths.paths.values_mut() {
            for op in [&mut item.post, &mut item.put, &mut item.patch, &mut item.delete]
                .into_iter()
                .flatten()
            {
                ensure(
                    op,
                    "415",
                    error_response(
                        "The request has a body that is not declared `application/json`.",
                        "MusiqueError",
                        json!({"error": {"code": "unsupported_media_type", "message": "A control-plane POST with a body must send it as `Content-Type: application/json`; got `text/plain`. A request without a body needs no Content-Type.", "type": "invalid_request_error", "requestId": "req_4f9c2a7d1e8b3a6c5d0e"}}),
                    ),
                );
            }
        }
        for (path, op) in operations(doc) {
            if path != "/health" {
                ensure(
                    op,
                    "403",
                    error_response(
                        "No admin token is configured and the request may come from a web page of another site: its `Host` (`host_not_allowed`) or its `Origin` or `Sec-Fetch-Site` (`cross_site_request`).",
                        "MusiqueError",
                        json!({"error": {"code": "cross_site_request", "message": "This control-plane request comes from another web site (Origin `http://evil.example`). Without an admin token the control plane answers only its own pages, pages of loopback origins (http://localhost:PORT, http://127.0.0.1:PORT, http://[::1]:PORT) and clients that are not browsers.", "type": "permission_error", "requestId": "req_4f9c2a7d1e8b3a6c5d0e"}}),
                    ),
                );
                ensure(
                    op,
                    "401",
                    error_response(
                        "The server has an admin token and the request lacks it.",
                        "MusiqueError",
                        json!({"error": {"code": "missing_admin_token", "message": "No API key was given.", "type": "authentication_error", "requestId": "req_4f9c2a7d1e8b3a6c5d0e"}}),
                    ),
                );
            }
            for_each_response(op, |_, r| {
                r.headers
                    .insert("X-Request-Id".into(), string_header("The request's id, `req_…`."));
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed documents are what the code generates; `cargo run -- openapi` rewrites
    /// them after a change.
    #[test]
    fn the_committed_documents_match_the_generated_ones() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi");
        for (name, document) in documents() {
            let generated = render(&document).expect("renders");
            let committed = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
            assert!(
                generated == committed,
                "openapi/{name} is out of date: run `cargo run -- openapi --out openapi` and commit the result"
            );
        }
    }

    #[test]
    fn every_operation_has_an_id_a_summary_a_success_a_default_and_the_request_id_header() {
        for (name, mut document) in documents() {
            polish::each_operation(&mut document, |path, method, op| {
                let id = op["operationId"].as_str().expect("an id");
                assert_eq!(
                    op["summary"].as_str(),
                    polish::summary(id),
                    "{name} {method} {path}"
                );
                let responses = op["responses"].as_object().expect("responses");
                assert!(
                    responses.keys().any(|s| s.starts_with('2')),
                    "{name} {path} documents no success"
                );
                assert!(
                    responses.contains_key("default"),
                    "{name} {method} {path} has no default"
                );
                for (status, response) in responses {
                    assert!(
                        response["headers"]["X-Request-Id"].is_object(),
                        "{name} {path} {status} lacks X-Request-Id"
                    );
                    if name != "control.json" {
                        assert!(
                            response["headers"][WARNING_HEADER].is_object(),
                            "{name} {path} {status} lacks {WARNING_HEADER}"
                        );
                    }
                }
            });
        }
    }

    #[test]
    fn no_path_has_servers_of_its_own_and_each_document_has_one_server() {
        for (name, document) in documents() {
            assert_eq!(document["servers"].as_array().map(Vec::len), Some(1), "{name}");
            for (path, item) in document["paths"].as_object().expect("paths") {
                assert!(item.get("servers").is_none(), "{name} {path}");
            }
        }
    }

    #[test]
    fn every_enum_named_by_hand_names_a_property_that_exists() {
        let all: Vec<Value> = documents().into_iter().map(|(_, d)| d).collect();
        for (schema, property) in polish::enum_targets() {
            let found = all
                .iter()
                .any(|d| d["components"]["schemas"][schema]["properties"][property]["enum"].is_array());
            assert!(found, "{schema}.{property}");
        }
    }

    #[test]
    fn no_schema_is_binary_as_an_array_of_integers() {
        for (name, document) in documents() {
            let text = document.to_string();
            assert!(!text.contains(r#""items":{"format":"int32""#), "{name}");
            assert!(
                !text.contains(r#""items":{"type":"integer","format":"int32","minimum":0}"#),
                "{name}"
            );
        }
        let (musique, legacy) = musique_documents(Envelope::Bare);
        let media = &legacy["paths"]["/media/audio/{file}"]["get"]["responses"];
        assert_eq!(
            media["200"]["content"]["audio/mpeg"]["schema"]["contentMediaType"],
            "audio/mpeg"
        );
        assert_eq!(media["206"]["content"]["audio/mpeg"]["schema"]["type"], "string");
        assert!(musique["paths"]["/media/audio/{file}"].is_null());
    }
}
