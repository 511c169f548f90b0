//! Supervising cargo and the test programs it builds: started in its own process group, its
//! output collected (stderr and the compiler's diagnostics shown live), stopped
//! at the time limit or with the run.

use std::process::Stdio;

use anyhow::{Context, Result};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{ChildStderr, ChildStdout, Command};
use tokio::time::Instant;

use super::Place;
use super::diagnostics::{self, Line, cargo_error};

/// The terminal's width in columns, from `COLUMNS` or the terminal itself (asked directly, with
/// no `stty` to spawn; the controlling terminal, since stdout and stderr may be pipes).
pub(super) fn terminal_width() -> Option<u16> {
    if let Some(cols) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(cols);
    }
    let tty = std::fs::File::open("/dev/tty").ok()?;
    terminal_size::terminal_size_of(&tty).map(|(terminal_size::Width(cols), _)| cols)
}

/// `cargo <args>` in the place (see [`program`]).
pub(super) fn cargo(place: &Place<'_>, args: &[&str]) -> Command {
    let cargo = place.cargo.clone().unwrap_or_else(|| {
        std::env::var_os("CARGO")
            .unwrap_or_else(|| "cargo".into())
            .into()
    });
    let mut command = program(place, &cargo);
    command.current_dir(place.dir).args(args);
    command
}

/// A program run for the place (cargo, or the test program cargo built): in its own process
/// group (so that a time-out or Ctrl-C can stop everything under it), with backtraces off (they
/// would bury the tests' explanations), with the place's environment.
pub(super) fn program(place: &Place<'_>, path: &std::path::Path) -> Command {
    let mut command = Command::new(path);
    command
        .env("RUST_BACKTRACE", "0")
        // What the tests create on the Docker engine carries this run's labels.
        .envs(test_support::docker::labels::env())
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

/// What a supervised cargo shows on the terminal as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Live {
    /// Nothing.
    Off,
    /// cargo's stderr and every diagnostic, as the compiler renders them.
    All,
}

/// What a supervised program writes on its stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stdout {
    /// cargo told `--message-format=json…`: its records, one a line.
    CargoRecords,
    /// The test program: libtest's report and the tests' own output, all of it text (a line of
    /// JSON a test prints is the test's, never taken for one of cargo's records).
    Text,
}

/// What a supervised cargo printed, and how it ended.
#[derive(Default)]
pub(super) struct Output {
    /// stdout less cargo's JSON records: the test program's own output.
    pub out: String,
    /// cargo's stderr with each diagnostic's rendered text where it came: what the learner saw.
    pub err: String,
    /// `None`: the time limit passed and everything was killed.
    pub status: Option<std::process::ExitStatus>,
    /// The first error-level diagnostic's text, without escape codes.
    first_diagnostic: Option<String>,
    /// The test programs cargo built (or found fresh), by target name.
    pub programs: Vec<(String, std::path::PathBuf)>,
}

impl Output {
    /// The compiler's first error (warnings before it skipped); where the compiler reported
    /// none (a build script failed), cargo's own first `error:` and the lines under it.
    pub(super) fn first_error(&self) -> Option<String> {
        self.first_diagnostic
            .clone()
            .or_else(|| cargo_error(&self.err))
    }
}

