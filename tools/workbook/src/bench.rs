//! `just bench chapterN`: a chapter's timing goals, measured side by side in one run and
//! reported as numbers and ratios. Tests never assert timings (they would be flaky on a busy
//! machine); this is where speed is looked at.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use lab::docker;
use test_support::{Redis, Server, Sig, http};

use crate::manifest::Chapter;
use crate::scratch::{Scratch, Version, cargo_build};

pub async fn bench(root: &Path, chapter: &Chapter) -> Result<ExitCode> {
    chapter.ensure_ready()?;
    match chapter.number {
        1 => chapter1(root, chapter).await,
        2 => chapter2(root, chapter).await,
        3 => chapter3(root, chapter),
        5 => chapter5(root, chapter).await,
        4 => chapter4(root, chapter).await,
        n => bail!("chapter {n} has no benchmarks yet"),
    }
}

/// Builds the starter or the solution in its scratch copy and keeps its binaries under names of
/// their own (both copies share one target directory, so the second build would replace them).
fn build_bins(
    root: &Path,
    chapter: &Chapter,
    version: Version,
    bins: &[&str],
) -> Result<Vec<PathBuf>> {
    let scratch = Scratch::prepare(root, chapter, version)?;
    // Not quiet: a first build takes minutes, and cargo's progress says so.
    if !cargo_build(&scratch.place(), chapter.package(), false)? {
        bail!("{version:?} of chapter {} does not build", chapter.number);
    }
    bins.iter()
        .map(|bin| {
            let kept = scratch.target.join(format!("bench-{bin}-{version:?}"));
            std::fs::copy(scratch.binary(bin), &kept)?;
            Ok(kept)
        })
        .collect()
}

