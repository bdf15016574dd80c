//! The last pass over each document, on its JSON: what every operation or schema of a
//! document shares and is easier said once than beside each handler: summaries, the `default`
//! error, the `Soundcheck-Warning` header, enums and date-times, binary bodies, the examples
//! "Try it out" sends, and the split of the Musique document into its V1 part and its
//! root-served part (legacy paths and audio files), each with a server every generator reaches.

use serde_json::{Map, Value, json};

/// The one line soundcheck adds when it accepted something production might treat
/// differently; `--strict` refuses those requests instead (400).
pub const WARNING_HEADER: &str = "Soundcheck-Warning";

const WARNING_DESCRIPTION: &str = "Present when soundcheck accepted something the real service might treat differently (an unknown or misspelt field or query parameter, an explicit `null`, an empty body read as a broadcast, a legacy environment word, a value accepted leniently): one line saying what it accepted, the same words as the request's journal note. With `--strict` (or a strict tenant) such a request is refused with a 400 instead.";

const STRICT_400: &str = "A parameter or the body is invalid; with `--strict` (env `SOUNDCHECK_STRICT`, or a tenant created strict), also anything soundcheck would otherwise accept with a `Soundcheck-Warning` header (an unknown or misspelt field or parameter, an explicit `null`, an empty send body), naming the field and the likely intended one.";

/// Every operation's summary: what it does, in a few words.
const SUMMARIES: &[(&str, &str)] = &[
    // Musique V1
    ("apiInfo", "Describe the API and the calling key"),
    ("health", "Check the API's services"),
    ("listAudio", "List the company's audio, newest first"),
    ("uploadAudio", "Upload an MP3 to the library"),
    ("getAudio", "Get one audio object with its play stats"),
    ("deleteAudio", "Delete an audio object and its file"),
    ("sendAudio", "Send an audio to some stores, or to all of them"),
    // Musique legacy and media
    ("legacyListAudio", "List the company's audio (legacy path)"),
    ("legacyUploadAudio", "Upload an MP3 (legacy path)"),
    ("legacyGetAudio", "Get one audio object (legacy path)"),
    ("legacyDeleteAudio", "Delete an audio object (legacy path)"),
    ("legacySendAudio", "Send an audio to stores (legacy path)"),
    ("legacyInfo", "Describe the API and the calling key (legacy path)"),
    ("legacyHealth", "Check the API's services (legacy path)"),
    (
        "legacyIssueToken",
        "Issue an API key for a store from the company token",
    ),
    ("legacyRevokeToken", "Revoke the calling API key"),
    ("legacyTestToken", "Check that the calling API key works"),
    ("legacyLimits", "Show the calling key's rate-limit windows"),
    ("getAudioFile", "Download an audio file, whole or one byte range"),
    // MusicArk
    ("listSongs", "List songs, filtered and sorted"),
    ("getSong", "Get a song's profile by id or slug"),
    ("searchText", "Search songs by title, artist or album"),
    ("searchEmotional", "Search songs by emotional dimensions"),
    ("searchColor", "Search songs by colour, nearest first"),
    // Control plane
    ("coverage", "List every emulated operation and what it rests on"),
    ("controlHealth", "Check that soundcheck is up and ready"),
    ("resetDefault", "Reset the default tenant to the fixtures"),
    ("listTenants", "List tenants"),
    ("createTenant", "Create a tenant with its own keys and state"),
    ("getTenant", "Get a tenant with its keys and stores"),
    ("deleteTenant", "Delete a tenant and everything it holds"),
    ("getClock", "Read a tenant's clock"),
    ("setClock", "Set, advance, freeze or unfreeze a tenant's clock"),
    ("listFaults", "List a tenant's faults"),
    ("createFault", "Inject a fault into a tenant's API traffic"),
    ("clearFaults", "Remove every fault of a tenant"),
    ("deleteFault", "Remove one fault"),
    ("getPlayer", "Get a store player's state and queue"),
    ("setPlayer", "Take a store player offline, online or make it fail"),
    ("listOutbox", "List a tenant's webhook deliveries"),
    ("listRequests", "List a tenant's journaled requests"),
    ("clearRequests", "Clear a tenant's request journal"),
    ("resetTenant", "Reset a tenant to its fixtures"),
    (
        "listSends",
        "List a tenant's sends with each destination's status",
    ),
    ("getSend", "Get one send with each destination's status"),
    ("listWebhooks", "List a tenant's webhooks"),
    ("createWebhook", "Register a webhook for a tenant's events"),
    ("deleteWebhook", "Remove a webhook"),
    (
        "exportScenario",
        "Export a tenant's whole state as a scenario document",
    ),
    (
        "listStores",
        "List every store's player, what it plays and its queue",
    ),
    (
        "listLibrary",
        "List a tenant's audio with stats and each send's destinations",
    ),
    (
        "listLimits",
        "Show each key's rate-limit windows and monthly quota",
    ),
    ("tenantEvents", "Stream a tenant's changes as Server-Sent Events"),
];

