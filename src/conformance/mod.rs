//! `soundcheck conformance`: the same checks, drawn from the vendors' documented behaviour, run
//! against any target (the real APIs or a soundcheck) over HTTP(S), reported check by check
//! (pass / differs / skipped, with the status, headers and body shape seen), or side by side
//! for two targets (`--compare`) or against an earlier report (`--baseline`).
//!
//! Safe against production by construction: it writes only with `--allow-writes`, sends only
//! to the one `--external-id` (a send without exactly that one id is refused before it leaves),
//! deletes what it uploaded, prints how many calls it will make and stops at `--max-calls`,
//! stops an API's checks when its `X-RateLimit-Remaining` reaches 0 unless `--probe-limits`,
//! and never writes a key: every line and the report have the keys it was given replaced.
//!
//! An entry module that is only an HTTP client: it imports nothing of the server
//! (`tests/layering.rs` checks).

mod checks;
mod client;
mod report;
mod shape;

use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;
use serde_json::Value;

pub use checks::Api;
use checks::{Body, Ctx, Needs, Step};
use client::Endpoint;
pub use report::{Outcome, Report, Row, Run, Verdict, compare, table};
use shape::{Seen, flatten, header_shape};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Only {
    Musique,
    Musicark,
}

/// The flags. No `Debug`: it holds the keys.
#[derive(clap::Args, Clone)]
pub struct Args {
    /// The Musique Partner API's origin (https://api.musique.app) or a soundcheck's.
    #[arg(long, env = "SOUNDCHECK_CONFORMANCE_MUSIQUE_URL")]
    pub musique_url: Option<String>,
    /// A Musique key (X-API-Key). Prefer the env variable: it stays out of shell history.
    #[arg(long, env = "SOUNDCHECK_CONFORMANCE_MUSIQUE_KEY", hide_env_values = true)]
    pub musique_key: Option<String>,
    /// The MusicArk API's origin (https://admin.musicark.dev) or a soundcheck's.
    #[arg(long, env = "SOUNDCHECK_CONFORMANCE_MUSICARK_URL")]
    pub musicark_url: Option<String>,
    /// A MusicArk key (Bearer). A free key has 100 calls a month: the plan says how many a run uses.
    #[arg(long, env = "SOUNDCHECK_CONFORMANCE_MUSICARK_KEY", hide_env_values = true)]
    pub musicark_key: Option<String>,
    /// The one Musique External ID the write checks may send to (only with --allow-writes).
    #[arg(long)]
    pub external_id: Option<String>,
    /// Run the write checks: upload a 1 s MP3, send it to --external-id, delete it.
    #[arg(long)]
    pub allow_writes: bool,
    /// Check one API only.
    #[arg(long, value_enum)]
    pub only: Option<Only>,
    /// Write the report (every target's run) to this file as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Run the same checks against a second target (--compare-*; each defaults to the first
    /// target's) and print a side-by-side table of where the two differ.
    #[arg(long, conflicts_with = "baseline")]
    pub compare: bool,
    #[arg(long, requires = "compare")]
    pub compare_musique_url: Option<String>,
    #[arg(
        long,
        requires = "compare",
        env = "SOUNDCHECK_CONFORMANCE_COMPARE_MUSIQUE_KEY",
        hide_env_values = true
    )]
    pub compare_musique_key: Option<String>,
    #[arg(long, requires = "compare")]
    pub compare_musicark_url: Option<String>,
    #[arg(
        long,
        requires = "compare",
        env = "SOUNDCHECK_CONFORMANCE_COMPARE_MUSICARK_KEY",
        hide_env_values = true
    )]
    pub compare_musicark_key: Option<String>,
    /// Compare this run with the first run of an earlier --json report.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// The most calls a target's run makes; the checks past it are skipped.
    #[arg(long)]
    pub max_calls: Option<usize>,
    /// Also run the checks that exceed a rate limit on purpose (Musique's minute, MusicArk's
    /// month: this uses up the key's monthly quota).
    #[arg(long)]
    pub probe_limits: bool,
}

