//! The HTTP side of the service: its routes and the state they share. Given, not an exercise;
//! the shutdown work happens around it, in `lifecycle.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use tracing::debug;

use crate::health;

/// What the handlers share. Cheap to clone: every field is an `Arc`.
#[derive(Debug, Clone, Default)]
pub struct AppState {
    /// Requests served, not yet written to Redis (the flusher does that, 1.5).
    pub hits: Arc<Hits>,
    /// Whether shutdown has begun (readiness reads it, 1.4).
    pub health: Health,
    /// Requests being handled right now (the deadline's log line names them, 1.3).
    pub in_flight: InFlight,
}

/// Builds the router. A plain function of the state, so tests can call it without a socket
/// (`app(state).oneshot(request)`).
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/slow", get(slow))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .layer(middleware::from_fn_with_state(
            state.in_flight.clone(),
            count_in_flight,
        ))
        .with_state(state)
}

#[derive(Debug, Deserialize)]
struct SlowParams {
    /// How long to take, in milliseconds.
    ms: Option<u64>,
}

// ANCHOR: slow
/// `GET /slow?ms=N`: answers after N ms (default 1000, at most ten minutes), standing in for
/// any real work: a database query, a call to another service, a file upload.
async fn slow(State(state): State<AppState>, Query(params): Query<SlowParams>) -> String {
    let ms = params.ms.unwrap_or(1000).min(600_000);
    // The tests wait for this line to know a request is in flight before they send a signal.
    debug!(ms, "slow request started");
    tokio::time::sleep(Duration::from_millis(ms)).await;
    state.hits.add(1);
    format!("slept {ms} ms\n")
}
// ANCHOR_END: slow

async fn count_in_flight(
    State(in_flight): State<InFlight>,
    request: Request,
    next: Next,
) -> Response {
    let _guard = in_flight.enter();
    next.run(request).await
}

/// A counter of requests served, written to Redis in batches by the flusher (1.5).
///
/// Batching like this (analytics, metrics, rate-limit counters, write-behind caches) is exactly
/// the kind of state that is lost when a process exits without a last flush.
#[derive(Debug, Default)]
pub struct Hits(AtomicU64);

impl Hits {
    /// Counts `n` more hits.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Takes every hit counted so far, leaving zero.
    pub fn take(&self) -> u64 {
        self.0.swap(0, Ordering::Relaxed)
    }

    /// Hits counted and not yet taken.
    pub fn pending(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Whether the service has begun to shut down. Set once, never cleared.
#[derive(Debug, Clone, Default)]
pub struct Health {
    shutting_down: Arc<AtomicBool>,
}

impl Health {
    /// Marks the start of shutdown: from now on readiness should fail (1.4).
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
    }

    /// True once [`begin_shutdown`](Self::begin_shutdown) has been called.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }
}

/// The number of requests being handled right now.
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// Counts a request until the returned guard is dropped, which also happens when the
    /// request is cancelled (its client went away, or the server was forced to stop).
    pub fn enter(&self) -> InFlightGuard {
        self.0.fetch_add(1, Ordering::Relaxed);
        InFlightGuard(self.0.clone())
    }

    /// How many requests are being handled.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// Decrements [`InFlight`] when dropped.
#[derive(Debug)]
pub struct InFlightGuard(Arc<AtomicUsize>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
