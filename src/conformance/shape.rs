//! What a response looked like, without its values: header shapes, the body's field names and
//! JSON types (flattened to `$.a.b[]` paths), and the rules a check holds a response to.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The headers a check records (lowercase). Anything else a response carries is not compared.
pub const HEADERS: &[&str] = &[
    "content-type",
    "x-request-id",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "retry-after",
    "www-authenticate",
];

/// One response as a report keeps it: no values but the status, a few literal headers
/// (`content-type`'s media type, `www-authenticate`), and the body's types by path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Seen {
    /// `GET /songs?limit=0`: the request, relative to the API's base, no key in it.
    pub request: String,
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: BTreeMap<String, String>,
}

/// The shape of a header value: `integer`, `iso8601`, or the value itself for the few headers
/// whose words are the contract and carry no secret.
pub fn header_shape(name: &str, value: &str) -> String {
    match name {
        "content-type" => value.split(';').next().unwrap_or("").trim().to_ascii_lowercase(),
        "www-authenticate" => value.to_string(),
        _ if value.parse::<u64>().is_ok() => "integer".into(),
        _ if chrono::DateTime::parse_from_rfc3339(value).is_ok() => "iso8601".into(),
        "x-request-id" if value.starts_with("req_") => "req_…".into(),
        _ => "string".into(),
    }
}

/// The JSON type's name; integers are told apart from other numbers.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every path of `value` with its type; an array's elements share one path (`$.data[]`), their
/// types joined (`null|string`) when they differ.
pub fn flatten(value: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk("$", value, &mut out);
    out
}

fn walk(path: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    let kind = type_name(value);
    match out.get_mut(path) {
        Some(seen) if !seen.split('|').any(|t| t == kind) => {
            let mut kinds: Vec<&str> = seen.split('|').chain([kind]).collect();
            kinds.sort_unstable();
            *seen = kinds.join("|");
        }
        Some(_) => {}
        None => {
            out.insert(path.to_string(), kind.to_string());
        }
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                walk(&format!("{path}.{key}"), child, out);
            }
        }
        Value::Array(items) => {
            for child in items {
                walk(&format!("{path}[]"), child, out);
            }
        }
        _ => {}
    }
}

/// The values at `path` (`$.a.b`, `$.data[].id`): several where the path goes through arrays.
pub fn lookup<'a>(value: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![value];
    let rest = path.strip_prefix('$').unwrap_or(path);
    for segment in rest.split('.').filter(|s| !s.is_empty()) {
        let (name, arrays) = match segment.find("[]") {
            Some(at) => (&segment[..at], segment[at..].matches("[]").count()),
            None => (segment, 0),
        };
        current = current.into_iter().filter_map(|v| v.get(name)).collect();
        for _ in 0..arrays {
            current = current
                .into_iter()
                .flat_map(|v| {
                    v.as_array()
                        .map(|a| a.iter().collect::<Vec<_>>())
                        .unwrap_or_default()
                })
                .collect();
        }
    }
    current
}

