//! The harness of the runner's end-to-end tests: a copy of the fixture workbook
//! (`tests/fixture/`, two chapters of a few lines, crates with no dependencies) in a temporary
//! folder, on which the real runner binary is run the way `just` runs it.
//!
//! ```ignore
//! let wb = Workbook::new();                       // a fresh copy, committed to a git repository
//! wb.write("exercises/ch01-alpha/src/add.rs", "…"); // the learner's edit (a crash, a hang, …)
//! let run = wb.run(&["test", "chapter1"]);          // the real runner, WORKBOOK_ROOT = the copy
//! run.assert_code(1).assert_stdout("First failing test");
//! ```
//!
//! Each copy builds into its own `target/`: cargo decides freshness by modification times, so two
//! copies sharing one target folder could each run the other's build of a file they both have.
//! Without dependencies a cold build of a chapter takes a second or two.
//!
//! Every run is bounded ([`Invocation::limit`], 240 s by default, for a cold build on a busy
//! machine): past it the runner is sent SIGTERM (it stops its cargo and everything under it),
//! then SIGKILL, and the test fails with what the runner had printed.
#![allow(dead_code)] // Each test binary uses a part of the harness.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// The fixture workbook, as committed.
pub(crate) fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture")
}

/// The real workbook's root (for its rust-toolchain.toml).
fn real_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A copy of the fixture workbook in a temporary folder, removed when dropped.
#[derive(Debug)]
pub(crate) struct Workbook {
    dir: tempfile::TempDir,
}

impl Workbook {
    /// A fresh copy of the fixture, with the real workbook's rust-toolchain.toml, committed to a
    /// new git repository (the starter `reset` puts back is the committed one).
    pub(crate) fn new() -> Workbook {
        let dir = tempfile::Builder::new()
            .prefix("workbook-fixture-")
            .tempdir()
            .expect("making a temporary folder");
        copy_dir(&fixture(), dir.path());
        std::fs::copy(
            real_root().join("rust-toolchain.toml"),
            dir.path().join("rust-toolchain.toml"),
        )
        .expect("copying rust-toolchain.toml");
        let wb = Workbook { dir };
        wb.git(&["init", "--quiet", "--initial-branch=main"]);
        wb.git(&["add", "--all"]);
        wb.git(&["commit", "--quiet", "--message", "the fixture's starter"]);
        wb
    }

    /// The copy's root (what `WORKBOOK_ROOT` names).
    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `rel` under the root.
    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Writes `contents` to `rel` (creating its folder), as a learner saving a file.
    pub(crate) fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().expect("a file has a folder")).unwrap();
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("writing {rel}: {e}"));
        self
    }

    /// The bytes of `rel`.
    pub(crate) fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    /// Rewrites `rel` with `change` (to shorten a time limit in chapters.toml, say).
    pub(crate) fn edit(&self, rel: &str, change: impl FnOnce(String) -> String) -> &Self {
        let text = String::from_utf8(self.read(rel)).expect("a text file");
        let changed = change(text.clone());
        assert_ne!(text, changed, "the edit of {rel} changed nothing");
        self.write(rel, changed)
    }

    /// Lays the chapter's solution (`solutions/<folder>`) over the learner's files, as a learner
    /// who solved it.
    pub(crate) fn solve(&self, folder: &str) -> &Self {
        copy_dir(
            &self.path(&format!("solutions/{folder}")),
            &self.path(&format!("exercises/{folder}")),
        );
        self
    }

    /// Commits every change, as the workbook's own history (the starter `verify` checks is the
    /// committed one).
    pub(crate) fn commit(&self, message: &str) -> &Self {
        self.git(&["add", "--all"]);
        self.git(&["commit", "--quiet", "--message", message]);
        self
    }

    /// The runner with these arguments (`["test", "chapter1"]`), to be given more settings.
    pub(crate) fn runner(&self, args: &[&str]) -> Invocation<'_> {
        Invocation {
            wb: self,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: Vec::new(),
            limit: Duration::from_secs(240),
        }
    }

    /// Runs the runner with these arguments and returns how it ended.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.runner(args).run()
    }

    fn git(&self, args: &[&str]) {
        let status = std::process::Command::new("git")
            .current_dir(self.root())
            .args([
                "-c",
                "user.name=fixture",
                "-c",
                "user.email=fixture@example.invalid",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .status()
            .expect("git is installed");
        assert!(status.success(), "git {args:?} failed");
    }
}

/// One run of the runner, being set up.
#[derive(Debug)]
pub(crate) struct Invocation<'w> {
    wb: &'w Workbook,
    args: Vec<String>,
    env: Vec<(String, String)>,
    limit: Duration,
}