/// The most calls a limit probe makes; it runs only when X-RateLimit-Remaining is below this.
const PROBE_BOUND: [usize; 2] = [1000, 200];

/// One target: the endpoints checked.
#[derive(Debug, Clone)]
pub struct Target {
    pub musique: Option<Endpoint>,
    pub musicark: Option<Endpoint>,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub external_id: Option<String>,
    pub allow_writes: bool,
    pub probe_limits: bool,
    pub max_calls: Option<usize>,
}

/// Where the kit writes: every line has the keys replaced.
pub struct Out<'a> {
    writer: &'a mut dyn Write,
    secrets: Vec<String>,
}

impl Out<'_> {
    pub fn new(writer: &mut dyn Write, secrets: Vec<String>) -> Out<'_> {
        let secrets = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        Out { writer, secrets }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in &self.secrets {
            text = text.replace(secret.as_str(), "[key]");
        }
        text
    }

    pub fn line(&mut self, text: impl AsRef<str>) {
        let text = self.redact(text.as_ref());
        // Output that cannot be written (a closed pipe) is not the checks' concern.
        let _ = writeln!(self.writer, "{text}");
    }
}

/// The steps a target runs, in order.
fn plan(target: &Target) -> Vec<Step> {
    let mut steps = Vec::new();
    if target.musique.is_some() {
        steps.extend(checks::musique());
    }
    if target.musicark.is_some() {
        steps.extend(checks::musicark());
    }
    steps
}

/// Why a step does not run with these options, if it does not.
fn unmet(step: &Step, options: &Options) -> Option<String> {
    match step.needs {
        Needs::Writes if !options.allow_writes => Some("a write: needs --allow-writes".into()),
        Needs::Writes if options.external_id.is_none() => Some("a write: needs --external-id".into()),
        Needs::Probe if !options.probe_limits => Some("exceeds a rate limit: needs --probe-limits".into()),
        _ => None,
    }
}

/// The non-GET requests a read-only run makes, to see a 405: neither path has a write under
/// that method (Musique's health; MusicArk is GET only).
const HARMLESS: &[(&str, &str)] = &[("DELETE", "/health"), ("POST", "/songs")];

/// Refuses what the kit must never send: a write without `--allow-writes`, and a send whose
/// body is not exactly the one `--external-id` (no body, or a body without `externalIds`,
/// would be a broadcast).
pub fn refuse(request: &checks::Request, options: &Options) -> Option<String> {
    let write = request.method != "GET";
    let send = request.path.ends_with("/send");
    let harmless = HARMLESS.contains(&(request.method, request.path.as_str()));
    let unparseable_send = send && matches!(request.body, Body::Raw(_));
    let allowed = !write || options.allow_writes || harmless || unparseable_send;
    if !allowed {
        return Some("refused: a write without --allow-writes".into());
    }
    if send {
        let ok = match &request.body {
            // Not JSON: no service can read a recipient out of it.
            Body::Raw(text) => serde_json::from_str::<Value>(text).is_err(),
            Body::Json(body) => {
                options.external_id.is_some()
                    && body.get("externalIds") == Some(&serde_json::json!([options.external_id]))
            }
            Body::Empty | Body::Upload => false,
        };
        if !ok {
            return Some("refused: a send not to exactly the one --external-id".into());
        }
    }
    None
}

fn endpoint(target: &Target, api: Api) -> Option<&Endpoint> {
    match api {
        Api::Musique => target.musique.as_ref(),
        Api::Musicark => target.musicark.as_ref(),
    }
}

fn index(api: Api) -> usize {
    match api {
        Api::Musique => 0,
        Api::Musicark => 1,
    }
}

