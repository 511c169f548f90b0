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
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::app::{AppState, CLOSE_IDLE_AFTER, Listener, app};
use crate::config::Config;
use crate::deadline::drain_within;
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
}

// ANCHOR: run
/// Serves on `listener` until a stop signal, then shuts down gracefully.
///
/// Returns an error only if serving fails before any signal (for example, the listener breaks).
pub async fn run(
    listener: TcpListener,
    config: &Config,
    redis: MultiplexedConnection,
    mut signals: Signals,
) -> std::io::Result<Outcome> {
    let state = AppState::default();

    // 1.5: the flusher has an owner (the tracker, which we wait on) and a way out (its token).
    // It gets its own token rather than sharing the server's: it must outlive the requests, whose
    // hits it writes last.
    // ANCHOR: spawn-background
    let stop_background = CancellationToken::new();
    let background = TaskTracker::new();
    background.spawn(flusher::run(
        state.hits.clone(),
        redis,
        config.hits_key(),
        config.flush_interval,
        stop_background.clone(),
    ));
    // ANCHOR_END: spawn-background

    // 1.2: serve until the drain begins (`state.draining` is cancelled, by us, below); then the
    // listener closes and every answer says `Connection: close`, and after `CLOSE_IDLE_AFTER`
    // the server closes what is still idle and waits for the connections to finish their
    // requests. A CancellationToken rather than a oneshot channel: it can be cancelled from
    // anywhere, any number of times, and awaited by many (the listener, the router, and here).
    // ANCHOR: serve
    let listener = Listener::new(listener, &state)?;
    let (draining, connections) = (state.draining.clone(), state.connections.clone());
    let mut server = tokio::spawn(
        axum::serve(listener, app(state.clone()))
            .with_graceful_shutdown(async move {
                draining.cancelled().await;
                // Closing an idle keep-alive connection at once races its client, which may be
                // sending its next request on it right now. Busy clients get `Connection:
                // close` with their next answer meanwhile; what is idle after this has been
                // idle for the whole window. No connection left: nothing to wait for.
                let _ = tokio::time::timeout(CLOSE_IDLE_AFTER, connections.all_closed()).await;
            })
            .into_future(),
    );
    // ANCHOR_END: serve

    // ANCHOR: wait-for-signal
    let signal = tokio::select! {
        signal = signals.recv() => signal,
        result = &mut server => {
            // The server only ends by itself if accepting failed for good.
            return Err(match result {
                Ok(Ok(())) => std::io::Error::other("the server stopped by itself"),
                Ok(Err(err)) => err,
                Err(panicked) => std::io::Error::other(panicked),
            });
        }
    };
    // ANCHOR_END: wait-for-signal
    // 1.4: fail readiness first, before anything else (even the log line), and keep serving for
    // a moment, so that load balancers notice and send new requests elsewhere before we stop
    // accepting them.
    // ANCHOR: begin-shutdown
    state.health.begin_shutdown();
    // ANCHOR_END: begin-shutdown
    info!(%signal, timeout_s = config.shutdown_timeout.as_secs_f64(), "shutdown started");

    let drain = async {
        // ANCHOR: shutdown-delay
        tokio::time::sleep(config.shutdown_delay).await;
        // ANCHOR_END: shutdown-delay
        // ANCHOR: drain-server
        state.draining.cancel();
        match server.await {
            Ok(Ok(())) => info!("all requests finished"),
            Ok(Err(err)) => error!(cause = %err, "the server failed while draining"),
            Err(err) => error!(cause = %err, "the server task panicked"),
        }
        // ANCHOR_END: drain-server
        // 1.5: only now, when no request can count another hit, stop the flusher.
        // ANCHOR: stop-background
        stop_background.cancel();
        background.close();
        background.wait().await;
        // ANCHOR_END: stop-background
    };

    tokio::select! {
        // 1.3: the deadline counts from the signal and covers the delay and every stage.
        result = drain_within(config.shutdown_timeout, drain) => match result {
            Ok(()) => {
                info!("shutdown complete");
                Ok(Outcome::Drained)
            }
            // ANCHOR: deadline-exceeded
            Err(exceeded) => {
                // What held the drain: requests still being handled, and connections whose
                // request never finished arriving (hyper waits for those with no time limit).
                error!(
                    in_flight_requests = state.in_flight.count(),
                    half_sent_requests = state.half_sent_requests(),
                    background_tasks = background.len(),
                    unflushed_hits = state.hits.pending(),
                    "{exceeded}; exiting anyway"
                );
                Ok(Outcome::DeadlineExceeded)
            }
            // ANCHOR_END: deadline-exceeded
        },
        // 1.6: our handler replaced the default action, so without this a second Ctrl-C would
        // do nothing at all. An impatient operator gets the exit they asked for.
        // ANCHOR: second-signal
        second = signals.recv() => {
            warn!(
                signal = %second,
                in_flight_requests = state.in_flight.count(),
                "second signal: exiting now without finishing"
            );
            Ok(Outcome::Interrupted(second))
        }
        // ANCHOR_END: second-signal
    }
}
// ANCHOR_END: run
