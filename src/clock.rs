//! The one clock: each tenant reads real time shifted by an offset, or a frozen instant.
//!
//! Everything time-based (rate-limit windows, schedules, timestamps, quotas, visibility) reads
//! a tenant's [`TenantClock`], so tests move time instead of sleeping.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::sync::RwLockExt;
use chrono::{DateTime, SecondsFormat, Utc};

/// Marks "not frozen" in [`TenantClock::frozen_ms`].
const RUNNING: i64 = i64::MIN;

/// The earliest instant a tenant's clock shows: 1970-01-01T00:00:00.000Z. Musique's
/// `X-RateLimit-Reset` is Unix seconds, and the limiter counts up from the epoch.
pub const FIRST_INSTANT_MS: i64 = 0;
/// The latest: 2499-12-31T23:59:59.999Z. governor counts a window's time in u64 nanoseconds
/// from the limiter's creation, 584 years at most; 530 years from 1970 leave a day's window on
/// top, and whatever is dated from the clock (a send's plays, webhook retries, month resets)
/// keeps a four-digit year in RFC 3339.
pub const LAST_INSTANT_MS: i64 = 16_725_225_599_999;
// The distance between any two readings, plus a day's window, fits governor's nanoseconds.
const _: () =
    assert!((LAST_INSTANT_MS - FIRST_INSTANT_MS + 2 * 86_400_000) as u128 * 1_000_000 <= u64::MAX as u128);

/// The range, as refusals and the documents name it.
pub const INSTANT_RANGE: &str = "1970-01-01T00:00:00.000Z to 2499-12-31T23:59:59.999Z";

/// Whether a tenant's clock can show this instant.
pub fn in_range(ms: i64) -> bool {
    (FIRST_INSTANT_MS..=LAST_INSTANT_MS).contains(&ms)
}

/// A tenant's view of time, in milliseconds since the Unix epoch.
#[derive(Debug)]
pub struct TenantClock {
    offset_ms: AtomicI64,
    frozen_ms: AtomicI64,
}

impl TenantClock {
    pub fn new(offset_ms: i64, frozen_ms: Option<i64>) -> Self {
        TenantClock {
            offset_ms: AtomicI64::new(offset_ms),
            frozen_ms: AtomicI64::new(frozen_ms.map_or(RUNNING, clamp)),
        }
    }

    /// A clock the database kept. One stored by an older version may lie outside the range:
    /// it is brought to the nearest edge, and the log says so.
    pub fn load(tenant: &str, offset_ms: i64, frozen_ms: Option<i64>) -> Self {
        let (offset, frozen) = within_range(offset_ms, frozen_ms);
        if (offset, frozen) != (offset_ms, frozen_ms) {
            tracing::warn!(
                tenant,
                offset_ms,
                frozen_ms,
                "a stored clock lies outside {INSTANT_RANGE}; it is moved to the nearest edge"
            );
        }
        TenantClock::new(offset, frozen)
    }

    /// Never outside [`FIRST_INSTANT_MS`]..=[`LAST_INSTANT_MS`]: a running clock that reaches
    /// the last instant stays there.
    pub fn now_ms(&self) -> i64 {
        match self.frozen_ms.load(Ordering::Acquire) {
            RUNNING => clamp(real_now_ms().saturating_add(self.offset_ms.load(Ordering::Acquire))),
            frozen => frozen,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        from_ms(self.now_ms())
    }

    pub fn is_frozen(&self) -> bool {
        self.frozen_ms.load(Ordering::Acquire) != RUNNING
    }

    /// Jumps to `instant`; a frozen clock stays frozen there, a running one runs on from it.
    pub fn set_ms(&self, instant_ms: i64) {
        let instant_ms = clamp(instant_ms);
        if self.is_frozen() {
            self.frozen_ms.store(instant_ms, Ordering::Release);
        } else {
            self.offset_ms
                .store(instant_ms.saturating_sub(real_now_ms()), Ordering::Release);
        }
    }

    /// Moves the clock forward (or back, for a negative amount).
    pub fn advance_ms(&self, by_ms: i64) {
        self.set_ms(self.now_ms().saturating_add(by_ms));
    }

    /// Stops the clock at its current reading.
    pub fn freeze(&self) {
        let now = self.now_ms();
        self.frozen_ms.store(now, Ordering::Release);
    }

    /// Lets a frozen clock run again from where it stands.
    pub fn resume(&self) {
        let now = self.now_ms();
        self.offset_ms
            .store(now.saturating_sub(real_now_ms()), Ordering::Release);
        self.frozen_ms.store(RUNNING, Ordering::Release);
    }

    /// Puts back a state the database kept (a tenant's reset).
    pub fn restore(&self, offset_ms: i64, frozen_ms: Option<i64>) {
        let (offset_ms, frozen_ms) = within_range(offset_ms, frozen_ms);
        self.offset_ms.store(offset_ms, Ordering::Release);
        self.frozen_ms
            .store(frozen_ms.unwrap_or(RUNNING), Ordering::Release);
    }

    /// What the database keeps: `(offset_ms, frozen_ms)`.
    pub fn persisted(&self) -> (i64, Option<i64>) {
        let frozen = self.frozen_ms.load(Ordering::Acquire);
        let frozen = (frozen != RUNNING).then_some(frozen);
        (self.offset_ms.load(Ordering::Acquire), frozen)
    }
}

fn clamp(ms: i64) -> i64 {
    ms.clamp(FIRST_INSTANT_MS, LAST_INSTANT_MS)
}

/// A stored `(offset_ms, frozen_ms)` brought inside the range, running clocks by today's time.
fn within_range(offset_ms: i64, frozen_ms: Option<i64>) -> (i64, Option<i64>) {
    let real = real_now_ms();
    let now = real.saturating_add(offset_ms);
    let offset_ms = if in_range(now) {
        offset_ms
    } else {
        clamp(now) - real
    };
    (offset_ms, frozen_ms.map(clamp))
}

/// governor reads the tenant's clock too, so rate-limit windows reopen when a test moves time.
#[derive(Clone, Debug)]
pub struct LimiterClock(pub Arc<TenantClock>);

impl governor::clock::Clock for LimiterClock {
    type Instant = Duration;

