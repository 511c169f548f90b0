//! The workbook's measurements of this chapter for `just bench chapter2`: minipm (the solution):
//! crash to ready again, requests failed during reloads under load (loadgen both ways, and wrk),
//! and CPU-bound throughput over 1 and 2 instances.
//!
//! Not an exercise: a crate of its own beside the chapter's (chapters.toml's `bench` names it),
//! built and run by the workbook's runner, on the measuring kit in tools/bench-kit.
#![allow(clippy::print_stdout)] // The table and its notes are what `just bench` prints.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bench_kit::{BenchContext, Version, median, ms, outcomes, verdict, wrk_during, wrk_row};
use test_support::{Server, Sig, http};

fn main() -> ExitCode {
    bench_kit::main(bench)
}

async fn bench(ctx: &BenchContext) -> Result<ExitCode> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    println!("Building the solution of chapter 2…");
    let bins = ctx.build_bins(Version::Solution, &["minipm", "worker"])?;
    let (minipm, worker) = (&bins[0], &bins[1]);
    let dir = ctx.root.join("target/workbook/bench-ch02");
    let mut rows: Vec<[String; 4]> = Vec::new();

    // 1. Crash to ready again, 20 times, with PM2's 100 ms first delay and with none.
    let mut medians = Vec::new();
    for base in [100, 0] {
        let app = format!(
            "instances = 1\n[app.restart]\nbase_delay_ms = {base}\nreset_after_ms = 0\nlimit_burst = 1000\n"
        );
        let (mut server, addr) = start_minipm(minipm, worker, &dir, &app, 1).await?;
        let mut times = Vec::new();
        for n in 1..=20 {
            let _ = http::get(addr, "/crash").await;
            let exited = server
                .wait_for_nth_line("exited", n, Duration::from_secs(10), "no exit")
                .await;
            let ready = server
                .wait_for_nth_line(" ready addr=", n + 1, Duration::from_secs(10), "no restart")
                .await;
            if let (Some(a), Some(b)) = (time_of_day(&exited), time_of_day(&ready)) {
                times.push(Duration::from_secs_f64((b - a).max(0.0)));
            }
        }
        stop_minipm(&mut server).await;
        medians.push(median(times));
    }
    rows.push([
        "crash → replacement ready (median of 20)".into(),
        "never: nothing restarts it".into(),
        format!(
            "{} with PM2's 100 ms delay; {} with none",
            ms(medians[0]),
            ms(medians[1])
        ),
        format!(
            "≤ 100 ms beyond the delay: {}",
            verdict(medians[1] <= Duration::from_millis(100))
        ),
    ]);

    // 2. Requests failed while the instances are reloaded three times, under load: on 16
    // keep-alive connections (as wrk, browsers and client pools), and with a new connection per
    // request (which cannot meet a connection being closed), side by side.
    for (mode, clients, at_least) in [
        (loadgen::Mode::KeepAlive, 16, 100_000),
        (loadgen::Mode::PerRequest, 4, 5_000),
    ] {
        let (mut server, addr) = start_minipm(minipm, worker, &dir, "instances = 2", 2).await?;
        let mut options = loadgen::Options::for_url(&format!("http://{addr}/")).await?;
        options.mode = mode;
        options.concurrency = clients;
        options.duration = RELOAD_LOAD;
        let report = under_reloads(&mut server, &options, 3).await?;
        stop_minipm(&mut server).await;
        rows.push([
            format!("requests failed during 3 reloads, {clients} clients, {mode}"),
            "-".into(),
            format!(
                "{} of {} ({})",
                report.failed(),
                report.samples.len(),
                outcomes(&report)
            ),
            format!(
                "0 of ≥ {at_least}: {}",
                verdict(report.failed() == 0 && report.samples.len() >= at_least)
            ),
        ]);
    }
    // The same with wrk, the tool readers own, when it is installed.
    {
        let (mut server, addr) = start_minipm(minipm, worker, &dir, "instances = 2", 2).await?;
        let wrk = wrk_during(&format!("http://{addr}/"), RELOAD_LOAD, async {
            reload_times(&mut server, 3).await
        })
        .await;
        stop_minipm(&mut server).await;
        rows.push(wrk_row(
            "requests failed during 3 reloads, wrk -t2 -c16",
            wrk?,
        ));
    }

    // 3. Throughput of CPU-bound requests, 1 instance vs 2.
    let mut rates = Vec::new();
    for instances in [1, 2] {
        let (mut server, addr) = start_minipm(
            minipm,
            worker,
            &dir,
            &format!("instances = {instances}"),
            instances,
        )
        .await?;
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let loading = tokio::spawn(load(addr, "/work?n=200000", 8, 1_000_000, stop.clone()));
        tokio::time::sleep(Duration::from_secs(3)).await;
        stop.store(true, Ordering::Relaxed);
        let (ok, _) = loading.await?;
        rates.push(ok as f64 / started.elapsed().as_secs_f64());
        stop_minipm(&mut server).await;
    }
    rows.push([
        "CPU-bound requests per second, 8 clients".into(),
        format!("1 instance: {:.0}/s", rates[0]),
        format!(
            "2 instances: {:.0}/s (×{:.2})",
            rates[1],
            rates[1] / rates[0]
        ),
        "measured, no goal".into(),
    ]);
    ctx.print_table(&["measure", "baseline", "minipm (solution)", "goal"], &rows);
    Ok(ExitCode::SUCCESS)
}

