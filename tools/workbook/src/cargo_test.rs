//! Running a chapter's tests with `cargo test` and reading libtest's report: which tests passed,
//! which failed, and what each failure said.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, Result};

use crate::manifest::Chapter;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Failed,
    Ignored,
}

/// What a test run produced.
#[derive(Debug, Default)]
pub struct Report {
    /// Every test by full name (`s1_2_drain::…`), with its verdict.
    pub tests: BTreeMap<String, Verdict>,
    /// The panic message of each failed test.
    pub messages: BTreeMap<String, String>,
    /// True if the code did not compile (or cargo failed before running tests).
    pub build_failed: bool,
    /// Set when the run was stopped at the time limit.
    pub timed_out: bool,
    /// cargo's stderr, kept when it is not shown live.
    pub stderr: String,
}

impl Report {
    pub fn count(&self, verdict: Verdict) -> usize {
        self.tests.values().filter(|v| **v == verdict).count()
    }
}

/// Set by `just verify`: container tests must run, never skip for want of a Docker engine.
pub static REQUIRE_DOCKER: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Runs the chapter's tests (`cargo test -p <package> --test chapterN`) in `dir`. With `show_build`, cargo's progress and compile errors
/// go to the terminal as they happen; otherwise they are kept in the report.
pub async fn run(
    dir: &Path,
    chapter: &Chapter,
    target_dir: Option<&Path>,
    show_build: bool,
) -> Result<Report> {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .current_dir(dir)
        // `--tests`: every test target but doctests; the chapters keep their tests in tests/.
        .args([
            "test",
            "-p",
            chapter.package(),
            // Only the chapter's own tests (tests/chapterN): given code may have unit tests of
            // its own, which pass before the learner starts; `verify` runs those separately.
            "--test",
            &chapter.test_target(),
            "--no-fail-fast",
            "--color",
        ])
        .arg(
            if show_build && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                "always"
            } else {
                "never"
            },
        )
        .args(["--", "--color", "never"])
        // With TEST_LOG the children's output is echoed live; libtest must not hold it back.
        .args(test_support::test_log_enabled().then_some("--nocapture"))
        // Backtraces would bury the tests' own explanations.
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(target) = target_dir {
        command.env("CARGO_TARGET_DIR", target);
    }
    if chapter.docker {
        if REQUIRE_DOCKER.load(std::sync::atomic::Ordering::Relaxed) {
            command.env("WORKBOOK_REQUIRE_DOCKER", "1");
        }
        if show_build {
            eprintln!(
                "chapter {}'s tests build an image from your Dockerfile on the Docker engine: \
                 the first build compiles every dependency (a few minutes); later ones reuse \
                 Docker's layer cache.",
                chapter.number
            );
        }
    }
    let mut child = command
        .spawn()
        .context("running cargo test (is cargo on PATH?)")?;
    let pid = child.id();
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take();

    // cargo's progress and compile errors are shown as they come (when asked), minus the lines
    // that only repeat, less clearly, what the summary says.
    let stderr_task = tokio::spawn(async move {
        let mut kept = String::new();
        if let Some(stderr) = stderr {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if show_build && !is_noise(&line) {
                    eprintln!("{line}");
                }
                kept.push_str(&line);
                kept.push('\n');
            }
        }
        kept
    });
    let collect = async {
        let mut out = String::new();
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            out.push_str(&line);
            out.push('\n');
        }
        let status = child.wait().await;
        let err = stderr_task.await.unwrap_or_default();
        (out, err, status)
    };
    let outcome = tokio::select! {
        // The tests have their own deadlines of a few seconds each; this is the backstop for code
        // that hangs in a way they cannot catch (chapters.toml `time_limit`, default 300 s).
        finished = tokio::time::timeout(chapter.time_limit(), collect) => finished,
        () = stop_requested() => {
            // cargo runs in its own process group (so that a time-out can kill everything under
            // it), which also means the terminal's Ctrl-C does not reach it: pass it on.
            if let Some(pid) = pid {
                let _ = test_support::process::kill_group(pid);
            }
            return Err(Interrupted.into());
        }
    };
    match outcome {
        Ok((out, err, status)) => {
            let mut report = parse(&out);
            report.stderr = err;
            let status = status.context("waiting for cargo test")?;
            // libtest reports failures with exit code 101 too; a build failure leaves no test lines.
            report.build_failed = !status.success() && report.tests.is_empty();
            Ok(report)
        }
        Err(_) => {
            if let Some(pid) = pid {
                // The whole group: cargo, the test binary and every server it started.
                let _ = test_support::process::kill_group(pid);
            }
            Ok(Report {
                timed_out: true,
                ..Report::default()
            })
        }
    }
}