/// What a body path must hold.
#[derive(Debug, Clone)]
pub enum Rule {
    /// This JSON type (`number` accepts integers too); every element, through arrays.
    Type(&'static str),
    /// `null` or this type.
    Nullable(&'static str),
    /// Exactly this value.
    Eq(Value),
    /// A string among these.
    OneOf(&'static [&'static str]),
    /// A string matching this test, described in words.
    Matches(&'static str, fn(&str) -> bool),
    /// The path is absent (a section a tier does not see, a wrapper that must not be there).
    Absent,
    /// An array holding an element whose `field` equals the value (what was uploaded).
    Contains(&'static str, String),
}

/// What a header must be.
#[derive(Debug, Clone)]
pub enum HeaderRule {
    Absent,
    /// A non-negative integer.
    Integer,
    /// Unix seconds (an integer after 2001).
    Epoch,
    /// RFC 3339 at the first of a month, 00:00 UTC.
    MonthStart,
    Eq(&'static str),
    Contains(&'static str),
}

/// What a check expects of its one response.
#[derive(Debug, Clone)]
pub struct Expect {
    pub status: u16,
    pub headers: Vec<(&'static str, HeaderRule)>,
    pub body: Vec<(&'static str, Rule)>,
}

impl Expect {
    pub fn status(status: u16) -> Expect {
        Expect {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &'static str, rule: HeaderRule) -> Expect {
        self.headers.push((name, rule));
        self
    }

    pub fn field(mut self, path: &'static str, rule: Rule) -> Expect {
        self.body.push((path, rule));
        self
    }

    pub fn fields(mut self, rules: &[(&'static str, &'static str)]) -> Expect {
        for (path, kind) in rules {
            self.body.push((path, Rule::Type(kind)));
        }
        self
    }

    /// Where the response departs from this, one line each (empty: it conforms).
    pub fn differences(
        &self,
        status: u16,
        headers: &BTreeMap<String, String>,
        body: Option<&Value>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        if status != self.status {
            out.push(format!("status: expected {}, saw {status}", self.status));
        }
        for (name, rule) in &self.headers {
            if let Some(problem) = check_header(headers.get(*name).map(String::as_str), rule) {
                out.push(format!("header {name}: {problem}"));
            }
        }
        for (path, rule) in &self.body {
            let values = match body {
                Some(body) => lookup(body, path),
                None if matches!(rule, Rule::Absent) => Vec::new(),
                None => {
                    out.push(format!("{path}: the body is not JSON"));
                    continue;
                }
            };
            if let Some(problem) = check_values(&values, rule, path.contains("[]")) {
                out.push(format!("{path}: {problem}"));
            }
        }
        out
    }
}

fn check_header(value: Option<&str>, rule: &HeaderRule) -> Option<String> {
    let ok = match (rule, value) {
        (HeaderRule::Absent, None) => true,
        (HeaderRule::Absent, Some(_)) => return Some("expected absent, saw one".into()),
        (_, None) => return Some("missing".into()),
        (HeaderRule::Integer, Some(v)) => v.parse::<u64>().is_ok(),
        (HeaderRule::Epoch, Some(v)) => v.parse::<u64>().is_ok_and(|n| n > 1_000_000_000),
        (HeaderRule::MonthStart, Some(v)) => {
            chrono::DateTime::parse_from_rfc3339(v).is_ok_and(|_| v.ends_with("-01T00:00:00Z"))
        }
        (HeaderRule::Eq(want), Some(v)) => v == *want,
        (HeaderRule::Contains(want), Some(v)) => v.contains(want),
    };
    let want = match rule {
        HeaderRule::Integer => "an integer".to_string(),
        HeaderRule::Epoch => "Unix epoch seconds".into(),
        HeaderRule::MonthStart => "the first of a month, 00:00Z (ISO 8601)".into(),
        HeaderRule::Eq(w) => format!("{w:?}"),
        HeaderRule::Contains(w) => format!("containing {w:?}"),
        HeaderRule::Absent => String::new(),
    };
    (!ok).then(|| {
        format!(
            "expected {want}, saw {}",
            value.map(|v| header_shape("", v)).unwrap_or_default()
        )
    })
}

fn check_values(values: &[&Value], rule: &Rule, through_array: bool) -> Option<String> {
    if let Rule::Absent = rule {
        return (!values.is_empty()).then(|| format!("expected absent, saw {}", type_name(values[0])));
    }
    if values.is_empty() {
        // An empty array holds no element to be wrong.
        return (!through_array).then(|| format!("expected {}, saw absent", describe(rule)));
    }
    if let Rule::Contains(field, want) = rule {
        let found = values.iter().any(|v| {
            v.as_array().is_some_and(|items| {
                items
                    .iter()
                    .any(|i| i.get(field).and_then(Value::as_str) == Some(want))
            })
        });
        return (!found).then(|| format!("no element with this {field}"));
    }
    values.iter().find_map(|value| {
        let ok = match rule {
            Rule::Type(kind) => is_type(value, kind),
            Rule::Nullable(kind) => value.is_null() || is_type(value, kind),
            Rule::Eq(want) => *value == want,
            Rule::OneOf(words) => value.as_str().is_some_and(|s| words.contains(&s)),
            Rule::Matches(_, test) => value.as_str().is_some_and(test),
            Rule::Absent | Rule::Contains(..) => true,
        };
        (!ok).then(|| match rule {
            // The codes and words the contract names are safe to show; other values are not shown.
            Rule::Eq(_) | Rule::OneOf(_) if value.is_string() || value.is_boolean() => {
                format!("expected {}, saw {value}", describe(rule))
            }
            _ => format!("expected {}, saw {}", describe(rule), type_name(value)),
        })
    })
}

fn is_type(value: &Value, kind: &str) -> bool {
    let seen = type_name(value);
    seen == kind || (kind == "number" && seen == "integer")
}

fn describe(rule: &Rule) -> String {
    match rule {
        Rule::Type(kind) => kind.to_string(),
        Rule::Nullable(kind) => format!("{kind} or null"),
        Rule::Eq(value) => value.to_string(),
        Rule::OneOf(words) => format!("one of {}", words.join("|")),
        Rule::Matches(words, _) => words.to_string(),
        Rule::Absent => "absent".into(),
        Rule::Contains(field, _) => format!("an element with this {field}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flatten_names_every_path_and_joins_element_types() {
        let shape = flatten(&json!({"a": [{"x": 1}, {"x": null}], "b": "s", "c": 1.5}));
        let got: Vec<(String, String)> = shape.into_iter().collect();
        assert_eq!(
            got,
            [
                ("$", "object"),
                ("$.a", "array"),
                ("$.a[]", "object"),
                ("$.a[].x", "integer|null"),
                ("$.b", "string"),
                ("$.c", "number")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }

    #[test]
    fn rules_report_the_type_seen_not_the_value() {
        let body = json!({"error": {"code": "nope", "secret": "abc"}, "list": []});
        let expect = Expect::status(401)
            .field("$.error.code", Rule::Eq(json!("missing_api_key")))
            .field("$.error.secret", Rule::Type("integer"))
            .field("$.list[].id", Rule::Type("string"))
            .field("$.missing", Rule::Type("string"));
        let diffs = expect.differences(401, &BTreeMap::new(), Some(&body));
        assert_eq!(
            diffs,
            [
                "$.error.code: expected \"missing_api_key\", saw \"nope\"",
                "$.error.secret: expected integer, saw string",
                "$.missing: expected string, saw absent",
            ]
        );
    }

    #[test]
    fn header_rules() {
        let headers = BTreeMap::from([(
            "x-ratelimit-reset".to_string(),
            "2026-12-01T00:00:00Z".to_string(),
        )]);
        let month = Expect::status(200).header("x-ratelimit-reset", HeaderRule::MonthStart);
        assert!(month.differences(200, &headers, None).is_empty());
        let epoch = Expect::status(200).header("x-ratelimit-reset", HeaderRule::Epoch);
        assert_eq!(
            epoch.differences(200, &headers, None),
            ["header x-ratelimit-reset: expected Unix epoch seconds, saw iso8601"]
        );
    }
}
