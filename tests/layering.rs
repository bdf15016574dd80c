//! The layering check (ARCHITECTURE.md, "Invariants"): reads every `.rs` file under `src/`,
//! finds which top-level modules each top-level module imports, and fails when an import points
//! up a layer or sideways between the APIs, or when top-level modules import each other in a
//! cycle.
//!
//! An import is any path into the library crate: `use crate::…` and `pub use` (a group item by
//! item, across lines), inline `crate::x::…` in code, a `super::` that climbs out of a top-level
//! module (resolved against the file's place and any inline `mod` it sits in), in `lib.rs` a bare
//! `x::…` or `self::x::…` naming a module, and in `main.rs` `soundcheck::…`. A path to an item of
//! `lib.rs` itself (`crate::App`) imports `lib`. Comments and string literals are skipped, so doc
//! links do not count. `#[cfg(test)]` modules count like any other code: a unit test of a shared
//! module that needs an API or the app belongs in `tests/`, and it keeps the checker free of
//! attribute parsing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Layer {
    Entry,
    Control,
    Api,
    Shared,
}
use Layer::{Api, Control, Entry, Shared};

/// Every top-level module of `src/` (a `src/x.rs` or `src/x/`) and its layer. Imports point only
/// down: entry may import anything; control imports the APIs and shared code; an API imports
/// shared code only; shared code imports other shared code, without cycles. A new module must be
/// added here: the check fails on one it does not know. Names of modules not written yet are
/// fine.
#[rustfmt::skip]
const LAYERS: &[(&str, Layer)] = &[
    ("main", Entry), ("lib", Entry), ("cli", Entry), ("fixtures", Entry), ("app", Entry),
    ("openapi", Entry), ("conformance", Entry),
    ("control", Control),
    ("musique", Api), ("musicark", Api),
    ("admission", Shared), ("auth", Shared), ("basis", Shared), ("clock", Shared), ("config", Shared), ("db", Shared),
    ("error", Shared), ("extract", Shared), ("faults", Shared), ("gate", Shared), ("hasher", Shared), ("hosts", Shared), ("ids", Shared),
    ("journal", Shared), ("warnings", Shared), ("keys", Shared), ("middleware", Shared), ("rate_limit", Shared),
    ("serve", Shared), ("state", Shared), ("sync", Shared), ("tenancy", Shared), ("writer", Shared),
];

/// Imports (from, to) that break a rule or close a cycle today, while issue 12's branches land.
/// This list must only shrink, and go: the check fails on a violation not listed here, and on an
/// entry that is no longer a violation, so an entry is removed as soon as its import goes.
#[rustfmt::skip]
const KNOWN: &[(&str, &str)] = &[
];

fn layer_of(layers: &[(&str, Layer)], module: &str) -> Option<Layer> {
    layers
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, layer)| *layer)
}

/// The rule an import from `from` to `to` breaks, if any.
fn rule_broken(from: (&str, Layer), to: (&str, Layer)) -> Option<&'static str> {
    match (from.1, to.1) {
        (Shared, Api | Control | Entry) => Some("shared code imports no API, control or entry module"),
        (Api, Api) if from.0 != to.0 => Some("an API imports no other API"),
        (Api, Control) => Some("an API imports no control module"),
        (Api, Entry) => Some("an API imports no entry module"),
        (Control, Entry) => Some("control imports no entry module"),
        _ => None,
    }
}

// ---- reading source: tokens without comments and literals ----

#[derive(Debug, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Other,
}

struct Token {
    tok: Tok,
    line: usize,
}