/// The summary of an operation, by its id.
pub fn summary(operation_id: &str) -> Option<&'static str> {
    SUMMARIES
        .iter()
        .find(|(id, _)| *id == operation_id)
        .map(|(_, summary)| *summary)
}

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// Calls `f` with each operation's path, method and object.
pub fn each_operation(doc: &mut Value, mut f: impl FnMut(&str, &str, &mut Map<String, Value>)) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        for method in METHODS {
            if let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) {
                f(path, method, op);
            }
        }
    }
}

/// Calls `f` with every schema object anywhere in `value` (nested ones too).
fn each_schema(value: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    match value {
        Value::Object(object) => {
            if object.contains_key("type") {
                f(object);
            }
            for (_, child) in object.iter_mut() {
                each_schema(child, f);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| each_schema(item, f)),
        _ => {}
    }
}

fn is_string(schema: &Map<String, Value>) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
        _ => false,
    }
}

/// The words of a pattern `^(a|b|c)$` whose alternatives are plain words, if it is one.
fn pattern_words(pattern: &str) -> Option<Vec<String>> {
    let inner = pattern.strip_prefix("^(")?.strip_suffix(")$")?;
    let words: Vec<String> = inner.split('|').map(str::to_owned).collect();
    let plain = |w: &String| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    words.iter().all(plain).then_some(words)
}

/// Properties that are closed sets of words on the server, by schema and property.
const ENUMS: &[(&str, &str, &[&str])] = &[
    (
        "Destination",
        "status",
        &["scheduled", "queued", "delivered", "playing", "played", "failed"],
    ),
    // A send is `sent` (its destinations queued) or `scheduled` (`scheduleAt` in the future).
    ("SendResponse", "status", &["sent", "scheduled"]),
    ("SendResponse", "priority", &["low", "normal", "high", "urgent"]),
    ("Integration", "environment", &["prod", "dev"]),
    ("Health", "status", &["healthy", "degraded", "down"]),
    ("Summary", "mode", &["major", "minor"]),
    ("HarmonicSection", "mode", &["major", "minor"]),
    ("ProfileMeta", "tier", &["free", "pro", "enterprise"]),
    (
        "AiAnalysisSection",
        "tempo_feel",
        &[
            "stillness",
            "drift",
            "sway",
            "lean",
            "groove",
            "bounce",
            "stride",
            "drive",
            "surge",
            "rush",
            "blitz",
            "fury",
        ],
    ),
    (
        "TemporalSection",
        "energy_shape",
        &[
            "steady", "build", "rise", "peak", "wave", "cascade", "bloom", "burst",
        ],
    ),
    ("KeyView", "environment", &["prod", "dev"]),
    ("KeyView", "tier", &["free", "pro", "enterprise"]),
    ("DeliveryView", "priority", &["low", "normal", "high", "urgent"]),
    ("SendView", "priority", &["low", "normal", "high", "urgent"]),
];

/// Property names that hold an RFC 3339 instant wherever they appear.
fn is_instant(name: &str) -> bool {
    name == "at" || name == "timestamp" || name.ends_with("At") || name.ends_with("_at")
}