/// Runs every check against one target and prints each outcome.
pub async fn run_target(target: &Target, options: &Options, out: &mut Out<'_>) -> Run {
    let steps = plan(target);
    let planned = |api: Api| {
        steps
            .iter()
            .filter(|s| s.api == api && unmet(s, options).is_none() && s.needs != Needs::Probe)
            .count()
    };
    let (musique, musicark) = (planned(Api::Musique), planned(Api::Musicark));
    let mut run = Run {
        musique: target.musique.as_ref().map(|e| e.base.clone()),
        musicark: target.musicark.as_ref().map(|e| e.base.clone()),
        calls: 0,
        checks: Vec::new(),
    };
    out.line(format!(
        "conformance: {} at most {} calls: musique {musique}, musicark {musicark}{}{}",
        run.label(),
        musique + musicark,
        if musicark > 0 {
            " (the two 401 checks do not count against a MusicArk quota)"
        } else {
            ""
        },
        match options.max_calls {
            Some(n) => format!("; --max-calls {n}"),
            None => String::new(),
        },
    ));
    if options.probe_limits {
        out.line(format!(
            "  --probe-limits: up to {} more musique and {} more musicark calls, until the first 429 (a quarter more than X-RateLimit-Remaining at most)",
            PROBE_BOUND[0] + 1, PROBE_BOUND[1] + 1
        ));
    }
    let http = match client::client() {
        Ok(http) => http,
        Err(err) => {
            out.line(format!("error: {err}"));
            return run;
        }
    };
    let mut ctx = Ctx {
        external_id: options.external_id.clone(),
        ..Ctx::default()
    };
    let mut remaining: [Option<u64>; 2] = [None, None];
    // A call kept back for deleting what was uploaded, whatever --max-calls says.
    let mut reserved = 0;
    let budget = |used: usize, want: usize, reserved: usize| {
        options.max_calls.is_none_or(|max| used + want + reserved <= max)
    };
    for step in &steps {
        let Some(endpoint) = endpoint(target, step.api) else {
            continue;
        };
        let skip = |why: String| Outcome {
            id: step.id.into(),
            api: step.api,
            basis: step.basis.into(),
            title: step.title.into(),
            verdict: Verdict::Skipped,
            notes: vec![why],
            seen: None,
        };
        let left = remaining[index(step.api)];
        let outcome = if let Some(why) = unmet(step, options) {
            skip(why)
        } else {
            match (step.request)(&ctx) {
                Err(why) => skip(format!("cannot run: {why}")),
                Ok(request) => {
                    let uploads = matches!(request.body, Body::Upload);
                    let keyed = request.auth != checks::Auth::None && request.auth != checks::Auth::Invalid;
                    // A window refills while the probe runs: a quarter more than Remaining, and
                    // the probe stops at the first 429.
                    let extra = if step.needs == Needs::Probe {
                        left.map_or(0, |n| {
                            (n as usize + n as usize / 4 + 4).min(PROBE_BOUND[index(step.api)])
                        })
                    } else {
                        0
                    };
                    if let Some(why) = refuse(&request, options) {
                        skip(why)
                    } else if !budget(run.calls, 1 + extra + usize::from(uploads), reserved) {
                        skip(format!("--max-calls reached ({} made)", run.calls))
                    } else if step.needs == Needs::Probe
                        && left.is_none_or(|n| n as usize > PROBE_BOUND[index(step.api)])
                    {
                        skip(format!(
                            "X-RateLimit-Remaining {} is not known or over the probe's bound {}",
                            left.map_or("unseen".into(), |n| n.to_string()),
                            PROBE_BOUND[index(step.api)]
                        ))
                    } else if step.needs != Needs::Probe && keyed && left == Some(0) {
                        skip("X-RateLimit-Remaining is 0: the next call would exceed the limit".into())
                    } else {
                        let mut response = None;
                        for _ in 0..=extra {
                            run.calls += 1;
                            let answer = client::send(&http, endpoint, &request).await;
                            let limited = answer.as_ref().is_ok_and(|r| r.status == 429);
                            response = Some(answer);
                            if limited {
                                break;
                            }
                        }
                        let response = response.unwrap_or_else(|| Err("no call made".into()));
                        let outcome = judge(step, &ctx, &request, response);
                        if let Ok(response) = &outcome.1 {
                            if let Some(n) = response
                                .headers
                                .get("x-ratelimit-remaining")
                                .and_then(|v| v.parse().ok())
                            {
                                remaining[index(step.api)] = Some(n);
                            }
                            (step.learn)(
                                &mut ctx,
                                response.status,
                                &response.headers,
                                response.body.as_ref(),
                            );
                        }
                        if uploads {
                            reserved = usize::from(ctx.audio_id.is_some());
                        }
                        if ctx.audio_id.is_none() {
                            reserved = 0;
                        }
                        outcome.0
                    }
                }
            }
        };
        print_outcome(out, &outcome);
        run.checks.push(outcome);
        if step.id == "musique.rate_limit.exceeded"
            || (step.api == Api::Musique && is_last_musique(&steps, step))
        {
            cleanup(&http, target, &mut ctx, &mut run, out).await;
        }
    }
    cleanup(&http, target, &mut ctx, &mut run, out).await;
    out.line(format!(
        "{} checks: {} pass, {} differ, {} skipped; {} calls made",
        run.checks.len(),
        run.count(Verdict::Pass),
        run.count(Verdict::Differs),
        run.count(Verdict::Skipped),
        run.calls
    ));
    run
}

