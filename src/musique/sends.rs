//! `POST /audio/{id}/send`: targeted or broadcast, immediate or scheduled, all or nothing.

use axum::Json;
use axum::extract::State;
use chrono::DateTime;
use serde::Serialize;
use serde_json::{Map, Value};

use super::MusiqueState;
use super::auth::MusiqueCaller;
use super::error::MusiqueKind;
use super::store::{self, NewSend, SendOutcome};
use crate::clock::{LAST_INSTANT_MS, rfc3339_ms};
use crate::error::{Error, Result};
use crate::extract::{ApiPath, Caller, OptionalJson};
use crate::journal::Notes;
use crate::keys::validate_external_id;
use crate::warnings::{Warning, quoted};

const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];
/// Ours: the docs set no bound; a list longer than this is surely a client bug.
const MAX_EXTERNAL_IDS: usize = 1_000;

/// A send request that passed validation.
#[derive(Debug, PartialEq)]
pub struct SendRequest {
    /// `None`: broadcast to every location in the token's scope.
    pub external_ids: Option<Vec<String>>,
    pub schedule_at_ms: Option<i64>,
    pub priority: &'static str,
    pub repeat: i64,
    pub volume: i64,
}

impl SendRequest {
    /// Validates the body field by field; `now_ms` is the tenant's clock. Unknown fields are
    /// ignored, as the real service's JSON parser does.
    pub fn parse(body: &Value, now_ms: i64) -> Result<SendRequest> {
        let Value::Object(fields) = body else {
            return Err(Error::validation("The body must be a JSON object."));
        };
        Ok(SendRequest {
            external_ids: external_ids(fields)?,
            schedule_at_ms: schedule_at(fields, now_ms)?,
            priority: priority(fields)?,
            repeat: integer(fields, "repeat", 1, 1, 10)?,
            volume: integer(fields, "volume", 100, 0, 100)?,
        })
    }
}

fn present<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    // An explicit `null` means the same as leaving the field out.
    fields.get(name).filter(|v| !v.is_null())
}

fn external_ids(fields: &Map<String, Value>) -> Result<Option<Vec<String>>> {
    let Some(value) = present(fields, "externalIds") else {
        return Ok(None);
    };
    let Value::Array(items) = value else {
        return Err(Error::validation(
            "`externalIds` must be an array of strings; omit it to broadcast.",
        ));
    };
    if items.is_empty() {
        return Err(Error::validation(
            "`externalIds` must not be empty; omit it to broadcast to every location.",
        ));
    }
    if items.len() > MAX_EXTERNAL_IDS {
        return Err(Error::validation(format!(
            "`externalIds` may list at most {MAX_EXTERNAL_IDS} External IDs."
        )));
    }
    let mut ids: Vec<String> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let Value::String(id) = item else {
            return Err(Error::validation(format!(
                "`externalIds[{index}]` must be a string."
            )));
        };
        validate_external_id(id).map_err(|_| {
            Error::validation(format!(
                "`externalIds[{index}]` must be 1-128 printable characters."
            ))
        })?;
        // Duplicates collapse: a store gets one delivery per send.
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    Ok(Some(ids))
}

fn schedule_at(fields: &Map<String, Value>, now_ms: i64) -> Result<Option<i64>> {
    let Some(value) = present(fields, "scheduleAt") else {
        return Ok(None);
    };
    let Value::String(text) = value else {
        return Err(Error::validation(
            "`scheduleAt` must be an RFC 3339 date-time string.",
        ));
    };
    let at = DateTime::parse_from_rfc3339(text).map_err(|_| {
        Error::validation(format!(
            "`scheduleAt` must be an RFC 3339 date-time such as 2026-12-01T09:00:00Z; got {text:?}."
        ))
    })?;
    let at_ms = at.timestamp_millis();
    if at_ms <= now_ms {
        return Err(Error::validation(format!(
            "`scheduleAt` must be in the future; it is {} and the time now is {}.",
            rfc3339_ms(at_ms),
            rfc3339_ms(now_ms)
        )));
    }
    // No clock gets past the last instant, so a send due later would never run.
    if at_ms > LAST_INSTANT_MS {
        return Err(Error::validation(format!(
            "`scheduleAt` must be no later than {}, the last instant soundcheck's clock reaches; got {text:?}.",
            rfc3339_ms(LAST_INSTANT_MS)
        )));
    }
    Ok(Some(at_ms))
}

fn priority(fields: &Map<String, Value>) -> Result<&'static str> {
    match present(fields, "priority") {
        None => Ok("normal"),
        Some(Value::String(p)) => PRIORITIES
            .iter()
            .copied()
            .find(|known| known == p)
            .ok_or_else(|| {
                Error::validation(format!(
                    "`priority` must be one of {}; got {p:?}.",
                    PRIORITIES.join(", ")
                ))
            }),
        Some(_) => Err(Error::validation(format!(
            "`priority` must be one of {}.",
            PRIORITIES.join(", ")
        ))),
    }
}