/// Rust tokens, enough for paths and braces: comments (nested block comments too), strings, raw
/// strings, byte strings and char literals are dropped; a lifetime leaves its name as an ident.
fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let count_lines = |from: usize, to: usize| {
        chars[from..to.min(chars.len())]
            .iter()
            .filter(|c| **c == '\n')
            .count()
    };
    while let Some(c) = at(i) {
        let next = at(i + 1);
        let start = i;
        let tok = match c {
            '/' if next == Some('/') => {
                while at(i).is_some_and(|c| c != '\n') {
                    i += 1;
                }
                None
            }
            '/' if next == Some('*') => {
                let mut depth = 0;
                loop {
                    match (at(i), at(i + 1)) {
                        (Some('/'), Some('*')) => (depth, i) = (depth + 1, i + 2),
                        (Some('*'), Some('/')) => (depth, i) = (depth - 1, i + 2),
                        (Some(_), _) => i += 1,
                        (None, _) => break,
                    }
                    if depth == 0 {
                        break;
                    }
                }
                None
            }
            '"' => {
                i += 1;
                while let Some(c) = at(i) {
                    i += if c == '\\' { 2 } else { 1 };
                    if c == '"' {
                        break;
                    }
                }
                None
            }
            '\'' => {
                if next == Some('\\') {
                    // An escaped char: '\n', '\'', '\u{1F600}'.
                    i += 3;
                    while at(i).is_some_and(|c| c != '\'') {
                        i += 1;
                    }
                    i += 1;
                } else if at(i + 2) == Some('\'') {
                    i += 3;
                } else {
                    // A lifetime or a label: its name follows as an ident.
                    i += 1;
                }
                None
            }
            c if c.is_alphabetic() || c == '_' => {
                while at(i).is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let mut hashes = 0;
                while at(i + hashes) == Some('#') {
                    hashes += 1;
                }
                match word.as_str() {
                    "r" | "br" | "cr" if at(i + hashes) == Some('"') => {
                        let close: Vec<char> = std::iter::once('"')
                            .chain(std::iter::repeat_n('#', hashes))
                            .collect();
                        i += hashes + 1;
                        while at(i).is_some() && !chars[i..].starts_with(&close) {
                            i += 1;
                        }
                        i += close.len();
                        None
                    }
                    // A raw identifier: `r#type` is `type`.
                    "r" if hashes == 1 => {
                        i += 1;
                        None
                    }
                    // b"…", b'…', c"…": the literal is skipped on the next turn.
                    "b" | "c" if matches!(at(i), Some('"' | '\'')) => None,
                    _ => Some(Tok::Ident(word)),
                }
            }
            ':' if next == Some(':') => {
                i += 2;
                Some(Tok::PathSep)
            }
            _ => {
                i += 1;
                match c {
                    '{' => Some(Tok::Open),
                    '}' => Some(Tok::Close),
                    ',' => Some(Tok::Comma),
                    c if c.is_whitespace() => None,
                    _ => Some(Tok::Other),
                }
            }
        };
        if let Some(tok) = tok {
            out.push(Token { tok, line });
        }
        line += count_lines(start, i);
    }
    out
}

/// A path as written: its segments, and the group `{…}` that ends it, if any.
struct PathItem {
    segs: Vec<String>,
    line: usize,
    group: Vec<PathItem>,
}

fn parse_path(toks: &[Token], mut i: usize) -> (PathItem, usize) {
    let mut item = PathItem {
        segs: Vec::new(),
        line: toks[i].line,
        group: Vec::new(),
    };
    while let Some(Tok::Ident(seg)) = toks.get(i).map(|t| &t.tok) {
        item.segs.push(seg.clone());
        i += 1;
        if toks.get(i).map(|t| &t.tok) != Some(&Tok::PathSep) {
            break;
        }
        i += 1;
        if toks.get(i).map(|t| &t.tok) == Some(&Tok::Open) {
            return parse_group(toks, i + 1, item);
        }
    }
    (item, i)
}

