//! MusicArk's monthly quota per key, per UTC calendar month of the tenant's clock.
//!
//! Counts live in memory and are written behind to SQLite every 200 ms and at shutdown, so the
//! hot path does no database write; a restart loses no count, and a hard kill at most the
//! last 200 ms of them. A key's count for a month is read from SQLite once, on first use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderValue};
use chrono::{DateTime, Datelike, TimeZone, Utc};

use crate::clock::from_ms;
use crate::db::Db;
use crate::sync::MutexExt;

/// The message the vendor's page gives for a 429, verbatim.
pub const EXCEEDED: &str = "Rate limit exceeded. Resets first of next month.";

/// `YYYY-MM` of an instant, and the first instant of the next month.
pub fn month_of(now_ms: i64) -> (String, DateTime<Utc>) {
    let now = from_ms(now_ms);
    let (year, month) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    let reset = Utc
        .with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    (format!("{:04}-{:02}", now.year(), now.month()), reset)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotaInfo {
    pub limit: i64,
    pub remaining: i64,
    pub reset: DateTime<Utc>,
}

impl QuotaInfo {
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        let reset = self.reset.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        if let Ok(value) = HeaderValue::from_str(&reset) {
            headers.insert("x-ratelimit-reset", value);
        }
    }

    /// Seconds from `now_ms` to the reset, at least 1.
    pub fn retry_after_secs(&self, now_ms: i64) -> u64 {
        let ms = self.reset.timestamp_millis() - now_ms;
        u64::try_from((ms + 999) / 1000).unwrap_or(1).max(1)
    }
}

/// `(key id, "YYYY-MM")`.
type CounterId = (String, String);
type SharedCounter = Arc<Mutex<Counter>>;

#[derive(Debug, Default)]
struct Counter {
    count: i64,
    persisted: i64,
}

fn count_one(counter: &SharedCounter, limit: i64, reset: DateTime<Utc>) -> Result<QuotaInfo, QuotaInfo> {
    let mut counter = counter.locked();
    if counter.count >= limit {
        return Err(QuotaInfo {
            limit,
            remaining: 0,
            reset,
        });
    }
    counter.count += 1;
    Ok(QuotaInfo {
        limit,
        remaining: limit - counter.count,
        reset,
    })
}

/// Every key's counters, by `(key id, month)`.
#[derive(Debug, Default)]
pub struct Quotas {
    counters: Mutex<HashMap<CounterId, SharedCounter>>,
    // One loader at a time, so two first requests of a month don't both read the database.
    loading: tokio::sync::Mutex<()>,
    /// Held by a flush; a tenant's reset holds it so that no stale count is written back.
    flushing: tokio::sync::Mutex<()>,
}