fn build(root: &Path, chapter: &Chapter, version: Version) -> Result<PathBuf> {
    Ok(build_bins(root, chapter, version, &[chapter.package()])?.remove(0))
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
        server.signal(Sig::Term);
        let _ = server
            .wait_exit(Duration::from_secs(15), "server did not exit")
            .await;
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
                    server.signal(Sig::Term);
                    let _ = server
                        .wait_exit(Duration::from_secs(15), "server did not exit")
                        .await;
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
    server
        .wait_for_line(
            "connection accepted",
            Duration::from_secs(5),
            "not accepted",
        )
        .await;
    server.signal(Sig::Term);
    let (status, took) = server
        .wait_exit(Duration::from_secs(15), "server did not exit")
        .await;
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
    let (just_time, cargo_time) = runner_overhead(root, chapter)?;
    let ratio = just_time.as_secs_f64() / cargo_time.as_secs_f64();
    rows.push([
        "warm `just test chapter1` after a one-line edit (median of 3)".into(),
        format!("cargo test: {:.2} s", cargo_time.as_secs_f64()),
        format!("just test: {:.2} s (×{ratio:.2})", just_time.as_secs_f64()),
        format!("≤ 1.2×: {}", verdict(ratio <= 1.2)),
    ]);

    print_table(
        1,
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

/// Prints the rows as an aligned table under a heading naming the chapter and the machine.
fn print_table(chapter: u32, header: &[&str; 4], rows: &[[String; 4]]) {
    println!(
        "\nChapter {chapter}, measured side by side in one run on this machine ({} cores):\n",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
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
    println!("{}", line(&header.map(String::from)));
    println!(
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-|-")
    );
    for row in rows {
        println!("{}", line(row));
    }
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
            .envs(scratch.cargo_env())
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

/// A minipm running the chapter's worker with `app` settings, from a configuration in `dir`.
async fn start_minipm(
    minipm: &Path,
    worker: &Path,
    dir: &Path,
    app: &str,
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
    let addr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("addr="))
        .and_then(|a| a.parse().ok())
        .context("no address in minipm's listening line")?;
    Ok((server, addr))
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

/// `400: 3, closed: 2`: the outcomes other than 2xx, or `none failed`.
fn outcomes(report: &loadgen::Report) -> String {
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
#[derive(Debug, Default)]
struct WrkCount {
    requests: u64,
    connect: u64,
    read: u64,
    write: u64,
    timeout: u64,
    non_2xx: u64,
}

/// Runs `wrk -t2 -c16 -d<duration>` against `url` while `during` runs; `None` if wrk is not
/// installed.
async fn wrk_during(
    url: &str,
    duration: Duration,
    during: impl std::future::Future<Output = Result<()>>,
) -> Result<Option<WrkCount>> {
    if test_support::redis_server::find_on_path("wrk").is_none() {
        during.await?;
        return Ok(None);
    }
    let wrk = tokio::process::Command::new("wrk")
        .args(["-t2", "-c16", &format!("-d{}s", duration.as_secs()), url])
        .kill_on_drop(true)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("starting wrk")?;
    during.await?;
    let out = wrk.wait_with_output().await?;
    let text = String::from_utf8_lossy(&out.stdout);
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
    Ok(Some(count))
}

/// What wrk counted, for a table cell.
fn wrk_cell(w: &WrkCount) -> String {
    format!(
        "{} read errors, {} timeouts, {} non-2xx of {} (connect {}, write {})",
        w.read, w.timeout, w.non_2xx, w.requests, w.connect, w.write
    )
}

/// A table row for a wrk run: its read errors (a request sent on a connection the server
/// closed) and non-2xx answers are the failures; connect and write errors come from
/// connections refused once nothing listens, and are shown apart.
fn wrk_row(what: &str, wrk: Option<WrkCount>) -> [String; 4] {
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

async fn chapter2(root: &Path, chapter: &Chapter) -> Result<ExitCode> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    println!("Building the solution of chapter 2…");
    let bins = build_bins(root, chapter, Version::Solution, &["minipm", "worker"])?;
    let (minipm, worker) = (&bins[0], &bins[1]);
    let dir = root.join("target/workbook/bench-ch02");
    let mut rows: Vec<[String; 4]> = Vec::new();

    // 1. Crash to ready again, 20 times, with PM2's 100 ms first delay and with none.
    let mut medians = Vec::new();
    for base in [100, 0] {
        let app = format!(
            "instances = 1\n[app.restart]\nbase_delay_ms = {base}\nreset_after_ms = 0\nlimit_burst = 1000\n"
        );
        let (mut server, addr) = start_minipm(minipm, worker, &dir, &app).await?;
        server
            .wait_for_nth_line(
                " ready addr=",
                1,
                Duration::from_secs(10),
                "worker not ready",
            )
            .await;
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
        let _ = server
            .stop_with(Sig::Term, Duration::from_secs(10), "minipm did not stop")
            .await;
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
        let (mut server, addr) = start_minipm(minipm, worker, &dir, "instances = 2").await?;
        server
            .wait_for_nth_line(
                " ready addr=",
                2,
                Duration::from_secs(10),
                "workers not ready",
            )
            .await;
        let mut options = loadgen::Options::for_url(&format!("http://{addr}/")).await?;
        options.mode = mode;
        options.concurrency = clients;
        options.duration = RELOAD_LOAD;
        let report = under_reloads(&mut server, &options, 3).await?;
        let _ = server
            .stop_with(Sig::Term, Duration::from_secs(10), "minipm did not stop")
            .await;
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
        let (mut server, addr) = start_minipm(minipm, worker, &dir, "instances = 2").await?;
        server
            .wait_for_nth_line(
                " ready addr=",
                2,
                Duration::from_secs(10),
                "workers not ready",
            )
            .await;
        let wrk = wrk_during(&format!("http://{addr}/"), RELOAD_LOAD, async {
            reload_times(&mut server, 3).await
        })
        .await;
        let _ = server
            .stop_with(Sig::Term, Duration::from_secs(10), "minipm did not stop")
            .await;
        rows.push(wrk_row(
            "requests failed during 3 reloads, wrk -t2 -c16",
            wrk?,
        ));
    }

    // 3. Throughput of CPU-bound requests, 1 instance vs 2.
    let mut rates = Vec::new();
    for instances in [1, 2] {
        let (mut server, addr) =
            start_minipm(minipm, worker, &dir, &format!("instances = {instances}")).await?;
        server
            .wait_for_nth_line(
                " ready addr=",
                instances,
                Duration::from_secs(10),
                "workers not ready",
            )
            .await;
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let loading = tokio::spawn(load(addr, "/work?n=200000", 8, 1_000_000, stop.clone()));
        tokio::time::sleep(Duration::from_secs(3)).await;
        stop.store(true, Ordering::Relaxed);
        let (ok, _) = loading.await?;
        rates.push(ok as f64 / started.elapsed().as_secs_f64());
        let _ = server
            .stop_with(Sig::Term, Duration::from_secs(10), "minipm did not stop")
            .await;
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
    print_table(
        2,
        &["measure", "baseline", "minipm (solution)", "goal"],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `program args…` `times` times and returns the median wall time.
fn time_command(program: &Path, args: &[&str], times: usize) -> Result<Duration> {
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

async fn chapter4(root: &Path, chapter: &Chapter) -> Result<ExitCode> {
    println!("Building the solution of chapter 4…");
    let pipeline = build_bins(root, chapter, Version::Solution, &["pipeline"])?.remove(0);
    let dir = root.join("target/workbook/bench-ch04");
    std::fs::create_dir_all(&dir)?;
    let n = 50;
    // The same 50 commands: as 50 steps of one job, and as 50 jobs of one step each.
    let steps: String = (0..n)
        .map(|i| format!("      - run: \"true\"\n        name: step {i}\n"))
        .collect();
    let one_job = dir.join("steps.yml");
    std::fs::write(
        &one_job,
        format!("on: push\njobs:\n  one:\n    steps:\n{steps}"),
    )?;
    let jobs: String = (0..n)
        .map(|i| format!("  job{i}:\n    steps:\n      - run: \"true\"\n"))
        .collect();
    let many_jobs = dir.join("jobs.yml");
    std::fs::write(&many_jobs, format!("on: push\njobs:\n{jobs}"))?;

    let args = |file: &Path| {
        vec![
            "--branch".to_owned(),
            "main".into(),
            "--sha".into(),
            "abc".into(),
            file.display().to_string(),
        ]
    };
    let a = args(&one_job);
    let b = args(&many_jobs);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let b: Vec<&str> = b.iter().map(String::as_str).collect();
    // Directly: the same shell, the same command, n times, from one process (a shell loop).
    let direct_script = format!("i=0; while [ $i -lt {n} ]; do sh -e -c true; i=$((i+1)); done");
    let direct = time_command(Path::new("sh"), &["-c", &direct_script], 5)?;
    let via_steps = time_command(&pipeline, &a, 5)?;
    let via_jobs = time_command(&pipeline, &b, 5)?;
    let per = |total: Duration| (total.saturating_sub(direct)).as_secs_f64() * 1000.0 / n as f64;
    let rows = vec![
        [
            format!("{n} commands as {n} steps of one job (median of 5)"),
            format!("directly: {}", ms(direct)),
            format!("{} → {:.2} ms a step", ms(via_steps), per(via_steps)),
            format!("≤ 10 ms a step: {}", verdict(per(via_steps) <= 10.0)),
        ],
        [
            format!("{n} commands as {n} jobs of one step (median of 5)"),
            format!("directly: {}", ms(direct)),
            format!("{} → {:.2} ms a job", ms(via_jobs), per(via_jobs)),
            "measured, no goal".into(),
        ],
    ];
    print_table(
        4,
        &["measure", "baseline", "the runner (solution)", "goal"],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}

/// Builds `context` as `tag` and returns how long it took.
fn timed_build(context: &Path, tag: &str, no_cache: bool) -> Result<Duration> {
    let started = Instant::now();
    let mut args = vec!["build", "--quiet", "--tag", tag];
    if no_cache {
        args.push("--no-cache");
    }
    let context = context.display().to_string();
    args.push(&context);
    docker(&args)?;
    Ok(started.elapsed())
}

/// Runs `image` with an API key, waits until it logs `listening`, then times `docker stop`.
fn timed_stop(image: &str, name: &str) -> Result<(Duration, String)> {
    let _ = docker(&["rm", "-f", name]);
    docker(&[
        "run",
        "-d",
        "--name",
        name,
        "-e",
        "API_KEY=bench-key-0123456789",
        image,
    ])?;
    let started = Instant::now();
    while !docker(&["logs", name])
        .map(|l| l.contains("listening"))
        .unwrap_or(false)
    {
        // `docker logs` keeps stderr apart; the service logs to stdout.
        if started.elapsed() > Duration::from_secs(30) {
            let _ = docker(&["rm", "-f", name]);
            bail!("{image} did not log `listening` within 30 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let stopping = Instant::now();
    docker(&["stop", name])?;
    let took = stopping.elapsed();
    let code = docker(&["inspect", "--format", "{{.State.ExitCode}}", name])?;
    let _ = docker(&["rm", "-f", name]);
    Ok((took, code))
}

/// Chapter 3: image size, cold build against a rebuild after a one-line change, `docker stop`.
/// Both versions are built side by side from their scratch copies, with the same base images.
fn chapter3(root: &Path, chapter: &Chapter) -> Result<ExitCode> {
    docker(&["info", "--format", "{{.ServerVersion}}"])
        .context("`just bench chapter3` needs a running Docker engine")?;
    let mut measured = Vec::new();
    for version in [Version::Starter, Version::Solution] {
        let scratch = Scratch::prepare(root, chapter, version)?;
        let context = scratch
            .root
            .join("exercises")
            .join(&chapter.folder)
            .join("service");
        let tag = format!(
            "workbook-bench-ch03:{}",
            format!("{version:?}").to_lowercase()
        );
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
    print_table(3, &["measure", "starter", "solution", "goal"], &rows);
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

/// Chapter 5: the lab with the reference service: throughput with 1 and 3 replicas, failures
/// during a rolling deploy and a crash; and what a session costs per request, on the host.
async fn chapter5(root: &Path, chapter: &Chapter) -> Result<ExitCode> {
    // What a session costs: /me (rate limit + session lookup, two Redis round trips) against
    // /healthz (none), on one instance and a private Redis.
    println!("Building the solution of chapter 5…");
    let service = build_bins(root, chapter, Version::Solution, &["service"])?.remove(0);
    let redis = Redis::start().await;
    let (server, addr) = Server::builder(&service)
        .redis(&redis)
        .env("HOST", "127.0.0.1")
        .env("RATE_LIMIT", "100000000")
        .spawn_service()
        .await;
    let cookie = {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream
            .write_all(b"POST /login?user=bench HTTP/1.1\r\nHost: b\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await?;
        answer
            .lines()
            .find_map(|l| l.strip_prefix("set-cookie: "))
            .and_then(|c| c.split(';').next())
            .map(str::to_string)
            .context("POST /login set no cookie")?
    };
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
    let scratch = Scratch::prepare(root, chapter, Version::Solution)?;
    let port = test_support::free_port();
    let mut lab = lab::Lab::new(&scratch.root, port)?;
    lab.project = Some(format!("wbbench{}", std::process::id()));
    println!("Starting the lab with 1 replica (building the image the first time)…");
    let guard = LabGuard(lab.clone());
    lab.up(1)?;
    let concurrency = 16;
    let window = Duration::from_secs(10);
    let one = lab_load(port, concurrency, window, std::future::pending()).await?;
    println!("Scaling to 3 replicas…");
    lab.scale(3)?;
    let three = lab_load(port, concurrency, window, std::future::pending()).await?;
    // A rolling deploy under keep-alive load (the clients keep their connections to nginx;
    // nginx opens a connection to a replica per request), then under a new connection per
    // request, then with wrk.
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
                let done = tokio::task::spawn_blocking(move || deploy.rolling_deploy()).await;
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
            let done = tokio::task::spawn_blocking(move || deploy.rolling_deploy()).await;
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
            format!("throughput through nginx, {concurrency} at once, 10 s"),
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
            format!("{} failed", crash.failed()),
            format!(
                "≤ in flight ({concurrency}): {}",
                verdict(crash.failed() <= concurrency)
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
    print_table(5, &["measure", "baseline", "measured", "goal"], &rows);
    println!(
        "On one machine, replicas share its cores with nginx and the load generator: more \
         replicas add capacity only where there are idle cores (this machine has {}).",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    Ok(ExitCode::SUCCESS)
}

/// Takes the bench's lab down, whatever happened.
struct LabGuard(lab::Lab);

impl Drop for LabGuard {
    fn drop(&mut self) {
        let _ = self.0.down();
    }
}