/// The items of a group after its `{`, up to and past the matching `}`.
fn parse_group(toks: &[Token], mut i: usize, mut item: PathItem) -> (PathItem, usize) {
    while let Some(token) = toks.get(i) {
        match token.tok {
            Tok::Close => return (item, i + 1),
            Tok::Ident(_) => {
                let (sub, next) = parse_path(toks, i);
                item.group.push(sub);
                i = next;
                // What follows an item up to its comma: `as Name`, a glob's `*`.
                while toks
                    .get(i)
                    .is_some_and(|t| !matches!(t.tok, Tok::Comma | Tok::Close))
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    (item, i)
}

// ---- from paths to imports between top-level modules ----

struct Site {
    file: String,
    line: usize,
    text: String,
}

/// Which top-level modules import which, with every place that does.
#[derive(Default)]
struct Graph {
    /// Every top-level module found, `lib` and `main` included.
    modules: BTreeSet<String>,
    edges: BTreeMap<(String, String), Vec<Site>>,
    files: usize,
    sites: usize,
}

/// How a file sits in the crate: `musique/player/mod.rs` is module `musique::player`.
struct Place {
    owner: String,
    path: Vec<String>,
    lib_root: bool,
    main: bool,
}

fn place(rel: &str) -> Place {
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    match rel {
        "lib" | "main" => Place {
            owner: rel.to_string(),
            path: Vec::new(),
            lib_root: rel == "lib",
            main: rel == "main",
        },
        _ => {
            let mut path: Vec<String> = rel.split('/').map(str::to_string).collect();
            if path.last().is_some_and(|last| last == "mod") {
                path.pop();
            }
            Place {
                owner: path[0].clone(),
                path,
                lib_root: false,
                main: false,
            }
        }
    }
}

/// The top-level module of the library a path names, with the text to show, if it is one.
fn resolve(
    item: &PathItem,
    here: &[String],
    place: &Place,
    tops: &BTreeSet<String>,
    out: &mut Vec<(String, usize, String)>,
) {
    let segs = &item.segs;
    let skip = match segs[0].as_str() {
        "soundcheck" if place.main => 1,
        _ if place.main => return,
        "crate" => 1,
        "super" => {
            let climbs = segs.iter().take_while(|s| *s == "super").count();
            if climbs != here.len() {
                return; // still inside this top-level module
            }
            climbs
        }
        "self" if here.is_empty() => 1,
        name if place.lib_root && here.is_empty() && tops.contains(name) => 0,
        _ => return,
    };
    let prefix = segs[..skip].join("::");
    let target = |first: &str| {
        if tops.contains(first) {
            first.to_string()
        } else {
            "lib".to_string()
        }
    };
    if let Some(first) = segs.get(skip) {
        let group = if item.group.is_empty() { "" } else { "::{…}" };
        out.push((target(first), item.line, format!("{}{group}", segs.join("::"))));
    } else {
        for sub in &item.group {
            let group = if sub.group.is_empty() { "" } else { "::{…}" };
            let text = format!("{prefix}::{{{}{group}}}", sub.segs.join("::"));
            match sub.segs.first().map(String::as_str) {
                None | Some("self") => {}
                Some(first) => out.push((target(first), sub.line, text)),
            }
        }
    }
}

/// The paths into the library that `source` (the file at `rel`, relative to `src/`) writes.
fn imports(rel: &str, source: &str, tops: &BTreeSet<String>) -> Vec<(String, usize, String)> {
    let place = place(rel);
    let toks = tokens(source);
    let mut out = Vec::new();
    // Inline `mod name {` blocks open around the current token, with the depth of their brace.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while let Some(token) = toks.get(i) {
        let tok_at = |k: usize| toks.get(k).map(|t| &t.tok);
        match &token.tok {
            Tok::Open => depth += 1,
            Tok::Close => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Ident(word) if word == "mod" && tok_at(i + 2) == Some(&Tok::Open) => {
                if let Some(Tok::Ident(name)) = tok_at(i + 1) {
                    depth += 1;
                    inline.push((name.clone(), depth));
                    i += 3;
                    continue;
                }
            }
            Tok::Ident(_)
                if tok_at(i + 1) == Some(&Tok::PathSep)
                    && (i == 0 || tok_at(i - 1) != Some(&Tok::PathSep)) =>
            {
                let (item, next) = parse_path(&toks, i);
                let here: Vec<String> = place
                    .path
                    .iter()
                    .cloned()
                    .chain(inline.iter().map(|(name, _)| name.clone()))
                    .collect();
                resolve(&item, &here, &place, tops, &mut out);
                i = next;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Reads `files` (path relative to `src/`, with `/`, and contents) into the import graph.
fn scan(files: &[(String, String)]) -> Graph {
    let mut graph = Graph::default();
    for (rel, _) in files {
        graph.modules.insert(place(rel).owner);
    }
    let tops: BTreeSet<String> = graph
        .modules
        .iter()
        .filter(|m| *m != "lib" && *m != "main")
        .cloned()
        .collect();
    for (rel, source) in files {
        let owner = place(rel).owner;
        graph.files += 1;
        for (target, line, text) in imports(rel, source, &tops) {
            graph.sites += 1;
            if target != owner {
                graph
                    .edges
                    .entry((owner.clone(), target))
                    .or_default()
                    .push(Site {
                        file: rel.clone(),
                        line,
                        text,
                    });
            }
        }
    }
    graph
}

/// The groups of two or more modules that import each other in a cycle (strongly connected
/// components, Tarjan's algorithm), each sorted, in name order.
fn cycles<'a>(modules: &'a BTreeSet<String>, edges: &BTreeSet<(&'a str, &'a str)>) -> Vec<Vec<&'a str>> {
    struct Walk<'a, 'e> {
        edges: &'e BTreeSet<(&'a str, &'a str)>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(walk: &mut Walk<'a, '_>, v: &'a str) {
        let n = walk.index.len();
        walk.index.insert(v, n);
        walk.low.insert(v, n);
        walk.stack.push(v);
        let next: Vec<&str> = walk
            .edges
            .iter()
            .filter(|(from, _)| *from == v)
            .map(|(_, to)| *to)
            .collect();
        for w in next {
            if !walk.index.contains_key(w) {
                visit(walk, w);
                let low = walk.low[v].min(walk.low[w]);
                walk.low.insert(v, low);
            } else if walk.stack.contains(&w) {
                let low = walk.low[v].min(walk.index[w]);
                walk.low.insert(v, low);
            }
        }
        if walk.low[v] == walk.index[v] {
            let at = walk.stack.iter().rposition(|m| *m == v).unwrap_or(0);
            let mut component = walk.stack.split_off(at);
            if component.len() > 1 {
                component.sort();
                walk.found.push(component);
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for module in modules {
        if !walk.index.contains_key(module.as_str()) {
            visit(&mut walk, module);
        }
    }
    walk.found.sort();
    walk.found
}

fn write_sites(report: &mut String, sites: &[Site]) {
    for site in sites {
        let _ = writeln!(report, "        src/{}:{}  {}", site.file, site.line, site.text);
    }
}

/// Every import that breaks a rule or closes a cycle, with why; KNOWN not taken into account.
fn violations<'g>(graph: &'g Graph, layers: &[(&str, Layer)]) -> BTreeMap<(&'g str, &'g str), &'static str> {
    let all: BTreeSet<(&str, &str)> = graph
        .edges
        .keys()
        .map(|(f, t)| (f.as_str(), t.as_str()))
        .collect();
    let mut found = BTreeMap::new();
    for component in cycles(&graph.modules, &all) {
        for &(from, to) in &all {
            if component.contains(&from) && component.contains(&to) {
                found.insert((from, to), "closes an import cycle");
            }
        }
    }
    for &(from, to) in &all {
        if let (Some(fl), Some(tl)) = (layer_of(layers, from), layer_of(layers, to))
            && let Some(rule) = rule_broken((from, fl), (to, tl))
        {
            found.insert((from, to), rule);
        }
    }
    found
}

/// Checks `graph` against the rules, excusing the imports in `known`; the report lists every
/// problem with the places that cause it.
fn check(graph: &Graph, layers: &[(&str, Layer)], known: &[(&str, &str)]) -> Result<(), String> {
    let mut report = String::new();
    for module in &graph.modules {
        if layer_of(layers, module).is_none() {
            let _ = writeln!(
                report,
                "`{module}` (src/{module}.rs or src/{module}/) is a top-level module LAYERS does not classify: \
                 add it to the table in tests/layering.rs, in the layer it belongs to"
            );
        }
    }
    if !report.is_empty() {
        return Err(report);
    }
    let layer = |m: &str| {
        layer_of(layers, m).map_or("?", |l| match l {
            Entry => "entry",
            Control => "control",
            Api => "API",
            Shared => "shared",
        })
    };
    let known: BTreeSet<(&str, &str)> = known.iter().copied().collect();
    let broken = violations(graph, layers);
    for (&(from, to), &why) in &broken {
        if why != "closes an import cycle" && !known.contains(&(from, to)) {
            let _ = writeln!(
                report,
                "{from} ({}) imports {to} ({}): {why}",
                layer(from),
                layer(to)
            );
            write_sites(&mut report, &graph.edges[&(from.to_string(), to.to_string())]);
        }
    }
    let kept: BTreeSet<(&str, &str)> = graph
        .edges
        .keys()
        .map(|(f, t)| (f.as_str(), t.as_str()))
        .filter(|edge| !known.contains(edge))
        .collect();
    for component in cycles(&graph.modules, &kept) {
        let _ = writeln!(report, "import cycle between {}:", component.join(", "));
        for &(from, to) in &kept {
            if component.contains(&from) && component.contains(&to) {
                let _ = writeln!(report, "    {from} → {to}");
                write_sites(&mut report, &graph.edges[&(from.to_string(), to.to_string())]);
            }
        }
    }
    for &(from, to) in &known {
        if !graph.edges.contains_key(&(from.to_string(), to.to_string())) {
            let _ = writeln!(
                report,
                "KNOWN lists {from} → {to}, which no longer occurs: remove it from KNOWN"
            );
        } else if !broken.contains_key(&(from, to)) {
            let _ = writeln!(
                report,
                "KNOWN lists {from} → {to}, which breaks no rule and closes no cycle any more: remove it from KNOWN"
            );
        }
    }
    if report.is_empty() { Ok(()) } else { Err(report) }
}

/// Every `.rs` file under `dir`, as (path relative to `root` with `/`, contents), in path order.
fn read_sources(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let listing = std::fs::read_dir(dir).expect("src/ can be listed");
    let mut entries: Vec<_> = listing.map(|e| e.expect("src/ can be listed").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_sources(root, &path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let rel = path.strip_prefix(root).expect("a file under src/");
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((
                rel,
                std::fs::read_to_string(&path).expect("a source file reads as UTF-8"),
            ));
        }
    }
}

#[test]
fn imports_point_down_the_layers_and_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_sources(&src, &src, &mut files);
    let graph = scan(&files);

    // A scan that parsed nothing would pass: the crate has ~60 files and hundreds of imports,
    // and each API, the control plane and lib.rs import something.
    assert!(
        graph.files >= 30,
        "only {} files read under {}",
        graph.files,
        src.display()
    );
    assert!(
        graph.sites >= 200,
        "only {} imports into the crate found",
        graph.sites
    );
    for module in ["lib", "control", "musique", "musicark"] {
        assert!(
            graph.edges.keys().any(|(from, _)| from == module),
            "no import found from {module}"
        );
    }

    // `cargo test --test layering -- --nocapture` shows today's list in KNOWN's shape.
    let broken = violations(&graph, LAYERS);
    println!(
        "{} files, {} imports, {} edges; {} violations:",
        graph.files,
        graph.sites,
        graph.edges.len(),
        broken.len()
    );
    for ((from, to), why) in &broken {
        println!("    (\"{from}\", \"{to}\"), // {why}");
    }

    if let Err(report) = check(&graph, LAYERS, KNOWN) {
        panic!("the layering check failed (rules: ARCHITECTURE.md, \"Invariants\"):\n{report}");
    }
}

/// `soundcheck conformance` is an HTTP client of the APIs, to be pointed at the real services:
/// it imports nothing of the server, so that what it checks is what goes over the wire.
#[test]
fn conformance_imports_no_module_of_the_server() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_sources(&src, &src, &mut files);
    let graph = scan(&files);
    assert!(
        files.iter().any(|(path, _)| path.starts_with("conformance")),
        "src/conformance/ not read"
    );
    let imports: Vec<_> = graph
        .edges
        .keys()
        .filter(|(from, to)| from == "conformance" && to != "conformance")
        .collect();
    assert!(imports.is_empty(), "conformance imports {imports:?}");
}

// ---- the checker's own tests ----

fn graph_of(files: &[(&str, &str)]) -> Graph {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect();
    scan(&files)
}

fn edge_lines(graph: &Graph, from: &str, to: &str) -> Vec<usize> {
    graph
        .edges
        .get(&(from.to_string(), to.to_string()))
        .map_or(Vec::new(), |sites| sites.iter().map(|s| s.line).collect())
}

fn edges(graph: &Graph) -> Vec<(&str, &str)> {
    graph
        .edges
        .keys()
        .map(|(f, t)| (f.as_str(), t.as_str()))
        .collect()
}

#[test]
fn a_group_across_lines_imports_each_of_its_modules() {
    let graph = graph_of(&[
        (
            "auth.rs",
            "use crate::{\n    clock::Clock,\n    db::{self, Db},\n    config as c,\n};\n",
        ),
        ("clock.rs", ""),
        ("db.rs", ""),
        ("config.rs", ""),
    ]);
    assert_eq!(edge_lines(&graph, "auth", "clock"), [2]);
    assert_eq!(edge_lines(&graph, "auth", "db"), [3]);
    assert_eq!(edge_lines(&graph, "auth", "config"), [4]);
    assert_eq!(
        graph.edges[&("auth".to_string(), "db".to_string())][0].text,
        "crate::{db::{…}}"
    );
}

#[test]
fn comments_strings_and_chars_are_not_imports() {
    let source = r###"
        //! [`crate::control`]
        /// use crate::control;
        // crate::control::x
        /* crate::control:: /* nested */ crate::control::y */
        const S: &str = "crate::control::z \" crate::control";
        const R: &str = r#"crate::control::w " crate::control"#;
        const B: &[u8] = b"crate::control::v";
        const Q: char = '"';
        const E: char = '\'';
        fn f<'a>(x: &'a str) -> &'a str { x }
        pub use crate::db::Db;
    "###;
    let graph = graph_of(&[("auth.rs", source), ("control/mod.rs", ""), ("db.rs", "")]);
    assert_eq!(edges(&graph), [("auth", "db")]);
    assert_eq!(edge_lines(&graph, "auth", "db"), [12]);
}

#[test]
fn super_is_resolved_from_the_file_and_its_inline_modules() {
    let player = "use super::store::Row;\nuse super::super::state::AppState;\nfn f() { super::super::clock::now(); }\n";
    let auth = "mod tests {\n    use super::*;\n    use super::super::db::Db;\n    mod deeper { use super::super::Thing; }\n}\nfn g() { super::keys::count(); }\n";
    let graph = graph_of(&[
        ("musique/player/mod.rs", player),
        ("musique/store.rs", ""),
        ("auth.rs", auth),
        ("state.rs", ""),
        ("clock.rs", ""),
        ("db.rs", ""),
        ("keys.rs", ""),
    ]);
    assert_eq!(
        edges(&graph),
        [
            ("auth", "db"),
            ("auth", "keys"),
            ("musique", "clock"),
            ("musique", "state")
        ]
    );
    assert_eq!(edge_lines(&graph, "auth", "db"), [3]);
    assert_eq!(edge_lines(&graph, "musique", "clock"), [3]);
}

#[test]
fn inline_paths_lib_items_and_the_crate_root_count() {
    let graph = graph_of(&[
        (
            "lib.rs",
            "pub mod clock;\npub struct App;\nfn f() { let h = hasher::Hasher::new(); self::clock::now(); }\n",
        ),
        (
            "main.rs",
            "use soundcheck::{App, cli};\nfn main() { crate::local::f(); soundcheck::clock::now(); }\n",
        ),
        (
            "state.rs",
            "fn f() -> crate::App { let x = Vec::<crate::clock::Now>::new(); tokio::time::sleep(); todo!() }\n",
        ),
        ("clock.rs", "fn f() { axum::{serve::x}; }\n"),
        ("hasher.rs", ""),
        ("cli.rs", ""),
        ("serve.rs", ""),
    ]);
    assert_eq!(
        edges(&graph),
        [
            ("lib", "clock"),
            ("lib", "hasher"),
            ("main", "cli"),
            ("main", "clock"),
            ("main", "lib"),
            ("state", "clock"),
            ("state", "lib")
        ]
    );
}

const TEST_LAYERS: &[(&str, Layer)] = &[
    ("lib", Entry),
    ("control", Control),
    ("musique", Api),
    ("musicark", Api),
    ("a", Shared),
    ("b", Shared),
    ("c", Shared),
    ("d", Shared),
];

#[test]
fn a_cycle_is_found_with_the_imports_that_make_it() {
    let graph = graph_of(&[
        ("a.rs", "use crate::b::X;"),
        ("b.rs", "use crate::c::X;"),
        ("c.rs", "use crate::a::X;\nuse crate::d::X;"),
        ("d.rs", ""),
    ]);
    let all: BTreeSet<(&str, &str)> = edges(&graph).into_iter().collect();
    assert_eq!(cycles(&graph.modules, &all), [vec!["a", "b", "c"]]);
    let report = check(&graph, TEST_LAYERS, &[]).expect_err("the check should fail");
    assert!(report.contains("import cycle between a, b, c:"), "{report}");
    assert!(
        report.contains("    c → a\n        src/c.rs:1  crate::a::X"),
        "{report}"
    );
    assert!(!report.contains("→ d"), "{report}");
    // Excusing one edge breaks the cycle; the others still lie on it, so may be excused too.
    assert_eq!(check(&graph, TEST_LAYERS, &[("c", "a")]), Ok(()));
    assert_eq!(check(&graph, TEST_LAYERS, &[("c", "a"), ("a", "b")]), Ok(()));
    // An edge off the cycle that breaks no rule is not a violation to excuse.
    let stale = check(&graph, TEST_LAYERS, &[("c", "a"), ("c", "d")]).expect_err("the check should fail");
    assert_eq!(
        stale,
        "KNOWN lists c → d, which breaks no rule and closes no cycle any more: remove it from KNOWN\n"
    );
}

#[test]
fn each_rule_is_enforced_and_known_entries_must_still_occur() {
    let graph = graph_of(&[
        ("lib.rs", "use crate::control::X;"),
        ("control/mod.rs", "use crate::musique::X;\nuse crate::App;"),
        ("musique/mod.rs", "use crate::musicark::X;\nuse crate::a::X;"),
        ("musicark/mod.rs", "use crate::control::X;"),
        ("a.rs", "use crate::musique::X;"),
    ]);
    let report = check(&graph, TEST_LAYERS, &[]).expect_err("the check should fail");
    for expected in [
        "a (shared) imports musique (API): shared code imports no API, control or entry module\n        src/a.rs:1  crate::musique::X",
        "control (control) imports lib (entry): control imports no entry module\n        src/control/mod.rs:2  crate::App",
        "musique (API) imports musicark (API): an API imports no other API",
        "musicark (API) imports control (control): an API imports no control module",
    ] {
        assert!(report.contains(expected), "missing {expected:?} in:\n{report}");
    }
    assert!(!report.contains("lib (entry) imports"), "{report}");
    assert!(!report.contains("control (control) imports musique"), "{report}");

    let known = [
        ("a", "musique"),
        ("control", "lib"),
        ("musique", "musicark"),
        ("musicark", "control"),
    ];
    assert_eq!(check(&graph, TEST_LAYERS, &known), Ok(()));
    let stale = check(
        &graph,
        TEST_LAYERS,
        &[known[0], known[1], known[2], known[3], ("musique", "control")],
    )
    .expect_err("the check should fail");
    assert_eq!(
        stale,
        "KNOWN lists musique → control, which no longer occurs: remove it from KNOWN\n"
    );
}

#[test]
fn an_unclassified_module_must_be_added_to_the_table() {
    let graph = graph_of(&[("lib.rs", ""), ("a.rs", ""), ("tenancy.rs", "")]);
    let report = check(&graph, TEST_LAYERS, &[]).expect_err("the check should fail");
    assert!(
        report.contains(
            "`tenancy` (src/tenancy.rs or src/tenancy/) is a top-level module LAYERS does not classify"
        ),
        "{report}"
    );
    assert!(report.contains("add it to the table"), "{report}");
}
