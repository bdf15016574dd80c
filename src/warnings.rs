//! What soundcheck accepted that the real service might treat differently: each such
//! acceptance is a [`Warning`], sent back in a `Soundcheck-Warning` header and kept as the
//! request's journal note (or refused with a 400 in strict mode, by [`crate::journal::Notes::warn`]),
//! and [`suggest`], the known name a misspelt one probably meant.
//!
//! Nothing here runs on a request with nothing to warn about: the checks that find a warning
//! compare names and values in place, and only a warning found allocates.

/// The response header, one per warning.
pub const HEADER: &str = "soundcheck-warning";
/// The most warnings one request gets; one more says how many were left out.
pub const MAX_PER_REQUEST: usize = 8;
/// The longest name a warning quotes, in characters; longer ones are cut with `…`.
const NAME_CHARS: usize = 64;

/// One difference candidate: `subject` says what was given (`unknown field "external_ids"`),
/// `lenient` what soundcheck did with it, appended as it is (` ignored`, `; read as absent`),
/// `hint` the name probably meant.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub subject: String,
    pub lenient: &'static str,
    pub hint: Option<&'static str>,
    /// What followed from it, once known (`this send went to all 50 stores`).
    pub consequence: Option<String>,
}

impl Warning {
    pub fn new(subject: impl Into<String>, lenient: &'static str) -> Warning {
        Warning {
            subject: subject.into(),
            lenient,
            hint: None,
            consequence: None,
        }
    }

    pub fn hint(mut self, hint: Option<&'static str>) -> Warning {
        self.hint = hint;
        self
    }

