//! An image build (`docker build`, `docker compose build`) that is never silent and never
//! unbounded: every step line the builder prints (`Step 5/14 : RUN cargo build --release`) is
//! shown as it starts, and while one step runs (a cold `cargo chef cook` is minutes) a line
//! every few seconds says which step, for how long, and the builder's last line. The whole
//! output goes to a log file, and a failure returns its last lines.
//!
//! The lines go to this process's stderr directly, not through `eprintln!`: libtest captures
//! only what its test prints through the macros, and a learner watching `just test chapter3`
//! must see a build that takes minutes move.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The longest stretch with nothing shown while a build runs.
const QUIET_AT_MOST: Duration = Duration::from_secs(5);

/// How many of the last lines a failure shows.
const TAIL: usize = 25;

/// Runs the build `command` (with `--label`s and its arguments already given), showing its
/// progress as `<what>: …` lines on stderr, writing everything it prints to `log`, and killing
/// it after `limit`. Fails with the last lines of its output.
pub fn build(command: Command, what: &str, log: &Path, limit: Duration) -> Result<(), String> {
    build_to(command, log, limit, &mut |line| progress(what, line))
}

/// [`build`], each progress line given to `show` (its tests watch them).
fn build_to(
    mut command: Command,
    log: &Path,
    limit: Duration,
    show: &mut dyn FnMut(&str),
) -> Result<(), String> {
    let shown = format!("{command:?}");
    let mut file = std::fs::File::create(log)
        .map_err(|err| format!("cannot write the build's log {}: {err}", log.display()))?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot run {shown}: {err}"))?;
    let (tx, lines) = mpsc::channel::<String>();
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|pipe| {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
    })
    .collect();
    drop(tx);
    let started = Instant::now();
    let mut step = String::from("starting");
    let mut step_started = started;
    let mut last_shown = started;
    let mut tail: VecDeque<String> = VecDeque::new();
    loop {
        let wait = QUIET_AT_MOST.saturating_sub(last_shown.elapsed());
        match lines.recv_timeout(wait) {
            Ok(line) => {
                let _ = writeln!(file, "{line}");
                if is_step(&line) {
                    step = line.trim().to_owned();
                    step_started = Instant::now();
                    show(&step);
                    last_shown = Instant::now();
                }
                if tail.len() == TAIL {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Docker passes the compiler's colours on: shown without their escape codes.
                let last = tail
                    .back()
                    .map(|l| shorten(&crate::process::strip_ansi(l.trim())))
                    .unwrap_or_default();
                show(&format!(
                    "still on {} ({} s{})",
                    shorten(&step),
                    step_started.elapsed().as_secs(),
                    if last.is_empty() || step.contains(&last) {
                        String::new()
                    } else {
                        format!("; last: {last}")
                    }
                ));
                last_shown = Instant::now();
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{shown} was still running after {} minutes, on {step}; stopped. Its output is \
                 in {}.",
                limit.as_secs() / 60,
                log.display()
            ));
        }
    }
    for reader in readers {
        let _ = reader.join();
    }
    let status: ExitStatus = child
        .wait()
        .map_err(|err| format!("waiting for {shown}: {err}"))?;
    if status.success() {
        show(&format!("done in {} s", started.elapsed().as_secs()));
        return Ok(());
    }
    Err(format!(
        "the build failed ({status}) at {step}. The last lines of its output:\n{}\nThe whole \
         output is in {}.",
        Vec::from(tail).join("\n"),
        log.display()
    ))
}

/// A builder's line that starts a step: the classic builder's `Step 5/14 : …`, BuildKit's plain
/// `#8 [builder 4/6] RUN …`.
fn is_step(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("Step ")
        || line
            .strip_prefix('#')
            .and_then(|rest| rest.split_once(' '))
            .is_some_and(|(n, rest)| n.chars().all(|c| c.is_ascii_digit()) && rest.starts_with('['))
}

fn shorten(line: &str) -> String {
    const WIDTH: usize = 90;
    if line.chars().count() <= WIDTH {
        line.to_owned()
    } else {
        let cut: String = line.chars().take(WIDTH).collect();
        format!("{cut}…")
    }
}

/// Shows `<what>: <text>` on stderr, where a learner sees it even from inside a test (not
/// `eprintln!`: see the module's comment).
pub fn progress(what: &str, text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{what}: {text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_lines_of_both_builders_are_recognised() {
        assert!(is_step("Step 5/14 : RUN cargo build --release"));
        assert!(is_step("#8 [builder 4/6] RUN cargo build"));
        assert!(!is_step("   Compiling tokio v1.48.0"));
        assert!(!is_step("#8 0.512 Compiling tokio"));
    }

    /// A build that prints one step and then nothing for 12 s is shown moving at least every
    /// few seconds, and fails with its last lines.
    #[test]
    fn a_quiet_step_is_announced_every_few_seconds_and_a_failure_keeps_its_tail() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("build.log");
        let mut command = Command::new("sh");
        command.args([
            "-c",
            "echo 'Step 1/2 : RUN slow'; sleep 7; echo boom >&2; exit 3",
        ]);
        let started = Instant::now();
        let mut shown: Vec<(Duration, String)> = Vec::new();
        let err = build_to(command, &log, Duration::from_secs(60), &mut |line| {
            shown.push((started.elapsed(), line.to_owned()))
        })
        .unwrap_err();
        assert!(started.elapsed() >= Duration::from_secs(7));
        let mut last = Duration::ZERO;
        for (at, line) in &shown {
            assert!(
                *at - last <= QUIET_AT_MOST + Duration::from_secs(1),
                "nothing shown for {:?} before {line:?}: {shown:?}",
                *at - last
            );
            last = *at;
        }
        assert!(
            shown
                .iter()
                .any(|(_, l)| l.starts_with("still on Step 1/2 : RUN slow")),
            "{shown:?}"
        );
        assert!(err.contains("boom") && err.contains("Step 1/2"), "{err}");
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(
            logged.contains("Step 1/2 : RUN slow") && logged.contains("boom"),
            "{logged}"
        );
    }
}
