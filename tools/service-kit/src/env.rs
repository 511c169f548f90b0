//! Reading settings from environment variables, with errors that name the variable, the value
//! and what was expected. Chapter 3 builds a complete typed configuration; the earlier chapters
//! need only these few helpers.

use std::str::FromStr;
use std::time::Duration;

/// A setting that could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{name}={value:?}: {expected}")]
pub struct BadSetting {
    /// The variable's name, e.g. `PORT`.
    pub name: String,
    /// The value it had.
    pub value: String,
    /// What it should have been.
    pub expected: String,
}

/// The variable's value, or `None` when it is unset or empty.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Parses `name` as a `T`, or returns `default` when it is unset.
pub fn parse_or<T: FromStr>(name: &str, default: T, expected: &str) -> Result<T, BadSetting> {
    match var(name) {
        None => Ok(default),
        Some(value) => value.trim().parse().map_err(|_| BadSetting {
            name: name.to_owned(),
            value,
            expected: expected.to_owned(),
        }),
    }
}

/// Parses `name` as a number of seconds (`10`, `0.5`), or returns `default` when it is unset.
pub fn seconds_or(name: &str, default: Duration) -> Result<Duration, BadSetting> {
    var(name).map_or(Ok(default), |value| parse_seconds(name, &value))
}

/// `"10"` → 10 s, `"0.5"` → 500 ms; anything else (negative, `10s`, `abc`) is an error.
pub fn parse_seconds(name: &str, value: &str) -> Result<Duration, BadSetting> {
    match value.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && (0.0..=86_400.0).contains(&secs) => {
            Ok(Duration::from_secs_f64(secs))
        }
        _ => Err(BadSetting {
            name: name.to_owned(),
            value: value.to_owned(),
            expected: "a number of seconds between 0 and 86400, such as 10 or 0.5".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_accept_whole_numbers_and_fractions() {
        assert_eq!(parse_seconds("T", "10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_seconds("T", " 0.5 "), Ok(Duration::from_millis(500)));
    }

    #[test]
    fn seconds_reject_units_words_and_negatives_naming_the_variable() {
        for bad in ["10s", "abc", "-1", "NaN", "1e9"] {
            let err = parse_seconds("SHUTDOWN_TIMEOUT", bad).unwrap_err();
            assert_eq!(err.name, "SHUTDOWN_TIMEOUT");
            assert!(
                err.to_string()
                    .starts_with(&format!("SHUTDOWN_TIMEOUT={bad:?}")),
                "{err}"
            );
        }
    }

    #[test]
    fn unset_variables_take_the_default() {
        let default = Duration::from_secs(10);
        assert_eq!(
            seconds_or("SERVICE_KIT_TEST_NEVER_SET", default),
            Ok(default)
        );
        assert_eq!(
            parse_or("SERVICE_KIT_TEST_NEVER_SET", 3000u16, "a port"),
            Ok(3000)
        );
    }
}
