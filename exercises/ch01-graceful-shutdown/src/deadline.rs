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
    // TODO(1.3): run `drain`, but give up with `DeadlineExceeded { limit }` once `limit` has
    // passed. Tokio has a function for exactly this.
    let _ = (limit, drain);
    todo!("TODO(1.3): bound the drain with a deadline")
}
// ANCHOR_END: drain-within