    /// Time since the epoch, within the clock's range whatever the clock says: governor turns
    /// the distance between two readings into u64 nanoseconds and panics past 584 years.
    fn now(&self) -> Duration {
        Duration::from_millis(clamp(self.0.now_ms()).unsigned_abs())
    }
}

/// Every tenant's clock, by tenant id.
#[derive(Clone, Debug, Default)]
pub struct Clocks {
    inner: Arc<RwLock<HashMap<String, Arc<TenantClock>>>>,
}

impl Clocks {
    /// The tenant's clock; a tenant seen for the first time gets real time.
    pub fn get(&self, tenant: &str) -> Arc<TenantClock> {
        if let Some(clock) = self.read().get(tenant) {
            return clock.clone();
        }
        let mut map = self.inner.write_locked();
        map.entry(tenant.to_owned())
            .or_insert_with(|| Arc::new(TenantClock::new(0, None)))
            .clone()
    }

    /// The tenant's clock; one this process has not met yet (a tenant the CLI made) starts
    /// from what the database holds.
    pub fn get_or_load(&self, tenant: &str, offset_ms: i64, frozen_ms: Option<i64>) -> Arc<TenantClock> {
        if let Some(clock) = self.read().get(tenant) {
            return clock.clone();
        }
        let mut map = self.inner.write_locked();
        map.entry(tenant.to_owned())
            .or_insert_with(|| Arc::new(TenantClock::load(tenant, offset_ms, frozen_ms)))
            .clone()
    }

    pub fn insert(&self, tenant: &str, clock: TenantClock) -> Arc<TenantClock> {
        let clock = Arc::new(clock);
        let mut map = self.inner.write_locked();
        map.insert(tenant.to_owned(), clock.clone());
        clock
    }