/// The learner pressed Ctrl-C (or the runner was sent SIGTERM) while tests were running.
#[derive(Debug, thiserror::Error)]
#[error("stopped by Ctrl-C; the tests and every process they started were stopped too")]
pub struct Interrupted;

/// Completes on SIGINT or SIGTERM to the runner.
pub async fn stop_requested() {
    use tokio::signal::unix::{SignalKind, signal};
    // If a handler cannot be installed the default action (exit) still applies, which is fine.
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}

/// cargo's lines that say nothing the runner's summary does not say better.
fn is_noise(line: &str) -> bool {
    let plain = test_support::process::strip_ansi(line);
    let t = plain.trim_start();
    t.starts_with("Running ")
        || t.starts_with("Doc-tests ")
        || t.starts_with("error: test failed")
        || t.starts_with("error: 1 target failed")
        || t.starts_with("error: ") && t.contains("targets failed")
        || (t.starts_with('`') && t.contains("--test"))
}

/// Parses libtest's human output.
pub fn parse(out: &str) -> Report {
    let mut report = Report::default();
    let mut current: Option<(String, String)> = None;
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("test ")
            && let Some((name, verdict)) = rest.rsplit_once(" ... ")
        {
            let verdict = match verdict.trim() {
                "ok" => Some(Verdict::Passed),
                "FAILED" => Some(Verdict::Failed),
                v if v.starts_with("ignored") => Some(Verdict::Ignored),
                _ => None,
            };
            if let Some(v) = verdict {
                report.tests.insert(name.trim().to_owned(), v);
                continue;
            }
        }
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" stdout ----"))
        {
            if let Some((n, m)) = current.take() {
                report.messages.insert(n, clean(&m));
            }
            current = Some((name.to_owned(), String::new()));
            continue;
        }
        if line == "failures:" || line.starts_with("test result:") {
            if let Some((n, m)) = current.take() {
                report.messages.insert(n, clean(&m));
            }
            continue;
        }
        if let Some((_, m)) = current.as_mut() {
            m.push_str(line);
            m.push('\n');
        }
    }
    if let Some((n, m)) = current.take() {
        report.messages.insert(n, clean(&m));
    }
    report
}

/// Keeps the panic message, dropping libtest's `thread … panicked at …` preamble and the note
/// about backtraces.
fn clean(block: &str) -> String {
    let mut out = Vec::new();
    for line in block.lines() {
        if line.starts_with("thread '") && line.contains("panicked at") {
            continue;
        }
        if line.starts_with("note: run with `RUST_BACKTRACE") {
            continue;
        }
        out.push(line);
    }
    out.join("\n").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
running 3 tests
test s1_1_signals::sigint_exits_zero ... ok
test s1_2_drain::in_flight_completes ... FAILED
test s1_3_deadline::slow ... ignored, too slow

failures:

---- s1_2_drain::in_flight_completes stdout ----

thread 's1_2_drain::in_flight_completes' (123) panicked at tests/x.rs:1:1:
A request in flight failed. See 1.2.
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    s1_2_drain::in_flight_completes

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.1s
";

    #[test]
    fn verdicts_and_messages_are_read_from_libtest_output() {
        let report = parse(SAMPLE);
        assert_eq!(report.count(Verdict::Passed), 1);
        assert_eq!(report.count(Verdict::Failed), 1);
        assert_eq!(report.count(Verdict::Ignored), 1);
        assert_eq!(
            report.messages["s1_2_drain::in_flight_completes"],
            "A request in flight failed. See 1.2."
        );
    }
}
