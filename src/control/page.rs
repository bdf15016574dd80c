//! How every control-plane list pages: `limit` (default [`DEFAULT_LIMIT`], at most
//! [`MAX_LIMIT`]) items from `cursor` on; answers carry `total` and `nextCursor`.
//!
//! A cursor names the last item of a page by its place in the list's order, not by a position,
//! so a walk that follows `nextCursor` meets every item exactly once, in order, while new ones
//! are added. Cursors are opaque (hex of the list's name and the item's key): one list's cursor
//! is refused by another.

use crate::error::{Error, Result};
use crate::extract::QueryPairs;

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1_000;

/// `limit` and the decoded `cursor` of a request to the list called `list`.
#[derive(Debug)]
pub struct Page {
    pub limit: usize,
    /// The key of the last item of the previous page.
    pub after: Option<Vec<String>>,
}

impl Page {
    /// Reads `limit` (a whole number 1–[`MAX_LIMIT`], else 400) and `cursor` (this list's,
    /// with `parts` parts, else 400).
    pub fn of(query: &QueryPairs, list: &str, parts: usize) -> Result<Page> {
        let limit = match query.get("limit") {
            None => DEFAULT_LIMIT,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    Error::validation(format!(
                        "`limit` must be a whole number from 1 to {MAX_LIMIT}; got {s:?}."
                    ))
                })?,
        };
        let after = query.get("cursor").map(|c| decode(c, list, parts)).transpose()?;
        Ok(Page { limit, after })
    }

    /// The cursor's part `i` as a number.
    pub fn number(&self, i: usize) -> Result<Option<i64>> {
        self.after
            .as_ref()
            .map(|parts| parts[i].parse::<i64>().map_err(|_| bad_cursor()))
            .transpose()
    }

    /// The cursor's part `i`.
    pub fn text(&self, i: usize) -> Option<&str> {
        self.after.as_ref().map(|parts| parts[i].as_str())
    }
}

/// The cursor of an item whose key is `parts` in the list called `list`.
pub fn cursor(list: &str, parts: &[&dyn std::fmt::Display]) -> String {
    let mut text = list.to_owned();
    for part in parts {
        text.push('|');
        text.push_str(&part.to_string());
    }
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The next page's cursor, when `items` (fetched with one more than `limit`) holds more than
/// a page: it then drops the extra one.
pub fn next<T>(items: &mut Vec<T>, limit: usize, key: impl Fn(&T) -> String) -> Option<String> {
    if items.len() <= limit {
        return None;
    }
    items.truncate(limit);
    items.last().map(key)
}

fn bad_cursor() -> Error {
    Error::validation("`cursor` is not one this list gave: pass the `nextCursor` of its previous page.")
}

fn decode(cursor: &str, list: &str, parts: usize) -> Result<Vec<String>> {
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| cursor.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(bad_cursor)?;
    let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
    // The last part may hold `|` itself (ids are the last part).
    let mut split = text.splitn(parts + 1, '|');
    if split.next() != Some(list) {
        return Err(bad_cursor());
    }
    let decoded: Vec<String> = split.map(str::to_owned).collect();
    if decoded.len() != parts {
        return Err(bad_cursor());
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> QueryPairs {
        QueryPairs::from(pairs)
    }

    #[test]
    fn limits_default_and_stop_at_the_maximum() {
        assert_eq!(Page::of(&query(&[]), "x", 1).expect("ok").limit, DEFAULT_LIMIT);
        assert_eq!(
            Page::of(&query(&[("limit", "1000")]), "x", 1).expect("ok").limit,
            1000
        );
        for bad in ["0", "1001", "-1", "ten", "", "1e3"] {
            match Page::of(&query(&[("limit", bad)]), "x", 1) {
                Err(Error::Validation(m)) => assert!(m.contains("`limit`"), "{bad}: {m}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn cursors_round_trip_and_belong_to_one_list() {
        let c = cursor("sends", &[&1_700_000_000_000i64, &"snd_a|b"]);
        let page = Page::of(&query(&[("cursor", &c)]), "sends", 2).expect("ok");
        assert_eq!(page.number(0).expect("number"), Some(1_700_000_000_000));
        assert_eq!(page.text(1), Some("snd_a|b"));
        for bad in [c.as_str(), "zz", "abc", ""] {
            let err = Page::of(&query(&[("cursor", bad)]), "tenants", 2);
            assert!(
                matches!(err, Err(Error::Validation(m)) if m.contains("`cursor`")),
                "{bad}"
            );
        }
        let mut items = vec![1, 2, 3];
        assert_eq!(next(&mut items, 2, |i| i.to_string()), Some("2".to_owned()));
        assert_eq!(items, [1, 2]);
        assert_eq!(next(&mut items, 2, |i| i.to_string()), None);
    }
}
