//! The workbook's measurements of this chapter for `just bench chapter3`: image size, a cold
//! build against a rebuild after a one-line change, and `docker stop`, for the starter's image
//! and the solution's.
//!
//! Not an exercise: a crate of its own beside the chapter's (chapters.toml's `bench` names it),
//! built and run by the workbook's runner, on the measuring kit in tools/bench-kit.
#![allow(clippy::print_stdout)] // The table and its notes are what `just bench` prints.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bench_kit::{BenchContext, Version, verdict};
use lab::docker;
use test_support::docker::Container;

fn main() -> ExitCode {
    bench_kit::main(bench)
}

/// Image size, cold build against a rebuild after a one-line change, `docker stop`. Both
/// versions are built side by side from their scratch copies, with the same base images.
async fn bench(ctx: &BenchContext) -> Result<ExitCode> {
    docker(&["info", "--format", "{{.ServerVersion}}"])
        .context("`just bench chapter3` needs a running Docker engine")?;
    let mut measured = Vec::new();
    // The images it builds are removed however the bench ends: done, failed, or stopped.
    let mut images = Images(Vec::new());
    for version in [Version::Starter, Version::Solution] {
        let scratch = ctx.scratch(version)?;
        let context = scratch
            .root
            .join("exercises")
            .join(&ctx.chapter.folder)
            .join("service");
        // One tag per checkout and version, never one per engine.
        let tag = format!(
            "workbook-bench-ch03:{}-{}",
            format!("{version:?}").to_lowercase(),
            test_support::docker::labels::checkout()
        );
        images.0.push(tag.clone());
        println!("{version:?}: cold build (no cache; a few minutes)…");
        let cold = timed_build(&context, &tag, true)?;
        // A one-line source change that changes the binary, as in a day of work: the dependency
        // layer should survive it.
        let app = context.join("src/app.rs");
        let original = std::fs::read_to_string(&app)?;
        let changed = if original.contains("hello from") {
            original.replacen("hello from", "hello, from", 1)
        } else {
            format!("{original}\npub const BENCH_CHANGE: u32 = 1;\n")
        };
        std::fs::write(&app, changed)?;
        println!("{version:?}: rebuild after a one-line change in src/app.rs…");
        let rebuild = timed_build(&context, &tag, false);
        std::fs::write(&app, &original)?;
        let rebuild = rebuild?;
        let size: u64 = docker(&["image", "inspect", "--format", "{{.Size}}", &tag])?
            .parse()
            .unwrap_or(0);
        println!("{version:?}: docker stop…");
        let (stop, code) =
            timed_stop(&tag, &format!("workbook-bench-ch03-{}", std::process::id()))?;
        measured.push((cold, rebuild, size, stop, code));
    }
    let (s, r) = (&measured[0], &measured[1]);
    let mb = |bytes: u64| format!("{:.1} MB", bytes as f64 / 1e6);
    let ratio =
        |m: &(Duration, Duration, u64, Duration, String)| m.1.as_secs_f64() / m.0.as_secs_f64();
    let rows = vec![
        [
            "runtime image size".into(),
            mb(s.2),
            mb(r.2),
            format!("≤ 30 MB: {}", verdict(r.2 <= 30_000_000)),
        ],
        [
            "cold build (no cache)".into(),
            format!("{:.1} s", s.0.as_secs_f64()),
            format!("{:.1} s", r.0.as_secs_f64()),
            "measured, no goal".into(),
        ],
        [
            "rebuild after a one-line change".into(),
            format!("{:.1} s (×{:.2} of cold)", s.1.as_secs_f64(), ratio(s)),
            format!("{:.1} s (×{:.2} of cold)", r.1.as_secs_f64(), ratio(r)),
            format!("≤ ⅓ of cold: {}", verdict(ratio(r) <= 1.0 / 3.0)),
        ],
        [
            "docker stop (Docker waits 10 s, then SIGKILL)".into(),
            format!("{:.2} s, exit {}", s.3.as_secs_f64(), s.4),
            format!("{:.2} s, exit {}", r.3.as_secs_f64(), r.4),
            format!(
                "≤ 1 s, exit 0: {}",
                verdict(r.3 <= Duration::from_secs(1) && r.4 == "0")
            ),
        ],
    ];
    ctx.print_table(&["measure", "starter", "solution", "goal"], &rows);
    println!(
        "A rebuild runs five steps for the solution (the planner's COPY and prepare, the \
         builder's COPY and build, the final COPY), and each uncached step costs a layer \
         commit, which on some storage drivers (fuse-overlayfs) is seconds. `docker build` \
         prints the steps: compare the time of `cargo build` itself with the whole."
    );
    println!(
        "Sizes are as `docker image inspect` reports them, base image included. Where the base \
         images are local stand-ins (.ci/stand-in-images, on machines that cannot pull), the \
         real distroless base is larger than its stand-in: compare `docker images` there."
    );
    Ok(ExitCode::SUCCESS)
}

/// The bench's images, removed when dropped (with the layers only they use).
struct Images(Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        for tag in &self.0 {
            if test_support::docker::has_image(tag) {
                let _ = docker(&["rmi", tag]);
            }
        }
    }
}

/// Builds `context` as `tag`, its progress shown, and returns how long it took.
fn timed_build(context: &Path, tag: &str, no_cache: bool) -> Result<Duration> {
    let log = std::env::temp_dir().join(format!(
        "workbook-bench-ch03-{}.log",
        test_support::docker::labels::checkout()
    ));
    let mut command = std::process::Command::new("docker");
    command
        .arg("build")
        .args(test_support::docker::labels::args())
        .args(["--tag", tag]);
    if no_cache {
        command.arg("--no-cache");
    }
    command.arg(context);
    let started = Instant::now();
    test_support::docker::build(command, "docker build", &log, Duration::from_secs(30 * 60))
        .map_err(anyhow::Error::msg)?;
    Ok(started.elapsed())
}

/// Runs `image` with an API key, waits until it logs `listening`, then times `docker stop`. The
/// container is removed however this ends (test-support's guard).
fn timed_stop(image: &str, name: &str) -> Result<(Duration, String)> {
    // A container of that name left by an interrupted run.
    drop(Container::named(name));
    let container = Container::run(name, &["-e", "API_KEY=bench-key-0123456789", image])
        .map_err(anyhow::Error::msg)?;
    let started = Instant::now();
    while !docker(&["logs", name])
        .map(|l| l.contains("listening"))
        .unwrap_or(false)
    {
        // `docker logs` keeps stderr apart; the service logs to stdout.
        if started.elapsed() > Duration::from_secs(30) {
            bail!("{image} did not log `listening` within 30 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let stopping = Instant::now();
    docker(&["stop", name])?;
    let took = stopping.elapsed();
    let code = container
        .inspect("{{.State.ExitCode}}")
        .map_err(anyhow::Error::msg)?;
    Ok((took, code))
}