fn is_last_musique(steps: &[Step], step: &Step) -> bool {
    steps
        .iter()
        .rev()
        .find(|s| s.api == Api::Musique)
        .is_some_and(|last| last.id == step.id)
}

/// Deletes what the run uploaded and did not delete (a check failed, or --max-calls came).
async fn cleanup(http: &reqwest::Client, target: &Target, ctx: &mut Ctx, run: &mut Run, out: &mut Out<'_>) {
    let (Some(id), Some(endpoint)) = (ctx.audio_id.take(), target.musique.as_ref()) else {
        return;
    };
    let request = checks::Request {
        method: "DELETE",
        path: format!("/audio/{id}"),
        auth: checks::Auth::Key,
        body: Body::Empty,
    };
    run.calls += 1;
    match client::send(http, endpoint, &request).await {
        Ok(r) if r.status == 200 => out.line(format!("cleanup: deleted {id}, which this run uploaded")),
        Ok(r) => out.line(format!(
            "WARNING: could not delete {id} (status {}): delete it by hand",
            r.status
        )),
        Err(err) => out.line(format!(
            "WARNING: could not delete {id} ({err}): delete it by hand"
        )),
    }
}

fn judge(
    step: &Step,
    ctx: &Ctx,
    request: &checks::Request,
    response: Result<client::Response, String>,
) -> (Outcome, Result<client::Response, ()>) {
    let query_free = request.path.clone();
    let mut outcome = Outcome {
        id: step.id.into(),
        api: step.api,
        basis: step.basis.into(),
        title: step.title.into(),
        verdict: Verdict::Differs,
        notes: Vec::new(),
        seen: None,
    };
    match response {
        Err(err) => {
            outcome.notes.push(err);
            (outcome, Err(()))
        }
        Ok(response) => {
            let notes =
                (step.expect)(ctx).differences(response.status, &response.headers, response.body.as_ref());
            outcome.verdict = if notes.is_empty() {
                Verdict::Pass
            } else {
                Verdict::Differs
            };
            outcome.notes = notes;
            outcome.seen = Some(Seen {
                request: format!("{} {query_free}", request.method),
                status: response.status,
                headers: response
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), header_shape(k, v)))
                    .collect(),
                body: response
                    .body
                    .as_ref()
                    .map(flatten)
                    .unwrap_or_else(|| [("$".to_string(), "not JSON".to_string())].into()),
            });
            (outcome, Ok(response))
        }
    }
}

fn print_outcome(out: &mut Out<'_>, outcome: &Outcome) {
    out.line(format!(
        "{:<8} {:<42} [{}] {}",
        outcome.verdict.word(),
        outcome.id,
        outcome.basis,
        outcome.title
    ));
    if outcome.verdict == Verdict::Skipped {
        for note in &outcome.notes {
            out.line(format!("           {note}"));
        }
        return;
    }
    if let (Verdict::Differs, Some(seen)) = (outcome.verdict, &outcome.seen) {
        let top: Vec<&str> = seen
            .body
            .keys()
            .filter(|k| k.matches('.').count() == 1 && !k.contains("[]"))
            .map(|k| &k[2..])
            .collect();
        out.line(format!(
            "           saw: {} → {}, body {{{}}}",
            seen.request,
            seen.status,
            top.join(", ")
        ));
    }
    for note in &outcome.notes {
        out.line(format!("           {note}"));
    }
}

