//! The SQL of the Musique API. Every function takes the caller's company and environment,
//! so one company can never reach another's rows. Writes commit here first, then update the
//! in-memory read side ([`super::library`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::anyhow;
use serde::Serialize;
use sqlx::{Acquire, Sqlite, SqliteConnection};
use tokio::sync::{OwnedRwLockReadGuard, oneshot};

use super::auth::MusiqueCaller;
use super::deliveries::{self, Deliveries, Destination, Outcome, SendInput};
use super::library::{AudioMeta, Libraries, LibraryKey};
use super::player::{Priority, Status};
use crate::admission::RETRY_AFTER_SECS;
use crate::auth::Environment;
use crate::clock::real_now_ms;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::writer::Refused;

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

impl Library<'_> {
    fn owned(&self) -> OwnedLibrary {
        OwnedLibrary {
            tenant_id: self.tenant_id.to_owned(),
            company_id: self.company_id,
            environment: self.environment,
        }
    }
}

/// A [`Library`] a queued write keeps.
struct OwnedLibrary {
    tenant_id: String,
    company_id: i64,
    environment: Environment,
}

impl OwnedLibrary {
    fn lib(&self) -> Library<'_> {
        Library {
            tenant_id: &self.tenant_id,
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

/// Musique's writes (sends, uploads, deletes) go through one group-commit writer, which
/// commits those waiting in one transaction and then shows them in memory, in order.
pub type Writer = crate::writer::Writer<Write>;

/// One write waiting for the writer: what it writes and where its answer goes.
pub enum Write {
    Send(SendJob),
    Upload(UploadJob),
    Delete(DeleteJob),
}

/// What the writer needs to show committed writes in memory, and to name sends.
pub struct Writes {
    libraries: Arc<Libraries>,
    players: Arc<Deliveries>,
    send_ids: SendIds,
}

impl Writes {
    /// Starts Musique's writer over the write pool, with room for `queue` waiting writes.
    pub fn start(db: Db, libraries: Arc<Libraries>, players: Arc<Deliveries>, queue: usize) -> Writer {
        let writes = Writes {
            libraries,
            players,
            send_ids: SendIds::new(),
        };
        crate::writer::Writer::start(db, writes, queue)
    }
}

/// Send ids (`snd_` and 14 lowercase letters and digits) in the order sends are written: the
/// real time in milliseconds, then a counter that starts at random. A new send's rows then go
/// at the end of the two indexes its id keys (`sends`' and `send_destinations`' primary keys),
/// where random ids would dirty a page of each per send, for every commit to copy to the WAL
/// and every checkpoint back. One process repeats an id only after 36^5 sends in a millisecond;
/// the random start makes a clash with another process on the same file improbable, and the
/// primary key would refuse it (that send alone failing).
struct SendIds {
    next: AtomicU32,
}

impl SendIds {
    const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    /// 36^5: the counter's five places.
    const COUNTER: u32 = 60_466_176;

    fn new() -> SendIds {
        SendIds {
            next: AtomicU32::new(rand::random_range(0..Self::COUNTER)),
        }
    }

    fn next(&self, now_ms: i64) -> String {
        let mut id = *b"snd_00000000000000";
        let count = self.next.fetch_add(1, Ordering::Relaxed) % Self::COUNTER;
        // Nine places of milliseconds last until the year 5188.
        Self::base36(u64::try_from(now_ms).unwrap_or(0), &mut id[4..13]);
        Self::base36(u64::from(count), &mut id[13..]);
        // ASCII from the alphabet: always UTF-8.
        String::from_utf8_lossy(&id).into_owned()
    }

    /// `n`'s last places in base 36, most significant first, so that ids sort as numbers.
    fn base36(mut n: u64, out: &mut [u8]) {
        for place in out.iter_mut().rev() {
            *place = Self::ALPHABET[(n % 36) as usize];
            n /= 36;
        }
    }
}

/// Queues a write and waits for its answer, given once its transaction committed.
async fn submit<T>(writer: &Writer, job: Write, answer: oneshot::Receiver<Result<T>>) -> Result<T> {
    match writer.submit(job) {
        Ok(()) => {}
        Err(Refused::Full(_)) => {
            return Err(Error::RateLimited {
                retry_after_secs: RETRY_AFTER_SECS,
                message: format!(
                    "Too many writes are waiting to be stored (at most {}). Retry after {RETRY_AFTER_SECS} second.",
                    writer.bound()
                ),
            });
        }
        Err(Refused::Stopped(_)) => return Err(Error::Internal(anyhow!("the writer has stopped"))),
    }
    answer
        .await
        .unwrap_or_else(|_| Err(Error::Internal(anyhow!("the writer dropped a write unanswered"))))
}

fn failure(err: &sqlx::Error) -> Error {
    Error::Internal(anyhow!("the write transaction failed: {err}"))
}

impl crate::writer::Batch for Writes {
    type Job = Write;

    async fn stage(&self, tx: &mut SqliteConnection, jobs: &mut [Write]) -> sqlx::Result<()> {
        let mut at = 0;
        while at < jobs.len() {
            match &mut jobs[at] {
                Write::Upload(job) => stage_upload(tx, job).await?,
                Write::Delete(job) => stage_delete(tx, job).await?,
                Write::Send(_) => {
                    // Consecutive sends are staged together: nothing a send writes changes what
                    // another send reads. An upload or delete between them ends the run, and
                    // the next run reads what it wrote.
                    let run = jobs[at..]
                        .iter()
                        .take_while(|j| matches!(j, Write::Send(_)))
                        .count();
                    let mut sends: Vec<&mut SendJob> = jobs[at..at + run]
                        .iter_mut()
                        .filter_map(|j| match j {
                            Write::Send(job) => Some(job),
                            _ => None,
                        })
                        .collect();
                    stage_sends(tx, &mut sends, &self.send_ids).await?;
                    at += run;
                    continue;
                }
            }
            at += 1;
        }
        Ok(())
    }

    fn committed(&self, jobs: Vec<Write>) {
        for job in jobs {
            match job {
                Write::Send(job) => job.committed(&self.players),
                Write::Upload(job) => job.committed(&self.libraries),
                Write::Delete(job) => job.committed(&self.libraries, &self.players),
            }
        }
    }

    fn failed(&self, jobs: Vec<Write>, err: &sqlx::Error) {
        // A receiver that has gone (its client left) needs no answer.
        for job in jobs {
            match job {
                Write::Send(job) => drop(job.reply.send(Err(failure(err)))),
                Write::Upload(job) => drop(job.reply.send(Err(failure(err)))),
                Write::Delete(job) => drop(job.reply.send(Err(failure(err)))),
            }
        }
    }
}

/// Runs `stage` in a savepoint, so that a statement of it that fails leaves nothing of it
/// written and the rest of the transaction goes on; `Err` only if the savepoint itself could
/// not be rolled back to (the transaction is gone).
async fn alone<T>(
    tx: &mut SqliteConnection,
    stage: impl AsyncFnOnce(&mut SqliteConnection) -> sqlx::Result<T>,
) -> sqlx::Result<sqlx::Result<T>> {
    let mut savepoint = tx.begin().await?;
    match stage(&mut savepoint).await {
        Ok(done) => {
            savepoint.commit().await?;
            Ok(Ok(done))
        }
        Err(err) => {
            savepoint.rollback().await?;
            Ok(Err(err))
        }
    }
}

pub struct NewAudio {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub duration: f64,
    /// Moved into the statement: binding a slice would copy the whole file once more.
    pub bytes: Vec<u8>,
    pub created_at_ms: i64,
}

/// An upload waiting for the writer.
pub struct UploadJob {
    lib: OwnedLibrary,
    audio: NewAudio,
    size: i64,
    /// `seq` once written.
    outcome: Option<sqlx::Result<i64>>,
    reply: oneshot::Sender<Result<AudioMeta>>,
}

/// Stores the row and its bytes in one transaction (both or neither), then shows it in the
/// library's read side.
pub async fn insert_audio(writer: &Writer, lib: Library<'_>, audio: NewAudio) -> Result<AudioMeta> {
    let (reply, answer) = oneshot::channel();
    let job = UploadJob {
        lib: lib.owned(),
        size: audio.bytes.len() as i64,
        audio,
        outcome: None,
        reply,
    };
    submit(writer, Write::Upload(job), answer).await
}

async fn stage_upload(tx: &mut SqliteConnection, job: &mut UploadJob) -> sqlx::Result<()> {
    let lib = job.lib.lib();
    let (audio, size) = (&mut job.audio, job.size);
    let outcome = alone(tx, async |tx: &mut SqliteConnection| {
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO audio (id, tenant_id, company_id, environment, name, description, category,
                                duration, size, created_at_ms, seq)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM audio))
             RETURNING seq",
        )
        .bind(&audio.id)
        .bind(lib.tenant_id)
        .bind(lib.company_id)
        .bind(lib.environment.as_str())
        .bind(&audio.name)
        .bind(&audio.description)
        .bind(&audio.category)
        .bind(audio.duration)
        .bind(size)
        .bind(audio.created_at_ms)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO audio_blobs (audio_id, bytes) VALUES (?, ?)")
            .bind(&audio.id)
            .bind(std::mem::take(&mut audio.bytes))
            .execute(&mut *tx)
            .await?;
        Ok(seq)
    })
    .await?;
    job.outcome = Some(outcome);
    Ok(())
}

