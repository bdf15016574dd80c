//! Musique's per-key minute/hour/day limits on governor (GCRA), and the header triple.
//!
//! governor keeps each window's state in a store of ours, so that a request refused by one
//! window can be given back to the windows that had already let it through: refused requests
//! consume nothing (spec §4), and so that a restart can pick a key up where it stood: the
//! state is written behind to SQLite ([`store`]), never from the hot path. Every limiter reads
//! the tenant's clock, and a clock moved back makes its windows stand still.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use governor::clock::Clock as _;
use governor::middleware::StateInformationMiddleware;
use governor::nanos::Nanos;
use governor::state::{NotKeyed, StateStore};
use governor::{Quota, RateLimiter};

use crate::clock::{LimiterClock, TenantClock};
use crate::sync::MutexExt;

pub mod store;

/// A key's three limits; the documented defaults are 100 / 1,000 / 10,000.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    pub per_minute: u32,
    pub per_hour: u32,
    pub per_day: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_minute: 100,
            per_hour: 1_000,
            per_day: 10_000,
        }
    }
}

impl std::str::FromStr for Limits {
    type Err = String;

    /// `minute/hour/day`, e.g. `100/1000/10000`.
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let [m, h, d] = parts.as_slice() else {
            return Err(format!(
                "limits must be minute/hour/day, e.g. 100/1000/10000, not {s:?}"
            ));
        };
        let parse = |v: &str| -> Result<u32, String> {
            match v.trim().parse::<u32>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(format!("each limit must be a whole number ≥ 1, not {v:?}")),
            }
        };
        Ok(Limits {
            per_minute: parse(m)?,
            per_hour: parse(h)?,
            per_day: parse(d)?,
        })
    }
}

/// The values of `X-RateLimit-Limit`, `-Remaining` and `-Reset` (Unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateInfo {
    pub limit: u32,
    pub remaining: u32,
    pub reset_epoch_secs: i64,
}

impl RateInfo {
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        // Names made once, not parsed from text on every response.
        static LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
        static REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
        static RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
        headers.insert(&LIMIT, LAST_LIMIT.with(|last| last.value(i64::from(self.limit))));
        headers.insert(&REMAINING, HeaderValue::from(self.remaining));
        headers.insert(&RESET, LAST_RESET.with(|last| last.value(self.reset_epoch_secs)));
    }
}

thread_local! {
    /// The limit and the reset second a thread wrote last: a key's limit stays the same and its
    /// reset moves once a second, so nearly every response shares the last one's header value
    /// (a reference count) instead of allocating it.
    static LAST_LIMIT: LastValue = const { LastValue(std::cell::RefCell::new(None)) };
    static LAST_RESET: LastValue = const { LastValue(std::cell::RefCell::new(None)) };
}

/// The header value of the number a thread wrote last.
struct LastValue(std::cell::RefCell<Option<(i64, HeaderValue)>>);

impl LastValue {
    fn value(&self, n: i64) -> HeaderValue {
        let mut last = self.0.borrow_mut();
        match &*last {
            Some((m, value)) if *m == n => value.clone(),
            _ => {
                let value = HeaderValue::from(n);
                *last = Some((n, value.clone()));
                value
            }
        }
    }
}

/// A refusal: the window that refused, and how long until it lets one request through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    pub info: RateInfo,
    pub retry_after_secs: u64,
}

/// One window as it stands, read without counting a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowUsage {
    pub limit: u32,
    /// What is counted against the window now: `limit - remaining`. GCRA lets requests drip
    /// back one by one (every 0.6 s in a 100-a-minute window), so this is not a count since
    /// some fixed instant.
    pub used: u32,
    pub remaining: u32,
    /// When the window is whole again, Unix seconds rounded up, as `X-RateLimit-Reset` says.
    pub reset_epoch_secs: i64,
}

/// A key's minute, hour and day windows, read without counting a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    pub per_minute: WindowUsage,
    pub per_hour: WindowUsage,
    pub per_day: WindowUsage,
}

