//! Starting chapter 1's service for a test. The generic parts (processes, signals, Redis,
//! deadlines) live in the shared test-support crate.

use std::net::SocketAddr;
use std::process::ExitStatus;
use std::time::Duration;

use test_support::process::describe;
use test_support::{Redis, Server, Sig, http};

/// The service under test, its address, and its Redis.
pub(crate) struct Running {
    pub server: Server,
    pub addr: SocketAddr,
    pub redis: Redis,
    /// Its `SHUTDOWN_TIMEOUT` (10 s unless the test set it), to judge a stop that never ends.
    shutdown_timeout: Duration,
    /// Its `SHUTDOWN_DELAY` (0 unless the test set it): accepting during it is right.
    shutdown_delay: Duration,
    /// When the first stop signal was sent, if one was.
    first_signal: Option<std::time::Instant>,
}

/// Starts the service on a free port with its own Redis. `env` overrides settings such as
/// `SHUTDOWN_TIMEOUT`.
pub(crate) async fn start(env: &[(&str, &str)]) -> Running {
    let redis = Redis::start().await;
    let mut builder = Server::builder(env!("CARGO_BIN_EXE_ch01-graceful-shutdown"))
        .redis(&redis)
        // The slow handler logs at debug when it starts, which is how tests know a request is
        // in flight before they send a signal.
        .env("RUST_LOG", "info,ch01_graceful_shutdown=debug");
    for (key, value) in env {
        builder = builder.env(key, value);
    }
    let (server, addr) = builder.spawn_service().await;
    let seconds = |name: &str, default: f64| {
        env.iter()
            .find(|(key, _)| *key == name)
            .and_then(|(_, value)| value.parse().ok())
            .map_or(Duration::from_secs_f64(default), Duration::from_secs_f64)
    };
    let shutdown_timeout = seconds("SHUTDOWN_TIMEOUT", 10.0);
    let shutdown_delay = seconds("SHUTDOWN_DELAY", 0.0);
    Running {
        server,
        addr,
        redis,
        shutdown_timeout,
        shutdown_delay,
        first_signal: None,
    }
}

impl Running {
    /// Starts `GET /slow?ms=…` in the background and waits until the service has begun to
    /// handle it.
    pub(crate) async fn start_slow_request(
        &mut self,
        ms: u64,
    ) -> tokio::task::JoinHandle<Result<http::Response, http::HttpError>> {
        self.server
            .request_in_flight(self.addr, &format!("/slow?ms={ms}"), "slow request started")
            .await
    }

    /// Sends `sig` and waits until the service logs that its shutdown has started.
    pub(crate) async fn begin_shutdown(&mut self, sig: Sig) {
        self.first_signal
            .get_or_insert_with(std::time::Instant::now);
        self.server.signal(sig);
        self.server
            .wait_for_line(
                "shutdown started",
                Duration::from_secs(5),
                &format!(
                    "After {} the service should log \"shutdown started\" and begin to drain. \
                     See 1.1.",
                    sig.name()
                ),
            )
            .await;
    }

    /// Waits until the service refuses new connections: its drain is under way. A service that
    /// logged "shutdown started" but never gets there is stuck between the signal and the drain;
    /// `explain` says what the test was about to check.
    pub(crate) async fn wait_until_refusing(&mut self, limit: Duration, explain: &str) {
        let addr = self.addr;
        let refused = tokio::time::timeout(limit, async {
            loop {
                match http::get(addr, "/health/live").await {
                    Err(http::HttpError::Refused) => return,
                    _ => tokio::task::yield_now().await,
                }
            }
        })
        .await;
        if refused.is_err() {
            self.server.fail_still_running(
                limit,
                &format!(
                    "{explain}\nWhat it did: it logged \"shutdown started\" but still accepted new \
                     connections {} s later, so its drain never began. Something between the \
                     signal and `state.draining.cancel()` never finishes, or holds the thread: a \
                     busy loop or a blocking `std::thread::sleep` in async code freezes the whole \
                     task, so neither the drain nor a second signal can make progress (use \
                     `tokio::time::sleep`). See 1.2 and 1.4.",
                    limit.as_secs_f64()
                ),
            );
        }
    }