impl UploadJob {
    fn committed(self, libraries: &Libraries) {
        let answer = match self.outcome {
            Some(Ok(seq)) => {
                let audio = self.audio;
                let meta = AudioMeta {
                    id: audio.id,
                    name: audio.name,
                    description: audio.description,
                    category: audio.category,
                    duration: audio.duration,
                    size: self.size,
                    created_at_ms: audio.created_at_ms,
                    seq,
                };
                libraries.insert_audio(self.lib.lib().key(), meta.clone());
                Ok(meta)
            }
            Some(Err(err)) => Err(err.into()),
            None => Err(Error::Internal(anyhow!("an upload was not staged"))),
        };
        let _ = self.reply.send(answer);
    }
}

/// The bytes behind an audio id (the public file URL needs no key).
pub async fn audio_bytes(db: &Db, id: &str) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT bytes FROM audio_blobs WHERE audio_id = ?")
        .bind(id)
        .fetch_optional(&db.read)
        .await
}

#[derive(Debug)]
pub enum DeleteOutcome {
    Deleted,
    NotFound,
    ScheduledSendsPending,
}

/// A delete waiting for the writer.
pub struct DeleteJob {
    lib: OwnedLibrary,
    id: String,
    now_ms: i64,
    /// Held until the players know (see [`Deliveries::gate`]).
    _gate: OwnedRwLockReadGuard<()>,
    outcome: Option<sqlx::Result<DeleteOutcome>>,
    reply: oneshot::Sender<Result<DeleteOutcome>>,
}

