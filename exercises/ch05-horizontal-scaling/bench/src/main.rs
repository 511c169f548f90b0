//! The workbook's measurements of this chapter for `just bench chapter5`: the compose lab with
//! the reference service (throughput over 1 and 3 replicas, failed requests during rolling
//! deploys and a crash), and what a session costs a request.
//!
//! Not an exercise: a crate of its own beside the chapter's (chapters.toml's `bench` names it),
//! built and run by the workbook's runner, on the measuring kit in tools/bench-kit.
#![allow(clippy::print_stdout)] // The table and its notes are what `just bench` prints.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bench_kit::{BenchContext, Version, cores, ms, outcomes, verdict, wrk_during, wrk_row};
use test_support::{Redis, Server, http};

fn main() -> ExitCode {
    bench_kit::main(bench)
}

/// The lab with the reference service: throughput with 1 and 3 replicas, failures during a
/// rolling deploy and a crash; and what a session costs per request, on the host.
async fn bench(ctx: &BenchContext) -> Result<ExitCode> {
    // What a session costs: /me (rate limit + session lookup, two Redis round trips) against
    // /healthz (none), on one instance and a private Redis.
    println!("Building the solution of chapter 5…");
    let service = ctx.build_bins(Version::Solution, &["service"])?.remove(0);
    let redis = Redis::start().await;
    let (server, addr) = Server::builder(&service)
        .redis(&redis)
        .env("HOST", "127.0.0.1")
        .env("RATE_LIMIT", "100000000")
        .spawn_service()
        .await;
    let login = http::Request::post("/login?user=bench", "")
        .send(addr)
        .await
        .context("POST /login")?;
    let cookie = login
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .map(str::to_string)
        .context("POST /login set no cookie")?;
    let mut p50 = Vec::new();
    for (path, headers) in [
        ("/healthz", vec![]),
        ("/me", vec![("Cookie".to_string(), cookie)]),
    ] {
        let mut options = loadgen::Options::for_url(&format!("http://{addr}{path}")).await?;
        options.duration = Duration::from_secs(5);
        options.concurrency = 1;
        options.headers = headers;
        let report = loadgen::run(&options, std::future::pending()).await?;
        if report.failed() > 0 {
            bail!(
                "GET {path} failed {} times: {:?}",
                report.failed(),
                report.by_outcome()
            );
        }
        p50.push(report.percentile(0.5).unwrap_or_default());
    }
    server.stop().await;
    let overhead = p50[1].saturating_sub(p50[0]);

    // The lab, from the solution's scratch copy, in a compose project of its own.
    let scratch = ctx.scratch(Version::Solution)?;
    let port = test_support::free_port();
    let mut lab = lab::Lab::new(&scratch.root, port)?;
    // Named after the scratch copy, so that its image (`<project>_app`) is one per checkout,
    // each build replacing the last.
    let copy = test_support::docker::labels::checkout_of(&scratch.root);
    lab.project = Some(format!("wbbench{}", &copy[..12]));
    println!("Starting the lab with 1 replica (building the image the first time)…");
    let guard = lab.guard();
    lab.up(1)?;
    let concurrency = 16;
    let window = Duration::from_secs(10);
    let one = lab_load(port, concurrency, window, std::future::pending()).await?;
    println!("Scaling to 3 replicas…");
    lab.scale(3)?;
    let three = lab_load(port, concurrency, window, std::future::pending()).await?;
    // A rolling deploy, one replica at a time, under keep-alive load (the clients keep their
    // connections to HAProxy; HAProxy keeps its own to the replicas), then under a new
    // connection per request, then with wrk.
    let mut rolling = Vec::new();
    for mode in [loadgen::Mode::KeepAlive, loadgen::Mode::PerRequest] {
        println!("A rolling deploy under load ({mode})…");
        let deploy = lab.clone();
        let report = lab_load_in(
            mode,
            port,
            concurrency,
            Duration::from_secs(300),
            async move {
                let done = tokio::task::spawn_blocking(move || deploy.rolling_deploy(1)).await;
                if !matches!(done, Ok(Ok(()))) {
                    eprintln!("the rolling deploy failed: {done:?}");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            },
        )
        .await?;
        rolling.push((mode, report));
    }
    println!("A rolling deploy under wrk…");
    let deploy = lab.clone();
    let wrk_deploy = wrk_during(
        &format!("http://127.0.0.1:{port}/"),
        Duration::from_secs(60),
        async move {
            let done = tokio::task::spawn_blocking(move || deploy.rolling_deploy(1)).await;
            if !matches!(done, Ok(Ok(()))) {
                eprintln!("the rolling deploy failed: {done:?}");
            }
            Ok(())
        },
    )
    .await?;
    println!("Killing one replica under load…");
    let chaos = lab.clone();
    let crash = lab_load(port, concurrency, Duration::from_secs(60), async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let _ = tokio::task::spawn_blocking(move || chaos.chaos()).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await?;
    drop(guard);

    let mut rows = vec![
        [
            format!("throughput through HAProxy, {concurrency} at once, 10 s"),
            format!("1 replica: {:.0} req/s", one.throughput()),
            format!(
                "3 replicas: {:.0} req/s (×{:.2})",
                three.throughput(),
                three.throughput() / one.throughput().max(1e-9)
            ),
            "measured, no goal".into(),
        ],
        [
            "failed requests when one replica is SIGKILLed".into(),
            format!("{} requests, {concurrency} in flight", crash.samples.len()),
            format!(
                "{} failed, within {:.1} s",
                crash.failed(),
                failure_window(&crash).as_secs_f64()
            ),
            // HAProxy retries nothing (lab/haproxy.cfg): what was in flight, and what it sent
            // the replica before Docker's DNS or two checks took it out, fails; then nothing.
            format!(
                "all within 3 s: {}",
                verdict(failure_window(&crash) <= Duration::from_secs(3))
            ),
        ],
        [
            "session overhead per request (p50, one at a time)".into(),
            format!("/healthz (no Redis): {}", ms(p50[0])),
            format!("/me (2 Redis calls): {} → +{}", ms(p50[1]), ms(overhead)),
            format!("≤ 1 ms: {}", verdict(overhead <= Duration::from_millis(1))),
        ],
    ];
    // After the throughput row, before the crash: the deploy rows, then wrk's.
    for (i, (mode, report)) in rolling.iter().enumerate() {
        rows.insert(
            1 + i,
            [
                format!("failed requests during a rolling deploy of 3, {mode}"),
                format!("{} requests", report.samples.len()),
                format!("{} failed ({})", report.failed(), outcomes(report)),
                format!(
                    "0 of ≥ 10,000: {}",
                    verdict(report.failed() == 0 && report.samples.len() >= 10_000)
                ),
            ],
        );
    }
    rows.insert(
        1 + rolling.len(),
        wrk_row("the same with wrk -t2 -c16 (runs 60 s)", wrk_deploy),
    );
    ctx.print_table(&["measure", "baseline", "measured", "goal"], &rows);
    println!(
        "On one machine, replicas share its cores with HAProxy and the load generator: more \
         replicas add capacity only where there are idle cores (this machine has {}).",
        cores()
    );
    Ok(ExitCode::SUCCESS)
}

/// From the first failed request of `report` to the last (zero if none failed).
fn failure_window(report: &loadgen::Report) -> Duration {
    let failed = report
        .samples
        .iter()
        .filter(|s| !s.outcome.ok())
        .map(|s| s.at);
    let (first, last) = failed.fold(
        (None, None),
        |(lo, hi): (Option<Duration>, Option<Duration>), at| {
            (
                Some(lo.map_or(at, |lo| lo.min(at))),
                Some(hi.map_or(at, |hi| hi.max(at))),
            )
        },
    );
    last.zip(first)
        .map_or(Duration::ZERO, |(last, first)| last - first)
}

/// Load through `port` until `stop` resolves (or `limit` passes), `concurrency` at once.
async fn lab_load(
    port: u16,
    concurrency: usize,
    limit: Duration,
    stop: impl std::future::Future<Output = ()>,
) -> Result<loadgen::Report> {
    lab_load_in(loadgen::Mode::KeepAlive, port, concurrency, limit, stop).await
}

/// [`lab_load`] with keep-alive connections or a new connection per request.
async fn lab_load_in(
    mode: loadgen::Mode,
    port: u16,
    concurrency: usize,
    limit: Duration,
    stop: impl std::future::Future<Output = ()>,
) -> Result<loadgen::Report> {
    let mut options = loadgen::Options::for_url(&format!("http://127.0.0.1:{port}/")).await?;
    options.duration = limit;
    options.concurrency = concurrency;
    options.mode = mode;
    loadgen::run(&options, stop).await
}
