//! Running a chapter's tests (all, or one section's) with `cargo test` and reading libtest's
//! report: which tests passed, which failed, and what each failure said. A test program that
//! crashed is never read as a pass: its unfinished tests are run again one at a time
//! ([`crate::crash`]).
//!
//! Tested end to end on the fixture workbook: `cargo test -p workbook --test runner`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, Result};

use crate::crash::{self, Crash};
use crate::manifest::Chapter;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Verdict {
    Passed,
    Failed,
    Ignored,
    /// The test returned without checking anything, because something it needs is missing (a
    /// Docker engine): libtest says "ok", the test recorded why it did not run.
    Skipped,
}

/// What a test run produced.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Report {
    /// Every test by full name (`s1_2_drain::…`), with its verdict.
    pub tests: BTreeMap<String, Verdict>,
    /// The panic message of each failed test.
    pub messages: BTreeMap<String, String>,
    /// True if the code did not compile (or cargo failed before running tests).
    pub build_failed: bool,
    /// The compiler's first error, when it did not compile.
    pub first_error: Option<String>,
    /// Why each skipped test did not run.
    pub skip_reasons: BTreeMap<String, String>,
    /// Set when the run was stopped at the time limit.
    pub timed_out: bool,
    /// cargo's stderr, kept when it is not shown live.
    pub stderr: String,
    /// Set when the test program crashed (or exited) before every test had reported, or failed
    /// with no failing test: never a pass, whatever the verdicts say.
    #[serde(default)]
    pub crash: Option<Crash>,
}

impl Report {
    pub(crate) fn count(&self, verdict: Verdict) -> usize {
        self.tests.values().filter(|v| **v == verdict).count()
    }

    /// Green: it built, nothing failed, hung or crashed, and every test ran (a skipped test
    /// proved nothing).
    pub(crate) fn green(&self) -> bool {
        !self.build_failed
            && !self.timed_out
            && self.crash.is_none()
            && self.count(Verdict::Failed) == 0
            && self.count(Verdict::Skipped) == 0
            && self.count(Verdict::Passed) > 0
    }

    /// Turns the "ok" of each test that recorded a skip into [`Verdict::Skipped`].
    pub(crate) fn mark_skipped(&mut self, skips: &BTreeMap<String, String>) {
        for (name, reason) in skips {
            if let Some(verdict) = self.tests.get_mut(name)
                && *verdict == Verdict::Passed
            {
                *verdict = Verdict::Skipped;
                self.skip_reasons.insert(name.clone(), reason.clone());
            }
        }
    }
}

/// Whether a chapter's container tests may skip (loudly) where no Docker engine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Docker {
    /// A learner's run: a test that needs the engine skips, and says so.
    MaySkip,
    /// `just verify`: container tests must run, never skip for want of an engine.
    Required,
}

/// What the learner sees while the tests build and run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Show {
    /// cargo's progress and compile errors, as they happen (`just test`, `just watch`).
    Build,
    /// One line before a build that is not fresh (`just hint`, `just progress`).
    Note,
    /// Nothing (`just verify` prints its own lines).
    Nothing,
}

/// Where a run builds: the workspace folder and the environment that points cargo at its
/// target and build directories.
#[derive(Debug, Clone)]
pub(crate) struct Place<'a> {
    pub dir: &'a Path,
    pub env: Vec<(&'static str, std::path::PathBuf)>,
    /// `--locked`: the lock file is exactly the committed one.
    pub locked: bool,
    /// The cargo to run: `$CARGO`, else `cargo` (the runner's tests put a stand-in here).
    pub cargo: Option<std::path::PathBuf>,
}