/// Deletes an audio object, its bytes and its sends, unless a scheduled send is pending.
/// The check and the delete share one write transaction.
pub async fn delete_audio(
    writer: &Writer,
    players: &Deliveries,
    lib: Library<'_>,
    id: String,
    now_ms: i64,
) -> Result<DeleteOutcome> {
    // The players learn of it before anyone rebuilds them from what SQLite holds.
    let gate = players.gate(lib.company_id).await;
    let (reply, answer) = oneshot::channel();
    let job = DeleteJob {
        lib: lib.owned(),
        id,
        now_ms,
        _gate: gate,
        outcome: None,
        reply,
    };
    submit(writer, Write::Delete(job), answer).await
}

async fn stage_delete(tx: &mut SqliteConnection, job: &mut DeleteJob) -> sqlx::Result<()> {
    let (lib, id, now_ms) = (job.lib.lib(), job.id.as_str(), job.now_ms);
    let outcome = alone(tx, async |tx: &mut SqliteConnection| {
        if audio_duration(tx, lib, id).await?.is_none() {
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
        Ok(DeleteOutcome::Deleted)
    })
    .await?;
    job.outcome = Some(outcome);
    Ok(())
}

impl DeleteJob {
    fn committed(self, libraries: &Libraries, players: &Deliveries) {
        let answer = match self.outcome {
            Some(Ok(DeleteOutcome::Deleted)) => {
                libraries.remove_audio(self.lib.lib().key(), &self.id);
                players.cancel_audio(self.lib.company_id, &self.id, self.now_ms);
                Ok(DeleteOutcome::Deleted)
            }
            Some(Ok(other)) => Ok(other),
            Some(Err(err)) => Err(err.into()),
            None => Err(Error::Internal(anyhow!("a delete was not staged"))),
        };
        let _ = self.reply.send(answer);
    }
}

/// The audio's duration in seconds, if the library holds it.
async fn audio_duration(tx: &mut SqliteConnection, lib: Library<'_>, id: &str) -> sqlx::Result<Option<f64>> {
    sqlx::query_scalar("SELECT duration FROM audio WHERE id = ? AND company_id = ? AND environment = ?")
        .bind(id)
        .bind(lib.company_id)
        .bind(lib.environment.as_str())
        .fetch_optional(&mut *tx)
        .await
}

#[derive(sqlx::FromRow)]
struct CompanyLocation {
    company_id: i64,
    #[sqlx(flatten)]
    location: Destination,
}

pub struct NewSend {
    pub audio_id: String,
    pub priority: &'static str,
    pub repeat: i64,
    pub volume: i64,
    /// `None`: broadcast to every location in the caller's scope.
    pub external_ids: Option<Vec<String>>,
    pub scheduled: bool,
    pub due_at_ms: i64,
    pub created_at_ms: i64,
}

#[derive(Debug)]
pub enum SendOutcome {
    Created {
        send_id: String,
        destinations: Vec<Destination>,
    },
    AudioNotFound,
    /// External IDs that are unknown or outside the token's scope, in the order given.
    UnknownExternalIds(Vec<String>),
    NoLocations,
}

/// A send waiting for the writer.
pub struct SendJob {
    caller: Arc<MusiqueCaller>,
    send: NewSend,
    /// Given when it is written.
    id: String,
    /// The audio's, once found.
    duration: f64,
    /// Held until the players have it (see [`Deliveries::gate`]).
    _gate: OwnedRwLockReadGuard<()>,
    outcome: Option<sqlx::Result<SendOutcome>>,
    reply: oneshot::Sender<Result<SendOutcome>>,
}

/// Resolves the destinations and records the send, all or nothing: if one External ID
/// fails, no row is written.
pub async fn create_send(
    writer: &Writer,
    players: &Deliveries,
    caller: &Arc<MusiqueCaller>,
    send: NewSend,
) -> Result<SendOutcome> {
    // Written and given to the players before anyone rebuilds them from what SQLite holds.
    let gate = players.gate(caller.company_id).await;
    let (reply, answer) = oneshot::channel();
    let job = SendJob {
        caller: caller.clone(),
        send,
        id: String::new(),
        duration: 0.0,
        _gate: gate,
        outcome: None,
        reply,
    };
    submit(writer, Write::Send(job), answer).await
}

/// A run of sends: what they read is read once for all of them (each audio's duration, every
/// location of each company), each is resolved against it, and those that resolve are written
/// in two statements. Should one of those fail, each send is written alone, so that only the
/// send that fails is failed.
async fn stage_sends(
    tx: &mut SqliteConnection,
    sends: &mut [&mut SendJob],
    ids: &SendIds,
) -> sqlx::Result<()> {
    let audio: Vec<(&str, i64, &str)> = sends
        .iter()
        .map(|s| {
            (
                &*s.send.audio_id,
                s.caller.company_id,
                s.caller.environment.as_str(),
            )
        })
        .collect();
    let found: Vec<(i64, f64)> = sqlx::query_as(
        "SELECT j.key, a.duration FROM json_each(?) j
         JOIN audio a ON a.id = j.value ->> 0 AND a.company_id = j.value ->> 1
                     AND a.environment = j.value ->> 2",
    )
    .bind(json(&audio))
    .fetch_all(&mut *tx)
    .await?;
    drop(audio);
    let mut durations = vec![None; sends.len()];
    for (index, duration) in found {
        if let Some(slot) = usize::try_from(index).ok().and_then(|i| durations.get_mut(i)) {
            *slot = Some(duration);
        }
    }
    let mut companies: Vec<i64> = sends.iter().map(|s| s.caller.company_id).collect();
    companies.sort_unstable();
    companies.dedup();
    // In company, then External ID order: each company's a slice sorted as `company_locations`
    // was, which a binary search can find External IDs in.
    let locations: Vec<CompanyLocation> = sqlx::query_as(
        "SELECT company_id, id, external_id, user_id FROM locations
         WHERE company_id IN (SELECT value FROM json_each(?)) ORDER BY company_id, external_id",
    )
    .bind(json(&companies))
    .fetch_all(&mut *tx)
    .await?;
    let of_company = |company_id: i64| {
        let from = locations.partition_point(|l| l.company_id < company_id);
        let to = locations.partition_point(|l| l.company_id <= company_id);
        &locations[from..to]
    };
    for (send, duration) in sends.iter_mut().zip(durations) {
        let outcome = match duration {
            None => SendOutcome::AudioNotFound,
            Some(duration) => {
                send.duration = duration;
                resolve(&send.send, &send.caller, of_company(send.caller.company_id))
            }
        };
        send.outcome = Some(Ok(outcome));
    }
    drop(locations);

    let mut created: Vec<&mut SendJob> = sends
        .iter_mut()
        .filter(|s| matches!(s.outcome, Some(Ok(SendOutcome::Created { .. }))))
        .map(|s| &mut **s)
        .collect();
    if created.is_empty() {
        return Ok(());
    }
    let now_ms = real_now_ms();
    for send in &mut created {
        send.id = ids.next(now_ms);
    }
    if alone(tx, async |tx: &mut SqliteConnection| {
        insert_sends(tx, &created).await
    })
    .await?
    .is_ok()
    {
        return Ok(());
    }
    for send in &mut created {
        let one = std::slice::from_ref(&*send);
        if let Err(err) = alone(tx, async |tx: &mut SqliteConnection| insert_sends(tx, one).await).await? {
            send.outcome = Some(Err(err));
        }
    }
    Ok(())
}

/// A JSON array for `json_each`: one statement, kept prepared, whatever the batch holds.
fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Where a send goes, from the company's locations in External ID order.
fn resolve(send: &NewSend, caller: &MusiqueCaller, all: &[CompanyLocation]) -> SendOutcome {
    let destinations: Vec<Destination> = match &send.external_ids {
        None => all
            .iter()
            .filter(|l| caller.in_scope(&l.location.external_id))
            .map(|l| l.location.clone())
            .collect(),
        Some(wanted) => {
            let mut found = Vec::with_capacity(wanted.len());
            let mut unknown = Vec::new();
            for id in wanted {
                let at = all.binary_search_by(|l| l.location.external_id.as_str().cmp(id));
                match at.ok().filter(|_| caller.in_scope(id)) {
                    Some(at) => found.push(all[at].location.clone()),
                    None => unknown.push(id.clone()),
                }
            }
            if !unknown.is_empty() {
                return SendOutcome::UnknownExternalIds(unknown);
            }
            found
        }
    };
    if destinations.is_empty() {
        return SendOutcome::NoLocations;
    }
    SendOutcome::Created {
        send_id: String::new(),
        destinations,
    }
}

/// Writes the sends and their destinations, in the order given, in three statements. Each
/// send's row gets the next rowid (the order sends were written, by which lists page), so that
/// a destination can name its send by its place in the run.
async fn insert_sends(tx: &mut SqliteConnection, sends: &[&mut SendJob]) -> sqlx::Result<()> {
    type SendRow<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
    );
    let out_of_range = || sqlx::Error::Protocol("a location id out of range".into());
    let count = i64::try_from(sends.len()).map_err(|_| out_of_range())?;
    let mut rows: Vec<SendRow> = Vec::with_capacity(sends.len());
    // A destination is one number, its location's id × the sends + its send's place: the
    // elements of a flat array are read as they are, where those of an array of arrays would be
    // printed and parsed again for each field.
    let mut destinations: Vec<i64> = Vec::new();
    for (place, job) in (0..).zip(sends) {
        let (send, caller) = (&job.send, &*job.caller);
        rows.push((
            &job.id,
            &caller.tenant_id,
            &send.audio_id,
            &caller.key_id,
            send.priority,
            send.repeat,
            send.volume,
            i64::from(send.external_ids.is_none()),
            i64::from(send.scheduled),
            send.due_at_ms,
            send.created_at_ms,
        ));
        if let Some(Ok(SendOutcome::Created { destinations: to, .. })) = &job.outcome {
            for location in to {
                let code = location
                    .location_id
                    .checked_mul(count)
                    .and_then(|c| c.checked_add(place));
                destinations.push(code.ok_or_else(out_of_range)?);
            }
        }
    }
    let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(rowid), 0) FROM sends")
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO sends (rowid, id, tenant_id, audio_id, key_id, priority, repeat, volume,
                            broadcast, scheduled, due_at_ms, created_at_ms)
         SELECT ?2 + 1 + key, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4,
                value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10
         FROM json_each(?1) ORDER BY key",
    )
    .bind(json(&rows))
    .bind(last)
    .execute(&mut *tx)
    .await?;
    // The External ID and userId as the location has them, as `resolve` read them.
    sqlx::query(
        "INSERT INTO send_destinations (send_id, location_id, external_id, user_id)
         SELECT s.id, l.id, l.external_id, l.user_id FROM json_each(?1) d
         JOIN sends s ON s.rowid = ?2 + 1 + d.value % ?3
         JOIN locations l ON l.id = d.value / ?3
         ORDER BY d.key",
    )
    .bind(json(&destinations))
    .bind(last)
    .bind(count)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