fn integer(fields: &Map<String, Value>, name: &str, default: i64, min: i64, max: i64) -> Result<i64> {
    let Some(value) = present(fields, name) else {
        return Ok(default);
    };
    match value.as_i64() {
        // `2.0` is a float in JSON terms; only whole-number literals are accepted.
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(Error::validation(format!(
            "`{name}` must be a whole number from {min} to {max}; got {value}."
        ))),
    }
}

const FIELDS: [&str; 5] = ["externalIds", "scheduleAt", "priority", "repeat", "volume"];
/// Names clients use for the store list that no edit of `externalIds` reaches.
const ALIASES: [(&str, &str); 9] = [
    ("stores", "externalIds"),
    ("storeIds", "externalIds"),
    ("locations", "externalIds"),
    ("locationIds", "externalIds"),
    ("ids", "externalIds"),
    ("recipients", "externalIds"),
    ("targets", "externalIds"),
    ("userIds", "externalIds"),
    ("sendAt", "scheduleAt"),
];

/// A warning of a send, and whether it is one of the reasons the send broadcast (the first
/// such gets "this send went to all N stores").
type SendWarning = (Warning, bool);

/// What was accepted that the real service might treat differently. Allocates nothing for a
/// body of known, non-null fields with distinct External IDs.
fn send_warnings(body: Option<&Value>, unlabelled: Option<&str>, request: &SendRequest) -> Vec<SendWarning> {
    let mut warnings = Vec::new();
    let broadcast = request.external_ids.is_none();
    if let Some(content_type) = unlabelled {
        let subject = match content_type {
            "" => "the body has no Content-Type".to_owned(),
            t => format!("Content-Type {} is not application/json", quoted(t)),
        };
        warnings.push((Warning::new(subject, "; the body was read as JSON anyway"), false));
    }
    let Some(Value::Object(fields)) = body else {
        if body.is_none() {
            warnings.push((Warning::new("empty body", "; read as {}, a broadcast"), broadcast));
        }
        return warnings;
    };
    if fields.is_empty() {
        warnings.push((
            Warning::new("the body names no field", "; read as a broadcast"),
            broadcast,
        ));
    }
    for (name, value) in fields {
        if !FIELDS.contains(&name.as_str()) {
            warnings.push((Warning::unknown("field", name, &FIELDS, &ALIASES), broadcast));
        } else if value.is_null() {
            warnings.push((
                Warning::new(format!("field {} is null", quoted(name)), "; read as absent"),
                broadcast && name == "externalIds",
            ));
        }
    }
    if let (Some(Value::Array(given)), Some(kept)) = (fields.get("externalIds"), &request.external_ids)
        && given.len() != kept.len()
    {
        for (i, id) in given
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some((i, v.as_str()?)))
        {
            // Each repeated id once, at its second occurrence.
            let earlier = given[..i].iter().filter(|v| v.as_str() == Some(id)).count();
            if earlier == 1 {
                warnings.push((
                    Warning::new(
                        format!("External ID {} listed more than once", quoted(id)),
                        "; its store gets it once",
                    ),
                    false,
                ));
            }
        }
    }
    warnings
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    pub external_id: String,
    pub user_id: i64,
    pub status: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendResponse {
    pub send_id: String,
    pub audio_id: String,
    pub destinations: Vec<Destination>,
    pub scheduled: bool,
    pub schedule_at: Option<String>,
    pub status: &'static str,
    pub priority: &'static str,
    pub repeat: i64,
    pub volume: i64,
}

