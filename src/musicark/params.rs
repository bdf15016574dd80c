//! Query parameters of the MusicArk API: defaults, clamps, and 400s that name the parameter
//! and its allowed range or words (spec §3).

use crate::error::{Error, Result};
use crate::extract::QueryPairs;

/// The most results any list or search returns; larger requests are clamped to it.
pub const MAX_RESULTS: i64 = 100;

/// An integer parameter at least `min`; above `clamp_to` it is clamped, not refused.
pub fn clamped_int(query: &QueryPairs, name: &str, default: i64, min: i64, clamp_to: i64) -> Result<i64> {
    let Some(raw) = query.get(name) else {
        return Ok(default);
    };
    match raw.trim().parse::<i64>() {
        Ok(n) if n >= min => Ok(n.min(clamp_to)),
        // An unbounded parameter (`offset`) has no clamp worth naming.
        Ok(_) if clamp_to == i64::MAX => Err(Error::validation(format!(
            "`{name}` must be an integer of at least {min}; got {raw:?}."
        ))),
        Ok(_) => Err(Error::validation(format!(
            "`{name}` must be an integer of at least {min} (values above {clamp_to} are treated as {clamp_to}); got {raw:?}."
        ))),
        // A number too large for an integer is still "above the maximum".
        Err(_)
            if !raw.trim().starts_with('-')
                && raw.trim().bytes().all(|b| b.is_ascii_digit())
                && !raw.trim().is_empty() =>
        {
            Ok(clamp_to)
        }
        Err(_) => Err(Error::validation(format!(
            "`{name}` must be an integer of at least {min}; got {raw:?}."
        ))),
    }
}

/// An integer parameter that must lie within `min..=max`.
pub fn bounded_int(query: &QueryPairs, name: &str, min: i64, max: i64) -> Result<Option<i64>> {
    let Some(raw) = query.get(name) else {
        return Ok(None);
    };
    match raw.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(Error::validation(format!(
            "`{name}` must be an integer from {min} to {max}; got {raw:?}."
        ))),
    }
}

/// A number parameter within `min..=max` (or above `min` when `exclusive_min`).
pub fn bounded_float(
    query: &QueryPairs,
    name: &str,
    min: f64,
    max: f64,
    exclusive_min: bool,
) -> Result<Option<f64>> {
    let Some(raw) = query.get(name) else {
        return Ok(None);
    };
    let value = raw.trim().parse::<f64>().ok().filter(|v| v.is_finite());
    let ok = value.is_some_and(|v| (if exclusive_min { v > min } else { v >= min }) && v <= max);
    match value {
        Some(v) if ok => Ok(Some(v)),
        _ => {
            let range = match (exclusive_min, max.is_finite()) {
                (true, false) => format!("a number greater than {min}"),
                (true, true) => format!("a number greater than {min} and at most {max}"),
                (false, _) => format!("a number from {min} to {max}"),
            };
            Err(Error::validation(format!(
                "`{name}` must be {range}; got {raw:?}."
            )))
        }
    }
}

/// A word from a fixed vocabulary.
pub fn word<'a>(query: &QueryPairs, name: &str, vocabulary: &[&'a str]) -> Result<Option<&'a str>> {
    let Some(raw) = query.get(name) else {
        return Ok(None);
    };
    vocabulary
        .iter()
        .copied()
        .find(|w| *w == raw.trim())
        .map(Some)
        .ok_or_else(|| {
            Error::validation(format!(
                "`{name}` must be one of {}; got {raw:?}.",
                vocabulary.join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> QueryPairs {
        QueryPairs::from(pairs)
    }

    #[test]
    fn limits_clamp_above_and_refuse_below() {
        assert_eq!(clamped_int(&q(&[]), "limit", 20, 1, 100).ok(), Some(20));
        assert_eq!(
            clamped_int(&q(&[("limit", "500")]), "limit", 20, 1, 100).ok(),
            Some(100)
        );
        assert_eq!(
            clamped_int(&q(&[("limit", "99999999999999999999999")]), "limit", 20, 1, 100).ok(),
            Some(100)
        );
        for bad in ["0", "-3", "ten", "1.5", ""] {
            let err = clamped_int(&q(&[("limit", bad)]), "limit", 20, 1, 100).expect_err(bad);
            assert!(err.to_string().contains("`limit`"), "{err}");
        }
    }

    #[test]
    fn floats_name_their_range() {
        assert_eq!(
            bounded_float(&q(&[("h", "360")]), "h", 0.0, 360.0, false).ok(),
            Some(Some(360.0))
        );
        let err = bounded_float(&q(&[("h", "361")]), "h", 0.0, 360.0, false).expect_err("out of range");
        assert!(err.to_string().contains("from 0 to 360"), "{err}");
        assert!(bounded_float(&q(&[("c", "NaN")]), "c", 0.0, 0.4, false).is_err());
        assert!(
            bounded_float(
                &q(&[("max_distance", "0")]),
                "max_distance",
                0.0,
                f64::INFINITY,
                true
            )
            .is_err()
        );
    }

    #[test]
    fn words_list_the_vocabulary() {
        let err = word(&q(&[("sort", "rating")]), "sort", &["published_at", "title"]).expect_err("unknown");
        assert!(err.to_string().contains("published_at, title"), "{err}");
    }
}