impl SendJob {
    /// Gives a written send to the players, then answers.
    fn committed(self, players: &Deliveries) {
        let SendJob {
            caller,
            send,
            id,
            duration,
            _gate,
            outcome,
            reply,
        } = self;
        let answer = match outcome {
            Some(Ok(SendOutcome::Created { destinations, .. })) => {
                players.add_send(
                    caller.company_id,
                    SendInput {
                        id: id.clone(),
                        audio_id: send.audio_id,
                        environment: caller.environment,
                        priority: Priority::parse(send.priority).unwrap_or(Priority::Normal),
                        repeat: u32::try_from(send.repeat).unwrap_or(1),
                        volume: u8::try_from(send.volume).unwrap_or(100),
                        duration_ms: deliveries::duration_ms(duration),
                        scheduled: send.scheduled,
                        due_ms: send.due_at_ms,
                        created_ms: send.created_at_ms,
                    },
                    &destinations,
                );
                Ok(SendOutcome::Created {
                    send_id: id,
                    destinations,
                })
            }
            Some(Ok(other)) => Ok(other),
            Some(Err(err)) => Err(err.into()),
            None => Err(Error::Internal(anyhow!("a send was not staged"))),
        };
        // The gate opens once the players have it.
        drop(_gate);
        let _ = reply.send(answer);
    }
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
    /// Its tenant was created strict.
    pub strict: bool,
}

