//! Starting chapter 1's service for a test. The generic parts (processes, signals, Redis,
//! deadlines) live in the shared test-support crate.

use std::net::SocketAddr;
use std::process::ExitStatus;
use std::time::Duration;

use test_support::process::describe;
use test_support::{Redis, Server, Sig, http};

/// The service under test, its address, and its Redis.
pub struct Running {
    pub server: Server,
    pub addr: SocketAddr,
    pub redis: Redis,
}

/// Starts the service on a free port with its own Redis. `env` overrides settings such as
/// `SHUTDOWN_TIMEOUT`.
pub async fn start(env: &[(&str, &str)]) -> Running {
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
    Running {
        server,
        addr,
        redis,
    }
}

impl Running {
    /// Starts `GET /slow?ms=…` in the background and waits until the service has begun to
    /// handle it.
    pub async fn start_slow_request(
        &mut self,
        ms: u64,
    ) -> tokio::task::JoinHandle<Result<http::Response, http::HttpError>> {
        self.server
            .request_in_flight(self.addr, &format!("/slow?ms={ms}"), "slow request started")
            .await
    }

    /// Sends `sig` and waits until the service logs that its shutdown has started.
    pub async fn begin_shutdown(&mut self, sig: Sig) {
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

    /// Sends `sig` and waits for the service to exit, failing with `explain` if it has not
    /// after `limit`.
    pub async fn stop(
        &mut self,
        sig: Sig,
        limit: Duration,
        explain: &str,
    ) -> (ExitStatus, Duration) {
        self.server.stop_with(sig, limit, explain).await
    }
}

/// Fails unless the service exited with `code`, explaining `why` and showing its output.
pub fn assert_exit_code(running: &Running, status: ExitStatus, code: i32, why: &str) {
    assert!(
        status.code() == Some(code),
        "{why}\nThe service {} (expected: exited with code {code}). Its last output:\n{}",
        describe(status),
        running.server.tail(12)
    );
}
