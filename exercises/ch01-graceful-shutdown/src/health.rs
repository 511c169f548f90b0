//! 1.4: liveness and readiness, two different questions.
//!
//! Liveness: "is this process stuck beyond repair?" A failing liveness probe gets the process
//! restarted, so it must not fail just because the process is busy shutting down or a
//! dependency is down: restarting would not help.
//!
//! Readiness: "should you send me traffic?" It fails as soon as shutdown begins, so a load
//! balancer (or Kubernetes, by removing the pod from the Service's endpoints) stops sending new
//! requests while the ones in flight finish.

use axum::extract::State;
use axum::http::StatusCode;

use crate::app::AppState;

/// `GET /health/live`: 200 as long as the process can answer at all.
pub async fn live() -> (StatusCode, &'static str) {
    (StatusCode::OK, "alive\n")
}

// ANCHOR: ready
/// `GET /health/ready`: 200 while serving normally, 503 once shutdown has begun.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    // TODO(1.4): answer 503 Service Unavailable once shutdown has begun
    // (`state.health.is_shutting_down()`), so load balancers stop sending new requests.
    let _ = state;
    (StatusCode::OK, "ready\n")
}
// ANCHOR_END: ready
