//! Running a chapter's tests (all, or one section's): built with `cargo test --no-run`, the
//! test program it names run directly, and libtest's report read: which tests passed, which
//! failed, and what each failure said. A test program that crashed is never read as a pass: its
//! unfinished tests are run again one at a time ([`crate::crash`]).
//!
//! Tested end to end on the fixture workbook: `cargo test -p workbook --test runner`.

use std::path::Path;

use anyhow::{Context, Result};

use crate::manifest::Chapter;

mod diagnostics;
mod libtest;
mod recover;
mod report;
mod supervise;

pub(crate) use diagnostics::{Line, read as read_cargo_line};
pub(crate) use libtest::parse;
pub(crate) use report::{Report, Verdict};

use libtest::panic_messages;
use recover::recover;
use supervise::{Live, Stdout, cargo, supervise, terminal_width};

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
    let program = match build_step(place, chapter, show).await? {
        Ok(program) => program,
        Err(failed) => return Ok(failed),
    };
    let live = show == Show::Build;
    // 2. Run, under the time limit.
    if show == Show::Note {
        eprintln!("running chapter {}'s tests…", chapter.number);
    }
    // A chapter whose tests build an image says so itself, when one of them builds it (chapter
    // 3's support.rs): a section that builds none (3.1) must not announce minutes of building.
    let filter: Vec<&str> = only.into_iter().collect();
    let tests = Tests {
        place,
        chapter,
        program: &program,
        docker,
    };
    let Some(run) = tests.run(live, chapter.time_limit(), &filter).await? else {
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
    // A program that ended without libtest's summary (it crashed, even before its first test),
    // or failed with no failure to show for it: never a pass.
    let finished = out.lines().any(|l| l.starts_with("test result:"));
    if !finished || (!status.success() && report.count(Verdict::Failed) == 0) {
        recover(&tests, only, show, status, &mut report).await?;
    }
    Ok(report)
}

/// One run of the built test program: what it printed, how it ended, and the verdicts.
struct TestRun {
    out: String,
    err: String,
    status: std::process::ExitStatus,
    report: Report,
}

/// A chapter's built test program, and how to run it. The runner runs it itself, as cargo
/// would (from the package's folder), rather than through a second `cargo test`: how the
/// program ended (a signal, an exit status) is then its own exit status, not a sentence of
/// cargo's to be read back, and nothing is built or replayed (the build's warnings) between
/// the build the learner saw and the run.
struct Tests<'a> {
    place: &'a Place<'a>,
    chapter: &'a Chapter,
    program: &'a Path,
    docker: Docker,
}

impl Tests<'_> {
    /// The test program with `libtest_args` under `limit`, read into a report (skips marked,
    /// panic messages from stderr kept). `None` if it was stopped at the limit.
    async fn run(
        &self,
        live: bool,
        limit: std::time::Duration,
        libtest_args: &[&str],
    ) -> Result<Option<TestRun>> {
        let (place, chapter) = (self.place, self.chapter);
        let skips = tempdir_for_skips()?;
        let package = chapter.exercise_dir(place.dir);
        let mut command = supervise::program(place, self.program);
        command
            // Where and with what `cargo test` runs a test program.
            .current_dir(&package)
            .env("CARGO_MANIFEST_DIR", &package)
            .args(["--color", "never"])
            // With TEST_LOG the children's output is echoed live; libtest must not hold it back.
            .args(test_support::test_log_enabled().then_some("--nocapture"))
            .args(libtest_args)
            .env(test_support::SKIPS_ENV, skips.path());
        if chapter.docker && self.docker == Docker::Required {
            command.env("WORKBOOK_REQUIRE_DOCKER", "1");
        }
        let live = if live { Live::All } else { Live::Off };
        let supervised = supervise(command, Stdout::Text, live, Some(limit)).await;
        if chapter.docker && !supervised.as_ref().is_ok_and(|o| o.status.is_some()) {
            // Killed at the time limit, or stopped: the tests' guards never ran, so what they
            // had started on the engine is still there, under this run's label.
            crate::leftovers::sweep_run();
        }
        let output = supervised?;
        let Some(status) = output.status else {
            return Ok(None);
        };
        let supervise::Output { out, err, .. } = output;
        let mut report = parse(&out);
        // With TEST_LOG (`--nocapture`) libtest prints no failure blocks: the panic messages
        // went to stderr as they happened.
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
}

