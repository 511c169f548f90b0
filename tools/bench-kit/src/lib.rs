//! The measuring kit every chapter's benchmarks share, for `just bench chapterN`: a chapter's
//! timing goals, measured side by side in one run and reported as numbers and ratios. Tests
//! never assert timings (they would be flaky on a busy machine); this is where speed is looked
//! at.
//!
//! Each chapter's measurements are a small crate of their own, `exercises/<folder>/bench/`,
//! which chapters.toml's `bench` key names. The runner prepares the chapter's scratch copies
//! (starter and solution), builds that crate and runs it with a [`Handoff`] in its environment;
//! the crate's `main` is one line, `bench_kit::main(bench)`. So a chapter's benchmarks are
//! compiled only when they are run (or linted): an error in one stays in that chapter, and
//! nothing else in the workbook waits on them.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The environment variable the runner hands a chapter's benchmarks their [`Handoff`] in (JSON).
pub const HANDOFF: &str = "WORKBOOK_BENCH";

/// What the runner gives a chapter's benchmarks: the workbook, the chapter, and the chapter's
/// two scratch copies, prepared (not built).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Handoff {
    /// The workbook's root folder.
    pub root: PathBuf,
    /// The chapter being measured.
    pub chapter: Chapter,
    /// The scratch copy of the committed starter.
    pub starter: Scratch,
    /// The scratch copy with the solution laid over it.
    pub solution: Scratch,
}

/// The chapter being measured, as chapters.toml names it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Chapter {
    /// Its number (`just bench chapter1`).
    pub number: u32,
    /// Its folder under exercises/ and solutions/.
    pub folder: String,
    /// Its package (named after its folder).
    pub package: String,
}

impl Chapter {
    /// The chapter's package, whose binary is named after it.
    pub fn package(&self) -> &str {
        &self.package
    }
}

/// A chapter's scratch copy (the runner's `target/workbook/scratch/…`), as the runner made it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scratch {
    /// The copy's workspace root.
    pub root: PathBuf,
    /// Its target directory (final binaries), its own.
    pub target: PathBuf,
    /// The build directory it shares with the learner's workspace.
    pub build_dir: PathBuf,
}

impl Scratch {
    /// `CARGO_TARGET_DIR` and `CARGO_BUILD_BUILD_DIR` for cargo commands in this copy.
    pub fn cargo_env(&self) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("CARGO_TARGET_DIR", self.target.clone()),
            ("CARGO_BUILD_BUILD_DIR", self.build_dir.clone()),
        ]
    }

    /// The binary `name` in this copy, once built.
    pub fn binary(&self, name: &str) -> PathBuf {
        self.target.join("debug").join(name)
    }
}

/// Which scratch copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// The starter as committed.
    Starter,
    /// The solution laid over the chapter.
    Solution,
}