/// What the schemas say beyond utoipa's derives: closed word sets as `enum` (from a
/// `^(a|b)$` pattern or from [`ENUMS`]), instants as `format: date-time`.
pub fn tighten_schemas(doc: &mut Value) {
    each_schema(doc, &mut |schema| {
        if is_string(schema)
            && let Some(words) = schema
                .get("pattern")
                .and_then(Value::as_str)
                .and_then(pattern_words)
        {
            schema.remove("pattern");
            schema.insert("enum".into(), json!(words_with_null(schema, words)));
        }
        if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            for (name, property) in properties.iter_mut() {
                if let Some(property) = property.as_object_mut()
                    && is_instant(name)
                    && is_string(property)
                    && !property.contains_key("format")
                {
                    property.insert("format".into(), json!("date-time"));
                }
            }
        }
    });
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (schema, property, words) in ENUMS {
        if let Some(property) = schemas
            .get_mut(*schema)
            .and_then(|s| s.pointer_mut(&format!("/properties/{property}")))
            .and_then(Value::as_object_mut)
        {
            let words = words.iter().map(|w| (*w).to_owned()).collect();
            let words = words_with_null(property, words);
            property.insert("enum".into(), json!(words));
        }
    }
}

/// An enum of a nullable string keeps `null` among its values.
fn words_with_null(schema: &Map<String, Value>, words: Vec<String>) -> Vec<Value> {
    let nullable =
        matches!(schema.get("type"), Some(Value::Array(types)) if types.iter().any(|t| t == "null"));
    let mut values: Vec<Value> = words.into_iter().map(Value::String).collect();
    if nullable {
        values.push(Value::Null);
    }
    values
}

/// The `enum`, date-time and other property fixes a test checks are all still applied: each
/// names a schema and a property that exist.
#[cfg(test)]
pub fn enum_targets() -> impl Iterator<Item = (&'static str, &'static str)> {
    ENUMS.iter().map(|(schema, property, _)| (*schema, *property))
}

/// A header object of type string.
fn string_header(description: &str) -> Value {
    json!({"schema": {"type": "string"}, "description": description})
}

/// What an API document's operations share here: a summary, the warning header on every
/// response, a 400 that says what `--strict` adds, and a `default` error in the API's
/// envelope for every other status (an injected fault's, a timeout's).
pub fn api_operations(
    doc: &mut Value,
    error_schema: &str,
    default_example: Value,
    keyed: &dyn Fn(&str) -> bool,
    warns: bool,
) {
    each_operation(doc, |path, _, op| {
        let responses = op
            .entry("responses")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("responses are an object");
        let error_ref = json!({"$ref": format!("#/components/schemas/{error_schema}")});
        if keyed(path) {
            responses.entry("400").or_insert_with(|| {
                json!({"description": STRICT_400, "content": {"application/json": {"schema": error_ref.clone()}}})
            });
            if let Some(description) = responses.get_mut("400").and_then(|r| r.get_mut("description")) {
                let old = description.as_str().unwrap_or_default().to_owned();
                if !old.contains("--strict") {
                    *description = json!(format!(
                        "{old} With `--strict`, also anything soundcheck would otherwise accept with a `Soundcheck-Warning` header, naming the field and the likely intended one."
                    ));
                }
            }
        }
        responses.insert(
            "default".into(),
            json!({
                "description": "Any other error, in this API's error envelope: a status injected by a fault (`/_soundcheck/tenants/{id}/faults`, e.g. 503), 408 when the request is not read in time, 500 for an internal error.",
                "headers": {"X-Request-Id": string_header("The request's id, `req_…`.")},
                "content": {"application/json": {"schema": error_ref, "example": default_example}},
            }),
        );
        for (_, response) in responses.iter_mut() {
            if let Some(response) = response.as_object_mut() {
                let headers = response
                    .entry("headers")
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .expect("headers are an object");
                headers
                    .entry("X-Request-Id")
                    .or_insert_with(|| string_header("The request's id, `req_…`."));
                if warns {
                    headers.insert(WARNING_HEADER.into(), string_header(WARNING_DESCRIPTION));
                }
            }
        }
    });
}

/// Every operation's summary from [`SUMMARIES`].
pub fn summaries(doc: &mut Value) {
    each_operation(doc, |_, _, op| {
        if let Some(summary) = op.get("operationId").and_then(Value::as_str).and_then(summary) {
            op.insert("summary".into(), json!(summary));
        }
    });
}

