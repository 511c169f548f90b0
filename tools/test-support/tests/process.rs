//! The process module keeps its promises with real processes (`sh`, `sleep`, `awk`): a
//! [`Server`]'s whole process group dies when the guard is dropped, also when the test panics
//! and also after the leader itself has exited; a wait past its deadline fails with a message
//! that names what was awaited and shows the last output (a wait while the child prints, once
//! it goes quiet); and a flood of output is captured
//! whole without ever blocking the child.
//!
//! `cargo test -p test-support --test process`

use std::future::Future;
use std::time::Duration;

use test_support::process::{alive, kill_group};
use test_support::{Server, ServerBuilder};

/// How long anything that should happen at once may take on a loaded machine. Only a bound: no
/// test waits for it unless something is broken.
const LONG: Duration = Duration::from_secs(20);

/// A deadline that must pass: what it waits for never comes.
const SHORT: Duration = Duration::from_millis(300);

/// Two `sleep`s in the shell's group; the shell says their pids and then waits for them.
const TWO_SLEEPERS: &str = "sleep 300 & echo \"sleeper $!\"; sleep 300 & echo \"sleeper $!\"; \
                            echo ready; wait";

fn sh(script: &str) -> ServerBuilder {
    Server::builder("sh")
        .arg("-c")
        .arg(script)
        .name("the shell")
}

/// Waits for `ready` and returns every pid of the group: the shell's and its sleepers'.
async fn group_of(server: &mut Server) -> Vec<u32> {
    server
        .wait_for_line("ready", LONG, "the shell should start its sleepers")
        .await;
    let mut pids = vec![server.pid()];
    pids.extend(
        server
            .output()
            .lines()
            .filter_map(|line| line.strip_prefix("sleeper "))
            .map(|pid| pid.parse::<u32>().expect("$! is a pid")),
    );
    assert_eq!(
        pids.len(),
        3,
        "a shell and two sleepers:\n{}",
        server.output()
    );
    for &pid in &pids {
        assert!(alive(pid), "{pid} should still run:\n{}", server.output());
    }
    pids
}

/// Fails unless every pid of the group led by `leader` is gone within [`LONG`]; SIGKILLs the
/// group first, so that a failure leaves nothing behind.
async fn assert_gone(leader: u32, pids: &[u32], after: &str) {
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        let left: Vec<u32> = pids.iter().copied().filter(|&pid| alive(pid)).collect();
        if left.is_empty() {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            let _ = kill_group(leader);
            panic!("{left:?} of the group {pids:?} still ran {LONG:?} after {after}");
        }
        // Nothing announces a death in another process's group; poll, bounded by the deadline.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `test` as its own task and returns the message it panicked with.
async fn panic_message(test: impl Future<Output = ()> + Send + 'static) -> String {
    let payload = tokio::spawn(test)
        .await
        .expect_err("the test should have panicked")
        .into_panic();
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload
            .downcast::<&str>()
            .map(|message| (*message).to_owned())
            .expect("panics carry a String or a &str"),
    }
}

#[tokio::test]
async fn dropping_the_server_kills_its_whole_group() {
    let mut server = sh(TWO_SLEEPERS).spawn();
    let pids = group_of(&mut server).await;
    drop(server);
    assert_gone(pids[0], &pids, "the Server was dropped").await;
}

#[tokio::test]
async fn a_test_that_panics_still_kills_the_whole_group() {
    let (pids_tx, pids_rx) = tokio::sync::oneshot::channel();
    let message = panic_message(async move {
        let mut server = sh(TWO_SLEEPERS).spawn();
        pids_tx.send(group_of(&mut server).await).unwrap();
        panic!("an assertion fails while the server runs");
    })
    .await;
    assert_eq!(message, "an assertion fails while the server runs");
    let pids = pids_rx.await.expect("the group was started");
    assert_gone(pids[0], &pids, "the test panicked").await;
}

#[tokio::test]
async fn the_group_is_killed_even_after_its_leader_has_exited() {
    // The shell exits at once; its sleeper stays in the group (and keeps the pipes open).
    let mut server = sh("sleep 300 & echo \"sleeper $!\"").spawn();
    let line = server
        .wait_for_line("sleeper ", LONG, "the shell should start its sleeper")
        .await;
    let sleeper: u32 = line["sleeper ".len()..].parse().unwrap();
    let (status, _) = server
        .wait_exit(LONG, "the shell should exit after starting the sleeper")
        .await;
    assert!(status.success());
    assert!(alive(sleeper), "the sleeper should outlive the shell");
    let leader = server.pid();
    drop(server);
    assert_gone(
        leader,
        &[sleeper],
        "the Server of its exited leader was dropped",
    )
    .await;
}

#[tokio::test]
async fn wait_for_line_past_its_deadline_names_the_line_and_shows_the_output() {
    let message = panic_message(async {
        let mut server = sh("echo first; echo second; exec sleep 300").spawn();
        server.wait_for_line("second", LONG, "setup").await;
        server
            .wait_for_line("never printed", SHORT, "The shell should say it.")
            .await;
    })
    .await;
    assert_eq!(
        message,
        "The shell should say it.\n\
         the shell did not print \"never printed\" within 300 ms. Its last output:\n    \
         first\n    \
         second"
    );
}