    pub fn remove(&self, tenant: &str) {
        let mut map = self.inner.write_locked();
        map.remove(tenant);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<TenantClock>>> {
        // A poisoned lock only means a panic elsewhere; the map itself is still whole.
        self.inner.read_locked()
    }
}

pub fn real_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// RFC 3339 in UTC with milliseconds and `Z`, the shape JavaScript's `toISOString` gives.
pub fn rfc3339_ms(ms: i64) -> String {
    from_ms(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An instant serialized as [`rfc3339_ms`] writes it, from a buffer on the stack: a page of
/// twenty audio objects then allocates no timestamps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rfc3339Ms(pub i64);

impl Rfc3339Ms {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, or `None` outside years 0–9999 (written with a sign).
    fn write(self, buf: &mut [u8; 24]) -> Option<&str> {
        use chrono::{Datelike, Timelike};
        let at = from_ms(self.0);
        let year = u32::try_from(at.year()).ok().filter(|y| *y <= 9999)?;
        let fields = [
            (0, 4, year),
            (5, 2, at.month()),
            (8, 2, at.day()),
            (11, 2, at.hour()),
            (14, 2, at.minute()),
            (17, 2, at.second()),
            (20, 3, at.timestamp_subsec_millis()),
        ];
        *buf = *b"0000-00-00T00:00:00.000Z";
        for (start, width, mut value) in fields {
            for digit in buf[start..start + width].iter_mut().rev() {
                *digit = b'0' + (value % 10) as u8;
                value /= 10;
            }
        }
        std::str::from_utf8(buf).ok()
    }
}

impl serde::Serialize for Rfc3339Ms {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.write(&mut [0; 24]) {
            Some(text) => serializer.serialize_str(text),
            None => serializer.serialize_str(&rfc3339_ms(self.0)),
        }
    }
}

/// `90s`, `1h30m`, `250ms`, `2d`, `-5m`: units d, h, m, s, ms, in any combination.
pub fn parse_duration_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let (sign, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text),
    };
    if rest.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let number: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit_ms = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add(number.checked_mul(unit_ms)?)?;
    }
    Some(sign * total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_any_combination_of_units() {
        assert_eq!(parse_duration_ms("90s"), Some(90_000));
        assert_eq!(parse_duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration_ms("250ms"), Some(250));
        assert_eq!(parse_duration_ms("2d"), Some(172_800_000));
        assert_eq!(parse_duration_ms("-5m"), Some(-300_000));
        for bad in ["", "-", "5", "m", "5x", "1.5h", "5 m", "99999999999999999999d"] {
            assert_eq!(parse_duration_ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rfc3339_from_the_stack_matches_chrono() {
        let year_9999_end = 253_402_300_799_999;
        let instants = [
            0,
            1,
            999,
            1_000,
            59_999,
            951_782_400_000,   // 2000-02-29
            1_767_225_599_999, // 2025-12-31T23:59:59.999
            1_795_000_123_456,
            year_9999_end,
            -1,
            -62_167_219_200_000, // year 0
            year_9999_end + 1,   // +10000
            -62_167_219_200_001, // year -1
            i64::MAX,
            i64::MIN,
        ];
        for ms in instants
            .into_iter()
            .chain((0..2_000).map(|i| i * 7_919_876_543_211))
        {
            let json = serde_json::to_string(&Rfc3339Ms(ms)).expect("a string");
            assert_eq!(json, format!("\"{}\"", rfc3339_ms(ms)), "{ms}");
        }
    }

    #[test]
    fn a_frozen_clock_stands_still_and_moves_only_when_told() {
        let clock = TenantClock::new(0, Some(1_000_000));
        assert_eq!(clock.now_ms(), 1_000_000);
        clock.advance_ms(61_000);
        assert_eq!(clock.now_ms(), 1_061_000);
        clock.set_ms(5);
        assert_eq!(clock.now_ms(), 5);
    }

    #[test]
    fn a_running_clock_keeps_its_offset_when_resumed() {
        let clock = TenantClock::new(0, None);
        clock.advance_ms(86_400_000);
        let ahead = clock.now_ms() - real_now_ms();
        assert!((86_399_000..=86_401_000).contains(&ahead), "offset {ahead}");
        clock.freeze();
        let frozen = clock.now_ms();
        clock.resume();
        assert!(clock.now_ms() >= frozen);
        assert!(!clock.is_frozen());
    }

    #[test]
    fn the_range_is_what_it_says() {
        assert_eq!(rfc3339_ms(FIRST_INSTANT_MS), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(LAST_INSTANT_MS), "2499-12-31T23:59:59.999Z");
        assert_eq!(
            INSTANT_RANGE,
            format!(
                "{} to {}",
                rfc3339_ms(FIRST_INSTANT_MS),
                rfc3339_ms(LAST_INSTANT_MS)
            )
        );
        assert!(in_range(FIRST_INSTANT_MS) && in_range(LAST_INSTANT_MS));
        assert!(!in_range(FIRST_INSTANT_MS - 1) && !in_range(LAST_INSTANT_MS + 1));
    }

    #[test]
    fn no_clock_reads_outside_the_range() {
        let frozen = TenantClock::new(0, Some(i64::MAX));
        assert_eq!(frozen.now_ms(), LAST_INSTANT_MS);
        frozen.set_ms(-5);
        assert_eq!(frozen.now_ms(), FIRST_INSTANT_MS);
        frozen.advance_ms(i64::MAX);
        assert_eq!(frozen.now_ms(), LAST_INSTANT_MS);
        frozen.restore(0, Some(i64::MIN + 1));
        assert_eq!(frozen.now_ms(), FIRST_INSTANT_MS);

        // A running clock that reaches the last instant stays there.
        let running = TenantClock::new(LAST_INSTANT_MS, None);
        assert_eq!(running.now_ms(), LAST_INSTANT_MS);
        running.freeze();
        assert_eq!(running.now_ms(), LAST_INSTANT_MS);
        let behind = TenantClock::new(i64::MIN, None);
        assert_eq!(behind.now_ms(), FIRST_INSTANT_MS);
    }

    #[test]
    fn a_stored_clock_outside_the_range_loads_at_the_nearest_edge() {
        let frozen = TenantClock::load("t", 0, Some(20_000_000_000_000));
        assert_eq!(frozen.persisted(), (0, Some(LAST_INSTANT_MS)));
        let running = TenantClock::load("t", 20_000_000_000_000, None);
        let (offset, frozen) = running.persisted();
        assert_eq!(frozen, None);
        let ahead = offset + real_now_ms() - LAST_INSTANT_MS;
        assert!((-1_000..=0).contains(&ahead), "{ahead}");
        let before = TenantClock::load("t", -real_now_ms() - 1, None);
        assert!(before.persisted().0 >= -real_now_ms());
        // One inside the range loads as it was stored.
        assert_eq!(TenantClock::load("t", 5, Some(7)).persisted(), (5, Some(7)));
    }

    #[test]
    fn timestamps_are_utc_with_millis_and_z() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_795_000_000_123), "2026-11-18T11:06:40.123Z");
    }
}
