//! 5.4 A rate limit shared by all instances.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::state::Store;

// ANCHOR: decision
/// What the limiter says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Serve it; this many more fit in the window.
    Allowed { remaining: u32 },
    /// Refuse it with 429; the window ends in `retry_after`.
    Limited { retry_after: Duration },
}
// ANCHOR_END: decision

// TODO(5.4): this limiter counts in the process's memory, so each instance allows `limit`: with
// three replicas a client gets three times its limit. Count in Redis (`INCR` on a key named after
// the client and the window, with an `EXPIRE`, in one atomic pipeline), so the limit is shared.
static COUNTS: Mutex<Option<HashMap<(String, u64), u32>>> = Mutex::new(None);

// ANCHOR: signature
/// Counts one request of `client` in the current fixed window of `window`.
pub async fn check(
    store: &Store,
    client: &str,
    limit: u32,
    window: Duration,
) -> redis::RedisResult<Decision> {
    // ANCHOR_END: signature
    let _ = store;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let width = window.as_secs().max(1);
    let mut counts = COUNTS.lock().unwrap();
    let count = counts
        .get_or_insert_with(HashMap::new)
        .entry((client.to_string(), now / width))
        .or_default();
    *count += 1;
    Ok(if *count <= limit {
        Decision::Allowed {
            remaining: limit - *count,
        }
    } else {
        Decision::Limited {
            retry_after: Duration::from_secs(width - now % width),
        }
    })
}