#[utoipa::path(
    post, path = "/api/v1/integration/audio/{id}/send", tag = "Audio", operation_id = "sendAudio",
    extensions(
        ("x-basis" = json!({"basis": "our_reading", "notes": "Targeted and broadcast are documented; no `externalIds` = every store in the token's scope is our reading; `[]` → 400 is ours."})),
    ),
    description = "Targeted (`externalIds`) or broadcast (no `externalIds`: every store in the token's scope, our reading of the docs). All or nothing: one unknown External ID and nothing is sent. An empty list is a 400 (soundcheck's choice).",
    params(("id" = String, Path, description = "The audio's id.")),
    request_body(content = crate::musique::docs::SendBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The send.", body = SendResponse),
        (status = 400, description = "A field is missing, mistyped or out of range, or the body is not JSON.", body = crate::musique::docs::MusiqueError),
        (status = 404, description = "Unknown audio, or unknown / out-of-scope External IDs.", body = crate::musique::docs::MusiqueError),
        (status = 413, description = "The body is over 256 KB.", body = crate::musique::docs::MusiqueError),
    )
)]
/// `POST /audio/{id}/send`.
pub async fn send(
    State(state): State<MusiqueState>,
    Caller(caller): Caller<MusiqueCaller>,
    notes: Notes,
    ApiPath(audio_id): ApiPath<String>,
    OptionalJson { value, unlabelled }: OptionalJson,
) -> Result<Json<SendResponse>> {
    caller.require("audio.send")?;
    let now_ms = caller.clock.now_ms();
    let empty = Value::Object(Map::new());
    let body = value.as_ref().unwrap_or(&empty);
    let request = SendRequest::parse(body, now_ms)?;
    let mut warnings = send_warnings(value.as_ref(), unlabelled.as_deref(), &request);
    // Strict: refused before anything is written.
    if !warnings.is_empty() && notes.is_strict() {
        notes.warn_all(
            std::mem::take(&mut warnings)
                .into_iter()
                .map(|(w, _)| w)
                .collect(),
        )?;
    }
    let scheduled = request.schedule_at_ms.is_some();
    let new = NewSend {
        audio_id: audio_id.clone(),
        priority: request.priority,
        repeat: request.repeat,
        volume: request.volume,
        external_ids: request.external_ids,
        scheduled,
        due_at_ms: request.schedule_at_ms.unwrap_or(now_ms),
        created_at_ms: now_ms,
    };
    let outcome = store::create_send(&state.writer, &state.deliveries, &caller, new).await;
    if !warnings.is_empty() {
        if let Ok(SendOutcome::Created { destinations, .. }) = &outcome
            && let Some((warning, _)) = warnings.iter_mut().find(|(_, broadcast)| *broadcast)
        {
            let scope = if caller.scope.is_some() {
                " in the token's scope"
            } else {
                ""
            };
            warning.consequence = Some(format!(
                "this send went to all {} stores{scope}",
                destinations.len()
            ));
        }
        notes.warn_all(warnings.into_iter().map(|(w, _)| w).collect())?;
    }
    let (send_id, destinations) = match outcome? {
        SendOutcome::Created {
            send_id,
            destinations,
        } => (send_id, destinations),
        SendOutcome::AudioNotFound => return Err(MusiqueKind::AudioNotFound(audio_id).into()),
        SendOutcome::UnknownExternalIds(ids) => return Err(MusiqueKind::ExternalIdsNotFound(ids).into()),
        SendOutcome::NoLocations => {
            return Err(Error::validation(
                "This token's scope holds no locations to broadcast to; list `externalIds` or add locations.",
            ));
        }
    };
    let (status, destination_status) = match request.schedule_at_ms {
        Some(_) => ("scheduled", "scheduled"),
        None => ("sent", "queued"),
    };
    Ok(Json(SendResponse {
        send_id,
        audio_id,
        destinations: destinations
            .into_iter()
            .map(|l| Destination {
                external_id: l.external_id,
                user_id: l.user_id,
                status: destination_status,
            })
            .collect(),
        scheduled,
        schedule_at: request.schedule_at_ms.map(rfc3339_ms),
        status,
        priority: request.priority,
        repeat: request.repeat,
        volume: request.volume,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn an_empty_object_is_an_immediate_broadcast_with_the_defaults() {
        let request = SendRequest::parse(&json!({}), NOW).expect("valid");
        assert_eq!(
            request,
            SendRequest {
                external_ids: None,
                schedule_at_ms: None,
                priority: "normal",
                repeat: 1,
                volume: 100
            }
        );
    }

    #[test]
    fn duplicates_collapse_and_schedules_are_read_in_utc() {
        let request = SendRequest::parse(
            &json!({"externalIds": ["a", "b", "a"], "scheduleAt": "2027-01-16T10:00:00+02:00",
                    "priority": "urgent", "repeat": 10, "volume": 0, "unknown": true}),
            NOW,
        )
        .expect("valid");
        assert_eq!(request.external_ids, Some(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(
            request.schedule_at_ms.map(rfc3339_ms).as_deref(),
            Some("2027-01-16T08:00:00.000Z")
        );
    }

    #[test]
    fn every_invalid_field_is_named() {
        let cases = [
            (json!([]), "JSON object"),
            (json!({"externalIds": []}), "`externalIds`"),
            (json!({"externalIds": "store_001"}), "`externalIds`"),
            (json!({"externalIds": ["ok", 7]}), "`externalIds[1]`"),
            (json!({"externalIds": [""]}), "`externalIds[0]`"),
            (json!({"scheduleAt": "tomorrow"}), "`scheduleAt`"),
            (json!({"scheduleAt": 1800000000}), "`scheduleAt`"),
            (json!({"scheduleAt": "2020-01-01T00:00:00Z"}), "in the future"),
            (
                json!({"scheduleAt": "2500-01-01T00:00:00Z"}),
                "no later than 2499-12-31T23:59:59.999Z",
            ),
            (json!({"priority": "asap"}), "`priority`"),
            (json!({"priority": 1}), "`priority`"),
            (json!({"repeat": 0}), "`repeat`"),
            (json!({"repeat": 11}), "`repeat`"),
            (json!({"repeat": 2.5}), "`repeat`"),
            (json!({"repeat": "2"}), "`repeat`"),
            (json!({"volume": -1}), "`volume`"),
            (json!({"volume": 101}), "`volume`"),
            (json!({"volume": 1e300}), "`volume`"),
        ];
        for (body, names) in cases {
            match SendRequest::parse(&body, NOW) {
                Err(Error::Validation(message)) => {
                    assert!(
                        message.contains(names),
                        "{body}: message {message:?} should name {names}"
                    )
                }
                other => panic!("{body}: expected a validation error, got {other:?}"),
            }
        }
    }
}
