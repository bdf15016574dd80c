//! The SQL of the Musique API. Every function takes the caller's company and environment,
//! so one company can never reach another's rows. Writes commit here first, then update the
//! in-memory read side ([`super::library`]).

use serde::Serialize;
use sqlx::{Sqlite, Transaction};

use super::auth::MusiqueCaller;
use super::deliveries::{self, Deliveries, Destination, Outcome, SendInput};
use super::library::{AudioMeta, Libraries, LibraryKey};
use super::player::{Priority, Status};
use crate::auth::Environment;
use crate::db::Db;

/// Whose library a query touches.
#[derive(Clone, Copy, Debug)]
pub struct Library<'a> {
    pub tenant_id: &'a str,
    pub company_id: i64,
    pub environment: Environment,
}

impl Library<'_> {
    pub fn key(&self) -> LibraryKey {
        LibraryKey {
            company_id: self.company_id,
            environment: self.environment,
        }
    }
}

impl<'a> From<&'a MusiqueCaller> for Library<'a> {
    fn from(caller: &'a MusiqueCaller) -> Self {
        Library {
            tenant_id: &caller.tenant_id,
            company_id: caller.company_id,
            environment: caller.environment,
        }
    }
}

// No plays is the default.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub times_played: i64,
    #[schema(value_type = Option<String>)]
    pub last_played_at: Option<crate::clock::Rfc3339Ms>,
    pub total_recipients: i64,
}

pub struct NewAudio<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub category: Option<&'a str>,
    pub duration: f64,
    /// Moved into the statement: binding a slice would copy the whole file once more.
    pub bytes: Vec<u8>,
    pub created_at_ms: i64,
}

/// Stores the row and its bytes in one transaction (both or neither), then shows it in the
/// library's read side.
pub async fn insert_audio(
    db: &Db,
    libraries: &Libraries,
    lib: Library<'_>,
    audio: NewAudio<'_>,
) -> sqlx::Result<AudioMeta> {
    let size = audio.bytes.len() as i64;
    let mut tx = db.begin_write().await?;
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO audio (id, tenant_id, company_id, environment, name, description, category,
                            duration, size, created_at_ms, seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM audio))
         RETURNING seq",
    )
    .bind(audio.id)
    .bind(lib.tenant_id)
    .bind(lib.company_id)
    .bind(lib.environment.as_str())
    .bind(audio.name)
    .bind(audio.description)
    .bind(audio.category)
    .bind(audio.duration)
    .bind(size)
    .bind(audio.created_at_ms)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO audio_blobs (audio_id, bytes) VALUES (?, ?)")
        .bind(audio.id)
        .bind(audio.bytes)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let meta = AudioMeta {
        id: audio.id.to_owned(),
        name: audio.name.to_owned(),
        description: audio.description.map(str::to_owned),
        category: audio.category.map(str::to_owned),
        duration: audio.duration,
        size,
        created_at_ms: audio.created_at_ms,
        seq,
    };
    libraries.insert_audio(lib.key(), meta.clone());
    Ok(meta)
}

/// The bytes behind an audio id (the public file URL needs no key).
pub async fn audio_bytes(db: &Db, id: &str) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT bytes FROM audio_blobs WHERE audio_id = ?")
        .bind(id)
        .fetch_optional(&db.read)
        .await
}

pub enum DeleteOutcome {
    Deleted,
    NotFound,
    ScheduledSendsPending,
}

/// Deletes an audio object, its bytes and its sends, unless a scheduled send is pending.
/// The check and the delete share one write transaction.
pub async fn delete_audio(
    db: &Db,
    libraries: &Libraries,
    players: &Deliveries,
    lib: Library<'_>,
    id: &str,
    now_ms: i64,
) -> sqlx::Result<DeleteOutcome> {
    // The players learn of it before anyone rebuilds them from what SQLite holds.
    let _recording = players.gate(lib.company_id).await;
    let mut tx = db.begin_write().await?;
    if audio_duration(&mut tx, lib, id).await?.is_none() {
        return Ok(DeleteOutcome::NotFound);
    }
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sends WHERE audio_id = ? AND scheduled = 1 AND due_at_ms > ?",
    )
    .bind(id)
    .bind(now_ms)
    .fetch_one(&mut *tx)
    .await?;
    if pending > 0 {
        return Ok(DeleteOutcome::ScheduledSendsPending);
    }
    sqlx::query("DELETE FROM audio WHERE id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    libraries.remove_audio(lib.key(), id);
    players.cancel_audio(lib.company_id, id, now_ms);
    Ok(DeleteOutcome::Deleted)
}