/// Seconds since midnight UTC of a log line's time: `2026-11-24T09:28:38.806525Z …` (minipm's
/// own log) or `09:28:38.806 web-0 | …` (the merged stream).
fn time_of_day(line: &str) -> Option<f64> {
    let word = line.split_whitespace().next()?;
    let clock = word
        .split_once('T')
        .map_or(word, |(_, t)| t)
        .trim_end_matches('Z');
    let mut parts = clock.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
}

/// A minipm running the chapter's worker with `app` settings, from a configuration in `dir`,
/// once `ready` workers have said they are ready.
async fn start_minipm(
    minipm: &Path,
    worker: &Path,
    dir: &Path,
    app: &str,
    ready: usize,
) -> Result<(Server, std::net::SocketAddr)> {
    std::fs::create_dir_all(dir)?;
    let config = dir.join("minipm.toml");
    std::fs::write(
        &config,
        format!(
            "metrics_addr = \"127.0.0.1:0\"\n\n[[app]]\nname = \"web\"\ncommand = {worker:?}\nport = 0\nready_line = \"ready addr=\"\n{app}\n"
        ),
    )?;
    let mut server = Server::builder(minipm)
        .name("minipm")
        .args(["start".as_ref(), config.as_os_str()])
        .spawn();
    let line = server
        .wait_for_line(
            "listening app=web",
            Duration::from_secs(10),
            "minipm did not listen",
        )
        .await;
    let addr = http::addr_in(&line)
        .map_err(anyhow::Error::msg)
        .context("no address in minipm's listening line")?;
    server
        .wait_for_nth_line(
            " ready addr=",
            ready,
            Duration::from_secs(10),
            "workers not ready",
        )
        .await;
    Ok((server, addr))
}

/// SIGTERM to minipm, waited for.
async fn stop_minipm(server: &mut Server) {
    let _ = server
        .stop_with(Sig::Term, Duration::from_secs(10), "minipm did not stop")
        .await;
}

/// Requests `path` from `clients` concurrent loops until `stop` (or `limit` requests in all),
/// returning (answered with 200, failed).
async fn load(
    addr: std::net::SocketAddr,
    path: &'static str,
    clients: usize,
    limit: u64,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> (u64, u64) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let done = std::sync::Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (stop, done) = (stop.clone(), done.clone());
            tokio::spawn(async move {
                let (mut ok, mut failed) = (0u64, 0u64);
                while !stop.load(Ordering::Relaxed) && done.fetch_add(1, Ordering::Relaxed) < limit
                {
                    match http::get(addr, path).await {
                        Ok(r) if r.status == 200 => ok += 1,
                        _ => failed += 1,
                    }
                }
                (ok, failed)
            })
        })
        .collect();
    let mut total = (0, 0);
    for t in tasks {
        if let Ok((ok, failed)) = t.await {
            total.0 += ok;
            total.1 += failed;
        }
    }
    total
}

/// How long each reload run loads minipm: three reloads, at a quarter, half and three quarters.
const RELOAD_LOAD: Duration = Duration::from_secs(15);

/// SIGHUP `times` times, evenly spread over [`RELOAD_LOAD`], each waited for.
async fn reload_times(server: &mut Server, times: usize) -> Result<()> {
    let started = Instant::now();
    for n in 1..=times {
        let at = RELOAD_LOAD.mul_f64(n as f64 / (times + 1) as f64);
        tokio::time::sleep(at.saturating_sub(started.elapsed())).await;
        let before = server.count_lines("reload finished");
        server.signal(Sig::Hup);
        server
            .wait_for_nth_line(
                "reload finished",
                before + 1,
                Duration::from_secs(20),
                "reload did not finish",
            )
            .await;
    }
    Ok(())
}

/// loadgen with `options` while minipm reloads `times` times.
async fn under_reloads(
    server: &mut Server,
    options: &loadgen::Options,
    times: usize,
) -> Result<loadgen::Report> {
    let options = options.clone();
    let load = tokio::spawn(async move { loadgen::run(&options, std::future::pending()).await });
    reload_times(server, times).await?;
    load.await?
}
