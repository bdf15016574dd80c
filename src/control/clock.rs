//! `GET|POST /_soundcheck/tenants/{id}/clock`: read a tenant's clock, set it to an instant,
//! advance it by a duration, freeze it or let it run. Moving it runs everything that became
//! due (scheduled sends, players) before the answer; limits, quotas and song visibility read
//! the clock directly, so they follow at once.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::ControlState;
use super::store;
use super::tenants::{ExistingTenant, TenantBody, parse_body};
use super::webhooks;
use crate::clock::{INSTANT_RANGE, TenantClock, in_range, parse_duration_ms, rfc3339_ms};
use crate::error::{Error, Result};
use crate::extract::JsonValue;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClockView {
    pub now: String,
    pub now_ms: i64,
    pub frozen: bool,
    /// How far a running clock is from real time.
    pub offset_ms: i64,
}

impl ClockView {
    pub fn of(clock: &TenantClock) -> ClockView {
        let now_ms = clock.now_ms();
        let (offset_ms, frozen) = clock.persisted();
        ClockView {
            now: rfc3339_ms(now_ms),
            now_ms,
            frozen: frozen.is_some(),
            offset_ms,
        }
    }

    /// The instant a frozen clock stands at.
    pub fn frozen_ms(&self) -> Option<i64> {
        self.frozen.then_some(self.now_ms)
    }
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClockChange {
    /// `true` stops the clock, `false` lets it run; applied first.
    pub frozen: Option<bool>,
    /// An RFC 3339 instant to jump to, from 1970-01-01T00:00:00.000Z to
    /// 2499-12-31T23:59:59.999Z; outside that range the change is refused (400).
    pub at: Option<String>,
    /// A duration such as `90s`, `1h30m`, `250ms`, `2d`; `-` in front moves back. A move
    /// that would leave the range is refused (400) and moves nothing.
    pub advance: Option<String>,
    /// `advance` in milliseconds.
    pub advance_ms: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClockAnswer {
    #[serde(flatten)]
    pub clock: ClockView,
    /// What became due and ran before this answer.
    pub ran: crate::musique::deliveries::Ran,
}

#[utoipa::path(
    get, path = "/_soundcheck/tenants/{tenant}/clock", tag = "Time", operation_id = "getClock",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`.")),
    responses(
        (status = 200, description = "The clock.", body = ClockView),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `GET /_soundcheck/tenants/{id}/clock`
pub async fn get(
    State(state): State<ControlState>,
    ExistingTenant(tenant): ExistingTenant,
) -> Result<Json<ClockView>> {
    Ok(Json(ClockView::of(&state.core.clocks.get(&tenant))))
}

#[utoipa::path(
    post, path = "/_soundcheck/tenants/{tenant}/clock", tag = "Time", operation_id = "setClock",
    description = "Freeze or run (applied first), jump to `at`, then `advance`. Everything that became due runs before the answer. A tenant's clock shows instants from 1970-01-01T00:00:00.000Z to 2499-12-31T23:59:59.999Z, the range every endpoint of both APIs handles: a change that would leave it is refused with 400 `validation_error` naming the field and the range, and nothing moves; a running clock that reaches the last instant stays there.",
    params(("tenant" = String, Path, description = "The tenant's id, or `default`.")),
    request_body(content = ClockChange, content_type = "application/json"),
    responses(
        (status = 200, description = "The clock, and what ran.", body = ClockAnswer),
        (status = 400, description = "The body is not JSON, or a field is missing, mistyped or out of range.", body = crate::musique::docs::MusiqueError),
        (status = 404, description = "No such tenant.", body = crate::musique::docs::MusiqueError)
    )
)]
/// `POST /_soundcheck/tenants/{id}/clock`
pub async fn set(
    State(state): State<ControlState>,
    TenantBody(tenant, JsonValue(body)): TenantBody<JsonValue>,
) -> Result<Json<ClockAnswer>> {
    let change: ClockChange = parse_body(body)?;
    let at_ms = change
        .at
        .as_deref()
        .map(|at| {
            let ms = chrono::DateTime::parse_from_rfc3339(at)
                .map(|d| d.timestamp_millis())
                .map_err(|_| Error::validation(format!("`at` must be an RFC 3339 instant; got {at:?}.")))?;
            if !in_range(ms) {
                return Err(Error::validation(format!(
                    "`at` must be an instant from {INSTANT_RANGE}; got {at:?}."
                )));
            }
            Ok(ms)
        })
        .transpose()?;
    let advance_ms = duration_field("advance", change.advance.as_deref(), change.advance_ms)?;
    if change.frozen.is_none() && at_ms.is_none() && advance_ms.is_none() {
        return Err(Error::validation(
            "Say what to change: `at`, `advance`, `advanceMs` or `frozen`.",
        ));
    }

    let clock = state.core.clocks.get(&tenant);
    let advance_name = if change.advance.is_some() {
        "advance"
    } else {
        "advanceMs"
    };
    check_advance(at_ms.unwrap_or_else(|| clock.now_ms()), advance_ms, advance_name)?;
    match change.frozen {
        Some(true) => clock.freeze(),
        Some(false) => clock.resume(),
        None => {}
    }
    if let Some(at) = at_ms {
        clock.set_ms(at);
    }
    if let Some(by) = advance_ms {
        clock.advance_ms(by);
    }
    let (offset, frozen) = clock.persisted();
    store::save_clock(&state.core.db, &tenant, offset, frozen).await?;
    let companies = store::company_ids(&state.core.db, &tenant).await?;
    let mut ran = state
        .musique
        .deliveries
        .advance_companies(&state.core.db, &companies, clock.now_ms())
        .await?;
    // Webhook attempts that came due (new events and retries) go out before the answer.
    // A receiver that never answers must not hold the clock: past the budget, the attempts
    // go on in the background (an attempt cut short is retried: delivery is at least once).
    if state.webhooks.has(&tenant) {
        let dispatch = webhooks::dispatch(&state, Some(&tenant));
        match tokio::time::timeout(webhooks::CLOCK_DISPATCH_BUDGET, dispatch).await {
            Ok(attempts) => ran.webhook_attempts = attempts? as u64,
            Err(_) => state.webhooks.wake.notify_one(),
        }
    }
    Ok(Json(ClockAnswer {
        clock: ClockView::of(&clock),
        ran,
    }))
}

/// Refuses an advance that would take the clock outside the instants every endpoint handles,
/// naming the field and the range; nothing moves then.
fn check_advance(from_ms: i64, advance_ms: Option<i64>, name: &str) -> Result<()> {
    match advance_ms.map(|by| from_ms.checked_add(by)) {
        Some(Some(target)) if !in_range(target) => Err(Error::validation(format!(
            "`{name}` would take the clock from {} to {}, outside {INSTANT_RANGE}; the clock did not move.",
            rfc3339_ms(from_ms),
            rfc3339_ms(target)
        ))),
        Some(None) => Err(Error::validation(format!(
            "`{name}` would take the clock far outside {INSTANT_RANGE}; the clock did not move."
        ))),
        _ => Ok(()),
    }
}

/// A duration given as text (`name`) or as milliseconds (`nameMs`), not both.
pub fn duration_field(name: &str, text: Option<&str>, ms: Option<i64>) -> Result<Option<i64>> {
    match (text, ms) {
        (Some(_), Some(_)) => Err(Error::validation(format!(
            "Give `{name}` or `{name}Ms`, not both."
        ))),
        (Some(text), None) => parse_duration_ms(text).map(Some).ok_or_else(|| {
            Error::validation(format!(
                "`{name}` must be a duration such as 90s, 1h30m, 250ms or 2d; got {text:?}."
            ))
        }),
        (None, ms) => Ok(ms),
    }
}
