//! `just bench chapterN`: a chapter's timing goals, measured side by side in one run and
//! reported as numbers and ratios. Tests never assert timings (they would be flaky on a busy
//! machine); this is where speed is looked at.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use test_support::{Redis, Server, Sig, http};

use crate::manifest::Chapter;
use crate::scratch::{Scratch, Version};

pub async fn bench(root: &Path, chapter: &Chapter) -> Result<ExitCode> {
    chapter.ensure_ready()?;
    match chapter.number {
        1 => chapter1(root, chapter).await,
        n => bail!("chapter {n} has no benchmarks yet"),
    }
}

/// Builds the starter or the solution in its scratch copy and keeps the binary under a name of
/// its own (both copies share one target directory, so the second build would replace it).
fn build(root: &Path, chapter: &Chapter, version: Version) -> Result<PathBuf> {
    let scratch = Scratch::prepare(root, chapter, version)?;
    let status = Command::new("cargo")
        .current_dir(&scratch.root)
        .args(["build", "--quiet", "-p", chapter.package()])
        .env("CARGO_TARGET_DIR", &scratch.target)
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("{version:?} of chapter {} does not build", chapter.number);
    }
    let kept = scratch
        .target
        .join(format!("bench-{}-{version:?}", chapter.package()));
    std::fs::copy(scratch.binary(chapter.package()), &kept)?;
    Ok(kept)
}