/// Sets `value` at `pointer` if the document has the place (its parent object).
pub fn set(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer with a parent");
    if let Some(parent) = doc.pointer_mut(parent).and_then(Value::as_object_mut) {
        let key = key.replace("~1", "/").replace("~0", "~");
        parent.insert(key, value);
    }
}

/// The bytes of an MP3, as generators and validators read a binary body in OpenAPI 3.1.
pub fn mp3_bytes(description: &str) -> Value {
    json!({"type": "string", "contentMediaType": "audio/mpeg", "description": description})
}

/// Splits the paths of `doc` that `moved` selects into a document of their own: the same
/// info, security and components, the given server, and only the tags its operations use.
pub fn split(doc: &mut Value, moved: impl Fn(&str) -> bool, server: Value) -> Value {
    let mut other = doc.clone();
    let paths = doc["paths"].as_object_mut().expect("paths");
    let taken: Map<String, Value> = paths
        .iter()
        .filter(|(path, _)| moved(path))
        .map(|(path, item)| (path.clone(), item.clone()))
        .collect();
    paths.retain(|path, _| !moved(path));
    other["paths"] = Value::Object(taken);
    other["servers"] = json!([server]);
    for document in [&mut *doc, &mut other] {
        let used: Vec<String> = document["paths"]
            .as_object()
            .into_iter()
            .flat_map(|paths| paths.values())
            .flat_map(|item| METHODS.iter().filter_map(move |m| item.get(*m)))
            .flat_map(|op| op["tags"].as_array().cloned().unwrap_or_default())
            .filter_map(|tag| tag.as_str().map(str::to_owned))
            .collect();
        if let Some(tags) = document.get_mut("tags").and_then(Value::as_array_mut) {
            tags.retain(|tag| {
                tag["name"]
                    .as_str()
                    .is_some_and(|name| used.iter().any(|u| u == name))
            });
        }
        // A path-level `servers` is what the generators ignore: the document's server is it.
        if let Some(paths) = document["paths"].as_object_mut() {
            for item in paths.values_mut() {
                if let Some(item) = item.as_object_mut() {
                    item.remove("servers");
                }
            }
        }
    }
    other
}

/// The document as served under `--envelope wrapped`: every 2xx JSON body of a wrapped
/// operation is `{"data": <body>, "timestamp": "…"}`.
pub fn wrap_successes(doc: &mut Value, wrapped: &dyn Fn(&str, &str) -> bool) {
    each_operation(doc, |path, method, op| {
        if !wrapped(path, method) {
            return;
        }
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            return;
        };
        for (status, response) in responses.iter_mut() {
            if !status.starts_with('2') {
                continue;
            }
            let Some(content) = response
                .pointer_mut("/content/application~1json")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            if let Some(schema) = content.remove("schema") {
                content.insert(
                    "schema".into(),
                    json!({
                        "type": "object",
                        "required": ["data", "timestamp"],
                        "properties": {
                            "data": schema,
                            "timestamp": {"type": "string", "format": "date-time", "description": "When the server answered, on the tenant's clock."},
                        },
                    }),
                );
            }
            if let Some(example) = content.remove("example") {
                content.insert(
                    "example".into(),
                    json!({"data": example, "timestamp": "2026-12-01T09:00:00.000Z"}),
                );
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_of_plain_words_is_an_enum_and_others_are_not() {
        assert_eq!(
            pattern_words("^(published_at|title|artist)$"),
            Some(vec![
                "published_at".to_owned(),
                "title".to_owned(),
                "artist".to_owned()
            ])
        );
        assert_eq!(pattern_words("^/"), None);
        assert_eq!(pattern_words(r"^(a|b.*)$"), None);
    }

    #[test]
    fn instants_are_named_at_or_timestamp() {
        for name in ["at", "timestamp", "createdAt", "published_at"] {
            assert!(is_instant(name), "{name}");
        }
        for name in ["format", "status", "path", "category"] {
            assert!(!is_instant(name), "{name}");
        }
    }
}
