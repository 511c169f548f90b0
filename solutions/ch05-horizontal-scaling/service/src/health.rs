//! 5.2 Liveness and readiness: two questions with different consequences.
//!
//! Liveness, "should this process be restarted?", fails only when restarting would help: never
//! because of a dependency. Readiness, "should traffic come here?", fails while this instance
//! cannot serve: Redis unreachable, or shutdown begun.

use std::time::Duration;

use axum::http::StatusCode;

use crate::state::Store;

/// How long readiness waits for Redis's `PONG`.
pub const PING_TIMEOUT: Duration = Duration::from_millis(500);

// ANCHOR: probes
/// `GET /healthz`: the process is alive and answering. Independent of Redis: if Redis goes
/// down, restarting every replica would not bring it back, and would drop their in-flight work.
pub async fn liveness(store: &Store) -> (StatusCode, String) {
    let _ = store;
    (StatusCode::OK, "alive\n".into())
}

/// `GET /readyz`: 200 while this instance can serve; 503 once shutdown has begun (so the load
/// balancer stops sending before draining starts), or while Redis does not answer `PING`
/// within `PING_TIMEOUT`.
pub async fn readiness(store: &Store, shutting_down: bool) -> (StatusCode, String) {
    if shutting_down {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n".into());
    }
    let mut redis = store.redis();
    let ping = redis::cmd("PING");
    let ping = ping.query_async::<String>(&mut redis);
    match tokio::time::timeout(PING_TIMEOUT, ping).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready\n".into()),
        Ok(Err(err)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("redis unavailable: {err}\n"),
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("redis did not answer within {PING_TIMEOUT:?}\n"),
        ),
    }
}
// ANCHOR_END: probes