/// Builds the chapter's tests without running them; true if they built.
pub(crate) async fn build(place: &Place<'_>, chapter: &Chapter, show: Show) -> Result<bool> {
    Ok(build_step(place, chapter, show).await?.is_ok())
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

/// Step 1 of a run: the build, with no time limit. The test program it built, or the report of
/// a build that failed.
async fn build_step(
    place: &Place<'_>,
    chapter: &Chapter,
    show: Show,
) -> Result<Result<std::path::PathBuf, Report>> {
    let test_target = chapter.test_target();
    let base = base_args(place, chapter, &test_target);
    let live = show == Show::Build;
    // Colour where the runner's own stderr would have it: a terminal, and no NO_COLOR.
    let colored = anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
    let color = if live && colored { "always" } else { "never" };
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
    // The compiler's diagnostics come as JSON records on stdout, each with the text it would
    // have printed (in colour where cargo's own lines are): shown as they come, and the first
    // error read off them, not off the terminal's text.
    let format = if color == "always" {
        "json-diagnostic-rendered-ansi"
    } else {
        "json"
    };
    let mut build = cargo(place, &base);
    build.args(["--no-run", "--color", color, "--message-format", format]);
    // cargo sees a pipe, not the terminal, so it would draw no progress bar; ask for it, as wide
    // as the terminal (cargo refuses "always" without a width: colour forced onto a pipe has none).
    if color == "always"
        && let Some(width) = terminal_width()
    {
        build.env("CARGO_TERM_PROGRESS_WHEN", "always");
        build.env("CARGO_TERM_PROGRESS_WIDTH", width.to_string());
    }
    // In a note-only run (`just progress`, `just hint`) cargo's lines still show while it
    // builds, so that minutes of compiling are never silent; the tests' own output does not.
    let live = if show == Show::Nothing {
        Live::Off
    } else {
        Live::All
    };
    let output = supervise(build, Stdout::CargoRecords, live, None).await?;
    let Some(status) = output.status else {
        unreachable!("a run without a time limit always ends with a status")
    };
    if status.success() {
        return match output
            .programs
            .into_iter()
            .find(|(name, _)| *name == test_target)
        {
            Some((_, program)) => Ok(Ok(program)),
            None => anyhow::bail!(
                "cargo built chapter {}'s tests but named no `{test_target}` test program",
                chapter.number
            ),
        };
    }
    Ok(Err(Report {
        build_failed: true,
        first_error: output.first_error(),
        stderr: output.err,
        ..Report::default()
    }))
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

/// A fresh folder where the tests record the tests they skipped (test-support's `skip`).
pub(crate) fn tempdir_for_skips() -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("workbook-skips-")
        .tempdir()
        .context("making a folder for skipped tests")
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// A stand-in for cargo and the test program it builds: two shell scripts, one playing a
    /// build (`--no-run`, which names the test program as cargo does when it succeeds), one the
    /// test program's run, so that the runner's verdicts are tested against what cargo and
    /// libtest really do, timing included.
    fn fake_cargo(dir: &Path, build: &str, run: &str) -> std::path::PathBuf {
        let executable = |path: &Path, text: String| {
            std::fs::write(path, text).unwrap();
            std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        };
        let program = dir.join("chapter9-test-program");
        executable(&program, format!("#!/bin/sh\n{run}\n"));
        let artifact = serde_json::json!({
            "reason": "compiler-artifact",
            "target": { "name": "chapter9", "kind": ["test"] },
            "profile": { "test": true },
            "executable": program,
            "manifest_path": dir.join("Cargo.toml"),
        });
        let script = dir.join("cargo");
        executable(
            &script,
            format!(
                "#!/bin/sh\ncase \"$*\" in *--no-run*) ;; *) echo 'only --no-run' >&2; exit 2 ;; \
                 esac\n{build}\nprintf '%s\\n' '{artifact}'\n"
            ),
        );
        script
    }

    const PASS: &str = "echo 'test s9_1::works ... ok'; echo 'test result: ok. 1 passed'";

    async fn run_with(build: &str, run: &str, time_limit: u64) -> Report {
        let dir = tempfile::tempdir().unwrap();
        // The test program runs in its package's folder, as under `cargo test`.
        std::fs::create_dir_all(chapter(time_limit).exercise_dir(dir.path())).unwrap();
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
        let run = format!("echo 'running 1 test'; {PASS}; kill -ABRT $$");
        let report = run_with("true", &run, 5).await;
        assert_eq!(report.count(Verdict::Passed), 1, "{report:?}");
        assert!(!report.green(), "{report:?}");
        let crash = report.crash.expect("a crash");
        assert!(
            crash
                .how
                .starts_with("it was killed by SIGABRT (process abort signal"),
            "{}",
            crash.how
        );
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

    /// A shell line that prints one of cargo's compiler-message records on stdout (with printf:
    /// dash's echo would turn the record's `\n` into new lines).
    fn diagnostic(level: &str, rendered: &str) -> String {
        let record = serde_json::json!({
            "reason": "compiler-message",
            "package_id": "ch09",
            "message": { "level": level, "rendered": rendered, "spans": [] },
        });
        format!("printf '%s\\n' '{record}'; ")
    }

    #[tokio::test]
    async fn a_compile_error_is_its_own_verdict_with_the_first_error() {
        let build = [
            "echo '   Compiling ch09 v0.1.0' >&2; ".to_owned(),
            diagnostic(
                "warning",
                "warning: unused variable: `y`\n --> src/lib.rs:2:9\n\n",
            ),
            diagnostic(
                "error",
                "error[E0425]: cannot find value `x` in this scope\n --> src/lib.rs:3:5\n\n",
            ),
            diagnostic(
                "error",
                "error[E0308]: mismatched types\n --> src/lib.rs:9:1\n\n",
            ),
            "echo 'error: could not compile `ch09`' >&2; exit 101".to_owned(),
        ]
        .concat();
        let report = run_with(&build, PASS, 5).await;
        assert!(report.build_failed, "{report:?}");
        let first = report.first_error.unwrap();
        assert_eq!(
            first,
            "error[E0425]: cannot find value `x` in this scope\n --> src/lib.rs:3:5"
        );
        // verify prints the stderr of a chapter that does not compile: the diagnostics are in it.
        assert!(
            report.stderr.contains("mismatched types"),
            "{}",
            report.stderr
        );
        assert!(
            report.stderr.contains("could not compile"),
            "{}",
            report.stderr
        );
    }

    #[tokio::test]
    async fn a_failure_the_compiler_said_nothing_about_is_cargos_own_error() {
        let build = [
            diagnostic(
                "warning",
                "warning: unused variable: `y`\n --> src/lib.rs:2:9\n\n",
            ),
            "echo 'error: failed to run custom build command for `ch09`' >&2; ".to_owned(),
            "printf '\\nCaused by:\\n  --- stderr\\n  no libfoo\\n' >&2; ".to_owned(),
            "echo 'warning: build failed, waiting for other jobs to finish...' >&2; exit 101"
                .to_owned(),
        ]
        .concat();
        let report = run_with(&build, PASS, 5).await;
        assert!(report.build_failed, "{report:?}");
        assert_eq!(
            report.first_error.unwrap(),
            "error: failed to run custom build command for `ch09`\n\nCaused by:\n  --- stderr\n  no libfoo"
        );
    }

    #[tokio::test]
    async fn a_line_of_json_a_test_prints_is_the_tests_own() {
        // A structured log line in a failing test's output looks like one of cargo's records
        // (it has a `reason`), but only cargo's build step speaks in records.
        let run = [
            "echo 'running 1 test'; echo 'test s9_1::works ... FAILED'; echo; echo 'failures:'; ",
            "echo; echo '---- s9_1::works stdout ----'; ",
            r#"printf '%s\n' '{"reason":"shutdown","level":"INFO"}'; echo 'boom'; echo; "#,
            "echo 'failures:'; echo '    s9_1::works'; echo; ",
            "echo 'test result: FAILED. 0 passed; 1 failed'; exit 101",
        ]
        .concat();
        let report = run_with("true", &run, 5).await;
        assert_eq!(report.count(Verdict::Failed), 1, "{report:?}");
        let message = &report.messages["s9_1::works"];
        assert!(
            message.contains(r#"{"reason":"shutdown","level":"INFO"}"#),
            "{message}"
        );
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
}
