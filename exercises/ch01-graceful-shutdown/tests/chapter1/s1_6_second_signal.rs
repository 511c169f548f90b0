//! 1.6: exit codes, and a second signal that forces the exit.

use std::time::Duration;

use test_support::Sig;

use crate::support::{self, assert_exit_code};

/// Starts a drain that would take a minute, then sends `second`, and checks the exit code.
async fn second_signal_exits_at_once(second: Sig, code: i32) {
    let mut running = support::start(&[("SHUTDOWN_TIMEOUT", "60")]).await;
    let _stuck = running.start_slow_request(60_000).await;
    running.begin_shutdown(Sig::Term).await;

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
