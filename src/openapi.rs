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
use serde_json::json;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::{ContentBuilder, Header, ObjectBuilder, OpenApi as Document, Ref, RefOr, Type};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_swagger_ui::{Config, SwaggerUi, Url};

use crate::error::Error;
use crate::musicark::docs::MusicArkError;
use crate::musique::docs::MusiqueError;
use crate::{control, musicark, musique};

/// The docs page at `/docs` (Swagger UI, served by soundcheck itself: nothing comes from a
/// CDN) and the three documents it shows, each built on its first request and kept as the
/// JSON it is served as. Built at start, they were most of a start's CPU and ~5 MB of
/// documents held for requests that most runs never make.
pub fn routes() -> Router {
    let served: [(&str, &'static str, &'static Served); 3] = [
        ("Musique Partner API", "/openapi/musique.json", &MUSIQUE),
        ("MusicArk API", "/openapi/musicark.json", &MUSICARK),
        ("soundcheck control plane", "/openapi/control.json", &CONTROL),
    ];
    let config = Config::new(served.iter().map(|(name, url, _)| Url::new(name, url)));
    let mut docs: Router = SwaggerUi::new("/docs").config(config).into();
    for (_, url, document) in served {
        docs = docs.route(url, get(move || document.response()));
    }
    docs.layer(axum::middleware::from_fn(docs_errors_in_the_envelope))
}

static MUSIQUE: Served = Served::new(musique_document);
static MUSICARK: Served = Served::new(musicark_document);
static CONTROL: Served = Served::new(control_document);

/// A document's compact JSON (what `axum::Json` of it serves), rendered once.
struct Served {
    build: fn() -> Document,
    json: OnceLock<Bytes>,
}

impl Served {
    const fn new(build: fn() -> Document) -> Served {
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
        ([(header::CONTENT_TYPE, "application/json")], json).into_response()
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

/// Every document with the file it is committed as.
pub fn documents() -> [(&'static str, Document); 3] {
    [
        ("musique.json", musique_document()),
        ("musicark.json", musicark_document()),
        ("control.json", control_document()),
    ]
}

/// A document as committed: pretty JSON and a final newline.
pub fn render(document: &Document) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(document)? + "\n")
}

pub fn musique_document() -> Document {
    document(
        MusiqueDoc::openapi(),
        musique::openapi(),
        musique::BASE,
        &MusiqueModifier,
    )
}

pub fn musicark_document() -> Document {
    document(
        MusicArkDoc::openapi(),
        musicark::openapi(),
        musicark::BASE,
        &MusicArkModifier,
    )
}

pub fn control_document() -> Document {
    document(
        ControlDoc::openapi(),
        control::openapi(),
        control::BASE,
        &ControlModifier,
    )
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
        soundcheck's choice."
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
        silent, an operation's description says that the behaviour is soundcheck's choice."
    ),
    servers((url = "/api/v1", description = "soundcheck (real host: https://admin.musicark.dev)")),
    security(("bearer" = []), ("api_key" = [])),
    tags((name = "Songs"), (name = "Search"))
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
    tags((name = "Tenants"), (name = "Time"), (name = "Players"), (name = "Journal"), (name = "Faults"), (name = "Webhooks"), (name = "Live page"), (name = "Health"))
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
                "`{companyPrefix}_{environmentPrefix}_{hashToken}`, e.g. `msk_prod_1234567890abcdef`.",
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
        // The audio files and the legacy paths are served from the root.
        for (path, item) in doc.paths.paths.iter_mut() {
            if path.starts_with("/media/") || path.starts_with("/api/") {
                item.servers = Some(vec![Server::new("/")]);
            }
        }
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
                    .description(Some("`mk_live_` + 32 alphanumerics; wins over `api_key`."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("api_key"))),
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
                "openapi/{name} is out of date: run `cargo run -- openapi` and commit the result"
            );
        }
    }

    #[test]
    fn every_operation_has_an_id_a_success_and_the_request_id_header() {
        for (name, mut document) in documents() {
            for (path, op) in operations(&mut document) {
                assert!(op.operation_id.is_some(), "{name} {path}");
                assert!(
                    op.responses.responses.keys().any(|s| s.starts_with('2')),
                    "{name} {path} documents no success"
                );
                for (status, response) in &op.responses.responses {
                    if let RefOr::T(response) = response {
                        assert!(
                            response.headers.contains_key("X-Request-Id"),
                            "{name} {path} {status} lacks X-Request-Id"
                        );
                    }
                }
            }
        }
    }
}
