//! 5.2 Liveness and readiness: two questions with different consequences.

use std::time::Duration;

use axum::http::StatusCode;

use crate::state::Store;

/// How long readiness waits for Redis's `PONG`.
pub const PING_TIMEOUT: Duration = Duration::from_millis(500);

// TODO(5.2): these two are swapped in spirit. Liveness ("restart me?") checks Redis here, so a
// Redis outage would make the platform restart every replica, which fixes nothing. Readiness
// ("send me traffic?") always says yes, even while Redis is down or shutdown has begun. Make
// liveness independent of Redis, and readiness fail (503) when shutting down or when Redis does
// not answer PING within PING_TIMEOUT.

// ANCHOR: probes
/// `GET /healthz`: is the process alive?
pub async fn liveness(store: &Store) -> (StatusCode, String) {
    let mut redis = store.redis();
    match redis::cmd("PING").query_async::<String>(&mut redis).await {
        Ok(_) => (StatusCode::OK, "alive\n".into()),
        Err(err) => (StatusCode::SERVICE_UNAVAILABLE, format!("redis: {err}\n")),
    }
}

/// `GET /readyz`: should traffic come here?
pub async fn readiness(store: &Store, shutting_down: bool) -> (StatusCode, String) {
    let _ = (store, shutting_down);
    (StatusCode::OK, "ready\n".into())
}
// ANCHOR_END: probes