impl Invocation<'_> {
    /// An environment variable for the runner (and so for cargo and the tests under it).
    pub(crate) fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_owned(), value.into()));
        self
    }

    /// How long the whole run may take before the test fails as a hang.
    pub(crate) fn limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// Runs it: stdin empty, stdout and stderr collected, at most [`Invocation::limit`].
    pub(crate) fn run(self) -> Run {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        runtime.block_on(self.run_async())
    }

    async fn run_async(self) -> Run {
        use tokio::io::AsyncReadExt;
        let root = self.wb.root();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_workbook"));
        runner_env(command.as_std_mut(), root);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (key, value) in &self.env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("starting the runner");
        let pid = child.id().expect("a running child has a pid");
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let out = tokio::spawn(async move {
            let mut text = Vec::new();
            let _ = stdout.read_to_end(&mut text).await;
            String::from_utf8_lossy(&text).into_owned()
        });
        let err = tokio::spawn(async move {
            let mut text = Vec::new();
            let _ = stderr.read_to_end(&mut text).await;
            String::from_utf8_lossy(&text).into_owned()
        });
        let status = match tokio::time::timeout(self.limit, child.wait()).await {
            Ok(status) => Some(status.expect("waiting for the runner")),
            Err(_) => {
                // SIGTERM first: the runner then stops cargo's process group, which it started.
                let _ = std::process::Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status();
                if tokio::time::timeout(Duration::from_secs(15), child.wait())
                    .await
                    .is_err()
                {
                    let _ = child.kill().await;
                }
                None
            }
        };
        let grace = Duration::from_secs(15);
        let stdout = tokio::time::timeout(grace, out)
            .await
            .map(Result::unwrap_or_default)
            .unwrap_or_default();
        let stderr = tokio::time::timeout(grace, err)
            .await
            .map(Result::unwrap_or_default)
            .unwrap_or_default();
        let run = Run {
            args: self.args.join(" "),
            code: status.and_then(|s| s.code()),
            stdout,
            stderr,
        };
        assert!(
            status.is_some(),
            "the runner was still running after {:?}, and was stopped\n{run}",
            self.limit
        );
        run
    }
}

/// How a run of the runner ended.
#[derive(Debug)]
pub(crate) struct Run {
    /// The arguments, for messages.
    pub(crate) args: String,
    /// The exit code (`None`: ended by a signal).
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Fails unless the runner exited with `code`.
    pub(crate) fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit code of `{}`\n{self}",
            self.args
        );
        self
    }

    /// Fails unless stdout contains `needle`.
    pub(crate) fn assert_stdout(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "`{}` did not print {needle:?}\n{self}",
            self.args
        );
        self
    }

    /// Fails if stdout contains `needle`.
    pub(crate) fn refute_stdout(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle),
            "`{}` printed {needle:?}, and must not\n{self}",
            self.args
        );
        self
    }

    /// Fails if stderr contains `needle`.
    pub(crate) fn refute_stderr(&self, needle: &str) -> &Self {
        assert!(
            !self.stderr.contains(needle),
            "`{}` printed {needle:?} on stderr, and must not\n{self}",
            self.args
        );
        self
    }

    /// Fails unless stderr contains `needle`.
    pub(crate) fn assert_stderr(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "`{}` did not print {needle:?} on stderr\n{self}",
            self.args
        );
        self
    }

    /// The line of stdout that starts with `prefix` (the summary: `chapter 1: `).
    pub(crate) fn line(&self, prefix: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| {
                panic!(
                    "`{}` printed no line starting {prefix:?}\n{self}",
                    self.args
                )
            })
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "── exit code: {:?}\n── stdout:\n{}\n── stderr:\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Copies the folder `from` over `to`, recursively, skipping `target/`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "target" {
            continue;
        }
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// What every run of the runner over a copy gets, in the foreground or in the background: the
/// copy as its root and folder, no colour, and its own target/ whatever the outer cargo was told.
pub(crate) fn runner_env(command: &mut std::process::Command, root: &std::path::Path) {
    command
        .current_dir(root)
        .env("WORKBOOK_ROOT", root)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("CARGO_BUILD_BUILD_DIR")
        .env_remove("TEST_LOG")
        .env("NO_COLOR", "1");
}