pub async fn company_by_prefix(db: &Db, prefix: &str) -> sqlx::Result<Option<CompanyCredential>> {
    sqlx::query_as(
        "SELECT c.id, c.tenant_id, c.prefix, c.company_token_hash, t.strict
         FROM companies c JOIN tenants t ON t.id = c.tenant_id WHERE c.prefix = ?",
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_ids_sort_in_the_order_they_were_given_and_look_like_the_random_ones() {
        let ids = SendIds::new();
        // Across a wrap of the counter, a later millisecond still sorts later.
        ids.next.store(SendIds::COUNTER - 2, Ordering::Relaxed);
        let given: Vec<String> = (0..5).map(|i| ids.next(1_800_000_000_000 + i / 2)).collect();
        let mut sorted = given.clone();
        sorted.sort();
        assert_eq!(given, sorted);
        for id in &given {
            let rest = id.strip_prefix("snd_").expect("prefix");
            assert_eq!(rest.len(), 14, "{id}");
            assert!(
                rest.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()),
                "{id}"
            );
        }
        assert_eq!(&given[0][4..13], "0mywpiww0", "milliseconds in base 36");
        assert_eq!(&given[1][13..], "zzzzz");
        assert_eq!(&given[2][13..], "00000");
        // The last instant a clock reaches, and the real clock for millennia, fit in nine places.
        assert_eq!(&ids.next(crate::clock::LAST_INSTANT_MS)[4..13], "5xfgnhmnz");
    }
}
