//! 1.6: exit codes, and a second signal that forces the exit.

use std::time::Duration;

use test_support::Sig;

use crate::support::{self, assert_exit_code};

/// Starts a drain that would take a minute, then sends `second`, and checks the exit code.
async fn second_signal_exits_at_once(second: Sig, code: i32) {
    let mut running = support::start(&[("SHUTDOWN_TIMEOUT", "60")]).await;
    let _stuck = running.start_slow_request(60_000).await;
    running.begin_shutdown(Sig::Term).await;
    // Not at once: a second signal sent the instant shutdown starts can win the race before the
    // drain has even been polled, and would pass a drain that blocks the task. Wait until the
    // drain is really under way (the listener is closed, the request still running).
    running
        .wait_until_refusing(
            Duration::from_secs(2),
            "The test waits for the drain to be under way (new connections refused) before it \
             sends a second signal.",
        )
        .await;

    let (status, _) = running
        .stop(
            second,
            Duration::from_secs(2),
            &format!(
                "The service was draining a request that takes a minute, and a second signal \
                 ({}) arrived: it should have exited at once. Once you handle SIGTERM and SIGINT, \
                 the kernel no longer kills the process for you, so an operator's second Ctrl-C \
                 does nothing unless you race `signals.recv()` against the drain. See 1.6.",
                second.name()
            ),
        )
        .await;
    assert_exit_code(
        &running,
        status,
        code,
        &format!(
            "A second {} ends the process with 128 + its number, as if the signal had killed it \
             (`Outcome::Interrupted`). See 1.6.",
            second.name()
        ),
    );
}

#[tokio::test]
async fn a_second_sigint_during_the_drain_exits_at_once_with_130() {
    second_signal_exits_at_once(Sig::Int, 130).await;
}

#[tokio::test]
async fn a_second_sigterm_during_the_drain_exits_at_once_with_143() {
    second_signal_exits_at_once(Sig::Term, 143).await;
}

#[tokio::test]
async fn a_second_signal_during_the_shutdown_delay_exits_at_once() {
    let mut running = support::start(&[("SHUTDOWN_DELAY", "5"), ("SHUTDOWN_TIMEOUT", "10")]).await;
    running.begin_shutdown(Sig::Term).await;

    // Not `running.stop`: during the delay the service still accepts, as it should, so its
    // diagnosis of a stuck drain does not apply here.
    running.server.signal(Sig::Int);
    let limit = Duration::from_secs(2);
    let Some((status, _)) = running.server.try_wait_exit(limit).await else {
        running.server.fail_still_running(
            limit,
            "With SHUTDOWN_DELAY=5 the service was in its shutdown delay when a second signal \
             (SIGINT) arrived: it should have exited at once, not at the end of the delay. The \
             delay is part of the drain that the second signal races: sleep with \
             `tokio::time::sleep` inside it (a `std::thread::sleep` blocks the task, so the \
             signal is not even looked at), not before the `select!`. See 1.6.",
        )
    };
    assert_exit_code(
        &running,
        status,
        130,
        "A second SIGINT, even during the shutdown delay, ends the process with 130 \
         (`Outcome::Interrupted`). See 1.6.",
    );
}
