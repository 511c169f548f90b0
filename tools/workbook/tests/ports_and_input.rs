//! Ports and input: `just doctor` checks every port chapters.toml declares (free, or held by
//! whom); `just progress`'s total agrees with what it says about skips; `just run`'s program is
//! guarded like the tests' servers. Run with `cargo test -p workbook --test ports_and_input`.

#[path = "common/mod.rs"]
mod common;

#[path = "background/mod.rs"]
mod background;

use std::time::Duration;

use background::{Background, assert_gone, pid_file, wait_for_pids};
use common::Workbook;

#[test]
fn doctor_checks_every_declared_port_and_names_who_holds_one() {
    let wb = Workbook::new();
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = held.local_addr().unwrap().port();
    let free = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    wb.edit("chapters.toml", |t| {
        format!(
            "{t}\n[[port]]\nport = {busy}\nused_by = \"the held one\"\n\n[[port]]\nport = {free}\nused_by = \"the free one\"\n"
        )
    });
    let run = wb.run(&["doctor"]);
    let busy_line = run.line(&format!("! port {busy}"));
    assert!(busy_line.contains("in use"), "{run}");
    assert!(busy_line.contains("the held one"), "{run}");
    if std::process::Command::new("lsof")
        .arg("-v")
        .output()
        .is_ok()
    {
        assert!(
            busy_line.contains(&format!("(pid {})", std::process::id())),
            "doctor did not name the process holding port {busy}\n{run}"
        );
    }
    run.assert_stdout(&format!("✓ port {free}"));
    drop(held);
}

#[test]
fn progress_counts_a_skipped_test_in_neither_the_passed_nor_the_total() {
    let wb = Workbook::new();
    wb.solve("ch02-beta");
    // Chapter 2 has two tests; 2.2's skips where there is no engine.
    let run = wb.runner(&["progress"]).env("FIXTURE_NO_ENGINE", "1").run();
    let line = run.line("2 Beta");
    assert!(
        line.contains(" 1/1") && line.contains("1 skipped"),
        "progress's total counts the skipped test it says did not run: {line:?}\n{run}"
    );
    // Each chapter says when it starts, and its row how long it took.
    run.line("chapter 1: running its tests");
    run.line("chapter 2: running its tests");
    assert!(
        line.ends_with(" s)"),
        "the row does not say how long: {line:?}\n{run}"
    );
}

/// A program for `just run chapter1` that records its pid and runs until a signal ends it.
const FOREVER: &str = r#"fn main() {
    use std::io::Write;
    let path = std::env::var("RUN_TEST_PIDS").expect("the test names the file");
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    writeln!(file, "{}", std::process::id()).unwrap();
    loop {
        std::thread::park();
    }
}
"#;

/// `kill -SIG pid`: to the runner alone, as a process manager or a closed terminal would.
fn kill(sig: &str, pid: u32) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn start_forever(wb: &Workbook) -> (Background, Vec<u32>) {
    wb.write("exercises/ch01-alpha/src/main.rs", FOREVER);
    let pids = pid_file(wb.root(), "run");
    let runner = Background::start(
        wb.root(),
        &["run", "chapter1"],
        &[("RUN_TEST_PIDS", pids.to_str().unwrap())],
    );
    let running = wait_for_pids(&pids, Duration::from_secs(240));
    (runner, running)
}

#[test]
fn the_program_of_just_run_dies_with_a_killed_runner() {
    let wb = Workbook::new();
    let (runner, program) = start_forever(&wb);
    kill("KILL", runner.pid());
    let _ = runner.finish(Duration::from_secs(30));
    assert_gone(&program, Duration::from_secs(10));
}

#[test]
fn sigterm_to_the_runner_reaches_the_program_of_just_run() {
    let wb = Workbook::new();
    let (runner, program) = start_forever(&wb);
    kill("TERM", runner.pid());
    let (code, stdout, stderr) = runner.finish(Duration::from_secs(30));
    let shown = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains("was killed by signal 15 (SIGTERM)"),
        "{shown}"
    );
    assert_eq!(code, Some(143), "{shown}");
    assert_gone(&program, Duration::from_secs(10));
}