    /// An unknown name among `known`: `unknown field "external_ids" ignored; did you mean
    /// "externalIds"?`. `aliases` maps names no edit would reach (`stores`) to the known one.
    pub fn unknown(
        what: &str,
        name: &str,
        known: &[&'static str],
        aliases: &[(&str, &'static str)],
    ) -> Warning {
        Warning::new(format!("unknown {what} {}", quoted(name)), " ignored")
            .hint(suggest(name, known, aliases))
    }

    /// The header value and journal note of a lenient server.
    pub fn lenient_line(&self) -> String {
        let mut line = format!("{}{}", self.subject, self.lenient);
        if let Some(hint) = self.hint {
            line.push_str(&format!("; did you mean \"{hint}\"?"));
        }
        if let Some(consequence) = &self.consequence {
            line.push_str(if self.hint.is_some() { " " } else { "; " });
            line.push_str(consequence);
        }
        line
    }

    /// The 400's message of a strict one.
    pub fn strict_line(&self) -> String {
        let mut line = format!(
            "{} refused: strict mode refuses what the real service might treat differently",
            self.subject
        );
        if let Some(hint) = self.hint {
            line.push_str(&format!("; did you mean \"{hint}\"?"));
        }
        line
    }
}

/// A name as a warning quotes it: in double quotes, cut at 64 characters, and escaped so
/// that it is visible ASCII (a header value can hold nothing else).
pub fn quoted(name: &str) -> String {
    let mut out = String::with_capacity(name.len().min(NAME_CHARS) + 2);
    out.push('"');
    for (i, c) in name.chars().enumerate() {
        if i == NAME_CHARS {
            out.push_str("...");
            break;
        }
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.extend(c.escape_unicode()),
        }
    }
    out.push('"');
    out
}

/// The known name `given` probably meant: an alias's target; else the known name equal to
/// it but for case, `_`/`-` (snake ↔ camel), a trailing `s`, or a suffix or prefix of three
/// letters or more; else the closest within an edit distance of a third of its length (at
/// least 1, at most 3). `None` when nothing is close.
pub fn suggest(
    given: &str,
    known: &[&'static str],
    aliases: &[(&str, &'static str)],
) -> Option<&'static str> {
    let folded = fold(given);
    if folded.is_empty() {
        return None;
    }
    if let Some((_, target)) = aliases.iter().find(|(alias, _)| fold(alias) == folded) {
        return Some(target);
    }
    let candidates: Vec<(&'static str, String)> = known.iter().map(|k| (*k, fold(k))).collect();
    if let Some((name, _)) = candidates.iter().find(|(_, k)| *k == folded) {
        return Some(name);
    }
    let singular = |s: &str| {
        s.strip_suffix('s')
            .map(str::to_owned)
            .unwrap_or_else(|| s.to_owned())
    };
    if let Some((name, _)) = candidates.iter().find(|(_, k)| singular(k) == singular(&folded)) {
        return Some(name);
    }
    // `min_nostalgia_index` for `min_nostalgia`: the known name with something added.
    if let Some((name, _)) = candidates
        .iter()
        .filter(|(_, k)| k.len() >= 6 && (folded.starts_with(k.as_str()) || folded.ends_with(k.as_str())))
        .max_by_key(|(_, k)| k.len())
    {
        return Some(name);
    }
    let limit = (folded.chars().count() / 3).clamp(1, 3);
    candidates
        .iter()
        .map(|(name, k)| (edit_distance(&folded, k), *name))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

/// Lower case without `_`, `-`, `.` or spaces: `external_ids`, `External-IDs` and
/// `externalIds` fold alike.
fn fold(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Optimal string alignment distance (Levenshtein with adjacent transpositions), on chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: the one before the previous (for transpositions), the previous, this one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// Warnings of a query string against the parameters an operation reads: each unknown one
/// (with the one probably meant), each given twice (the first is used), each whose value has
/// spaces around it (they are trimmed). Nothing is allocated when all is well.
pub fn query_warnings(
    pairs: &[(String, String)],
    known: &[&'static str],
    aliases: &[(&str, &'static str)],
) -> Vec<Warning> {
    let mut warnings = Vec::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if !known.contains(&name.as_str()) {
            warnings.push(Warning::unknown("query parameter", name, known, aliases));
        } else if pairs[..i].iter().any(|(earlier, _)| earlier == name) {
            warnings.push(Warning::new(
                format!("query parameter {} given more than once", quoted(name)),
                "; the first was used",
            ));
        } else if value.trim() != value {
            warnings.push(Warning::new(
                format!(
                    "the value of query parameter {} has spaces around it",
                    quoted(name)
                ),
                "; read trimmed",
            ));
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEND: [&str; 5] = ["externalIds", "scheduleAt", "priority", "repeat", "volume"];

    #[test]
    fn suggests_across_case_snake_and_camel() {
        assert_eq!(suggest("external_ids", &SEND, &[]), Some("externalIds"));
        assert_eq!(suggest("ExternalIDs", &SEND, &[]), Some("externalIds"));
        assert_eq!(suggest("schedule-at", &SEND, &[]), Some("scheduleAt"));
    }

    #[test]
    fn suggests_the_plural_and_small_typos() {
        assert_eq!(suggest("externalId", &SEND, &[]), Some("externalIds"));
        assert_eq!(suggest("external_id", &SEND, &[]), Some("externalIds"));
        assert_eq!(suggest("priorty", &SEND, &[]), Some("priority"));
        assert_eq!(suggest("scheduledAt", &SEND, &[]), Some("scheduleAt"));
        assert_eq!(suggest("voluem", &SEND, &[]), Some("volume"));
    }

    #[test]
    fn suggests_a_known_name_with_something_added() {
        let known = ["min_nostalgia", "max_nostalgia", "min_mystery", "max_results"];
        assert_eq!(suggest("min_nostalgia_index", &known, &[]), Some("min_nostalgia"));
        assert_eq!(suggest("nostalgia_min", &known, &[]), None);
    }

    #[test]
    fn aliases_reach_what_no_edit_does() {
        let aliases = [("stores", "externalIds")];
        assert_eq!(suggest("stores", &SEND, &aliases), Some("externalIds"));
        assert_eq!(suggest("Stores", &SEND, &aliases), Some("externalIds"));
    }

    #[test]
    fn suggests_nothing_when_nothing_is_close() {
        assert_eq!(suggest("colour", &SEND, &[]), None);
        assert_eq!(suggest("", &SEND, &[]), None);
        assert_eq!(suggest("x", &SEND, &[]), None);
    }

    #[test]
    fn edit_distance_counts_a_transposition_once() {
        assert_eq!(edit_distance("priority", "priority"), 0);
        assert_eq!(edit_distance("priroity", "priority"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn quoted_names_are_visible_ascii_and_bounded() {
        assert_eq!(quoted("external_ids"), "\"external_ids\"");
        assert_eq!(quoted("caf\u{e9}\n\"x"), "\"caf\\u{e9}\\u{a}\\\"x\"");
        let long = quoted(&"a".repeat(500));
        assert_eq!(long.len(), 64 + 2 + 3);
        assert!(axum::http::HeaderValue::from_str(&quoted("é\u{0}\u{7f}")).is_ok());
    }

    #[test]
    fn lines_read_as_the_issue_wrote_them() {
        let mut warning = Warning::unknown("field", "external_ids", &SEND, &[]);
        warning.consequence = Some("this send went to all 50 stores".into());
        assert_eq!(
            warning.lenient_line(),
            "unknown field \"external_ids\" ignored; did you mean \"externalIds\"? this send went to all 50 stores"
        );
        assert_eq!(
            warning.strict_line(),
            "unknown field \"external_ids\" refused: strict mode refuses what the real service might treat differently; did you mean \"externalIds\"?"
        );
        let plain = Warning::new("the body names no field", "; read as a broadcast");
        assert_eq!(
            plain.lenient_line(),
            "the body names no field; read as a broadcast"
        );
    }

    #[test]
    fn query_warnings_name_unknown_repeated_and_padded_parameters() {
        let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let known = ["limit", "offset"];
        assert!(query_warnings(&pairs(&[("limit", "5"), ("offset", "0")]), &known, &[]).is_empty());
        let found = query_warnings(
            &pairs(&[("limt", "5"), ("offset", "0"), ("offset", "3"), ("limit", " 5")]),
            &known,
            &[],
        );
        let lines: Vec<String> = found.iter().map(Warning::lenient_line).collect();
        assert_eq!(
            lines,
            [
                "unknown query parameter \"limt\" ignored; did you mean \"limit\"?",
                "query parameter \"offset\" given more than once; the first was used",
                "the value of query parameter \"limit\" has spaces around it; read trimmed",
            ]
        );
    }
}
