//! Musique's windows in SQLite: read once at start, written behind from memory.

use std::collections::HashMap;

use super::SavedWindows;
use crate::db::Db;

/// A key's saved windows and the tenant that owns the key.
pub type Saved = (String, SavedWindows);

#[derive(sqlx::FromRow)]
struct Row {
    key_id: String,
    tenant_id: String,
    at_ms: i64,
    minute_ns: Option<i64>,
    hour_ns: Option<i64>,
    day_ns: Option<i64>,
}

/// Every live key's saved windows, by key id.
pub async fn load(db: &Db) -> sqlx::Result<HashMap<String, Saved>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT w.key_id, k.tenant_id, w.at_ms, w.minute_ns, w.hour_ns, w.day_ns
         FROM musique_windows w JOIN api_keys k ON k.id = w.key_id
         WHERE k.revoked_at_ms IS NULL",
    )
    .fetch_all(&db.read)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let saved = SavedWindows {
                at_ms: r.at_ms,
                ahead_ns: [r.minute_ns, r.hour_ns, r.day_ns],
            };
            (r.key_id, (r.tenant_id, saved))
        })
        .collect())
}

/// Writes these keys' windows in one transaction.
pub async fn save(db: &Db, rows: &[(String, SavedWindows)]) -> sqlx::Result<()> {
    let mut tx = db.begin_write().await?;
    for (key_id, saved) in rows {
        let [minute, hour, day] = saved.ahead_ns;
        // A key deleted since (its tenant reset or removed) has nothing to keep.
        sqlx::query(
            "INSERT INTO musique_windows (key_id, at_ms, minute_ns, hour_ns, day_ns)
             SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM api_keys WHERE id = ?1)
             ON CONFLICT (key_id) DO UPDATE SET at_ms = excluded.at_ms,
                 minute_ns = excluded.minute_ns, hour_ns = excluded.hour_ns, day_ns = excluded.day_ns",
        )
        .bind(key_id)
        .bind(saved.at_ms)
        .bind(minute)
        .bind(hour)
        .bind(day)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}