/// The audio's duration in seconds, if the library holds it.
async fn audio_duration(
    tx: &mut Transaction<'_, Sqlite>,
    lib: Library<'_>,
    id: &str,
) -> sqlx::Result<Option<f64>> {
    sqlx::query_scalar("SELECT duration FROM audio WHERE id = ? AND company_id = ? AND environment = ?")
        .bind(id)
        .bind(lib.company_id)
        .bind(lib.environment.as_str())
        .fetch_optional(&mut **tx)
        .await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Location {
    pub id: i64,
    pub external_id: String,
    pub user_id: i64,
}

/// Every location of the company, in External ID order.
async fn company_locations(tx: &mut Transaction<'_, Sqlite>, company_id: i64) -> sqlx::Result<Vec<Location>> {
    sqlx::query_as("SELECT id, external_id, user_id FROM locations WHERE company_id = ? ORDER BY external_id")
        .bind(company_id)
        .fetch_all(&mut **tx)
        .await
}

pub struct NewSend<'a> {
    pub id: &'a str,
    pub audio_id: &'a str,
    pub key_id: &'a str,
    pub priority: &'a str,
    pub repeat: i64,
    pub volume: i64,
    /// `None`: broadcast to every location in `scope`.
    pub external_ids: Option<&'a [String]>,
    pub scope: Option<&'a [String]>,
    pub scheduled: bool,
    pub due_at_ms: i64,
    pub created_at_ms: i64,
}

pub enum SendOutcome {
    Created(Vec<Location>),
    AudioNotFound,
    /// External IDs that are unknown or outside the token's scope, in the order given.
    UnknownExternalIds(Vec<String>),
    NoLocations,
}

/// Resolves the destinations and records the send, all or nothing: if one External ID
/// fails, no row is written.
pub async fn create_send(
    db: &Db,
    players: &Deliveries,
    lib: Library<'_>,
    send: &NewSend<'_>,
) -> sqlx::Result<SendOutcome> {
    // Written and given to the players before anyone rebuilds them from what SQLite holds.
    let _recording = players.gate(lib.company_id).await;
    let mut tx = db.begin_write().await?;
    let Some(duration) = audio_duration(&mut tx, lib, send.audio_id).await? else {
        return Ok(SendOutcome::AudioNotFound);
    };
    let in_scope = |id: &str| send.scope.is_none_or(|scope| scope.iter().any(|s| s == id));
    let all = company_locations(&mut tx, lib.company_id).await?;
    let destinations: Vec<Location> = match send.external_ids {
        None => all.into_iter().filter(|l| in_scope(&l.external_id)).collect(),
        Some(wanted) => {
            let mut found = Vec::with_capacity(wanted.len());
            let mut unknown = Vec::new();
            for id in wanted {
                match all.iter().find(|l| &l.external_id == id).filter(|_| in_scope(id)) {
                    Some(location) => found.push(location.clone()),
                    None => unknown.push(id.clone()),
                }
            }
            if !unknown.is_empty() {
                return Ok(SendOutcome::UnknownExternalIds(unknown));
            }
            found
        }
    };
    if destinations.is_empty() {
        return Ok(SendOutcome::NoLocations);
    }

    sqlx::query(
        "INSERT INTO sends (id, tenant_id, audio_id, key_id, priority, repeat, volume, broadcast,
                            scheduled, due_at_ms, created_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(send.id)
    .bind(lib.tenant_id)
    .bind(send.audio_id)
    .bind(send.key_id)
    .bind(send.priority)
    .bind(send.repeat)
    .bind(send.volume)
    .bind(send.external_ids.is_none())
    .bind(send.scheduled)
    .bind(send.due_at_ms)
    .bind(send.created_at_ms)
    .execute(&mut *tx)
    .await?;
    // One statement for every destination: each statement is a round trip to the writer.
    let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "INSERT INTO send_destinations (send_id, location_id, external_id, user_id) ",
    );
    insert.push_values(&destinations, |mut row, location| {
        row.push_bind(send.id)
            .push_bind(location.id)
            .push_bind(&location.external_id)
            .push_bind(location.user_id);
    });
    insert.build().execute(&mut *tx).await?;
    tx.commit().await?;
    let targets: Vec<Destination> = destinations
        .iter()
        .map(|l| Destination {
            location_id: l.id,
            external_id: l.external_id.clone(),
            user_id: l.user_id,
        })
        .collect();
    players.add_send(
        lib.company_id,
        SendInput {
            id: send.id.to_owned(),
            audio_id: send.audio_id.to_owned(),
            environment: lib.environment,
            priority: Priority::parse(send.priority).unwrap_or(Priority::Normal),
            repeat: u32::try_from(send.repeat).unwrap_or(1),
            volume: u8::try_from(send.volume).unwrap_or(100),
            duration_ms: deliveries::duration_ms(duration),
            scheduled: send.scheduled,
            due_ms: send.due_at_ms,
            created_ms: send.created_at_ms,
        },
        &targets,
    );
    Ok(SendOutcome::Created(destinations))
}

