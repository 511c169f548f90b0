//! 2.1: when to restart a process that died, and when to stop trying.
//!
//! Restarting at once, forever, turns one bad deploy into a process that crashes hundreds of
//! times a second, floods the logs and hammers whatever it connects to on start. So the delay
//! grows after each crash (PM2's `exp_backoff_restart_delay`: 100 ms, then 1.5× each time, capped
//! at 15 s), falls back to the base once the process has stayed up long enough (30 s), and after
//! too many starts in a window (systemd's `StartLimitBurst` in `StartLimitIntervalSec`) minipm
//! gives up and marks the instance errored, for a human to look at.

use std::time::Duration;

use tokio::time::Instant;

use crate::config::RestartConfig;

/// What to do about a process that just exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Start it again after this long.
    RestartAfter(Duration),
    /// Too many restarts in the window: leave it stopped and report it errored.
    GiveUp,
}

/// The restart history of one instance.
#[derive(Debug)]
pub struct Restarts {
    policy: RestartConfig,
    // TODO(2.1): remember the delay the next restart will wait, and when the recent restarts
    // happened (a `VecDeque<Instant>` is a good fit for a sliding window).
}

impl Restarts {
    pub fn new(policy: RestartConfig) -> Restarts {
        Restarts { policy }
    }

    // ANCHOR: on-exit
    /// Called when the process, started at `started`, exited at `exited`.
    pub fn on_exit(&mut self, started: Instant, exited: Instant) -> Decision {
        // TODO(2.1): restart after `policy.base_delay_ms`, then 1.5 times longer each time
        // (`policy.factor`) up to `policy.max_delay_ms`; start over at the base delay when the
        // process stayed up `policy.reset_after_ms`; give up once `policy.limit_burst` restarts
        // happened within `policy.limit_interval_ms`.
        let _ = (started, exited, &self.policy);
        Decision::RestartAfter(Duration::ZERO)
    }
    // ANCHOR_END: on-exit
}
