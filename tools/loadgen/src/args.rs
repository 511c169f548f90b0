//! The load options the `loadgen` binary and `just load` (the runner's `lab load`) share, as
//! clap arguments, so that both take the same flags with the same defaults and help.

use std::time::Duration;

use crate::{Mode, Options};

/// How long, how hard, and over which connections.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// How long: 10s, 500ms, 2m.
    #[arg(long, default_value = "10s", value_parser = crate::parse_duration)]
    pub duration: Duration,
    /// Requests in flight at once (in keep-alive mode, connections).
    #[arg(long, default_value_t = 16)]
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