#[tokio::test]
async fn a_wait_while_printing_lasts_as_long_as_the_lines_come() {
    let mut server = sh(
        "i=0; while [ $i -lt 100 ]; do echo \"line $i\"; sleep 0.05; \
                         i=$((i+1)); done; echo done; exec sleep 300",
    )
    .spawn();
    let started = std::time::Instant::now();
    // 100 lines 50 ms apart: 5 s at least, longer than the 2 s of quiet allowed.
    let line = server
        .wait_for_nth_line_while_printing("done", 1, Duration::from_secs(2), LONG * 3, "setup")
        .await;
    assert_eq!(line, "done");
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "the premise: the lines took longer than the quiet allowed"
    );
}

/// How a wait while printing for a line `script` never prints fails, once it has printed
/// `first`: its panic message.
async fn while_printing_failure(
    script: &str,
    first: &str,
    quiet: Duration,
    limit: Duration,
) -> String {
    let (script, first) = (script.to_owned(), first.to_owned());
    panic_message(async move {
        let mut server = sh(&script).spawn();
        server.wait_for_line(&first, LONG, "setup").await;
        server
            .wait_for_nth_line_while_printing(
                "never printed",
                1,
                quiet,
                limit,
                "The shell should say it.",
            )
            .await;
    })
    .await
}

#[tokio::test]
async fn a_wait_while_printing_fails_once_the_child_goes_quiet() {
    let message = while_printing_failure(
        "echo first; exec sleep 300",
        "first",
        SHORT,
        Duration::from_secs(600),
    )
    .await;
    assert_eq!(
        message,
        "The shell should say it.\n\
         the shell did not print \"never printed\" and printed nothing for 300 ms. Its last \
         output:\n    \
         first"
    );
}

#[tokio::test]
async fn a_wait_while_printing_still_ends_at_its_limit() {
    let message = while_printing_failure(
        "while :; do echo chatter; sleep 0.01; done",
        "chatter",
        LONG,
        SHORT,
    )
    .await;
    assert!(
        message.starts_with(
            "The shell should say it.\n\
             the shell did not print \"never printed\" within 300 ms. Its last output:\n    \
             chatter"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn wait_for_line_fails_at_once_when_the_child_exits_without_the_line() {
    let message = panic_message(async {
        let mut server = sh("echo bye; exit 3").spawn();
        server.wait_for_line("bye", LONG, "setup").await;
        // The wait is for a line it never prints, and must end with the exit, long before this
        // deadline.
        server
            .wait_for_line(
                "never printed",
                Duration::from_secs(600),
                "The shell should say it.",
            )
            .await;
    })
    .await;
    assert_eq!(
        message,
        "The shell should say it.\n\
         the shell exited with code 3 before printing \"never printed\". Its last output:\n    \
         bye"
    );
}

#[tokio::test]
async fn wait_exit_past_its_deadline_kills_the_child_and_shows_the_output() {
    let (pid_tx, pid_rx) = tokio::sync::oneshot::channel();
    let message = panic_message(async move {
        let mut server = sh("echo still here; exec sleep 300").spawn();
        server.wait_for_line("still here", LONG, "setup").await;
        pid_tx.send(server.pid()).unwrap();
        server.wait_exit(SHORT, "The shell should exit.").await;
    })
    .await;
    assert_eq!(
        message,
        "The shell should exit.\n\
         the shell was still running 300 ms later, so the test killed it. Its last output:\n    \
         still here"
    );
    let pid = pid_rx.await.unwrap();
    assert_gone(pid, &[pid], "wait_exit gave up").await;
}

#[tokio::test]
async fn a_flood_of_output_on_both_streams_is_captured_whole_without_blocking_the_child() {
    const OUT: usize = 200_000;
    const ERR: usize = 100_000;
    // Both streams at once, far more than a pipe holds (64 KiB on Linux, 16 KiB on macOS): the
    // child can only finish if both are drained while it writes.
    let script = format!(
        "awk 'BEGIN {{ for (i = 1; i <= {ERR}; i++) print \"err \" i }}' >&2 & \
         awk 'BEGIN {{ for (i = 1; i <= {OUT}; i++) print \"out \" i }}'; \
         wait; echo out-done; echo err-done >&2"
    );
    let mut server = sh(&script).spawn();
    let (status, _) = server
        .wait_exit(LONG, "the flood should be drained as it comes")
        .await;
    assert!(status.success());
    // Each stream is read in order, so its last line arriving means all of it has.
    server
        .wait_for_line("out-done", LONG, "stdout's last line")
        .await;
    server
        .wait_for_line("err-done", LONG, "stderr's last line")
        .await;

    let output = server.output();
    let numbers = |prefix: &str| -> Vec<usize> {
        output
            .lines()
            .filter_map(|line| line.strip_prefix(prefix))
            .map(|n| n.parse().unwrap())
            .collect()
    };
    assert!(
        numbers("out ").into_iter().eq(1..=OUT),
        "stdout lost or reordered lines"
    );
    assert!(
        numbers("err ").into_iter().eq(1..=ERR),
        "stderr lost or reordered lines"
    );
    assert_eq!(output.lines().count(), OUT + ERR + 2);
    assert_eq!(server.count_lines("out "), OUT);
}
