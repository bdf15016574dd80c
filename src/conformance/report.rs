//! A run's report (what `--json` writes and `--baseline` reads), and the side-by-side table of
//! where two runs differ.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::checks::Api;
use super::shape::Seen;

pub const FORMAT: &str = "soundcheck-conformance/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Differs,
    Skipped,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Differs => "differs",
            Verdict::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub id: String,
    pub api: Api,
    pub basis: String,
    pub title: String,
    pub verdict: Verdict,
    /// Where the response departs from the expectation, or why the check was skipped.
    pub notes: Vec<String>,
    /// The response's shape (absent when no request was made).
    pub seen: Option<Seen>,
}

/// One target's run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The API base URLs checked (never a key).
    pub musique: Option<String>,
    pub musicark: Option<String>,
    pub calls: usize,
    pub checks: Vec<Outcome>,
}

impl Run {
    pub fn count(&self, verdict: Verdict) -> usize {
        self.checks.iter().filter(|c| c.verdict == verdict).count()
    }

    pub fn label(&self) -> String {
        [&self.musique, &self.musicark]
            .into_iter()
            .flatten()
            .map(|url| origin(url))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

fn origin(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => url.to_string(),
    }
}

/// What `--json` writes: every target's run of one invocation (`--baseline` reads the first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub format: String,
    pub runs: Vec<Run>,
}

/// One check where two runs differ, with the lines that differ: (what, left, right).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: String,
    pub left: String,
    pub right: String,
    pub lines: Vec<(String, String, String)>,
}

/// The most lines one check's row shows.
const MAX_LINES: usize = 30;

/// Every check whose verdict or seen shape differs between `a` and `b`, in `a`'s order.
pub fn compare(a: &Run, b: &Run) -> Vec<Row> {
    let mut ids: Vec<&str> = a.checks.iter().map(|c| c.id.as_str()).collect();
    for check in &b.checks {
        if !ids.contains(&check.id.as_str()) {
            ids.push(&check.id);
        }
    }
    let find = |run: &'_ Run, id: &str| run.checks.iter().find(|c| c.id == id).cloned();
    let mut rows = Vec::new();
    for id in ids {
        let (left, right) = (find(a, id), find(b, id));
        let verdict = |o: &Option<Outcome>| o.as_ref().map_or("absent", |o| o.verdict.word()).to_string();
        let seen = |o: &Option<Outcome>| o.as_ref().and_then(|o| o.seen.clone());
        let mut lines = diff(seen(&left).as_ref(), seen(&right).as_ref());
        if lines.is_empty() && verdict(&left) != verdict(&right) {
            let notes = |o: &Option<Outcome>| o.as_ref().map(|o| o.notes.join("; ")).unwrap_or_default();
            lines.push(("notes".into(), notes(&left), notes(&right)));
        }
        if lines.is_empty() && verdict(&left) == verdict(&right) {
            continue;
        }
        if lines.len() > MAX_LINES {
            let more = lines.len() - MAX_LINES;
            lines.truncate(MAX_LINES);
            lines.push((format!("… {more} more"), String::new(), String::new()));
        }
        rows.push(Row {
            id: id.to_string(),
            left: verdict(&left),
            right: verdict(&right),
            lines,
        });
    }
    rows
}

fn diff(a: Option<&Seen>, b: Option<&Seen>) -> Vec<(String, String, String)> {
    let (Some(a), Some(b)) = (a, b) else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    if a.status != b.status {
        lines.push(("status".into(), a.status.to_string(), b.status.to_string()));
    }
    let mut maps = |what: &str, x: &BTreeMap<String, String>, y: &BTreeMap<String, String>| {
        let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
        // A subtree one side lacks is shown by its root only.
        let lacks = |map: &BTreeMap<String, String>, key: &str| {
            ancestors(key).any(|a| !map.contains_key(a) && (x.contains_key(a) || y.contains_key(a)))
        };
        for key in keys {
            let (l, r) = (x.get(key), y.get(key));
            if (l.is_none() && lacks(x, key)) || (r.is_none() && lacks(y, key)) {
                continue;
            }
            if l != r {
                let show = |v: Option<&String>| v.cloned().unwrap_or_else(|| "absent".into());
                lines.push((format!("{what}{key}"), show(l), show(r)));
            }
        }
    };
    maps("header ", &a.headers, &b.headers);
    maps("", &a.body, &b.body);
    lines
}

/// `$.a.b[].c`'s ancestors: `$.a.b[]`, `$.a.b`, `$.a` (not `$`).
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.char_indices()
        .filter(|(i, c)| *i > 1 && (*c == '.' || *c == '['))
        .map(move |(i, _)| &path[..i])
        .chain(path.strip_suffix("[]"))
}

/// The widest a cell is printed; longer text is cut with `…`.
const CELL: usize = 44;

fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// The side-by-side table: one row per differing check, its differing lines indented under it.
pub fn table(left: &str, right: &str, rows: &[Row]) -> String {
    let mut cells: Vec<[String; 3]> = vec![["check".into(), cut(left, CELL), cut(right, CELL)]];
    for row in rows {
        cells.push([row.id.clone(), row.left.clone(), row.right.clone()]);
        for (what, l, r) in &row.lines {
            cells.push([format!("  {}", cut(what, CELL)), cut(l, CELL), cut(r, CELL)]);
        }
    }
    let width = |i: usize| cells.iter().map(|c| c[i].chars().count()).max().unwrap_or(0);
    let (w0, w1) = (width(0), width(1));
    let mut out = String::new();
    for (n, [a, b, c]) in cells.iter().enumerate() {
        let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
        out.push_str(format!("{} | {} | {}", pad(a, w0), pad(b, w1), c).trim_end());
        out.push('\n');
        if n == 0 {
            out.push_str(&format!(
                "{}-+-{}-+-{}\n",
                "-".repeat(w0),
                "-".repeat(w1),
                "-".repeat(width(2))
            ));
        }
    }
    if rows.is_empty() {
        out.push_str("(no differences)\n");
    }
    out
}
