//! 1.2–1.6: the service's life, from the first request to the exit code.
//!
//! ```text
//! signal ─┬─ readiness → 503                                   (1.4)
//!         ├─ keep serving for SHUTDOWN_DELAY                    (1.4)
//!         ├─ stop accepting; finish requests in flight          (1.2)
//!         ├─ stop background work; last flush to Redis          (1.5)
//!         └─ exit 0
//!   all of it bounded by SHUTDOWN_TIMEOUT from the signal → exit 1  (1.3)
//!   or cut short by a second signal                       → exit 128+n (1.6)
//! ```

use std::future::IntoFuture;
use std::process::ExitCode;

use redis::aio::MultiplexedConnection;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::info;

#[allow(unused_imports)] // `CLOSE_IDLE_AFTER` is for 1.2.
use crate::app::{AppState, CLOSE_IDLE_AFTER, Listener, app};
use crate::config::Config;
use crate::flusher;
use crate::signal::{Signal, Signals};

/// How the service ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything finished: exit 0.
    Drained,
    /// The deadline passed with work still running: exit 1.
    DeadlineExceeded,
    /// A second signal cut the drain short: exit 128 + its number, as if it had killed us.
    Interrupted(Signal),
}

impl Outcome {
    // ANCHOR: exit-code
    /// The process's exit code.
    ///
    /// 0 tells systemd, Docker and Kubernetes the stop was clean: systemd marks the unit
    /// inactive rather than failed, and a `restart: on-failure` policy leaves it stopped. 128 + n
    /// is what a shell reports for a process killed by signal n (130 for SIGINT, 143 for
    /// SIGTERM), so a forced stop reads the same whether we or the kernel ended it.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Drained => ExitCode::SUCCESS,
            Outcome::DeadlineExceeded => ExitCode::from(1),
            Outcome::Interrupted(signal) => ExitCode::from(128 + signal.number() as u8),
        }
    }
    // ANCHOR_END: exit-code
}

// ANCHOR: run
/// Serves on `listener` until a stop signal, then shuts down gracefully.
///
/// Returns an error only if serving fails before any signal (for example, the listener breaks).
///
/// As given, it is the naive version most services start as: on a signal it simply returns, and
/// `main` exits, dropping every request in flight and every unflushed hit. Run it, start
/// `curl 'localhost:3000/slow?ms=5000'`, press Ctrl-C, and watch curl fail.
pub async fn run(
    listener: TcpListener,
    config: &Config,
    redis: MultiplexedConnection,
    mut signals: Signals,
) -> std::io::Result<Outcome> {
    let state = AppState::default();

    // TODO(1.5): this task has no owner: nobody waits for it, and nothing tells it to stop.
    // Spawn it on a `TaskTracker` with a `CancellationToken` of its own; after the requests have
    // drained, cancel the token and wait for the tracker (`close()`, then `wait()`).
    tokio::spawn(flusher::run(
        state.hits.clone(),
        redis,
        config.hits_key(),
        config.flush_interval,
        CancellationToken::new(),
    ));

    // TODO(1.2): serve with `.with_graceful_shutdown(…)`, so that after the signal the server
    // stops accepting and waits for the requests it has. Spawn the server future so that you
    // can wait for the signal and for the server separately. Keep-alive clients must not lose
    // a request: begin the drain with `state.draining.cancel()` (the listener closes, every
    // answer says `Connection: close`), and let the future you give `with_graceful_shutdown`
    // complete `CLOSE_IDLE_AFTER` after that (or sooner, once `state.connections.all_closed()`),
    // when the server closes what is still idle.
    let listener = Listener::new(listener, &state)?;
    let server = axum::serve(listener, app(state.clone())).into_future();

    tokio::select! {
        result = server => result.map(|()| Outcome::Drained),
        signal = signals.recv() => {
            // TODO(1.4): first of all, even before this log line, mark the start of shutdown
            // (`state.health.begin_shutdown()`); then keep serving for `config.shutdown_delay`
            // before you stop accepting.
            info!(%signal, "shutdown started");
            // TODO(1.3): bound everything after the signal by `config.shutdown_timeout` with
            // `crate::deadline::drain_within`; when it passes, log what was still running
            // (`in_flight_requests = state.in_flight.count()`, `half_sent_requests =
            // state.half_sent_requests()`) and return `Outcome::DeadlineExceeded`.
            // TODO(1.6): while draining, a second signal returns `Outcome::Interrupted(signal)`
            // at once.
            Ok(Outcome::Drained)
        }
    }
}
// ANCHOR_END: run