/// Runs a chapter's measurements: reads the runner's [`Handoff`], and runs `bench` until it ends
/// or the run is stopped. On the first SIGINT or SIGTERM (the runner passes the terminal's
/// Ctrl-C on to this process's group, whose blocking children it ends) `bench` is dropped, so
/// that every guard it holds runs (servers killed, the lab's compose project taken down), and
/// the process ends with 130 or 143.
pub fn main<F, Fut>(bench: F) -> ExitCode
where
    F: FnOnce(&'static BenchContext) -> Fut,
    Fut: Future<Output = Result<ExitCode>>,
{
    let ctx = match BenchContext::from_env() {
        Ok(ctx) => Box::leak(Box::new(ctx)),
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime can always be built here");
    let result = runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        // The first signal ends the bench (below); a second, while its guards are still
        // cleaning up, ends the process at once, as the runner's own stop does.
        let (first, stopped) = tokio::sync::oneshot::channel::<u8>();
        tokio::spawn(async move {
            let mut next = async || {
                tokio::select! {
                    _ = int.recv() => 130,
                    _ = term.recv() => 143,
                }
            };
            let code = next().await;
            let _ = first.send(code);
            next().await;
            eprintln!("\nsecond signal: leaving now");
            std::process::exit(code.into());
        });
        tokio::select! {
            biased;
            Ok(code) = stopped => Ok(ExitCode::from(code)),
            result = bench(ctx) => result,
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// What a chapter's measurements are given: the workbook, the chapter and its scratch copies.
#[derive(Debug)]
pub struct BenchContext {
    /// The workbook's root folder.
    pub root: PathBuf,
    /// The chapter being measured.
    pub chapter: Chapter,
    starter: Scratch,
    solution: Scratch,
}

impl BenchContext {
    /// The context the runner handed this process ([`HANDOFF`]).
    pub fn from_env() -> Result<BenchContext> {
        let json = std::env::var(HANDOFF).with_context(|| {
            format!(
                "{HANDOFF} is not set: a chapter's benchmarks are run by the workbook's runner, \
                 as `just bench chapterN`"
            )
        })?;
        let handoff: Handoff =
            serde_json::from_str(&json).with_context(|| format!("{HANDOFF} is not valid"))?;
        Ok(BenchContext::from(handoff))
    }

    /// The chapter's scratch copy at `version`, as the runner prepared it.
    pub fn scratch(&self, version: Version) -> Result<&Scratch> {
        Ok(match version {
            Version::Starter => &self.starter,
            Version::Solution => &self.solution,
        })
    }

    /// Builds the starter or the solution in its scratch copy and keeps its binaries under names
    /// of their own, so that a later build of the copy never replaces one a bench is running.
    pub fn build_bins(&self, version: Version, bins: &[&str]) -> Result<Vec<PathBuf>> {
        let scratch = self.scratch(version)?;
        // Not quiet: a first build takes minutes, and cargo's progress says so. Not `--locked`:
        // the copy's workspace has one chapter of five, so cargo prunes the lock file's other
        // entries (it changes no version).
        let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .current_dir(&scratch.root)
            .args(["build", "-p", self.chapter.package()])
            .envs(scratch.cargo_env())
            .status()
            .context("running cargo build")?;
        if !status.success() {
            bail!(
                "{version:?} of chapter {} does not build",
                self.chapter.number
            );
        }
        bins.iter()
            .map(|bin| {
                let kept = scratch.target.join(format!("bench-{bin}-{version:?}"));
                std::fs::copy(scratch.binary(bin), &kept)
                    .with_context(|| format!("keeping {}", scratch.binary(bin).display()))?;
                Ok(kept)
            })
            .collect()
    }

    /// [`build_bins`](Self::build_bins) for the binary named after the package.
    pub fn build(&self, version: Version) -> Result<PathBuf> {
        Ok(self
            .build_bins(version, &[self.chapter.package()])?
            .remove(0))
    }

    /// Prints the rows as an aligned table under a heading naming the chapter and the machine.
    #[allow(clippy::print_stdout)] // The table is what `just bench` prints.
    pub fn print_table(&self, header: &[&str; 4], rows: &[[String; 4]]) {
        println!("{}", table(self.chapter.number, header, rows));
    }
}

impl From<Handoff> for BenchContext {
    fn from(handoff: Handoff) -> BenchContext {
        BenchContext {
            root: handoff.root,
            chapter: handoff.chapter,
            starter: handoff.starter,
            solution: handoff.solution,
        }
    }
}

/// The rows as an aligned table under a heading naming the chapter and the machine.
fn table(chapter: u32, header: &[&str; 4], rows: &[[String; 4]]) -> String {
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let mut out = format!(
        "\nChapter {chapter}, measured side by side in one run on this machine ({} cores):\n\n",
        cores()
    );
    out.push_str(&line(&header.map(String::from)));
    out.push('\n');
    out.push_str(
        &widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-|-"),
    );
    for row in rows {
        out.push('\n');
        out.push_str(&line(row));
    }
    out
}

/// This machine's cores, as the tables' headings and notes name them.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The median of `xs` (the upper one of an even count).
pub fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// `12.3 ms`.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A goal's verdict, for a table cell.
pub fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

/// Runs `program args…` `times` times and returns the median wall time.
pub fn time_command(program: &Path, args: &[&str], times: usize) -> Result<Duration> {
    let mut all = Vec::new();
    for _ in 0..times {
        let started = Instant::now();
        let status = Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .with_context(|| format!("running {}", program.display()))?;
        if !status.success() {
            bail!("{} {} failed", program.display(), args.join(" "));
        }
        all.push(started.elapsed());
    }
    Ok(median(all))
}

/// `400: 3, closed: 2`: the outcomes other than 2xx, or `none failed`.
pub fn outcomes(report: &loadgen::Report) -> String {
    let failed: Vec<String> = report
        .by_outcome()
        .into_iter()
        .filter(|(label, _)| !label.starts_with('2'))
        .map(|(label, n)| format!("{label}: {n}"))
        .collect();
    if failed.is_empty() {
        "none failed".into()
    } else {
        failed.join(", ")
    }
}

/// What wrk counted: requests, and its socket errors (connect, read, write, timeout).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WrkCount {
    requests: u64,
    connect: u64,
    read: u64,
    write: u64,
    timeout: u64,
    non_2xx: u64,
}

/// Runs `wrk -t2 -c16 -d<duration>` against `url` while `during` runs; `None` if wrk is not
/// installed.
pub async fn wrk_during(
    url: &str,
    duration: Duration,
    during: impl Future<Output = Result<()>>,
) -> Result<Option<WrkCount>> {
    if test_support::redis_server::find_on_path("wrk").is_none() {
        during.await?;
        return Ok(None);
    }
    let wrk = tokio::process::Command::new("wrk")
        .args(["-t2", "-c16", &format!("-d{}s", duration.as_secs()), url])
        // Dropped, so killed, when a stop drops the bench.
        .kill_on_drop(true)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("starting wrk")?;
    during.await?;
    let out = wrk.wait_with_output().await?;
    Ok(Some(parse_wrk(&String::from_utf8_lossy(&out.stdout))))
}

/// wrk's report, read back.
fn parse_wrk(text: &str) -> WrkCount {
    let mut count = WrkCount::default();
    let number = |after: &str, line: &str| -> u64 {
        line.split(after)
            .nth(1)
            .and_then(|rest| {
                rest.trim_start()
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
            })
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    for line in text.lines() {
        if line.contains("requests in") {
            count.requests = line
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        } else if line.contains("Socket errors") {
            count.connect = number("connect", line);
            count.read = number("read", line);
            count.write = number("write", line);
            count.timeout = number("timeout", line);
        } else if line.contains("Non-2xx") {
            count.non_2xx = number(":", line);
        }
    }
    count
}

/// What wrk counted, for a table cell.
pub fn wrk_cell(w: &WrkCount) -> String {
    format!(
        "{} read errors, {} timeouts, {} non-2xx of {} (connect {}, write {})",
        w.read, w.timeout, w.non_2xx, w.requests, w.connect, w.write
    )
}

/// A table row for a wrk run: its read errors (a request sent on a connection the server
/// closed) and non-2xx answers are the failures; connect and write errors come from
/// connections refused once nothing listens, and are shown apart.
pub fn wrk_row(what: &str, wrk: Option<WrkCount>) -> [String; 4] {
    match wrk {
        None => [
            what.into(),
            "-".into(),
            "wrk not installed (apt-get install wrk)".into(),
            "-".into(),
        ],
        Some(w) => [
            what.into(),
            "-".into(),
            wrk_cell(&w),
            format!(
                "0 read errors: {}",
                verdict(w.read == 0 && w.timeout == 0 && w.non_2xx == 0)
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_report_is_read_back() {
        let report = "Running 3s test @ http://127.0.0.1:1/\n  2 threads and 16 connections\n\
                      12345 requests in 3.00s, 1.00MB read\n\
                      Socket errors: connect 2, read 7, write 1, timeout 3\n\
                      Non-2xx or 3xx responses: 4\n";
        assert_eq!(
            parse_wrk(report),
            WrkCount {
                requests: 12345,
                connect: 2,
                read: 7,
                write: 1,
                timeout: 3,
                non_2xx: 4,
            }
        );
    }

    #[test]
    fn the_table_is_aligned_under_its_heading() {
        let rows = [[
            "a long measure".to_owned(),
            "b".into(),
            "c".into(),
            "met".into(),
        ]];
        let table = table(4, &["measure", "x", "y", "goal"], &rows);
        let lines: Vec<&str> = table.lines().skip(3).collect();
        assert_eq!(lines[0], "measure        | x | y | goal");
        assert_eq!(lines[1], "---------------|---|---|-----");
        assert_eq!(lines[2], "a long measure | b | c | met ");
    }
}