/// Runs `command` to its end (or to `limit`), collecting stdout and stderr and, from cargo's
/// records (where its stdout `holds` them), the compiler's diagnostics and the test programs; `live` says what is
/// shown as it comes. A status of `None` means the time limit passed and
/// everything was killed.
pub(super) async fn supervise(
    mut command: Command,
    holds: Stdout,
    live: Live,
    limit: Option<std::time::Duration>,
) -> Result<Output> {
    let mut child = command.spawn().with_context(|| {
        format!(
            "running {} (is it on PATH?)",
            command.as_std().get_program().to_string_lossy()
        )
    })?;
    let pid = child.id();
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let collect = async {
        let read = read_both(stdout, stderr, holds, live).await;
        (read, child.wait().await)
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
            Some((mut output, status)) => {
                output.status = Some(status.context("waiting for cargo")?);
                Ok(output)
            }
            None => {
                kill();
                Ok(Output::default())
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

/// Reads cargo's stdout and stderr to their ends, showing what `live` asks for as it comes.
async fn read_both(
    stdout: ChildStdout,
    mut stderr: ChildStderr,
    holds: Stdout,
    live: Live,
) -> Output {
    let mut seen = Seen {
        holds,
        live,
        output: Output::default(),
        pending: Vec::new(),
        last: String::new(),
        bar_drawn: false,
    };
    let mut stdout = BufReader::new(stdout);
    let mut line = Vec::new();
    // Read in chunks, not lines: on a terminal cargo redraws its progress bar with `\r` and no
    // newline, and that bar is what shows a long compile is moving.
    let mut chunk = [0u8; 4096];
    let (mut out_open, mut err_open) = (true, true);
    // Never silent for long: where nothing was shown for QUIET (a pipe, where cargo draws no
    // progress bar; a long compile of one crate; a long test), a line says how long, and what
    // cargo said last. Both reads are cancel-safe (`read_until` keeps what it read in `line`),
    // so a turn of the loop that another branch wins loses nothing.
    let started = Instant::now();
    let mut quiet_until = started + QUIET;
    while out_open || err_open {
        tokio::select! {
            // stdout first: cargo writes a diagnostic there before its summary on stderr.
            biased;
            read = stdout.read_until(b'\n', &mut line), if out_open => {
                if matches!(read, Ok(0) | Err(_)) {
                    out_open = false;
                }
                if !line.is_empty() && seen.stdout_line(&String::from_utf8_lossy(&line)) {
                    quiet_until = Instant::now() + QUIET;
                }
                line.clear();
            }
            read = stderr.read(&mut chunk), if err_open => match read {
                Ok(0) | Err(_) => err_open = false,
                Ok(n) => {
                    seen.stderr_bytes(&chunk[..n]);
                    quiet_until = Instant::now() + QUIET;
                }
            },
            () = tokio::time::sleep_until(quiet_until) => {
                if live != Live::Off {
                    let last = &seen.last;
                    eprintln!(
                        "  … {} s so far{}",
                        started.elapsed().as_secs(),
                        if last.is_empty() { String::new() } else { format!(" (last: {last})") }
                    );
                }
                quiet_until = Instant::now() + QUIET;
            }
        }
    }
    seen.finish()
}

/// What has come from cargo so far, and what the learner was last shown.
struct Seen {
    /// What its stdout holds.
    holds: Stdout,
    live: Live,
    output: Output,
    /// stderr after its last `\n` or `\r`.
    pending: Vec<u8>,
    /// The last line shown, without escape codes, for the quiet line.
    last: String,
    /// The last thing shown was a progress bar, which a diagnostic must first erase.
    bar_drawn: bool,
}

impl Seen {
    /// One line of stdout: a diagnostic is shown and kept with stderr, another of cargo's
    /// records dropped, anything else kept as the test program's output. True if it was shown.
    fn stdout_line(&mut self, line: &str) -> bool {
        let line = line.trim_end_matches('\n').trim_end_matches('\r');
        let read = match self.holds {
            Stdout::CargoRecords => diagnostics::read(line),
            Stdout::Text => Line::Text,
        };
        let diagnostic = match read {
            Line::Diagnostic(diagnostic) => diagnostic,
            Line::TestProgram { name, path, .. } => {
                self.output.programs.push((name, path));
                return false;
            }
            Line::Record => return false,
            Line::Text => {
                self.output.out.push_str(line);
                self.output.out.push('\n');
                return false;
            }
        };
        let Some(rendered) = diagnostic.rendered.as_deref() else {
            return false;
        };
        if diagnostic.is_error() && self.output.first_diagnostic.is_none() {
            let plain = test_support::process::strip_ansi(rendered);
            self.output.first_diagnostic = Some(plain.trim_end().to_owned());
        }
        self.output.err.push_str(rendered);
        let shown = self.live == Live::All;
        if shown {
            if self.bar_drawn {
                // What cargo does before a message (its shell's erase-line).
                eprint!("\x1b[K");
                self.bar_drawn = false;
            }
            eprint!("{rendered}");
            if let Some(head) = rendered.lines().next() {
                self.last = test_support::process::strip_ansi(head.trim());
            }
        }
        shown
    }

    /// A chunk of stderr: shown line by line, each kept.
    fn stderr_bytes(&mut self, bytes: &[u8]) {
        let live = self.live != Live::Off;
        self.pending.extend_from_slice(bytes);
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n' || *b == b'\r') {
            let piece: Vec<u8> = self.pending.drain(..=end).collect();
            let text = String::from_utf8_lossy(&piece);
            if piece.last() == Some(&b'\r') {
                // A progress bar redraw: shown as it is, never kept.
                if live {
                    eprint!("{text}");
                    self.bar_drawn = true;
                }
                continue;
            }
            let line = text.trim_end_matches('\n');
            if live {
                eprintln!("{line}");
                self.bar_drawn = false;
            }
            if !line.trim().is_empty() {
                self.last = test_support::process::strip_ansi(line.trim());
            }
            self.output.err.push_str(line);
            self.output.err.push('\n');
        }
    }

    fn finish(mut self) -> Output {
        if !self.pending.is_empty() {
            let line = String::from_utf8_lossy(&self.pending).into_owned();
            if self.live != Live::Off {
                eprintln!("{line}");
            }
            self.output.err.push_str(&line);
        }
        self.output
    }
}

/// How long a supervised cargo may go without a line before the runner says it is still at it.
const QUIET: std::time::Duration = std::time::Duration::from_secs(8);