impl<'a> Place<'a> {
    /// The learner's own workspace, building where cargo builds by default.
    pub(crate) fn learner(root: &'a Path) -> Place<'a> {
        Place {
            dir: root,
            env: Vec::new(),
            locked: true,
            cargo: None,
        }
    }
}

/// Runs the chapter's tests (`cargo test -p <package> --test chapterN`) in two steps: first it
/// builds them, with no time limit (a first build on a slow laptop takes minutes, and a build is
/// not a hang); then it runs them under the chapter's time limit, which therefore only ever
/// measures the tests. `docker` says whether container tests may skip where no Docker engine
/// runs.
pub(crate) async fn run_with_docker(
    place: &Place<'_>,
    chapter: &Chapter,
    show: Show,
    docker: Docker,
) -> Result<Report> {
    run_only(place, chapter, show, docker, None).await
}

/// [`run_with_docker`] for the tests whose names contain `only` (a section's module and `::`,
/// `s1_2_drain::`), or all of them.
pub(crate) async fn run_only(
    place: &Place<'_>,
    chapter: &Chapter,
    show: Show,
    docker: Docker,
    only: Option<&str>,
) -> Result<Report> {
    if let Some(failed) = build_step(place, chapter, show).await? {
        return Ok(failed);
    }
    let live = show == Show::Build;
    // 2. Run, under the time limit.
    if show == Show::Note {
        eprintln!("running chapter {}'s tests…", chapter.number);
    }
    if chapter.docker && live {
        eprintln!(
            "chapter {}'s tests build an image from your Dockerfile on the Docker engine: \
             the first image build compiles every dependency (a few minutes); later ones reuse \
             Docker's layer cache.",
            chapter.number
        );
    }
    let filter: Vec<&str> = only.into_iter().collect();
    let Some(run) = test_run(place, chapter, docker, live, chapter.time_limit(), &filter).await?
    else {
        return Ok(Report {
            timed_out: true,
            ..Report::default()
        });
    };
    let TestRun {
        out,
        err,
        status,
        mut report,
    } = run;
    report.stderr = err;
    // libtest reports failures with exit code 101 too; a program that never said "running N
    // tests" failed before any test ran (cargo itself failed).
    let started = out.lines().any(|l| l.starts_with("running "));
    if !status.success() && !started {
        report.build_failed = true;
        report.first_error = first_compile_error(&report.stderr);
        return Ok(report);
    }
    // A program that ended without libtest's summary, or failed with no failure to show for
    // it, crashed: never a pass.
    let finished = out.lines().any(|l| l.starts_with("test result:"));
    if !finished || (!status.success() && report.count(Verdict::Failed) == 0) {
        recover(
            place,
            chapter,
            docker,
            only,
            show,
            status.success(),
            &mut report,
        )
        .await?;
    }
    Ok(report)
}

/// One run of the built test program: what it printed, how cargo ended, and the verdicts.
struct TestRun {
    out: String,
    err: String,
    status: std::process::ExitStatus,
    report: Report,
}

/// `cargo test … -- <libtest_args>` under `limit`, read into a report (skips marked, panic
/// messages from stderr kept). `None` if it was stopped at the limit.
async fn test_run(
    place: &Place<'_>,
    chapter: &Chapter,
    docker: Docker,
    live: bool,
    limit: std::time::Duration,
    libtest_args: &[&str],
) -> Result<Option<TestRun>> {
    let test_target = chapter.test_target();
    let base = base_args(place, chapter, &test_target);
    let skips = tempdir_for_skips()?;
    let mut command = cargo(place, &base);
    command
        .args([
            "--no-fail-fast",
            "--color",
            "never",
            "--",
            "--color",
            "never",
        ])
        // With TEST_LOG the children's output is echoed live; libtest must not hold it back.
        .args(test_support::test_log_enabled().then_some("--nocapture"))
        .args(libtest_args)
        .env(test_support::SKIPS_ENV, skips.path());
    if chapter.docker && docker == Docker::Required {
        command.env("WORKBOOK_REQUIRE_DOCKER", "1");
    }
    let (out, err, status) = supervise(command, live, Some(limit)).await?;
    let Some(status) = status else {
        return Ok(None);
    };
    let mut report = parse(&out);
    // With TEST_LOG (`--nocapture`) libtest prints no failure blocks: the panic messages went
    // to stderr as they happened.
    for (name, message) in panic_messages(&err) {
        if report.tests.get(&name) == Some(&Verdict::Failed) {
            report.messages.entry(name).or_insert(message);
        }
    }
    report.mark_skipped(&test_support::recorded_skips(skips.path()));
    Ok(Some(TestRun {
        out,
        err,
        status,
        report,
    }))
}

/// After a crash (see [`crate::crash`]): every test of the program that never reported, and
/// every failure whose message was lost, is run again on its own, so that each gets a verdict
/// and a message, and the tests that crash the program are named.
async fn recover(
    place: &Place<'_>,
    chapter: &Chapter,
    docker: Docker,
    only: Option<&str>,
    show: Show,
    succeeded: bool,
    report: &mut Report,
) -> Result<()> {
    let how = crash::how_it_ended(&report.stderr, succeeded);
    let mut overflowed = crash::overflowed(&report.stderr);
    let deadline = std::time::Instant::now() + chapter.time_limit();
    let mut list_args = vec!["--list", "--format", "terse"];
    list_args.extend(only);
    let listed = test_run(
        place,
        chapter,
        docker,
        false,
        chapter.time_limit(),
        &list_args,
    )
    .await?
    .map(|listing| crash::listed(&listing.out))
    .unwrap_or_default();
    let unreported: Vec<String> = listed
        .into_iter()
        .filter(|t| !report.tests.contains_key(t))
        .collect();
    let lost: Vec<String> = report
        .tests
        .iter()
        .filter(|(name, v)| **v == Verdict::Failed && !report.messages.contains_key(*name))
        .map(|(name, _)| name.clone())
        .collect();
    let mut again: Vec<&String> = lost.iter().chain(&unreported).collect();
    again.sort_by_key(|name| (chapter.order_of(name), name.as_str()));
    if show != Show::Nothing && !again.is_empty() {
        eprintln!(
            "The test program crashed: {how}. Running the {} test(s) it did not finish, or whose \
             message it lost, again, one at a time, to find out which crashes it…",
            again.len()
        );
    }
    let mut found = Crash {
        how: how.clone(),
        unfinished: unreported.len(),
        ..Crash::default()
    };
    for name in again {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let alone = if left.is_zero() {
            None
        } else {
            test_run(place, chapter, docker, false, left, &["--exact", name]).await?
        };
        let Some(alone) = alone else {
            report.tests.insert(name.clone(), Verdict::Failed);
            report.messages.entry(name.clone()).or_insert_with(|| {
                format!(
                    "The test program crashed ({how}) before this test reported, and there was \
                     no time left to run it again on its own."
                )
            });
            found.unknown.push(name.clone());
            continue;
        };
        overflowed.extend(crash::overflowed(&alone.err));
        match alone.report.tests.get(name) {
            Some(Verdict::Passed) if lost.contains(name) => {
                report
                    .messages
                    .insert(name.clone(), crash::lost_message(&how));
            }
            Some(verdict) => {
                report.tests.insert(name.clone(), *verdict);
                for (from, to) in [
                    (&alone.report.messages, &mut report.messages),
                    (&alone.report.skip_reasons, &mut report.skip_reasons),
                ] {
                    if let Some(text) = from.get(name) {
                        to.insert(name.clone(), text.clone());
                    }
                }
            }
            None => {
                let how_alone = crash::how_it_ended(&alone.err, alone.status.success());
                report.tests.insert(name.clone(), Verdict::Failed);
                report.messages.insert(
                    name.clone(),
                    crash::crashed_message(name, &how_alone, overflowed.contains(name)),
                );
                found.tests.push(name.clone());
            }
        }
    }
    report.crash = Some(found);
    Ok(())
}

/// Builds the chapter's tests without running them; true if they built.
pub(crate) async fn build(place: &Place<'_>, chapter: &Chapter, show: Show) -> Result<bool> {
    Ok(build_step(place, chapter, show).await?.is_none())
}

/// The terminal's width in columns, from `COLUMNS` or the terminal itself.
fn terminal_width() -> Option<u16> {
    if let Some(cols) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(cols);
    }
    let out = std::process::Command::new("stty")
        .arg("size")
        .stdin(std::fs::File::open("/dev/tty").ok()?)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `cargo test -p <package> --test chapterN [--locked]`.
fn base_args<'a>(place: &Place<'_>, chapter: &'a Chapter, test_target: &'a str) -> Vec<&'a str> {
    let mut base: Vec<&str> = vec![
        "test",
        "-p",
        chapter.package(),
        // Only the chapter's own tests (tests/chapterN): given code may have unit tests of
        // its own, which pass before the learner starts; `verify` runs those separately.
        "--test",
        test_target,
    ];
    if place.locked {
        base.push("--locked");
    }
    base
}