impl Quotas {
    async fn counter(&self, db: &Db, key_id: &str, month: &str) -> sqlx::Result<SharedCounter> {
        let id = (key_id.to_owned(), month.to_owned());
        if let Some(counter) = self.lock().get(&id) {
            return Ok(counter.clone());
        }
        let _loading = self.loading.lock().await;
        if let Some(counter) = self.lock().get(&id) {
            return Ok(counter.clone());
        }
        let stored: Option<i64> =
            sqlx::query_scalar("SELECT count FROM musicark_usage WHERE key_id = ? AND month = ?")
                .bind(key_id)
                .bind(month)
                .fetch_optional(&db.read)
                .await?;
        let stored = stored.unwrap_or(0);
        let counter = Arc::new(Mutex::new(Counter {
            count: stored,
            persisted: stored,
        }));
        self.lock().insert(id, counter.clone());
        Ok(counter)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CounterId, SharedCounter>> {
        self.counters.locked()
    }

    /// Counts one call if the month has room; `Err` carries the headers of the refusal.
    pub async fn take(
        &self,
        db: &Db,
        key_id: &str,
        limit: i64,
        now_ms: i64,
    ) -> sqlx::Result<Result<QuotaInfo, QuotaInfo>> {
        let (month, reset) = month_of(now_ms);
        let counter = self.counter(db, key_id, &month).await?;
        Ok(count_one(&counter, limit, reset))
    }

    /// [`Quotas::take`] without waiting, when the key's count for the month is in memory
    /// (every call of the month but its first); `None` when it must be read first.
    pub fn try_take(&self, key_id: &str, limit: i64, now_ms: i64) -> Option<Result<QuotaInfo, QuotaInfo>> {
        let (month, reset) = month_of(now_ms);
        let counter = self.lock().get(&(key_id.to_owned(), month)).cloned()?;
        Some(count_one(&counter, limit, reset))
    }

    /// How many calls the key made in the month of `now_ms`, without counting one (the live
    /// page's gauge), and when the month resets.
    pub async fn used(&self, db: &Db, key_id: &str, now_ms: i64) -> sqlx::Result<(i64, DateTime<Utc>)> {
        let (month, reset) = month_of(now_ms);
        let counter = self.counter(db, key_id, &month).await?;
        let count = counter.locked().count;
        Ok((count, reset))
    }

    /// Stops write-behind until the guard is dropped.
    pub async fn pause(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.flushing.lock().await
    }

    /// Drops the counts of these keys (their tenant was reset or deleted).
    pub fn forget(&self, key_ids: &[String]) {
        self.lock().retain(|(key, _), _| !key_ids.contains(key));
    }

    /// Writes every changed count to SQLite in one transaction.
    pub async fn flush(&self, db: &Db) -> sqlx::Result<()> {
        let _flushing = self.flushing.lock().await;
        let dirty: Vec<(CounterId, i64, SharedCounter)> = self
            .lock()
            .iter()
            .filter_map(|(id, counter)| {
                let c = counter.locked();
                (c.count != c.persisted).then(|| (id.clone(), c.count, counter.clone()))
            })
            .collect();
        if dirty.is_empty() {
            return Ok(());
        }
        let mut tx = db.begin_write().await?;
        for ((key_id, month), count, _) in &dirty {
            // A key deleted since (its tenant removed) has nothing to keep.
            sqlx::query(
                "INSERT INTO musicark_usage (key_id, month, count)
                 SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM api_keys WHERE id = ?1)
                 ON CONFLICT (key_id, month) DO UPDATE SET count = excluded.count",
            )
            .bind(key_id)
            .bind(month)
            .bind(count)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        for (_, count, counter) in dirty {
            let mut c = counter.locked();
            c.persisted = c.persisted.max(count);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s)
            .expect("rfc3339")
            .timestamp_millis()
    }

    #[test]
    fn months_are_utc_calendar_months() {
        let (month, reset) = month_of(ms("2026-11-23T12:00:00Z"));
        assert_eq!(month, "2026-11");
        assert_eq!(reset.to_rfc3339(), "2026-12-01T00:00:00+00:00");
        let (month, reset) = month_of(ms("2026-12-31T23:59:59.999Z"));
        assert_eq!(month, "2026-12");
        assert_eq!(reset.to_rfc3339(), "2027-01-01T00:00:00+00:00");
        // 23:30 on 30 November in UTC-01:00 is already December in UTC.
        assert_eq!(month_of(ms("2026-11-30T23:30:00-01:00")).0, "2026-12");
    }

    #[test]
    fn retry_after_counts_up_to_the_reset() {
        let info = QuotaInfo {
            limit: 1,
            remaining: 0,
            reset: from_ms(ms("2026-12-01T00:00:00Z")),
        };
        assert_eq!(info.retry_after_secs(ms("2026-11-30T23:59:00Z")), 60);
        assert_eq!(info.retry_after_secs(ms("2026-11-30T23:59:59.500Z")), 1);
        let mut headers = HeaderMap::new();
        info.write_headers(&mut headers);
        assert_eq!(headers["x-ratelimit-reset"], "2026-12-01T00:00:00Z");
    }
}