/// The targets the flags name (the second only with `--compare`), or what is wrong with them.
pub fn targets(args: &Args) -> Result<Vec<Target>, String> {
    let want = |api: Only| args.only.is_none_or(|only| only == api);
    let one = |api: Api,
               url: &Option<String>,
               key: &Option<String>,
               on: bool|
     -> Result<Option<Endpoint>, String> {
        match (url, on) {
            (Some(url), true) => {
                let key = key
                    .clone()
                    .ok_or_else(|| format!("--{}-key is needed with --{0}-url", api.name()))?;
                Endpoint::new(api, url, key).map(Some)
            }
            _ => Ok(None),
        }
    };
    let first = Target {
        musique: one(
            Api::Musique,
            &args.musique_url,
            &args.musique_key,
            want(Only::Musique),
        )?,
        musicark: one(
            Api::Musicark,
            &args.musicark_url,
            &args.musicark_key,
            want(Only::Musicark),
        )?,
    };
    if first.musique.is_none() && first.musicark.is_none() {
        return Err("nothing to check: give --musique-url and/or --musicark-url (with their keys)".into());
    }
    let mut targets = vec![first];
    if args.compare {
        let or = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
        let second = Target {
            musique: one(
                Api::Musique,
                &or(&args.compare_musique_url, &args.musique_url),
                &or(&args.compare_musique_key, &args.musique_key),
                want(Only::Musique),
            )?,
            musicark: one(
                Api::Musicark,
                &or(&args.compare_musicark_url, &args.musicark_url),
                &or(&args.compare_musicark_key, &args.musicark_key),
                want(Only::Musicark),
            )?,
        };
        let nothing_new = [
            &args.compare_musique_url,
            &args.compare_musique_key,
            &args.compare_musicark_url,
            &args.compare_musicark_key,
        ]
        .iter()
        .all(|a| a.is_none());
        if nothing_new {
            return Err(
                "--compare needs a second target: --compare-musique-url/-key, --compare-musicark-url/-key"
                    .into(),
            );
        }
        targets.push(second);
    }
    Ok(targets)
}

