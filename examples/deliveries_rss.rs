//! How much memory finished deliveries leave behind: ROUNDS times, makes SENDS sends to
//! STORES stores of the default tenant (through the internal API, on a fresh database in a
//! temp dir), runs the clock until every delivery has played, lets the write-behind move
//! them to SQLite, and prints the process's RSS over the resting figure.
//!
//! `cargo run --release --example deliveries_rss -- [SENDS] [ROUNDS] [STORES]`: by default
//! 1,000 sends × 100 rounds × 10 stores, a million deliveries arriving as a sandbox's do;
//! `-- 100000 1` queues the million at once (the queue's own memory is its peak).

use std::time::Instant;

use soundcheck::App;
use soundcheck::auth::Environment;
use soundcheck::config::Config;
use soundcheck::musique::deliveries::{Destination, SendInput};
use soundcheck::musique::player::Priority;
use soundcheck::musique::store::{self, Library, NewAudio};
use soundcheck::state::DEFAULT_TENANT;

/// 2026-11-23T12:00:00Z.
const T0: i64 = 1_763_899_200_000;
/// Sends written per transaction.
const CHUNK: usize = 1_000;

fn rss_kb() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mb(kb: i64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let sends: usize = args.next().map_or(Ok(1_000), |a| a.parse())?;
    let rounds: usize = args.next().map_or(Ok(100), |a| a.parse())?;
    let stores: i64 = args.next().map_or(Ok(10), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let app = App::build(Config::for_tests(dir.path().join("rss.db").to_string_lossy())).await?;
    let state = app.state.clone();
    let clock = state.core.clocks.get(DEFAULT_TENANT);
    clock.freeze();
    clock.set_ms(T0);
    let company: i64 = sqlx::query_scalar("SELECT id FROM companies WHERE prefix = 'msk'")
        .fetch_one(&state.core.db.read)
        .await?;
    let locations: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT id, external_id, user_id FROM locations WHERE company_id = ? ORDER BY external_id LIMIT ?",
    )
    .bind(company)
    .bind(stores)
    .fetch_all(&state.core.db.read)
    .await?;
    let destinations: Vec<Destination> = (locations.iter())
        .map(|(id, external_id, user_id)| Destination {
            location_id: *id,
            external_id: external_id.clone(),
            user_id: *user_id,
        })
        .collect();
    let lib = Library {
        tenant_id: DEFAULT_TENANT,
        company_id: company,
        environment: Environment::Prod,
    };
    let audio = "aud_rss00000000000";
    store::insert_audio(
        &state.musique.writer,
        lib,
        NewAudio {
            id: audio.to_owned(),
            name: "tone".to_owned(),
            description: None,
            category: None,
            duration: 1.0,
            bytes: vec![0; 16],
            created_at_ms: T0,
        },
    )
    .await?;
    let rest = rss_kb();
    println!(
        "at rest: {}; {rounds} rounds of {sends} sends to {} stores",
        mb(rest),
        destinations.len()
    );

    let mut now = T0;
    let mut peak = rest;
    let all = Instant::now();
    for round in 1..=rounds {
        let report = round == rounds || rounds <= 10 || round % (rounds / 10) == 0;
        let started = Instant::now();
        for first in (0..sends).step_by(CHUNK) {
            let ids: Vec<String> = (first..(first + CHUNK).min(sends))
                .map(|i| format!("snd_{round}{i:013}"))
                .collect();
            let mut tx = state.core.db.begin_write().await?;
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO sends (id, tenant_id, audio_id, key_id, priority, repeat, volume, broadcast,
                                    scheduled, due_at_ms, created_at_ms) ",
            );
            insert.push_values(&ids, |mut row, id| {
                row.push_bind(id)
                    .push_bind(DEFAULT_TENANT)
                    .push_bind(audio)
                    .push_bind("key_rss")
                    .push_bind("normal")
                    .push_bind(1)
                    .push_bind(100)
                    .push_bind(false)
                    .push_bind(false)
                    .push_bind(now)
                    .push_bind(now);
            });
            insert.build().persistent(false).execute(&mut *tx).await?;
            let rows: Vec<(&String, &Destination)> = (ids.iter())
                .flat_map(|id| destinations.iter().map(move |d| (id, d)))
                .collect();
            for part in rows.chunks(5_000) {
                let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO send_destinations (send_id, location_id, external_id, user_id) ",
                );
                insert.push_values(part, |mut row, (id, d)| {
                    row.push_bind(*id)
                        .push_bind(d.location_id)
                        .push_bind(&d.external_id)
                        .push_bind(d.user_id);
                });
                insert.build().persistent(false).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            for id in ids {
                state.musique.deliveries.add_send(
                    company,
                    SendInput {
                        id,
                        audio_id: audio.to_owned(),
                        environment: Environment::Prod,
                        priority: Priority::Normal,
                        repeat: 1,
                        volume: 100,
                        duration_ms: 1_000,
                        scheduled: false,
                        due_ms: now,
                        created_ms: now,
                    },
                    &destinations,
                );
            }
        }
        let (held_sends, held) = state.musique.deliveries.held(company);
        let queued = rss_kb();
        peak = peak.max(queued);
        if report {
            println!(
                "round {round}: {held} deliveries queued ({held_sends} sends) in {:.1?}: RSS {} (+{} over rest)",
                started.elapsed(),
                mb(queued),
                mb(queued - rest)
            );
        }

        // Each store plays one a second: the clock runs past the last.
        let started = Instant::now();
        now += sends as i64 * 1_000 + 1_000;
        clock.set_ms(now);
        let ran = state
            .musique
            .deliveries
            .advance_companies(&state.core.db, &[company], now)
            .await?;
        let played = Instant::now();
        state
            .musique
            .deliveries
            .write_behind(&state.core.db, true)
            .await?;
        let (held_sends, held) = state.musique.deliveries.held(company);
        let outcomes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM delivery_outcomes")
            .fetch_one(&state.core.db.read)
            .await?;
        let done = rss_kb();
        if report {
            println!(
                "round {round}: {} started in {:.1?}, {outcomes} outcomes in SQLite after {:.1?}; \
                 held: {held} deliveries, {held_sends} sends; RSS {} (+{} over rest)",
                ran.deliveries_started,
                played - started,
                played.elapsed(),
                mb(done),
                mb(done - rest)
            );
        }
    }
    let end = rss_kb();
    println!(
        "{} deliveries in {:.1?}: RSS {} at the end, +{} over rest (highest after a round of sends: +{})",
        rounds * sends * destinations.len(),
        all.elapsed(),
        mb(end),
        mb(end - rest),
        mb(peak - rest)
    );
    Ok(())
}
