//! 1.3: a deadline for the whole shutdown.

use std::time::Duration;

use ch01_graceful_shutdown::deadline::{DeadlineExceeded, drain_within};
use test_support::Sig;
use tokio::io::AsyncWriteExt;
use tokio_test::{assert_pending, assert_ready, task};

use crate::support::{self, assert_exit_code};

// These two run on paused time: `advance` moves the clock, so ten seconds pass instantly and to
// the millisecond.

#[tokio::test(start_paused = true)]
async fn a_drain_that_finishes_in_time_returns_its_result() {
    let drain = async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        42
    };
    let mut shutdown = task::spawn(drain_within(Duration::from_secs(10), drain));
    assert_pending!(
        shutdown.poll(),
        "the drain needs 3 s; nothing should be ready at 0 s"
    );
    tokio::time::advance(Duration::from_secs(3)).await;
    let result = assert_ready!(
        shutdown.poll(),
        "the drain finished at 3 s, well within the 10 s deadline, so `drain_within` should be \
         done too. See 1.3."
    );
    assert_eq!(
        result,
        Ok(42),
        "`drain_within` should return what the drain returned"
    );
}

#[tokio::test(start_paused = true)]
async fn a_drain_that_outlives_the_deadline_is_cut_off_exactly_at_it() {
    let limit = Duration::from_secs(10);
    let mut shutdown = task::spawn(drain_within(limit, std::future::pending::<()>()));
    assert_pending!(shutdown.poll());
    tokio::time::advance(Duration::from_millis(9_999)).await;
    assert_pending!(
        shutdown.poll(),
        "`drain_within` gave up before its 10 s deadline. See 1.3."
    );
    tokio::time::advance(Duration::from_millis(1)).await;
    let result = assert_ready!(
        shutdown.poll(),
        "the deadline of 10 s has passed, but `drain_within` is still waiting for a drain that \
         will never finish. See 1.3."
    );
    assert_eq!(result, Err(DeadlineExceeded { limit }));
}

#[tokio::test]
async fn a_stuck_request_makes_the_service_exit_at_the_deadline_with_code_1() {
    let mut running = support::start(&[("SHUTDOWN_TIMEOUT", "1")]).await;
    let _stuck = running.start_slow_request(60_000).await;

    let (status, elapsed) = running
        .stop(
            Sig::Term,
            Duration::from_secs(4),
            "With SHUTDOWN_TIMEOUT=1 and a request that takes a minute, the service should have \
             given up on the request and exited 1 s after SIGTERM. Its drain has no deadline: \
             wrap it in `drain_within(config.shutdown_timeout, …)`. See 1.3.",
        )
        .await;
    assert_exit_code(
        &running,
        status,
        1,
        "When the deadline passes with work still running, the service exits anyway, with code \
         1, so the orchestrator and your monitoring see that the stop was not clean. See 1.3.",
    );
    assert!(
        elapsed >= Duration::from_millis(900),
        "The service exited {elapsed:?} after SIGTERM, but it had a request in flight and 1 s \
         to finish it: it should have waited until the deadline. See 1.2 and 1.3."
    );
    let output = running.server.output();
    assert!(
        output.contains("in_flight_requests=1"),
        "When the deadline passes, log what was still running, with a field \
         `in_flight_requests = state.in_flight.count()`, so whoever reads the logs knows why the \
         stop was forced. See 1.3. The service's last output:\n{}",
        running.server.tail(12)
    );
}

#[tokio::test]
async fn the_deadline_counts_from_the_signal_and_covers_the_shutdown_delay() {
    // SHUTDOWN_TIMEOUT is the whole budget the orchestrator gives us after its SIGTERM (docker
    // stop's 10 s, Kubernetes' grace period): the delay spends part of it.
    let mut running = support::start(&[("SHUTDOWN_DELAY", "1"), ("SHUTDOWN_TIMEOUT", "2")]).await;
    let _stuck = running.start_slow_request(60_000).await;

    let (status, elapsed) = running
        .stop(
            Sig::Term,
            Duration::from_secs(5),
            "With SHUTDOWN_DELAY=1, SHUTDOWN_TIMEOUT=2 and a request that takes a minute, the \
             service should have exited 2 s after SIGTERM. See 1.3.",
        )
        .await;
    assert_exit_code(
        &running,
        status,
        1,
        "The deadline passed with a request still running: exit 1. See 1.3.",
    );
    assert!(
        elapsed < Duration::from_millis(2_700),
        "With SHUTDOWN_DELAY=1 and SHUTDOWN_TIMEOUT=2 the service exited {elapsed:?} after \
         SIGTERM, about delay + timeout: its deadline started after the shutdown delay. The \
         deadline counts from the signal and covers everything after it, the delay included: \
         put the `tokio::time::sleep(config.shutdown_delay)` inside the future you give \
         `drain_within`. See 1.3."
    );
}

#[tokio::test]
async fn a_client_that_sends_half_a_request_holds_the_drain_only_until_the_deadline() {
    let mut running = support::start(&[("SHUTDOWN_TIMEOUT", "2")]).await;
    // The request line and one header, then nothing: a slow or stalled client, or an attacker
    // (slowloris). hyper waits for the rest of the headers, with no time limit.
    let before = running.server.count_lines("connection accepted");
    let mut half = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    half.write_all(b"GET /slow?ms=10 HTTP/1.1\r\nHost: x\r\nX-Half: ")
        .await
        .unwrap();
    running
        .server
        .wait_for_nth_line(
            "connection accepted",
            before + 1,
            Duration::from_secs(5),
            "the service did not accept the connection",
        )
        .await;

    let (status, elapsed) = running
        .stop(
            Sig::Term,
            Duration::from_secs(4),
            "With SHUTDOWN_TIMEOUT=2 and a client that sent half a request, the service should \
             have given up on it and exited 2 s after SIGTERM. See 1.3.",
        )
        .await;
    assert_exit_code(
        &running,
        status,
        1,
        "A connection whose request never finished held the drain until the deadline: the stop \
         was not clean, so the service exits 1. See 1.3.",
    );
    assert!(
        elapsed >= Duration::from_millis(1_900) && elapsed < Duration::from_millis(3_000),
        "the service exited {elapsed:?} after SIGTERM; with SHUTDOWN_TIMEOUT=2 it should exit \
         at the deadline, 2 s. See 1.3."
    );
    let output = running.server.output();
    assert!(
        output.contains("half_sent_requests=1") && output.contains("in_flight_requests=0"),
        "When the deadline passes, the log line should say what held the drain: here no request \
         in flight (`in_flight_requests=0`) but one connection whose request never finished \
         arriving (`half_sent_requests = state.half_sent_requests()`). See 1.3. The service's \
         last output:\n{}",
        running.server.tail(12)
    );
    drop(half);
}
