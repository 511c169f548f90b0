//! The load options the `loadgen` binary and `just load` (the runner's `lab load`) share, as
//! clap arguments, so that both take the same flags with the same defaults and help.

use std::time::Duration;

use crate::{Mode, Options};

/// How long, how hard, and over which connections.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// How long: 10s, 500ms, 2m (more than 0, at most a day).
    #[arg(long, default_value = "10s", value_parser = load_duration)]
    pub duration: Duration,
    /// Requests in flight at once (in keep-alive mode, connections), 1 to 1000.
    #[arg(long, default_value_t = 16, value_parser = concurrency)]
    pub concurrency: usize,
    /// keep-alive (a pool of persistent connections, as wrk and browsers) or per-request (a new
    /// connection for each request).
    #[arg(long, default_value = "keep-alive")]
    pub mode: Mode,
}

impl LoadArgs {
    /// Sets these on `options`.
    pub fn apply(&self, options: &mut Options) {
        options.duration = self.duration;
        options.concurrency = self.concurrency;
        options.mode = self.mode;
    }
}

/// A load's length: a duration above zero and at most a day (a longer one is a typo, and one
/// past what `Instant` can add would panic).
fn load_duration(text: &str) -> Result<Duration, String> {
    let duration = crate::parse_duration(text).map_err(|e| format!("{e:#}"))?;
    if duration.is_zero() {
        return Err(format!("{text:?}: a load must last more than 0 s"));
    }
    if duration > Duration::from_secs(24 * 60 * 60) {
        return Err(format!("{text:?}: at most a day (1440m)"));
    }
    Ok(duration)
}

/// Requests in flight at once: 1 to 1000 (each is an open connection, and a laptop's default
/// limit on open files is 1024 or 256).
fn concurrency(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=1000).contains(&n) => Ok(n),
        Ok(_) => Err(format!(
            "{text}: give from 1 to 1000 requests in flight at once"
        )),
        Err(_) => Err(format!("{text:?} is not a number of requests in flight")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_past_any_clock_is_an_error_not_a_panic() {
        let err = load_duration("99999999999999999999").unwrap_err();
        assert!(err.contains("99999999999999999999"), "{err}");
        let err = load_duration("1000000000000000s").unwrap_err();
        assert!(err.contains("at most a day"), "{err}");
        assert!(load_duration("0s").is_err());
        assert_eq!(load_duration("2m"), Ok(Duration::from_secs(120)));
    }

    #[test]
    fn no_requests_in_flight_is_an_error_that_says_so() {
        let err = concurrency("0").unwrap_err();
        assert!(err.contains("from 1 to 1000"), "{err}");
        assert_eq!(concurrency("16"), Ok(16));
    }
}