/// Step 1 of a run: the build, with no time limit. `Some(report)` if it failed.
async fn build_step(place: &Place<'_>, chapter: &Chapter, show: Show) -> Result<Option<Report>> {
    let test_target = chapter.test_target();
    let base = base_args(place, chapter, &test_target);
    let live = show == Show::Build;
    let color = if live && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        "always"
    } else {
        "never"
    };
    let first = first_build(place, chapter);
    if show == Show::Note {
        eprintln!(
            "building chapter {}'s tests{}…",
            chapter.number,
            if first {
                " (the first build compiles every dependency: a few minutes)"
            } else {
                ""
            }
        );
    } else if live && first {
        eprintln!(
            "First build of chapter {}'s tests: cargo compiles every dependency once, which takes \
             a few minutes (seconds from then on). Its progress follows.",
            chapter.number
        );
    }
    let mut build = cargo(place, &base);
    build.args(["--no-run", "--color", color]);
    if color == "always" {
        // cargo sees a pipe, not the terminal, so it would draw no progress bar; ask for it.
        build.env("CARGO_TERM_PROGRESS_WHEN", "always");
        if let Some(width) = terminal_width() {
            build.env("CARGO_TERM_PROGRESS_WIDTH", width.to_string());
        }
    }
    // In a note-only run (`just progress`, `just hint`) cargo's lines still show while it
    // builds, so that minutes of compiling are never silent; the tests' own output does not.
    let (_, build_err, status) = supervise(build, show != Show::Nothing, None).await?;
    let Some(status) = status else {
        unreachable!("a run without a time limit always ends with a status")
    };
    if status.success() {
        return Ok(None);
    }
    Ok(Some(Report {
        build_failed: true,
        first_error: first_compile_error(&build_err),
        stderr: build_err,
        ..Report::default()
    }))
}

