//! 1.5: background work with an owner and a way out.
//!
//! The flusher writes the hit counter to Redis every `FLUSH_INTERVAL`. A loop that only sleeps
//! and flushes has no way to stop: when `main` returns, the runtime drops it wherever it is, and
//! every hit counted since its last flush is lost. Ours watches a `CancellationToken`, finishes
//! the flush it is doing, flushes once more, and returns, so whoever waits for it knows the
//! counter is safe in Redis.

use std::sync::Arc;
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::app::Hits;

// ANCHOR: run
/// Flushes `hits` to `key` every `every` until `stop` is cancelled, then flushes one last time
/// and returns.
pub async fn run(
    hits: Arc<Hits>,
    mut redis: MultiplexedConnection,
    key: String,
    every: Duration,
    stop: CancellationToken,
) {
    let mut ticks = tokio::time::interval(every);
    // After a slow flush, carry on at the normal pace rather than firing a burst to catch up.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Wait for either the next tick or the stop, and do the flush in the
    // branch body, not in the raced future, so that a stop never interrupts a flush half-way.
    // ANCHOR: flush-loop
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = stop.cancelled() => break,
        }
        flush_logged(&hits, &mut redis, &key).await;
    }
    flush_logged(&hits, &mut redis, &key).await;
    // ANCHOR_END: flush-loop
    info!(
        pending = hits.pending(),
        "flusher stopped after its last flush"
    );
}
// ANCHOR_END: run

async fn flush_logged(hits: &Hits, redis: &mut MultiplexedConnection, key: &str) {
    if let Err(err) = flush_once(hits, redis, key).await {
        warn!(cause = %err, pending = hits.pending(), "flush failed; will retry");
    }
}

/// One step of the flusher: moves every pending hit to Redis with one `INCRBY`.
///
/// If Redis fails, the hits are put back to be tried again, so nothing is lost.
pub async fn flush_once(
    hits: &Hits,
    redis: &mut MultiplexedConnection,
    key: &str,
) -> redis::RedisResult<u64> {
    let n = hits.take();
    if n == 0 {
        return Ok(0);
    }
    match redis.incr::<_, _, ()>(key, n).await {
        Ok(()) => Ok(n),
        Err(err) => {
            hits.add(n);
            Err(err)
        }
    }
}
