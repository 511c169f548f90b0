//! One stop for the whole run: the first Ctrl-C (SIGINT) or SIGTERM stops every step and every
//! child, the run says which signal and exits 130 or 143, and nothing is counted as failed for
//! being stopped. Run with `cargo test -p workbook --test stop`.

#[path = "common/mod.rs"]
mod common;

#[path = "background/mod.rs"]
mod background;

use std::time::Duration;

use background::{Background, assert_gone, pid_file, wait_for_pids};
use common::Workbook;
use test_support::process::Sig;

/// The learner's `add`, which records its test program's pid and then never returns.
const HANGING_ADD: &str = r#"pub fn add(_: i64, _: i64) -> i64 {
    use std::io::Write;
    let path = std::env::var("STOP_TEST_PIDS").expect("the test names the file");
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    writeln!(file, "{}", std::process::id()).unwrap();
    loop {
        std::thread::park();
    }
}
"#;

#[test]
fn ctrl_c_during_the_tests_stops_them_exits_130_and_fails_nothing() {
    let wb = Workbook::new();
    wb.write("exercises/ch01-alpha/src/add.rs", HANGING_ADD);
    let pids = pid_file(wb.root(), "tests");
    let runner = Background::start(
        wb.root(),
        &["test", "chapter1"],
        &[("STOP_TEST_PIDS", pids.to_str().unwrap())],
    );
    let running = wait_for_pids(&pids, Duration::from_secs(240));
    runner.signal(Sig::Int);
    let (code, stdout, stderr) = runner.finish(Duration::from_secs(30));
    let shown = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(code, Some(130), "{shown}");
    assert!(stderr.contains("stopped by Ctrl-C (SIGINT)"), "{shown}");
    assert!(
        !stdout.contains("chapter 1:") && !stdout.contains("failed"),
        "a stopped run printed a verdict: {shown}"
    );
    assert_gone(&running, Duration::from_secs(10));
}

#[test]
fn sigterm_during_a_later_step_stops_it_exits_143_and_runs_no_more() {
    let wb = Workbook::new();
    // A cargo in front of the real one: its `clippy` (verify's second step here, in the
    // workbook's lane after rustfmt) records its pid and hangs; anything else is the real cargo.
    let real = std::process::Command::new("sh")
        .args(["-c", "command -v cargo"])
        .output()
        .expect("sh runs");
    let real = String::from_utf8_lossy(&real.stdout).trim().to_owned();
    assert!(!real.is_empty(), "cargo is on PATH");
    let bin = wb.path("fake-bin");
    let pids = pid_file(wb.root(), "clippy");
    wb.write(
        "fake-bin/cargo",
        format!(
            "#!/bin/sh\ncase \"$1\" in clippy) echo $$ >> '{}'; exec sleep 600 ;; esac\nexec '{real}' \"$@\"\n",
            pids.display()
        ),
    );
    std::fs::set_permissions(
        bin.join("cargo"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let runner = Background::start(
        wb.root(),
        &[
            "verify", "--only", "rustfmt", "--only", "clippy", "--only", "book",
        ],
        &[("PATH", &path)],
    );
    let hanging = wait_for_pids(&pids, Duration::from_secs(240));
    runner.signal(Sig::Term);
    let (code, stdout, stderr) = runner.finish(Duration::from_secs(30));
    let shown = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(code, Some(143), "{shown}");
    assert!(stderr.contains("stopped by SIGTERM"), "{shown}");
    // The first step finished and is listed; the stopped one is not a failure; the third never ran.
    assert!(
        stdout.contains("✓ rustfmt: starters, solutions and tools are formatted"),
        "{shown}"
    );
    assert!(
        !stdout.contains('✗') && !stdout.contains("failed"),
        "a stopped step was counted as failed: {shown}"
    );
    assert!(
        !stdout.contains("the book builds"),
        "a step after the stop ran: {shown}"
    );
    assert_gone(&hanging, Duration::from_secs(10));
}
