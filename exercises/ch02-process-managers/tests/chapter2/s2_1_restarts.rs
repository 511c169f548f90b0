//! 2.1: restart a crashed process, with backoff, and give up after too many restarts.

use std::time::Duration;

use ch02_process_managers::backoff::{Decision, Restarts};
use ch02_process_managers::config::RestartConfig;
use tokio::time::{Instant, advance};

use crate::support;

/// Lets a process run for `uptime` (on paused time), crash, and returns the decision.
async fn crash_after(restarts: &mut Restarts, uptime: Duration) -> Decision {
    let started = Instant::now();
    advance(uptime).await;
    restarts.on_exit(started, Instant::now())
}

/// Waits out a restart delay on paused time.
async fn wait(decision: Decision) {
    match decision {
        Decision::RestartAfter(delay) => advance(delay).await,
        Decision::GiveUp => {}
    }
}

#[tokio::test(start_paused = true)]
async fn backoff_delays_grow_one_and_a_half_times_up_to_fifteen_seconds() {
    // A burst high enough that this test never hits the start limit.
    let mut restarts = Restarts::new(RestartConfig {
        limit_burst: 1000,
        ..RestartConfig::default()
    });
    let expected_ms = [100.0, 150.0, 225.0, 337.5, 506.25, 759.375];
    for (n, ms) in expected_ms.into_iter().enumerate() {
        let decision = crash_after(&mut restarts, Duration::from_millis(10)).await;
        assert_eq!(
            decision,
            Decision::RestartAfter(Duration::from_secs_f64(ms / 1000.0)),
            "restart {}: PM2's exponential backoff waits 100 ms, then 1.5 times longer after \
             each crash (100, 150, 225, 337.5 ms …). See 2.1.",
            n + 1
        );
        wait(decision).await;
    }
    let mut last = Decision::GiveUp;
    for _ in 0..20 {
        last = crash_after(&mut restarts, Duration::from_millis(10)).await;
        wait(last).await;
    }
    assert_eq!(
        last,
        Decision::RestartAfter(Duration::from_secs(15)),
        "after many crashes the delay stops growing at max_delay_ms, 15 s. See 2.1."
    );
}

#[tokio::test(start_paused = true)]
async fn backoff_starts_over_at_100_ms_after_thirty_seconds_up() {
    let mut restarts = Restarts::new(RestartConfig {
        limit_burst: 1000,
        ..RestartConfig::default()
    });
    for _ in 0..4 {
        let d = crash_after(&mut restarts, Duration::from_millis(10)).await;
        wait(d).await;
    }
    let after_a_good_run = crash_after(&mut restarts, Duration::from_secs(30)).await;
    assert_eq!(
        after_a_good_run,
        Decision::RestartAfter(Duration::from_millis(100)),
        "the process ran 30 s (reset_after_ms) before this crash: it was healthy, so its \
         restart delay starts over at 100 ms. See 2.1."
    );
}

#[tokio::test(start_paused = true)]
async fn backoff_gives_up_on_a_sixth_crash_within_ten_seconds() {
    let mut restarts = Restarts::new(RestartConfig::default());
    for n in 1..=5 {
        let d = crash_after(&mut restarts, Duration::from_millis(10)).await;
        assert!(
            matches!(d, Decision::RestartAfter(_)),
            "crash {n} of 5 within 10 s should still be restarted (limit_burst = 5), got {d:?}. See 2.1."
        );
        wait(d).await;
    }
    let sixth = crash_after(&mut restarts, Duration::from_millis(10)).await;
    assert_eq!(
        sixth,
        Decision::GiveUp,
        "five restarts within 10 s is systemd's default start limit (StartLimitBurst=5, \
         StartLimitIntervalSec=10s): the sixth crash must give up, so a crash loop stops. See 2.1."
    );
}

#[tokio::test(start_paused = true)]
async fn backoff_never_gives_up_on_crashes_further_apart_than_the_window() {
    let mut restarts = Restarts::new(RestartConfig::default());
    let mut last = Decision::GiveUp;
    for n in 1..=20 {
        // Each crash comes 11 s after the last: never more than one in any 10 s window, and
        // never after the 30 s of uptime that would reset the delay.
        let d = crash_after(&mut restarts, Duration::from_secs(11)).await;
        last = d;
        assert!(
            matches!(d, Decision::RestartAfter(_)),
            "crash {n} came 11 s after the previous one, so the 10 s window never holds more \
             than one; minipm gave up anyway ({d:?}). Forget restarts older than the window. \
             See 2.1."
        );
        wait(d).await;
    }
    assert_eq!(
        last,
        Decision::RestartAfter(Duration::from_secs(15)),
        "none of those 20 processes stayed up 30 s, so the delay should have kept growing to \
         its 15 s cap. See 2.1."
    );
}

#[tokio::test]
async fn minipm_starts_a_crashed_instance_again() {
    // Fork mode: the worker binds a port of its own, and reports it.
    let mut minipm = support::start(&support::worker_app("env = { PORT = \"0\" }"));
    let first = minipm
        .nth_ready(1, "The worker should start and print `ready`.")
        .await;
    let before = minipm.who(first).await;
    let second = minipm
        .crash_and_wait_for_restart(
            first,
            2,
            "The worker crashed (exit code 1) and nobody started it again. Supervising a process \
             means restarting it when it dies: in `supervise`, ask `Restarts::on_exit` what to \
             do, wait that long, and start a new process. See 2.1.",
        )
        .await;
    let after = minipm.who(second).await;
    assert_ne!(
        before, after,
        "the answer after the crash should come from a new process"
    );
}

#[tokio::test]
async fn minipm_gives_up_on_a_crash_loop_and_shows_it_errored() {
    let launched = std::time::Instant::now();
    let mut minipm = support::start(&support::worker_app("env = { CRASH_AT_START = \"1\" }"));
    minipm
        .server
        .wait_for_line(
            "giving up",
            Duration::from_secs(5),
            "A worker that crashes at every start must be given up after 5 restarts within 10 s \
             (about 1.3 s of backoff), with a log line that says `giving up`. See 2.1.",
        )
        .await;
    // Five restarts wait 100 + 150 + 225 + 337.5 + 506.25 ms: however fast the machine, giving
    // up cannot come sooner.
    let took = launched.elapsed();
    assert!(
        took >= Duration::from_millis(1_250),
        "minipm gave up on the crash loop {took:?} after it started, sooner than the 1.3 s that \
         five backoff delays add up to: it restarted without waiting. Sleep for the delay that \
         `Restarts::on_exit` returns (`tokio::time::sleep`) before starting the process again. \
         See 2.1."
    );
    // The log line and the status may be a moment apart; give the status up to a second.
    let mut status = String::new();
    for _ in 0..20 {
        status = minipm.status_page("/status").await;
        if status.contains("errored") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        status.contains("errored")
            && status
                .lines()
                .any(|l| l.contains("web-0") && l.contains(" 5 ")),
        "`minipm status` should show web-0 as errored after 5 restarts, but shows:\n{status}\nSee 2.1."
    );
}