impl Usage {
    /// The header triple of these windows, chosen as [`KeyLimiter::check`] chooses it: the
    /// window with the fewest requests remaining, on a tie the shortest.
    pub fn rate_info(&self) -> RateInfo {
        let tightest = [self.per_minute, self.per_hour, self.per_day]
            .into_iter()
            .min_by_key(|w| w.remaining)
            .unwrap_or(self.per_minute);
        RateInfo {
            limit: tightest.limit,
            remaining: tightest.remaining,
            reset_epoch_secs: tightest.reset_epoch_secs,
        }
    }
}

/// One window's GCRA state (the theoretical arrival time), readable and restorable by us.
#[derive(Clone, Debug, Default)]
struct Tat(Arc<Mutex<Option<Nanos>>>);

impl Tat {
    fn get(&self) -> Option<Nanos> {
        *self.0.locked()
    }

    fn set(&self, value: Option<Nanos>) {
        *self.0.locked() = value;
    }
}

impl StateStore for Tat {
    type Key = NotKeyed;

    fn measure_and_replace<T, F, E>(&self, _key: &NotKeyed, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut slot = self.0.locked();
        let (outcome, next) = f(*slot)?;
        *slot = Some(next);
        Ok(outcome)
    }
}

struct Window {
    limit: u32,
    period: Duration,
    quota: Quota,
    tat: Tat,
    /// governor's first reading, which it counts from (its `start`, kept to itself).
    start_ms: i64,
    limiter: RateLimiter<NotKeyed, Tat, LimiterClock, StateInformationMiddleware>,
}

impl Window {
    fn new(limit: u32, period: Duration, clock: &LimiterClock) -> Window {
        let limit = limit.max(1);
        let burst = NonZeroU32::new(limit).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period / limit)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        let tat = Tat::default();
        let (start_ms, limiter) = governed(quota, &tat, clock);
        Window {
            limit,
            period,
            quota,
            tat,
            start_ms,
            limiter,
        }
    }

    /// How far past `now_ms` the window's TAT lies, in nanoseconds; `None` when it is whole.
    fn ahead_ns(&self, now_ms: i64) -> Option<i64> {
        let tat = i128::from(self.tat.get()?.as_u64());
        let elapsed = i128::from(now_ms.saturating_sub(self.start_ms).max(0)) * 1_000_000;
        let ahead = tat - elapsed;
        (ahead > 0).then(|| i64::try_from(ahead).unwrap_or(i64::MAX))
    }

    /// Counts afresh from the clock's reading, with what lay ahead of `seen_ms` now ahead of
    /// the reading: the clock went back, and for the window time stood still.
    fn rebase(&mut self, seen_ms: i64, clock: &LimiterClock) {
        let ahead = self.ahead_ns(seen_ms);
        (self.start_ms, self.limiter) = governed(self.quota, &self.tat, clock);
        self.tat.set(None);
        self.restore(self.start_ms, ahead);
    }

    /// Puts back a TAT that lay `ahead_ns` past `at_ms`, whatever the database says: no
    /// further than a period past it (GCRA never gets further), and drained by the time since
    /// `at_ms`, none if the clock now stands before it (time stood still for the window).
    fn restore(&self, at_ms: i64, ahead_ns: Option<i64>) {
        let Some(ahead) = ahead_ns.filter(|a| *a > 0) else {
            return;
        };
        let period_ns = i128::try_from(self.period.as_nanos()).unwrap_or(i128::MAX);
        let elapsed = i128::from(self.start_ms.saturating_sub(at_ms).max(0)) * 1_000_000;
        let tat = i128::from(ahead).min(period_ns) - elapsed;
        if let Ok(tat) = u64::try_from(tat) {
            self.tat.set((tat > 0).then_some(Nanos::from(tat)));
        }
    }

    /// When the window holds its whole allowance again, in Unix seconds (rounded up).
    fn full_again_secs(&self, now_ms: i64) -> i64 {
        let full_ms = match self.tat.get() {
            Some(tat) => self.start_ms + i64::try_from(tat.as_u64() / 1_000_000).unwrap_or(0),
            None => now_ms,
        };
        full_ms.max(now_ms).div_euclid(1000) + i64::from(full_ms.max(now_ms).rem_euclid(1000) > 0)
    }
}

