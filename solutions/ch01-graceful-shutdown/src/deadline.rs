//! 1.3: shutdown with a deadline.
//!
//! axum's graceful shutdown waits for every connection with no time limit: one stuck request (a
//! slow database, a client that stopped reading) holds the process forever, until the
//! orchestrator loses patience and SIGKILLs it, with no log line saying why. So we bound the
//! drain ourselves and exit on our own terms when the time is up.

use std::future::Future;
use std::time::Duration;

/// The drain did not finish in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("shutdown did not finish within {} s", .limit.as_secs_f64())]
pub struct DeadlineExceeded {
    /// The limit that passed.
    pub limit: Duration,
}

// ANCHOR: drain-within
/// Runs `drain` to completion, or gives up `limit` after this call.
///
/// Giving up drops `drain`, which cancels whatever it was waiting for; the caller then exits.
pub async fn drain_within<F: Future>(
    limit: Duration,
    drain: F,
) -> Result<F::Output, DeadlineExceeded> {
    // `timeout` starts its clock now, when shutdown begins, not when the
    // process started.
    tokio::time::timeout(limit, drain)
        .await
        .map_err(|_| DeadlineExceeded { limit })
}
// ANCHOR_END: drain-within