async fn start(
    binary: &Path,
    redis: &Redis,
    env: &[(&str, &str)],
) -> (Server, std::net::SocketAddr) {
    let mut builder = Server::builder(binary)
        .redis(redis)
        .env("RUST_LOG", "info,ch01_graceful_shutdown=debug");
    for (k, v) in env {
        builder = builder.env(k, v);
    }
    builder.spawn_service().await
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn chapter1(root: &Path, chapter: &Chapter) -> Result<ExitCode> {
    println!("Building the starter and the solution of chapter 1…");
    let starter = build(root, chapter, Version::Starter)?;
    let solution = build(root, chapter, Version::Solution)?;
    let redis = Redis::start().await;
    let mut rows: Vec<[String; 4]> = Vec::new();

    // 1. SIGTERM to exit on an idle server.
    let mut times = Vec::new();
    for _ in 0..10 {
        let (mut server, _) = start(&solution, &redis, &[]).await;
        server.signal(Sig::Term);
        let (_, took) = server
            .wait_exit(Duration::from_secs(5), "idle solution did not exit")
            .await;
        times.push(took);
    }
    let idle = median(times.clone());
    rows.push([
        "SIGTERM → exit, idle server (median of 10)".into(),
        "killed at once (no handler)".into(),
        format!(
            "{} (max {})",
            ms(idle),
            ms(*times.iter().max().expect("ten runs"))
        ),
        format!("≤ 50 ms: {}", verdict(idle <= Duration::from_millis(50))),
    ]);

    // 2. Requests in flight at SIGTERM vs completed.
    let in_flight = 50;
    let mut completed = Vec::new();
    for binary in [&starter, &solution] {
        let (mut server, addr) = start(binary, &redis, &[]).await;
        let requests: Vec<_> = (0..in_flight)
            .map(|_| tokio::spawn(async move { http::get(addr, "/slow?ms=1000").await }))
            .collect();
        server
            .wait_for_nth_line(
                "slow request started",
                in_flight,
                Duration::from_secs(10),
                "requests did not start",
            )
            .await;
        server.signal(Sig::Term);
        let mut ok = 0;
        for r in requests {
            if matches!(r.await?, Ok(ref resp) if resp.status == 200) {
                ok += 1;
            }
        }
        let _ = server
            .wait_exit(Duration::from_secs(15), "server did not exit")
            .await;
        completed.push(ok);
    }
    rows.push([
        format!("requests completed of {in_flight} in flight at SIGTERM"),
        format!(
            "{}/{in_flight} ({} lost)",
            completed[0],
            in_flight - completed[0]
        ),
        format!("{}/{in_flight}", completed[1]),
        format!("all: {}", verdict(completed[1] == in_flight)),
    ]);

    // 3. Exit time with a stuck request against a 1 s deadline.
    let deadline = Duration::from_secs(1);
    let mut exits = Vec::new();
    let mut starter_exit = String::new();
    for (i, binary) in [
        &starter, &solution, &solution, &solution, &solution, &solution,
    ]
    .into_iter()
    .enumerate()
    {
        let (mut server, addr) = start(binary, &redis, &[("SHUTDOWN_TIMEOUT", "1")]).await;
        let _stuck = tokio::spawn(async move { http::get(addr, "/slow?ms=60000").await });
        server
            .wait_for_line(
                "slow request started",
                Duration::from_secs(5),
                "request did not start",
            )
            .await;
        server.signal(Sig::Term);
        let (status, took) = server
            .wait_exit(Duration::from_secs(10), "server did not exit")
            .await;
        if i == 0 {
            starter_exit = format!("{} ({})", ms(took), test_support::process::describe(status));
        } else {
            exits.push(took);
        }
    }
    let exit = median(exits);
    let off = exit.as_secs_f64() - deadline.as_secs_f64();
    rows.push([
        "exit with a stuck request, SHUTDOWN_TIMEOUT=1 (median of 5)".into(),
        starter_exit,
        format!("{} ({:+.0} ms from the deadline)", ms(exit), off * 1000.0),
        format!("±100 ms: {}", verdict(off.abs() <= 0.1)),
    ]);

    // 4. The runner's overhead: warm `just test chapter1` after a one-line edit vs bare cargo test.
    let (just_time, cargo_time) = runner_overhead(root, chapter)?;
    let ratio = just_time.as_secs_f64() / cargo_time.as_secs_f64();
    rows.push([
        "warm `just test chapter1` after a one-line edit (median of 3)".into(),
        format!("cargo test: {:.2} s", cargo_time.as_secs_f64()),
        format!("just test: {:.2} s (×{ratio:.2})", just_time.as_secs_f64()),
        format!("≤ 1.2×: {}", verdict(ratio <= 1.2)),
    ]);

    println!(
        "\nChapter 1, measured side by side in one run on this machine ({} cores):\n",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let header = [
        "measure",
        "starter (no graceful shutdown)",
        "solution",
        "goal",
    ];
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
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
    println!("{}", line(&header.map(String::from)));
    println!(
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-|-")
    );
    for row in &rows {
        println!("{}", line(row));
    }
    Ok(ExitCode::SUCCESS)
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

/// Times `just test chapter1` and `cargo test -p …` in a scratch copy of the starter, each right
/// after appending one line to a source file, alternating, three times each after a warm-up.
fn runner_overhead(root: &Path, chapter: &Chapter) -> Result<(Duration, Duration)> {
    let scratch = Scratch::prepare(root, chapter, Version::Starter)?;
    std::fs::copy(root.join("justfile"), scratch.root.join("justfile"))?;
    let lib = scratch
        .root
        .join("exercises")
        .join(&chapter.folder)
        .join("src/lib.rs");
    let original = std::fs::read_to_string(&lib)?;
    let mut edits = 0;
    let mut edit = || -> Result<()> {
        edits += 1;
        std::fs::write(&lib, format!("{original}// bench edit {edits}\n"))?;
        Ok(())
    };
    let run = |program: &str, args: &[&str]| -> Result<Duration> {
        let started = Instant::now();
        Command::new(program)
            .current_dir(&scratch.root)
            .args(args)
            .env("CARGO_TARGET_DIR", &scratch.target)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .with_context(|| format!("running {program}"))?;
        Ok(started.elapsed())
    };
    let just_args = ["test", "chapter1"];
    let cargo_args = ["test", "-p", chapter.package(), "--no-fail-fast"];
    // Warm-up: builds the runner and the chapter's tests in this target directory.
    edit()?;
    run("just", &just_args)?;
    edit()?;
    run("cargo", &cargo_args)?;
    let (mut just, mut cargo) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        edit()?;
        just.push(run("just", &just_args)?);
        edit()?;
        cargo.push(run("cargo", &cargo_args)?);
    }
    std::fs::write(&lib, original)?;
    Ok((median(just), median(cargo)))
}