/// Rows per statement when outcomes are written: 9 parameters each, well under SQLite's limit.
/// Statements whose length varies are not kept prepared: each would hold a large program in
/// every connection's statement cache.
const OUTCOME_ROWS: usize = 1_000;

/// Writes finished deliveries' outcomes in one transaction; those whose send has gone since
/// (its audio or tenant was deleted) are skipped.
pub async fn write_outcomes(db: &Db, outcomes: &[Outcome]) -> sqlx::Result<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin_write().await?;
    for chunk in outcomes.chunks(OUTCOME_ROWS) {
        let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
            "INSERT OR REPLACE INTO delivery_outcomes (send_id, location_id, environment, status,
                 delivered_at_ms, started_at_ms, finished_at_ms, plays_completed, interruptions)
             SELECT v.* FROM (",
        );
        insert.push_values(chunk, |mut row, o| {
            row.push_bind(&*o.send_id)
                .push_bind(o.location_id)
                .push_bind(o.environment.as_str())
                .push_bind(o.status.as_str())
                .push_bind(o.delivered_ms)
                .push_bind(o.started_ms)
                .push_bind(o.finished_ms)
                .push_bind(i64::from(o.plays_completed))
                .push_bind(i64::from(o.interruptions));
        });
        insert.push(
            ") AS v WHERE EXISTS (SELECT 1 FROM send_destinations d
                                  WHERE d.send_id = v.column1 AND d.location_id = v.column2)",
        );
        insert.build().persistent(false).execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// Deletes the outcomes of these `(send, location)` deliveries.