    /// Sends `sig` and waits for the service to exit. If it has not after `limit`, the failure
    /// says which step of the shutdown it is stuck in, judged from what the service did (did it
    /// log the signal? does it still accept connections?), not from which test noticed; `explain`
    /// is what this test expected.
    pub(crate) async fn stop(
        &mut self,
        sig: Sig,
        limit: Duration,
        explain: &str,
    ) -> (ExitStatus, Duration) {
        let second = self.first_signal.is_some();
        let first = *self
            .first_signal
            .get_or_insert_with(std::time::Instant::now);
        self.server.signal(sig);
        if let Some(exit) = self.server.try_wait_exit(limit).await {
            return exit;
        }
        let message = match self.diagnose_stuck_shutdown(second, first.elapsed()) {
            // The signal never arrived: what this test expected is the explanation.
            None => format!(
                "{explain}\nWhat it did: it never logged \"shutdown started\", so {} was not \
                 received, or not acted on.",
                sig.name()
            ),
            // It did arrive: the step it is stuck in is the explanation, whichever test noticed.
            Some(stuck) => format!("After {} the service did not exit.\n{stuck}", sig.name()),
        };
        self.server.fail_still_running(limit, &message)
    }

    /// Where a shutdown that never ends is stuck, once the signal has arrived (`None` if it
    /// has not). `second`: this stop was a second signal; `since_first`: how long ago the first
    /// one was sent.
    fn diagnose_stuck_shutdown(&self, second: bool, since_first: Duration) -> Option<String> {
        if !self.server.printed("shutdown started") {
            return None;
        }
        if second {
            return Some(
                "What it did: it logged \"shutdown started\" for the first signal, and went on \
                 draining after this second one. A second signal must end the drain at once: \
                 race `signals.recv()` against it. See 1.6."
                    .to_owned(),
            );
        }
        // During SHUTDOWN_DELAY accepting is right (1.4): only after it is it a fault.
        let in_delay = since_first < self.shutdown_delay + Duration::from_millis(500);
        let accepting =
            std::net::TcpStream::connect_timeout(&self.addr, Duration::from_millis(500)).is_ok();
        if accepting && !in_delay {
            return Some(
                "What it did: it logged \"shutdown started\" (the signal arrived), but it still \
                 accepts new connections, so the server was never told to stop: \
                 `with_graceful_shutdown`. See 1.2."
                    .to_owned(),
            );
        }
        if since_first > self.shutdown_timeout + Duration::from_millis(500) {
            return Some(format!(
                "What it did: it logged \"shutdown started\" and stopped accepting, and it is \
                 still running {:.1} s after the signal, past its SHUTDOWN_TIMEOUT of {:.1} s. \
                 Whatever holds it (a request, a half-sent one, background work), the deadline \
                 must end it: `drain_within`, then exit 1. See 1.3.",
                since_first.as_secs_f64(),
                self.shutdown_timeout.as_secs_f64()
            ));
        }
        Some(
            "What it did: it logged \"shutdown started\" and stopped accepting (new connections \
             are refused), so the signal and the drain work, but it did not exit. If no request \
             is still running (its output below shows what started), background work that is \
             never told to stop keeps it alive: the flusher's token not cancelled, or the tracker \
             never `close()`d, so `wait()` never returns. See 1.5."
                .to_owned(),
        )
    }
}

/// Fails unless the service exited with `code`, explaining `why` and showing its output.
pub(crate) fn assert_exit_code(running: &Running, status: ExitStatus, code: i32, why: &str) {
    assert!(
        status.code() == Some(code),
        "{why}\nThe service {} (expected: exited with code {code}). Its last output:\n{}",
        describe(status),
        running.server.tail(12)
    );
}