/// Runs what the flags say, writing to `writer`; the exit code: 0 when every check passed or
/// was skipped (with `--compare`/`--baseline`: when the two runs agree), 1 otherwise, 2 when
/// the flags or the baseline are wrong.
pub async fn run(args: &Args, writer: &mut dyn Write) -> i32 {
    let secrets = [
        &args.musique_key,
        &args.musicark_key,
        &args.compare_musique_key,
        &args.compare_musicark_key,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect();
    let mut out = Out::new(writer, secrets);
    let targets = match targets(args) {
        Ok(targets) => targets,
        Err(err) => {
            out.line(format!("error: {err}"));
            return 2;
        }
    };
    let baseline = match &args.baseline {
        None => None,
        Some(path) => match read_report(path) {
            Ok(run) => Some(run),
            Err(err) => {
                out.line(format!("error: --baseline {}: {err}", path.display()));
                return 2;
            }
        },
    };
    let options = Options {
        external_id: args.external_id.clone(),
        allow_writes: args.allow_writes,
        probe_limits: args.probe_limits,
        max_calls: args.max_calls,
    };
    let mut runs = Vec::new();
    for target in &targets {
        runs.push(run_target(target, &options, &mut out).await);
    }
    if let Some(path) = &args.json {
        let report = Report {
            format: report::FORMAT.into(),
            runs: runs.clone(),
        };
        let written = serde_json::to_string_pretty(&report)
            .map_err(|e| e.to_string())
            .and_then(|text| std::fs::write(path, out.redact(&text) + "\n").map_err(|e| e.to_string()));
        match written {
            Ok(()) => out.line(format!("wrote {}", path.display())),
            Err(err) => out.line(format!("error: writing {}: {err}", path.display())),
        }
    }
    let pair = match (&baseline, runs.as_slice()) {
        (Some(base), [now]) => Some((
            base.clone(),
            now.clone(),
            "baseline".to_string(),
            "now".to_string(),
        )),
        (None, [a, b]) => Some((
            a.clone(),
            b.clone(),
            format!("A: {}", a.label()),
            format!("B: {}", b.label()),
        )),
        _ => None,
    };
    match pair {
        Some((a, b, left, right)) => {
            let rows = compare(&a, &b);
            out.line(format!("\n{} checks differ between the two runs:", rows.len()));
            out.line(table(&left, &right, &rows).trim_end());
            i32::from(!rows.is_empty())
        }
        None => i32::from(runs.iter().any(|r| r.count(Verdict::Differs) > 0)),
    }
}

fn read_report(path: &std::path::Path) -> Result<Run, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let report: Report = serde_json::from_str(&text).map_err(|e| format!("not a conformance report: {e}"))?;
    if report.format != report::FORMAT {
        return Err(format!(
            "format {:?}, expected {:?}",
            report.format,
            report::FORMAT
        ));
    }
    report
        .runs
        .into_iter()
        .next()
        .ok_or_else(|| "the report has no run".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options() -> Options {
        Options {
            external_id: Some("store_001".into()),
            allow_writes: true,
            ..Options::default()
        }
    }

    fn send(body: Body) -> checks::Request {
        checks::Request {
            method: "POST",
            path: "/audio/aud_x/send".into(),
            auth: checks::Auth::Key,
            body,
        }
    }

    #[test]
    fn a_send_goes_only_to_the_one_external_id() {
        assert_eq!(
            refuse(
                &send(Body::Json(json!({"externalIds": ["store_001"]}))),
                &options()
            ),
            None
        );
        for (body, why) in [
            (Body::Json(json!({})), "no externalIds is a broadcast"),
            (Body::Empty, "an empty body is a broadcast"),
            (Body::Json(json!({"externalIds": []})), "an empty list"),
            (
                Body::Json(json!({"externalIds": ["store_001", "store_002"]})),
                "a second id",
            ),
            (Body::Json(json!({"externalIds": ["store_002"]})), "another id"),
            (Body::Raw("{}"), "raw JSON that parses"),
        ] {
            assert!(refuse(&send(body), &options()).is_some(), "{why}");
        }
        let read_only = Options {
            allow_writes: false,
            ..options()
        };
        assert!(
            refuse(
                &send(Body::Json(json!({"externalIds": ["store_001"]}))),
                &read_only
            )
            .is_some()
        );
        assert_eq!(
            refuse(&send(Body::Raw("{\"externalIds\": [")), &read_only),
            None,
            "unparseable JSON sends nothing"
        );
    }

    #[test]
    fn every_write_step_needs_writes_and_reads_need_nothing() {
        for step in checks::musique().iter().chain(checks::musicark().iter()) {
            let ctx = Ctx {
                external_id: Some("store_001".into()),
                audio_id: Some("aud_x".into()),
                song_id: Some("s".into()),
                tier: None,
            };
            let request = (step.request)(&ctx).expect("builds with everything known");
            let read_only = Options {
                allow_writes: false,
                ..options()
            };
            if step.needs == Needs::Writes {
                assert!(
                    refuse(&request, &read_only).is_some() || request.method == "GET",
                    "{}",
                    step.id
                );
            } else {
                assert!(
                    refuse(&request, &read_only).is_none(),
                    "{} is refused read-only",
                    step.id
                );
            }
            assert!(
                refuse(&request, &options()).is_none(),
                "{} is refused with --allow-writes",
                step.id
            );
        }
    }

    #[test]
    fn out_replaces_every_key() {
        let mut buffer = Vec::new();
        let mut out = Out::new(&mut buffer, vec!["sekrit_key".into(), String::new()]);
        out.line("Bearer sekrit_key and ?api_key=sekrit_key");
        assert_eq!(
            String::from_utf8(buffer).expect("utf-8"),
            "Bearer [key] and ?api_key=[key]\n"
        );
    }
}
