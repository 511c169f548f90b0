//! Supervising cargo: started in its own process group, its output collected (stderr shown live,
//! minus the noise), stopped at the time limit or with the run.

use std::process::Stdio;

use anyhow::{Context, Result};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::Place;

/// The terminal's width in columns, from `COLUMNS` or the terminal itself (asked directly, with
/// no `stty` to spawn; the controlling terminal, since stdout and stderr may be pipes).
pub(super) fn terminal_width() -> Option<u16> {
    if let Some(cols) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(cols);
    }
    let tty = std::fs::File::open("/dev/tty").ok()?;
    terminal_size::terminal_size_of(&tty).map(|(terminal_size::Width(cols), _)| cols)
}

/// `cargo <args>` in the place, in its own process group (so that a time-out or Ctrl-C can
/// stop everything under it), with backtraces off (they would bury the tests' explanations).
pub(super) fn cargo(place: &Place<'_>, args: &[&str]) -> Command {
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

/// Runs `command` to its end (or to `limit`), collecting stdout and stderr; with `live`,
/// stderr is shown as it comes, minus the lines that only repeat what the summary says.
/// `None` for the status means the time limit passed and everything was killed.
pub(super) async fn supervise(
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
            // Never silent for long: where nothing came for QUIET (a pipe, where cargo draws no
            // progress bar; a long compile of one crate; a long test), a line says how long,
            // and what cargo said last. `read` is cancel-safe, so timing it out loses nothing.
            let started = tokio::time::Instant::now();
            let mut last = String::new();
            loop {
                let n = match tokio::time::timeout(QUIET, stderr.read(&mut chunk)).await {
                    Err(_) => {
                        if live {
                            eprintln!(
                                "  … {} s so far{}",
                                started.elapsed().as_secs(),
                                if last.is_empty() {
                                    String::new()
                                } else {
                                    format!(" (last: {last})")
                                }
                            );
                        }
                        continue;
                    }
                    Ok(Ok(0) | Err(_)) => break,
                    Ok(Ok(n)) => n,
                };
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
                    if !line.trim().is_empty() {
                        last = test_support::process::strip_ansi(line.trim());
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

/// How long a supervised cargo may go without a line before the runner says it is still at it.
const QUIET: std::time::Duration = std::time::Duration::from_secs(8);

/// cargo's lines that say nothing the runner's summary does not say better.
pub(super) fn is_noise(line: &str) -> bool {
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