/// `cargo <args>` in the place, in its own process group (so that a time-out or Ctrl-C can
/// stop everything under it), with backtraces off (they would bury the tests' explanations).
fn cargo(place: &Place<'_>, args: &[&str]) -> Command {
    let program = place.cargo.clone().unwrap_or_else(|| {
        std::env::var_os("CARGO")
            .unwrap_or_else(|| "cargo".into())
            .into()
    });
    let mut command = Command::new(program);
    command
        .current_dir(place.dir)
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    for (key, value) in &place.env {
        command.env(key, value);
    }
    command
}

/// True when the chapter's test binary has never been built in this place: the next build
/// compiles every dependency.
fn first_build(place: &Place<'_>, chapter: &Chapter) -> bool {
    let Some(build_dir) = place
        .env
        .iter()
        .find(|(k, _)| *k == "CARGO_BUILD_BUILD_DIR")
        .map(|(_, v)| v.clone())
        .or_else(|| {
            crate::cargo_dirs::of(place.dir)
                .ok()
                .map(|d| d.build.clone())
        })
    else {
        return true;
    };
    let prefix = format!("{}-", chapter.test_target());
    std::fs::read_dir(build_dir.join("debug/deps"))
        .map(|entries| {
            !entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        })
        .unwrap_or(true)
}

