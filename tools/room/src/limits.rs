//! What the room accepts: the bounds of every field of a report, and the per-learner rate limit.
//! The body's size is bounded before any of this, by the router (`app::MAX_BODY`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::manifest::Section;

/// A name as the instructor's table shows it.
pub(crate) const MAX_NAME: usize = 40;
/// A failure's sentence (the runner sends its first line, cut to fit).
pub(crate) const MAX_SENTENCE: usize = 300;
const MAX_CODE: usize = 64;

/// What a learner's runner sends: after `just room join` (no sections yet) and after each test
/// run (that run's sections).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Report {
    /// The room's join code.
    pub(crate) code: String,
    /// The learner's id, chosen at random by `just room join` (two Adas stay two rows).
    pub(crate) learner: String,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) sections: Vec<Verdict>,
}

/// One section's result in a run.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Verdict {
    pub(crate) id: String,
    pub(crate) passed: u32,
    pub(crate) total: u32,
    /// The first failure's sentence, when one failed.
    #[serde(default)]
    pub(crate) failure: Option<String>,
}

impl Report {
    /// The first field out of bounds, in words, if any. The code is checked apart (in constant
    /// time, before this).
    pub(crate) fn problem(&self, sections: &[Section]) -> Option<String> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Some(format!("a name has 1 to {MAX_NAME} characters"));
        }
        if name.chars().any(char::is_control) {
            return Some("a name has no control characters".into());
        }
        let id_ok = (8..=64).contains(&self.learner.len())
            && self
                .learner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Some("a learner id has 8 to 64 letters, digits, - or _".into());
        }
        if self.sections.len() > sections.len() {
            return Some(format!("at most {} sections", sections.len()));
        }
        for verdict in &self.sections {
            if !sections.iter().any(|s| s.id == verdict.id) {
                return Some(format!(
                    "no section {:?} in this workbook",
                    verdict.id.chars().take(12).collect::<String>()
                ));
            }
            if verdict.passed > verdict.total || verdict.total > 10_000 {
                return Some(format!("section {}: passed ≤ total ≤ 10000", verdict.id));
            }
            if verdict
                .failure
                .as_ref()
                .is_some_and(|f| f.chars().count() > MAX_SENTENCE)
            {
                return Some(format!(
                    "section {}: a failure's sentence has at most {MAX_SENTENCE} characters",
                    verdict.id
                ));
            }
        }
        None
    }
}

/// Whether `given` is the room's code, in time that does not depend on where they differ (a
/// learner timing answers must not learn the code a character at a time).
pub(crate) fn code_matches(given: &str, code: &str) -> bool {
    given.len() <= MAX_CODE && constant_time_eq::constant_time_eq(given.as_bytes(), code.as_bytes())
}

/// A token bucket per learner: `BURST` writes at once, then one per `REFILL`. A class's runs
/// (one every few seconds each) never meet it; a loop posting as fast as it can does.
#[derive(Debug, Default)]
pub(crate) struct RateLimit {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

const BURST: f64 = 5.0;
const REFILL: Duration = Duration::from_secs(1);
/// Buckets kept before the full (idle) ones are dropped: memory stays bounded.
const MAX_BUCKETS: usize = 10_000;

impl RateLimit {
    /// Takes a token for `learner`; `Err(wait)` when there is none.
    pub(crate) fn take(&self, learner: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(learner) {
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() / REFILL.as_secs_f64() < BURST
            });
        }
        let (tokens, at) = buckets.entry(learner.to_owned()).or_insert((BURST, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() / REFILL.as_secs_f64()).min(BURST);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(REFILL.mul_f64(1.0 - *tokens))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_refused_when_it_differs_anywhere_or_in_length() {
        assert!(code_matches("K7QM2P", "K7QM2P"));
        assert!(!code_matches("K7QM2Q", "K7QM2P"));
        assert!(!code_matches("K7QM2", "K7QM2P"));
        assert!(!code_matches("K7QM2PP", "K7QM2P"));
        assert!(!code_matches("", "K7QM2P"));
    }

    #[test]
    fn a_burst_is_allowed_then_one_write_a_second() {
        let limit = RateLimit::default();
        for _ in 0..5 {
            assert!(limit.take("ada-0001").is_ok());
        }
        assert!(limit.take("ada-0001").is_err());
        // Another learner has a bucket of their own.
        assert!(limit.take("bob-0002").is_ok());
    }
}
