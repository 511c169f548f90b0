//! 5.4 A rate limit shared by all instances: the count lives in Redis, so three replicas allow
//! a client `limit` requests per window in total, not `limit` each.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::state::Store;

/// What the limiter says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Serve it; this many more fit in the window.
    Allowed { remaining: u32 },
    /// Refuse it with 429; the window ends in `retry_after`.
    Limited { retry_after: Duration },
}

// ANCHOR: check
/// Counts one request of `client` in the current fixed window of `window`, across every
/// instance: `INCR` on a key named after the client and the window, with an expiry so old
/// windows clean themselves up, in one atomic `MULTI`/`EXEC`.
pub async fn check(
    store: &Store,
    client: &str,
    limit: u32,
    window: Duration,
) -> redis::RedisResult<Decision> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let width = window.as_secs().max(1);
    let key = store.key(&format!("ratelimit:{client}:{}", now / width));
    let mut redis = store.redis();
    let (count,): (u64,) = redis::pipe()
        .atomic()
        .incr(&key, 1)
        .expire(&key, (width * 2) as i64)
        .ignore()
        .query_async(&mut redis)
        .await?;
    Ok(if count <= u64::from(limit) {
        Decision::Allowed {
            remaining: limit - count as u32,
        }
    } else {
        Decision::Limited {
            retry_after: Duration::from_secs(width - now % width),
        }
    })
}
// ANCHOR_END: check