/// Runs `command` to its end (or to `limit`), collecting stdout and stderr; with `live`,
/// stderr is shown as it comes, minus the lines that only repeat what the summary says.
/// `None` for the status means the time limit passed and everything was killed.
async fn supervise(
    mut command: Command,
    live: bool,
    limit: Option<std::time::Duration>,
) -> Result<(String, String, Option<std::process::ExitStatus>)> {
    let mut child = command
        .spawn()
        .context("running cargo (is cargo on PATH?)")?;
    let pid = child.id();
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take();
    let stderr_task = tokio::spawn(async move {
        let mut kept = String::new();
        if let Some(mut stderr) = stderr {
            use tokio::io::AsyncReadExt;
            // Read in chunks, not lines: on a terminal cargo redraws its progress bar with `\r`
            // and no newline, and that bar is what shows a long compile is moving.
            let mut pending: Vec<u8> = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                pending.extend_from_slice(&chunk[..n]);
                while let Some(end) = pending.iter().position(|b| *b == b'\n' || *b == b'\r') {
                    let piece: Vec<u8> = pending.drain(..=end).collect();
                    let text = String::from_utf8_lossy(&piece);
                    if piece.last() == Some(&b'\r') {
                        // A progress bar redraw: shown as it is, never kept.
                        if live {
                            eprint!("{text}");
                        }
                        continue;
                    }
                    let line = text.trim_end_matches('\n');
                    if live && !is_noise(line) {
                        eprintln!("{line}");
                    }
                    kept.push_str(line);
                    kept.push('\n');
                }
            }
            if !pending.is_empty() {
                let line = String::from_utf8_lossy(&pending).into_owned();
                if live && !is_noise(&line) {
                    eprintln!("{line}");
                }
                kept.push_str(&line);
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
    let bounded = async {
        match limit {
            Some(limit) => tokio::time::timeout(limit, collect).await.ok(),
            None => Some(collect.await),
        }
    };
    let kill = || {
        if let Some(pid) = pid {
            // The whole group: cargo, the test binary and every server it started.
            let _ = test_support::process::kill_group(pid);
        }
    };
    tokio::select! {
        // The tests have their own deadlines of a few seconds each; the limit is the backstop
        // for code that hangs in a way they cannot catch (chapters.toml `time_limit`).
        finished = bounded => match finished {
            Some((out, err, status)) => {
                let status = status.context("waiting for cargo")?;
                Ok((out, err, Some(status)))
            }
            None => {
                kill();
                Ok((String::new(), String::new(), None))
            }
        },
        () = crate::stop::requested() => {
            // cargo runs in its own process group, which also means the terminal's Ctrl-C
            // does not reach it: pass it on.
            kill();
            Err(crate::stop::Stopped.into())
        }
    }
}

/// A fresh folder where the tests record the tests they skipped (test-support's `skip`).
fn tempdir_for_skips() -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("workbook-skips-")
        .tempdir()
        .context("making a folder for skipped tests")
}

/// The compiler's first error, with its location and source lines: what to fix first.
pub(crate) fn first_compile_error(stderr: &str) -> Option<String> {
    let plain: Vec<String> = stderr
        .lines()
        .map(test_support::process::strip_ansi)
        .collect();
    let start = plain.iter().position(|l| {
        l.starts_with("error[")
            || (l.starts_with("error: ") && !l.starts_with("error: could not compile"))
    })?;
    let mut block = vec![plain[start].clone()];
    for line in &plain[start + 1..] {
        // The block ends at the next diagnostic or at cargo's summary.
        if line.starts_with("error") || line.starts_with("warning") {
            break;
        }
        block.push(line.clone());
        if block.len() >= 25 {
            break;
        }
    }
    while block.last().is_some_and(|l| l.trim().is_empty()) {
        block.pop();
    }
    Some(block.join("\n"))
}

/// cargo's lines that say nothing the runner's summary does not say better.
fn is_noise(line: &str) -> bool {
    let plain = test_support::process::strip_ansi(line);
    let t = plain.trim_start();
    t.starts_with("Running ")
        || t.starts_with("Executable ")
        || t.starts_with("Doc-tests ")
        || t.starts_with("error: test failed")
        || t.starts_with("error: 1 target failed")
        || t.starts_with("error: ") && t.contains("targets failed")
        || (t.starts_with('`') && t.contains("--test"))
}

/// Parses libtest's human output.
pub(crate) fn parse(out: &str) -> Report {
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

/// The panic messages a test binary printed to stderr (`thread 'name' (id) panicked at …:` and
/// the lines after it), as they appear when output is not captured.
fn panic_messages(stderr: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in stderr.lines() {
        if let Some(rest) = line.strip_prefix("thread '")
            && line.contains("panicked at")
            && let Some((name, _)) = rest.split_once('\'')
        {
            if let Some((n, lines)) = current.take() {
                found.push((n, lines.join("\n").trim().to_owned()));
            }
            current = Some((name.to_owned(), Vec::new()));
            continue;
        }
        if let Some((_, lines)) = current.as_mut() {
            // The message ends at the backtrace note, or at the next line of someone else's.
            if line.starts_with("note: run with `RUST_BACKTRACE") || line.starts_with('[') {
                let (n, lines) = current.take().expect("just matched");
                found.push((n, lines.join("\n").trim().to_owned()));
                continue;
            }
            lines.push(line);
        }
    }
    if let Some((n, lines)) = current {
        found.push((n, lines.join("\n").trim().to_owned()));
    }
    found
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

    /// A chapter as chapters.toml would describe it, with a short time limit.
    fn chapter(time_limit: u64) -> Chapter {
        toml::from_str(&format!(
            r#"
            number = 9
            folder = "ch09-example"
            title = "Example"
            status = "ready"
            time_limit = {time_limit}
            [[section]]
            id = "9.1"
            title = "One"
            tests = "s9_1"
            minutes = 10
            core = true
            "#
        ))
        .unwrap()
    }

    /// A stand-in for cargo: a shell script that plays a build (`--no-run`) and a test run, so
    /// that the runner's verdicts are tested against what cargo really does, timing included.
    fn fake_cargo(dir: &Path, build: &str, run: &str) -> std::path::PathBuf {
        let script = dir.join("cargo");
        std::fs::write(
            &script,
            format!("#!/bin/sh\ncase \"$*\" in *--no-run*) {build} ;; *) {run} ;; esac\n"),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        script
    }

    const PASS: &str = "echo 'test s9_1::works ... ok'; echo 'test result: ok. 1 passed'";

    async fn run_with(build: &str, run: &str, time_limit: u64) -> Report {
        let dir = tempfile::tempdir().unwrap();
        let place = Place {
            dir: dir.path(),
            env: Vec::new(),
            locked: false,
            cargo: Some(fake_cargo(dir.path(), build, run)),
        };
        super::run_with_docker(&place, &chapter(time_limit), Show::Nothing, Docker::MaySkip)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_slow_build_is_not_a_hang() {
        // The build takes longer than the time limit; the tests themselves are quick.
        let report = run_with("sleep 2", PASS, 1).await;
        assert!(
            !report.timed_out,
            "a 2 s build under a 1 s limit was called a hang"
        );
        assert_eq!(report.count(Verdict::Passed), 1, "{report:?}");
    }

    #[tokio::test]
    async fn a_program_that_fails_after_every_test_passed_is_not_green() {
        // Every test said ok, then the program was killed on its way out.
        let run = format!(
            "echo 'running 1 test'; {PASS}; echo 'process didn'\\''t exit successfully: `x` (signal: 6, SIGABRT: process \
             abort signal)' >&2; exit 101"
        );
        let report = run_with("true", &run, 5).await;
        assert_eq!(report.count(Verdict::Passed), 1, "{report:?}");
        assert!(!report.green(), "{report:?}");
        let crash = report.crash.expect("a crash");
        assert_eq!(crash.how, "it was killed by SIGABRT (process abort signal)");
        assert!(
            crash.sentence().contains("not a pass"),
            "{}",
            crash.sentence()
        );
    }

    #[tokio::test]
    async fn tests_that_hang_are_stopped_at_the_limit() {
        let report = run_with("true", "sleep 30", 1).await;
        assert!(report.timed_out, "{report:?}");
    }

    #[tokio::test]
    async fn a_compile_error_is_its_own_verdict_with_the_first_error() {
        let report = run_with(
            "echo '   Compiling ch09 v0.1.0' >&2; echo 'error[E0425]: cannot find value `x` in this scope' >&2; echo ' --> src/lib.rs:3:5' >&2; echo 'error: could not compile `ch09`' >&2; exit 101",
            PASS,
            5,
        )
        .await;
        assert!(report.build_failed, "{report:?}");
        let first = report.first_error.unwrap();
        assert!(
            first.starts_with("error[E0425]: cannot find value `x`"),
            "{first}"
        );
        assert!(first.contains("src/lib.rs:3:5"), "{first}");
        assert!(!first.contains("could not compile"), "{first}");
    }

    #[tokio::test]
    async fn a_skipped_test_is_not_a_pass() {
        // What test-support's `skip` does, as the test binary would.
        let run = format!(
            "printf 'no Docker engine: none answers' > \"${}/s9_1__works\"; {PASS}",
            test_support::SKIPS_ENV
        );
        let report = run_with("true", &run, 5).await;
        assert_eq!(report.count(Verdict::Passed), 0, "{report:?}");
        assert_eq!(report.count(Verdict::Skipped), 1, "{report:?}");
        assert_eq!(
            report.skip_reasons["s9_1::works"],
            "no Docker engine: none answers"
        );
    }

    #[test]
    fn without_capture_the_messages_are_read_from_stderr() {
        let stderr = "[service] listening addr=127.0.0.1:1\n\
                      thread 's1_2_drain::x' (77) panicked at tests/a.rs:1:1:\n\
                      A request failed. See 1.2.\n\
                      note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\
                      [service] shutdown started\n";
        let found = panic_messages(stderr);
        assert_eq!(
            found,
            vec![(
                "s1_2_drain::x".to_owned(),
                "A request failed. See 1.2.".to_owned()
            )]
        );
    }

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