/// A governor limiter over `tat`, and the reading it counts from: the clock is read on both
/// sides, so that the reading is governor's own (a running clock may tick in between).
fn governed(
    quota: Quota,
    tat: &Tat,
    clock: &LimiterClock,
) -> (
    i64,
    RateLimiter<NotKeyed, Tat, LimiterClock, StateInformationMiddleware>,
) {
    let mut tries = 0;
    loop {
        let start = clock.now();
        let limiter = RateLimiter::new(quota, tat.clone(), clock.clone());
        tries += 1;
        if clock.now() == start || tries == 3 {
            return (duration_ms(start), limiter);
        }
    }
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// What the database keeps of a key's windows: for the minute, hour and day window, how far
/// its theoretical arrival time (the instant the window is whole again) lay past `at_ms` on
/// the tenant's clock, in nanoseconds; `None` for a whole window. A limiter restored from it
/// continues as if it had never stopped: drained by the time the tenant's clock moved on
/// since `at_ms`, untouched if the clock was moved back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SavedWindows {
    pub at_ms: i64,
    pub ahead_ns: [Option<i64>; 3],
}

/// The minute, hour and day windows, and the clock's last reading.
struct Windows {
    each: [Window; 3],
    seen_ms: i64,
}

impl Windows {
    /// The clock's reading. A clock moved back (by the control plane, or between a save and a
    /// restore) gives nothing back and takes nothing: for the windows, time stood still. So
    /// governor never reads an instant before its first, and no window ends more than its
    /// period from now.
    fn settle(&mut self, clock: &LimiterClock) -> i64 {
        let now_ms = duration_ms(clock.now());
        if now_ms < self.seen_ms {
            for window in &mut self.each {
                window.rebase(self.seen_ms, clock);
            }
        }
        self.seen_ms = now_ms;
        now_ms
    }
}

/// The three windows of one key.
pub struct KeyLimiter {
    // One lock holds the three checks together, so that a refund never races another request.
    windows: Mutex<Windows>,
    clock: LimiterClock,
    /// Counted something since the last [`Self::saved`]: the write-behind has work.
    dirty: AtomicBool,
}

impl std::fmt::Debug for KeyLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyLimiter").finish_non_exhaustive()
    }
}

impl KeyLimiter {
    pub fn new(limits: Limits, clock: Arc<TenantClock>) -> KeyLimiter {
        let clock = LimiterClock(clock);
        let each = [
            Window::new(limits.per_minute, Duration::from_secs(60), &clock),
            Window::new(limits.per_hour, Duration::from_secs(3_600), &clock),
            Window::new(limits.per_day, Duration::from_secs(86_400), &clock),
        ];
        let seen_ms = each.iter().map(|w| w.start_ms).max().unwrap_or(0);
        KeyLimiter {
            windows: Mutex::new(Windows { each, seen_ms }),
            clock,
            dirty: AtomicBool::new(false),
        }
    }

    /// A key's limiter that continues from what the database kept.
    pub fn restored(limits: Limits, clock: Arc<TenantClock>, saved: &SavedWindows) -> KeyLimiter {
        let limiter = KeyLimiter::new(limits, clock);
        for (window, ahead) in limiter.lock().each.iter().zip(saved.ahead_ns) {
            window.restore(saved.at_ms, ahead);
        }
        limiter
    }