pub async fn forget_outcomes(db: &Db, deliveries: &[(Box<str>, i64)]) -> sqlx::Result<()> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin_write().await?;
    for chunk in deliveries.chunks(OUTCOME_ROWS) {
        let mut delete = sqlx::QueryBuilder::<Sqlite>::new(
            "DELETE FROM delivery_outcomes WHERE (send_id, location_id) IN (",
        );
        delete.push_values(chunk, |mut row, (send, location)| {
            row.push_bind(&**send).push_bind(*location);
        });
        delete.push(")");
        delete.build().persistent(false).execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// A send as the control plane lists it.
#[derive(Debug, sqlx::FromRow)]
pub struct SendRow {
    pub seq: i64,
    pub id: String,
    pub audio_id: String,
    pub environment: String,
    pub priority: String,
    pub repeat: i64,
    pub volume: i64,
    pub scheduled: bool,
    pub due_at_ms: i64,
    pub created_at_ms: i64,
}

/// The tenant's sends (of one audio, or all), newest first by creation, then by the order
/// they were written, after `after = (created_at_ms, seq)`.
pub async fn sends_page(
    db: &Db,
    tenant: &str,
    audio_id: Option<&str>,
    after: Option<(i64, i64)>,
    limit: usize,
) -> sqlx::Result<Vec<SendRow>> {
    let (created, seq) = after.unwrap_or((i64::MAX, i64::MAX));
    sqlx::query_as(
        "SELECT s.rowid AS seq, s.id, s.audio_id, a.environment, s.priority, s.repeat, s.volume,
                s.scheduled, s.due_at_ms, s.created_at_ms
         FROM sends s JOIN audio a ON a.id = s.audio_id
         WHERE s.tenant_id = ?1 AND (?2 IS NULL OR s.audio_id = ?2)
           AND (s.created_at_ms, s.rowid) < (?3, ?4)
         ORDER BY s.created_at_ms DESC, s.rowid DESC LIMIT ?5",
    )
    .bind(tenant)
    .bind(audio_id)
    .bind(created)
    .bind(seq)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(&db.read)
    .await
}

/// One of the tenant's sends.
pub async fn send_row(db: &Db, tenant: &str, send_id: &str) -> sqlx::Result<Option<SendRow>> {
    sqlx::query_as(
        "SELECT s.rowid AS seq, s.id, s.audio_id, a.environment, s.priority, s.repeat, s.volume,
                s.scheduled, s.due_at_ms, s.created_at_ms
         FROM sends s JOIN audio a ON a.id = s.audio_id WHERE s.id = ? AND s.tenant_id = ?",
    )
    .bind(send_id)
    .bind(tenant)
    .fetch_optional(&db.read)
    .await
}

pub async fn count_sends(db: &Db, tenant: &str, audio_id: Option<&str>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM sends WHERE tenant_id = ?1 AND (?2 IS NULL OR audio_id = ?2)")
        .bind(tenant)
        .bind(audio_id)
        .fetch_one(&db.read)
        .await
}

/// A send's destination with its stored outcome, if it finished and left memory.
#[derive(Debug, sqlx::FromRow)]
pub struct DestinationRow {
    pub send_id: String,
    pub location_id: i64,
    pub external_id: String,
    pub user_id: i64,
    pub status: Option<String>,
    pub delivered_at_ms: Option<i64>,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
}

/// The destinations of these sends, each send's in the order they were written.
pub async fn destinations(db: &Db, send_ids: &[&str]) -> sqlx::Result<Vec<DestinationRow>> {
    if send_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = sqlx::QueryBuilder::<Sqlite>::new(
        "SELECT d.send_id, d.location_id, d.external_id, d.user_id, o.status, o.delivered_at_ms,
                o.started_at_ms, o.finished_at_ms
         FROM send_destinations d
         LEFT JOIN delivery_outcomes o ON o.send_id = d.send_id AND o.location_id = d.location_id
         WHERE d.send_id IN (",
    );
    let mut ids = query.separated(", ");
    for id in send_ids {
        ids.push_bind(*id);
    }
    query.push(") ORDER BY d.rowid");
    query.build_query_as().persistent(false).fetch_all(&db.read).await
}

/// A finished delivery of a store's history, as SQLite keeps it.
#[derive(Debug, sqlx::FromRow)]
pub struct HistoryRow {
    pub send_id: String,
    pub audio_id: String,
    pub priority: String,
    pub repeat: i64,
    pub volume: i64,
    pub due_at_ms: i64,
    pub status: String,
    pub delivered_at_ms: Option<i64>,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: i64,
    pub plays_completed: i64,
    pub interruptions: i64,
}

/// A store's finished deliveries that left memory, newest first by `(finished_at_ms,
/// send_id)`, after `before`.
pub async fn history_page(
    db: &Db,
    location_id: i64,
    environment: Environment,
    before: Option<(i64, &str)>,
    limit: usize,
) -> sqlx::Result<Vec<HistoryRow>> {
    // Past every real key: no send id sorts after U+FFFF.
    let (at, send) = before.unwrap_or((i64::MAX, "\u{ffff}"));
    sqlx::query_as(
        "SELECT o.send_id, s.audio_id, s.priority, s.repeat, s.volume, s.due_at_ms, o.status,
                o.delivered_at_ms, o.started_at_ms, o.finished_at_ms, o.plays_completed, o.interruptions
         FROM delivery_outcomes o JOIN sends s ON s.id = o.send_id
         WHERE o.location_id = ? AND o.environment = ? AND (o.finished_at_ms, o.send_id) < (?, ?)
         ORDER BY o.finished_at_ms DESC, o.send_id DESC LIMIT ?",
    )
    .bind(location_id)
    .bind(environment.as_str())
    .bind(at)
    .bind(send)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(&db.read)
    .await
}

/// What a stored status reads as.
pub fn status_of(s: &str) -> Status {
    if s == "failed" {
        Status::Failed
    } else {
        Status::Played
    }
}

/// The number of locations a token reaches (for `GET /`).
pub async fn location_count(db: &Db, company_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM locations WHERE company_id = ?")
        .bind(company_id)
        .fetch_one(&db.read)
        .await
}

/// A company as the legacy token endpoint finds it: by the prefix its company token names.
#[derive(Debug, sqlx::FromRow)]
pub struct CompanyCredential {
    pub id: i64,
    pub tenant_id: String,
    pub prefix: String,
    pub company_token_hash: Option<String>,
}

pub async fn company_by_prefix(db: &Db, prefix: &str) -> sqlx::Result<Option<CompanyCredential>> {
    sqlx::query_as("SELECT id, tenant_id, prefix, company_token_hash FROM companies WHERE prefix = ?")
        .bind(prefix)
        .fetch_optional(&db.read)
        .await
}

/// The Musique `userId` of one of the company's External IDs.
pub async fn location_user_id(db: &Db, company_id: i64, external_id: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT user_id FROM locations WHERE company_id = ? AND external_id = ?")
        .bind(company_id)
        .bind(external_id)
        .fetch_optional(&db.read)
        .await
}
