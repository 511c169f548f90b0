//! 2.1: when to restart a process that died, and when to stop trying.
//!
//! Restarting at once, forever, turns one bad deploy into a process that crashes hundreds of
//! times a second, floods the logs and hammers whatever it connects to on start. So the delay
//! grows after each crash (PM2's `exp_backoff_restart_delay`: 100 ms, then 1.5× each time, capped
//! at 15 s), falls back to the base once the process has stayed up long enough (30 s), and after
//! too many starts in a window (systemd's `StartLimitBurst` in `StartLimitIntervalSec`) minipm
//! gives up and marks the instance errored, for a human to look at.

use std::collections::VecDeque;
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
    /// The delay the next restart will wait.
    next_delay: Duration,
    /// When each restart within the limit's window happened.
    recent: VecDeque<Instant>,
}

impl Restarts {
    pub fn new(policy: RestartConfig) -> Restarts {
        Restarts {
            next_delay: Duration::from_millis(policy.base_delay_ms),
            policy,
            recent: VecDeque::new(),
        }
    }

    // ANCHOR: on-exit
    /// Called when the process, started at `started`, exited at `exited`.
    pub fn on_exit(&mut self, started: Instant, exited: Instant) -> Decision {
        let base = Duration::from_millis(self.policy.base_delay_ms);
        let cap = Duration::from_millis(self.policy.max_delay_ms);
        // A process that stayed up long enough was healthy: its crash starts a fresh series.
        if exited.duration_since(started) >= Duration::from_millis(self.policy.reset_after_ms) {
            self.next_delay = base;
        }
        // The start limit: forget restarts older than the window, then count this one.
        let window = Duration::from_millis(self.policy.limit_interval_ms);
        while self
            .recent
            .front()
            .is_some_and(|t| exited.duration_since(*t) >= window)
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.policy.limit_burst as usize {
            return Decision::GiveUp;
        }
        self.recent.push_back(exited);
        let delay = self.next_delay;
        self.next_delay = cap.min(self.next_delay.mul_f64(self.policy.factor));
        Decision::RestartAfter(delay)
    }
    // ANCHOR_END: on-exit
}