    /// The windows as the database keeps them, if anything was counted since the last call
    /// (a failed write must call [`Self::mark_dirty`] to be tried again).
    pub fn saved(&self) -> Option<SavedWindows> {
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return None;
        }
        let mut windows = self.lock();
        let at_ms = windows.settle(&self.clock);
        Some(SavedWindows {
            at_ms,
            ahead_ns: windows.each.each_ref().map(|w| w.ahead_ns(at_ms)),
        })
    }

    pub fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Release);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Windows> {
        self.windows.locked()
    }

    /// Counts one request against every window, or against none if any window refuses.
    pub fn check(&self) -> Result<RateInfo, Refused> {
        let mut windows = self.lock();
        let now_ms = windows.settle(&self.clock);
        let windows = &windows.each;
        let before = windows.each_ref().map(|w| w.tat.get());
        let outcomes = windows.each_ref().map(|w| w.limiter.check());

        if outcomes.iter().any(Result::is_err) {
            for (window, tat) in windows.iter().zip(before) {
                window.tat.set(tat);
            }
            // Of the refusing windows, the one that keeps the client waiting longest.
            let now = self.clock.now();
            let refusal = windows
                .iter()
                .zip(&outcomes)
                .filter_map(|(w, o)| o.as_ref().err().map(|nu| (w, nu.wait_time_from(now))))
                .max_by_key(|(w, wait)| (*wait, w.period));
            if let Some((window, wait)) = refusal {
                let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                return Err(Refused {
                    info: RateInfo {
                        limit: window.limit,
                        remaining: 0,
                        reset_epoch_secs: window.full_again_secs(now_ms),
                    },
                    retry_after_secs: retry_after_secs.max(1),
                });
            }
        }

        self.dirty.store(true, Ordering::Release);
        // The window with the fewest requests left; on a tie the shortest, which comes first.
        let (window, remaining) = windows
            .iter()
            .zip(&outcomes)
            .map(|(w, o)| (w, o.as_ref().map_or(0, |s| s.remaining_burst_capacity())))
            .min_by_key(|(_, remaining)| *remaining)
            .unwrap_or((&windows[0], 0));
        Ok(RateInfo {
            limit: window.limit,
            remaining,
            reset_epoch_secs: window.full_again_secs(now_ms),
        })
    }

    /// Every window as it stands now, counting nothing. Each window is asked by governor
    /// itself (one probe, then its state is put back, under the same lock as [`Self::check`]),
    /// so the numbers are exactly those the next `check` would start from.
    pub fn usage(&self) -> Usage {
        let mut windows = self.lock();
        let now_ms = windows.settle(&self.clock);
        let [per_minute, per_hour, per_day] = windows.each.each_ref().map(|w| {
            let before = w.tat.get();
            // Capacity after the probe, plus the probe itself; a refusal means none is left.
            let remaining = w
                .limiter
                .check()
                .map_or(0, |s| s.remaining_burst_capacity().saturating_add(1))
                .min(w.limit);
            w.tat.set(before);
            WindowUsage {
                limit: w.limit,
                used: w.limit - remaining,
                remaining,
                reset_epoch_secs: w.full_again_secs(now_ms),
            }
        });
        Usage {
            per_minute,
            per_hour,
            per_day,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{FIRST_INSTANT_MS, LAST_INSTANT_MS};

    #[test]
    fn the_headers_follow_every_change_of_limit_remaining_and_reset() {
        let written = |limit, remaining, reset_epoch_secs| {
            let mut headers = HeaderMap::new();
            RateInfo {
                limit,
                remaining,
                reset_epoch_secs,
            }
            .write_headers(&mut headers);
            ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"]
                .map(|name| headers[name].to_str().unwrap_or_default().to_owned())
        };
        assert_eq!(written(100, 99, 1_700_000_060), ["100", "99", "1700000060"]);
        assert_eq!(written(100, 98, 1_700_000_060), ["100", "98", "1700000060"]);
        assert_eq!(written(100, 98, 1_700_000_061), ["100", "98", "1700000061"]);
        assert_eq!(written(1000, 0, 1_700_000_061), ["1000", "0", "1700000061"]);
        assert_eq!(written(100, 5, 1_700_000_060), ["100", "5", "1700000060"]);
    }

    const T0: i64 = 1_800_000_000_000;

    fn limiter(limits: &str) -> (KeyLimiter, Arc<TenantClock>) {
        let clock = Arc::new(TenantClock::new(0, Some(T0)));
        let limits = limits.parse().expect("limits");
        (KeyLimiter::new(limits, clock.clone()), clock)
    }

    #[test]
    fn the_101st_request_in_a_minute_is_refused_until_the_clock_moves() {
        let (limiter, clock) = limiter("100/1000/10000");
        for n in 1..=100 {
            let info = limiter.check().expect("within the limit");
            assert_eq!(info.limit, 100);
            assert_eq!(info.remaining, 100 - n);
        }
        let refused = limiter.check().expect_err("101st");
        assert_eq!(refused.info.remaining, 0);
        assert_eq!(refused.retry_after_secs, 1, "one request drips back every 0.6 s");
        assert_eq!(refused.info.reset_epoch_secs, T0 / 1000 + 60);

        clock.advance_ms(60_000);
        let info = limiter.check().expect("the window reopened");
        assert_eq!(info.remaining, 99);
    }

    #[test]
    fn a_refused_request_consumes_nothing_in_any_window() {
        let (limiter, clock) = limiter("5/6/100");
        for _ in 0..5 {
            limiter.check().expect("ok");
        }
        for _ in 0..10 {
            limiter.check().expect_err("minute window full");
        }
        clock.advance_ms(60_000);
        // The hour window saw 5 requests, not 15: one more fits, then it refuses.
        let info = limiter.check().expect("hour window has room for one");
        assert_eq!((info.limit, info.remaining), (6, 0));
        let refused = limiter.check().expect_err("hour window full");
        assert_eq!(refused.info.limit, 6);
        // One request drips back every 10 minutes, counted from the first one at T0.
        assert_eq!(refused.retry_after_secs, 540);
    }

    #[test]
    fn headers_report_the_window_with_fewest_remaining() {
        let (limiter, _clock) = limiter("100/3/10000");
        let info = limiter.check().expect("ok");
        assert_eq!((info.limit, info.remaining), (3, 2));
    }

    #[test]
    fn usage_reads_every_window_without_counting_and_agrees_with_check() {
        let (limiter, clock) = limiter("100/1000/10000");
        let fresh = limiter.usage();
        assert_eq!((fresh.per_minute.used, fresh.per_minute.remaining), (0, 100));
        assert_eq!(fresh.per_day.remaining, 10_000);
        let mut info = limiter.check().expect("ok");
        for _ in 0..3 {
            info = limiter.check().expect("ok");
        }
        let usage = limiter.usage();
        assert_eq!(limiter.usage(), usage, "reading counts nothing");
        assert_eq!((usage.per_minute.used, usage.per_minute.remaining), (4, 96));
        assert_eq!((usage.per_hour.used, usage.per_hour.remaining), (4, 996));
        assert_eq!((usage.per_day.used, usage.per_day.remaining), (4, 9_996));
        assert_eq!(
            usage.rate_info(),
            info,
            "the same triple as the last check reported"
        );
        // Four requests drip back 0.6 s apart: whole again at T0 + 2.4 s, rounded up.
        assert_eq!(usage.per_minute.reset_epoch_secs, T0 / 1000 + 3);
        assert_eq!(limiter.check().expect("ok").remaining, 95);

        // Requests drip back one by one: 2 s on, 3 of the 5 are back in the minute window
        // (one every 0.6 s) and none in the hour window (one every 3.6 s, after the others).
        clock.advance_ms(2_000);
        let later = limiter.usage();
        assert_eq!(later.per_minute.used, 2);
        assert_eq!(later.per_hour.used, 5);
        clock.advance_ms(60_000);
        assert_eq!(limiter.usage().per_minute.used, 0);
    }

    #[test]
    fn usage_of_a_full_window_is_zero_remaining_and_the_triple_names_it() {
        let (limiter, _clock) = limiter("2/100/1000");
        limiter.check().expect("ok");
        limiter.check().expect("ok");
        limiter.check().expect_err("full");
        let usage = limiter.usage();
        assert_eq!((usage.per_minute.used, usage.per_minute.remaining), (2, 0));
        assert_eq!(usage.per_hour.used, 2, "the refused request counted nowhere");
        assert_eq!(usage.rate_info().limit, 2);
    }

    #[test]
    fn the_limiter_works_at_both_edges_of_the_clock_and_across_them() {
        let clock = Arc::new(TenantClock::new(0, Some(FIRST_INSTANT_MS)));
        let limiter = KeyLimiter::new("2/100/1000".parse().expect("limits"), clock.clone());
        let info = limiter.check().expect("at the first instant");
        assert_eq!((info.remaining, info.reset_epoch_secs), (1, 30));
        // 530 years from the limiter's first reading: governor's u64 nanoseconds still hold it.
        clock.set_ms(LAST_INSTANT_MS);
        let last_secs = LAST_INSTANT_MS / 1000;
        assert_eq!(limiter.check().expect("at the last instant").remaining, 1);
        assert_eq!(limiter.check().expect("second").remaining, 0);
        let refused = limiter.check().expect_err("third in the minute");
        assert_eq!(refused.retry_after_secs, 30);
        assert_eq!(refused.info.reset_epoch_secs, last_secs + 1 + 60);
        let usage = limiter.usage();
        assert_eq!(
            (usage.per_minute.used, usage.per_day.used),
            (2, 2),
            "the 1970 request dripped back"
        );
        // And back: for the windows, time stood still.
        clock.set_ms(FIRST_INSTANT_MS);
        let refused = limiter.check().expect_err("back at the first instant");
        assert_eq!(refused.retry_after_secs, 30);
        assert_eq!(refused.info.reset_epoch_secs, 60);

        let clock = Arc::new(TenantClock::new(0, Some(LAST_INSTANT_MS)));
        let limiter = KeyLimiter::new("1/100/1000".parse().expect("limits"), clock.clone());
        let info = limiter.check().expect("born at the last instant");
        assert_eq!(
            info.reset_epoch_secs,
            last_secs + 1 + 60,
            "a minute past the last instant"
        );
        clock.set_ms(FIRST_INSTANT_MS);
        let refused = limiter.check().expect_err("the minute has not passed");
        assert_eq!(refused.retry_after_secs, 60);
        assert_eq!(limiter.usage().per_day.used, 1);
    }

    #[test]
    fn a_clock_moved_back_gives_nothing_back_and_takes_nothing() {
        let (limiter, clock) = limiter("3/100/1000");
        for _ in 0..3 {
            limiter.check().expect("ok");
        }
        clock.advance_ms(10_000);
        let before = limiter.usage();
        clock.advance_ms(-86_400_000);
        let after = limiter.usage();
        assert_eq!(
            [after.per_minute.used, after.per_hour.used, after.per_day.used],
            [before.per_minute.used, before.per_hour.used, before.per_day.used]
        );
        let refused = limiter.check().expect_err("still full");
        assert_eq!(refused.retry_after_secs, 10, "the wait it had before the move");
        assert_eq!(
            refused.info.reset_epoch_secs,
            (T0 + 10_000 - 86_400_000) / 1000 + 50
        );
        // And the windows drain from there as the clock moves on.
        clock.advance_ms(10_000);
        assert_eq!(limiter.check().expect("one back").remaining, 0);
    }

    #[test]
    fn no_reading_of_the_clock_makes_the_limiter_panic() {
        for (offset, frozen) in [
            (0, Some(i64::MAX)),
            (0, Some(i64::MIN + 1)),
            (i64::MAX, None),
            (i64::MIN, None),
            (-1, Some(-1)),
        ] {
            let clock = Arc::new(TenantClock::new(offset, frozen));
            let limiter = KeyLimiter::new(Limits::default(), clock.clone());
            limiter.check().expect("a fresh key");
            clock.advance_ms(i64::MAX);
            limiter.check().expect("pushed past the end");
            clock.advance_ms(i64::MIN);
            // Refused if the requests at the end still count; either way, no panic.
            let _ = limiter.check();
            limiter.usage();
            let saved = limiter.saved().expect("counted");
            let restored = KeyLimiter::restored(Limits::default(), clock.clone(), &saved);
            assert_eq!(
                restored.usage().rate_info().remaining,
                limiter.usage().rate_info().remaining,
                "{offset} {frozen:?}"
            );
            clock.advance_ms(i64::MAX);
            restored.check().expect("the windows ended");
        }
    }

    #[test]
    fn saved_windows_restore_to_the_same_state_at_every_later_instant() {
        let (limiter, clock) = limiter("3/100/1000");
        limiter.check().expect("1");
        clock.advance_ms(7_000);
        limiter.check().expect("2");
        limiter.check().expect("3");
        limiter.check().expect_err("the minute is full");
        let saved = limiter.saved().expect("counted");
        assert_eq!(saved.at_ms, T0 + 7_000);
        // The minute window drips back 20 s a request: whole 20 s after the third, at T0 + 60 s.
        assert_eq!(saved.ahead_ns[0], Some(53_000_000_000));

        let restored = KeyLimiter::restored(limiter_limits("3/100/1000"), clock.clone(), &saved);
        assert_eq!(restored.usage(), limiter.usage());
        assert_eq!(
            restored.check().expect_err("still full"),
            limiter.check().expect_err("full")
        );
        for step in [1_000, 12_000, 40_000, 3_600_000, 86_400_000] {
            clock.advance_ms(step);
            assert_eq!(restored.usage(), limiter.usage(), "{step} ms on");
            assert_eq!(restored.check(), limiter.check(), "{step} ms on");
        }
    }

    #[test]
    fn saved_windows_are_on_the_tenant_clock_wherever_it_went_since() {
        let (limiter, clock) = limiter("3/100/1000");
        for _ in 0..3 {
            limiter.check().expect("ok");
        }
        let saved = limiter.saved().expect("counted");
        // A restart finds the clock 30 s on: the key is where it would have been.
        clock.advance_ms(30_000);
        let restored = KeyLimiter::restored(limiter_limits("3/100/1000"), clock.clone(), &saved);
        assert_eq!(restored.usage(), limiter.usage());
        assert_eq!(restored.usage().per_minute.used, 2);
        // Or an hour back: for the windows, time stood still.
        clock.set_ms(T0 - 3_600_000);
        let restored = KeyLimiter::restored(limiter_limits("3/100/1000"), clock.clone(), &saved);
        let refused = restored.check().expect_err("full for 20 s more");
        assert_eq!(refused.retry_after_secs, 20);
        assert_eq!(refused.info.reset_epoch_secs, (T0 - 3_600_000) / 1000 + 60);
    }

    #[test]
    fn only_counted_requests_leave_something_to_save() {
        let (limiter, _clock) = limiter("1/100/1000");
        assert_eq!(limiter.saved(), None, "a fresh key");
        limiter.usage();
        assert_eq!(limiter.saved(), None, "reading counts nothing");
        limiter.check().expect("ok");
        assert!(limiter.saved().is_some());
        assert_eq!(limiter.saved(), None, "saved once");
        limiter.check().expect_err("refused");
        assert_eq!(limiter.saved(), None, "a refusal changes nothing");
        limiter.mark_dirty();
        assert!(limiter.saved().is_some(), "a failed write is tried again");
    }

    #[test]
    fn a_saved_state_from_a_bad_row_is_bounded_by_its_window() {
        let (_, clock) = limiter("3/100/1000");
        let garbage = SavedWindows {
            at_ms: i64::MAX,
            ahead_ns: [Some(i64::MAX), Some(-5), None],
        };
        let restored = KeyLimiter::restored(limiter_limits("3/100/1000"), clock.clone(), &garbage);
        let usage = restored.usage();
        assert_eq!(usage.per_minute.remaining, 0);
        assert_eq!(usage.per_hour.remaining, 100);
        assert_eq!(usage.per_day.remaining, 1000);
    }

    fn limiter_limits(limits: &str) -> Limits {
        limits.parse().expect("limits")
    }

    #[test]
    fn limits_parse_from_the_cli_form() {
        assert_eq!(
            "1/2/3".parse::<Limits>(),
            Ok(Limits {
                per_minute: 1,
                per_hour: 2,
                per_day: 3
            })
        );
        assert!("1/2".parse::<Limits>().is_err());
        assert!("0/2/3".parse::<Limits>().is_err());
        assert!("a/2/3".parse::<Limits>().is_err());
    }
}
