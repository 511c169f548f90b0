//! The workbook's measurements of this chapter for `just bench chapter1`: the starter (no
//! graceful shutdown) against the solution: SIGTERM to exit, requests lost at SIGTERM (in
//! flight, on busy keep-alive connections, under wrk), the deadline, a half-sent request; and
//! the runner's own overhead.
//!
//! Not an exercise: a crate of its own beside the chapter's (chapters.toml's `bench` names it),
//! built and run by the workbook's runner, on the measuring kit in tools/bench-kit.
#![allow(clippy::print_stdout)] // The table and its notes are what `just bench` prints.

use std::path::Path;
use std::process::{Command, ExitCode, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bench_kit::{BenchContext, Version, median, ms, verdict, wrk_cell, wrk_during, wrk_row};
use test_support::{Redis, Server, Sig, http};

fn main() -> ExitCode {
    bench_kit::main(bench)
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

/// SIGTERM, then the exit: its status, and how long it took from the signal.
async fn terminate(server: &mut Server) -> (ExitStatus, Duration) {
    server.signal(Sig::Term);
    server
        .wait_exit(Duration::from_secs(15), "server did not exit")
        .await
}

/// [`terminate`], once the server has logged `line` (`explain` says what did not happen if it
/// does not within 5 s).
async fn terminate_after(server: &mut Server, line: &str, explain: &str) -> (ExitStatus, Duration) {
    server
        .wait_for_line(line, Duration::from_secs(5), explain)
        .await;
    terminate(server).await
}

async fn bench(ctx: &BenchContext) -> Result<ExitCode> {
    println!("Building the starter and the solution of chapter 1…");
    let starter = ctx.build(Version::Starter)?;
    let solution = ctx.build(Version::Solution)?;
    let redis = Redis::start().await;
    let mut rows: Vec<[String; 4]> = Vec::new();

    // 1. SIGTERM to exit on an idle server, both versions measured the same way.
    let mut idle_cells = Vec::new();
    let mut solution_idle = Duration::ZERO;
    for binary in [&starter, &solution] {
        let mut times = Vec::new();
        let mut statuses = std::collections::BTreeSet::new();
        for _ in 0..10 {
            let (mut server, _) = start(binary, &redis, &[]).await;
            server.signal(Sig::Term);
            let (status, took) = server
                .wait_exit(Duration::from_secs(5), "the idle service did not exit")
                .await;
            times.push(took);
            statuses.insert(test_support::process::describe(status));
        }
        let idle = median(times.clone());
        solution_idle = idle;
        idle_cells.push(format!(
            "{} (max {}), {}",
            ms(idle),
            ms(*times.iter().max().expect("ten runs")),
            statuses.into_iter().collect::<Vec<_>>().join(" / ")
        ));
    }
    rows.push([
        "SIGTERM → exit, idle server (median of 10)".into(),
        idle_cells[0].clone(),
        idle_cells[1].clone(),
        format!(
            "≤ 50 ms: {}",
            verdict(solution_idle <= Duration::from_millis(50))
        ),
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
        let (status, took) =
            terminate_after(&mut server, "slow request started", "request did not start").await;
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

    // 4. SIGTERM while 16 keep-alive clients keep the server busy (as wrk, browsers and
    // client pools do): requests sent and lost (reset, or closed before their answer). Refused
    // connections, once the listener has closed, are counted apart: no request was sent.
    let mut lost = Vec::new();
    for binary in [&starter, &solution] {
        let (mut server, addr) = start(binary, &redis, &[]).await;
        let mut options = loadgen::Options::for_url(&format!("http://{addr}/health/live")).await?;
        options.duration = Duration::from_secs(30);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let load = tokio::spawn(async move {
            loadgen::run(&options, async {
                let _ = stopped.await;
            })
            .await
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        terminate(&mut server).await;
        let _ = stop.send(());
        let report = load.await??;
        let refused = report.by_outcome().get("refused").copied().unwrap_or(0);
        lost.push(format!(
            "{} lost of {} sent ({refused} refused after)",
            report.lost(),
            report.samples.len() - refused
        ));
        lost.push(report.lost().to_string());
    }
    rows.push([
        "SIGTERM with 16 busy keep-alive connections: requests lost".into(),
        lost[0].clone(),
        lost[2].clone(),
        format!("0: {}", verdict(lost[3] == "0")),
    ]);
    // And with wrk: its read errors are requests sent on a connection the server closed.
    let mut counts = Vec::new();
    for binary in [&starter, &solution] {
        let (mut server, addr) = start(binary, &redis, &[]).await;
        counts.push(
            wrk_during(
                &format!("http://{addr}/health/live"),
                Duration::from_secs(3),
                async {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    terminate(&mut server).await;
                    Ok(())
                },
            )
            .await?,
        );
    }
    let mut row = wrk_row("the same with wrk -t2 -c16", counts.pop().flatten());
    row[1] = counts.pop().flatten().map_or("-".into(), |w| wrk_cell(&w));
    rows.push(row);

    // 5. Stop time with one client that sent half a request and stalled: hyper waits for the
    // rest of its headers, so the deadline is what ends the drain, and its log line says so.
    let (mut server, addr) = start(&solution, &redis, &[("SHUTDOWN_TIMEOUT", "2")]).await;
    let mut half = tokio::net::TcpStream::connect(addr).await?;
    tokio::io::AsyncWriteExt::write_all(
        &mut half,
        b"GET /slow?ms=10 HTTP/1.1\r\nHost: x\r\nX-Half: ",
    )
    .await?;
    let (status, took) = terminate_after(&mut server, "connection accepted", "not accepted").await;
    let named = server.output().contains("half_sent_requests=1");
    drop(half);
    rows.push([
        "stop with one half-sent request, SHUTDOWN_TIMEOUT=2".into(),
        "-".into(),
        format!(
            "{} ({}; log names it: {})",
            ms(took),
            test_support::process::describe(status),
            if named { "yes" } else { "no" }
        ),
        format!(
            "at the deadline, exit 1, named: {}",
            verdict(named && status.code() == Some(1) && (took.as_secs_f64() - 2.0).abs() <= 0.2)
        ),
    ]);

    // 6. The runner's overhead: warm `just test chapter1` after a one-line edit vs bare cargo test.
    let (just_time, cargo_time) = runner_overhead(ctx)?;
    let ratio = just_time.as_secs_f64() / cargo_time.as_secs_f64();
    rows.push([
        "warm `just test chapter1` after a one-line edit (median of 3)".into(),
        format!("cargo test: {:.2} s", cargo_time.as_secs_f64()),
        format!("just test: {:.2} s (×{ratio:.2})", just_time.as_secs_f64()),
        format!("≤ 1.2×: {}", verdict(ratio <= 1.2)),
    ]);

    ctx.print_table(
        &[
            "measure",
            "starter (no graceful shutdown)",
            "solution",
            "goal",
        ],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}

/// Times `just test chapter1` and `cargo test -p …` in a scratch copy of the starter, each right
/// after appending one line to a source file, alternating, three times each after a warm-up.
fn runner_overhead(ctx: &BenchContext) -> Result<(Duration, Duration)> {
    let scratch = ctx.scratch(Version::Starter)?;
    std::fs::copy(ctx.root.join("justfile"), scratch.root.join("justfile"))?;
    let lib = scratch
        .root
        .join("exercises")
        .join(&ctx.chapter.folder)
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
            .envs(scratch.cargo_env())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .with_context(|| format!("running {program}"))?;
        Ok(started.elapsed())
    };
    let just_args = ["test", "chapter1"];
    let cargo_args = ["test", "-p", ctx.chapter.package(), "--no-fail-fast"];
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
