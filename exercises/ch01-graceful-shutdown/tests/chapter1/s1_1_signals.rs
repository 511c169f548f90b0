//! 1.1: a shutdown future that completes on SIGTERM or SIGINT.

use std::time::Duration;

use test_support::Sig;

use crate::support::{self, assert_exit_code};

const KILLED_HINT: &str = "If it was killed by signal 15 or 2, no handler was installed, so the \
     kernel's default action ended it on the spot. See 1.1 (`Signals::install` and `recv`).";

#[tokio::test]
async fn sigterm_makes_an_idle_service_exit_zero() {
    let mut running = support::start(&[]).await;
    let (status, _) = running
        .stop(
            Sig::Term,
            Duration::from_secs(5),
            "After SIGTERM an idle service has nothing to finish and should exit at once. Does \
             `Signals::recv` wait for SIGTERM? See 1.1.",
        )
        .await;
    assert_exit_code(
        &running,
        status,
        0,
        &format!(
            "SIGTERM (what Docker, Kubernetes and systemd send) should end an idle service with exit code 0.\n{KILLED_HINT}"
        ),
    );
}

#[tokio::test]
async fn sigint_makes_an_idle_service_exit_zero() {
    let mut running = support::start(&[]).await;
    let (status, _) = running
        .stop(
            Sig::Int,
            Duration::from_secs(5),
            "After SIGINT an idle service should exit at once. Does `Signals::recv` wait for \
             SIGINT as well as SIGTERM? See 1.1.",
        )
        .await;
    assert_exit_code(
        &running,
        status,
        0,
        &format!(
            "SIGINT (Ctrl-C, and what PM2 sends) should end an idle service with exit code 0.\n{KILLED_HINT}"
        ),
    );
}
