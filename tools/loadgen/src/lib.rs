//! A small HTTP load generator, for the chapter 5 lab and benchmarks.
//!
//! Workers send `GET` requests in a loop for a fixed duration, each on a persistent connection as
//! wrk and real clients do ([`Mode::KeepAlive`], the default), or on a new connection per request
//! ([`Mode::PerRequest`]), through test-support's HTTP client, the one the tests use (as fast as
//! loadgen's own was, measured against it and wrk when it replaced it: commit e502d58). Nothing
//! is retried: a request that meets a connection the server is closing counts as failed
//! (`closed` or `reset`), as wrk counts it as a read error. Every request is recorded:
//! when it started, how long it took, how it ended, and which instance answered (the
//! `x-instance` header, or the word after "from" in the body: "hello from 3f2a…"). The report
//! counts them by status and by instance, gives latency percentiles, and draws a timeline as SVG.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use test_support::http::{HttpError, KeepAlive, Request, Response};

mod args;
pub mod svg;

pub use args::LoadArgs;

/// How requests use connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A pool of `concurrency` persistent connections, each sending its next request as soon as
    /// the last answer is in, and opening a new connection only when the server closed the old
    /// one (`Connection: close`) or it broke. What wrk, hey, k6, browsers, client pools and
    /// nginx's upstream `keepalive` do.
    #[default]
    KeepAlive,
    /// A new connection for every request (`Connection: close`): a balancer picks a backend for
    /// every request, and no request can meet a connection the server is closing.
    PerRequest,
}

impl std::str::FromStr for Mode {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Mode> {
        match text {
            "keep-alive" => Ok(Mode::KeepAlive),
            "per-request" => Ok(Mode::PerRequest),
            _ => bail!("{text:?}: the modes are keep-alive and per-request"),
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::KeepAlive => "keep-alive",
            Mode::PerRequest => "per-request",
        })
    }
}

/// What to load, how hard and for how long.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to connect.
    pub addr: SocketAddr,
    /// The `Host` header (the URL's host).
    pub host: String,
    /// The path and query to request.
    pub path: String,
    /// How long to keep sending.
    pub duration: Duration,
    /// How many requests are in flight at once (in keep-alive mode, how many connections).
    pub concurrency: usize,
    /// Persistent connections, or a new one per request.
    pub mode: Mode,
    /// The longest one request may take before it counts as timed out.
    pub timeout: Duration,
    /// Extra headers (`Cookie: …`), sent with every request.
    pub headers: Vec<(String, String)>,
}

impl Options {
    /// Options for `url` (`http://host:port/path`), with defaults: 10 s, 16 keep-alive
    /// connections, 5 s timeout.
    pub async fn for_url(url: &str) -> Result<Options> {
        let rest = url
            .strip_prefix("http://")
            .with_context(|| format!("{url}: only http:// URLs are supported"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let with_port = if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        let addr = tokio::net::lookup_host(&with_port)
            .await
            .with_context(|| format!("resolving {with_port}"))?
            .next()
            .with_context(|| format!("{with_port} resolves to no address"))?;
        Ok(Options {
            addr,
            host: authority.to_string(),
            path: path.to_string(),
            duration: Duration::from_secs(10),
            concurrency: 16,
            mode: Mode::KeepAlive,
            timeout: Duration::from_secs(5),
            headers: Vec::new(),
        })
    }
}

/// How one request ended.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// An HTTP answer with this status.
    Status(u16),
    /// The connection was refused: nothing listening.
    Refused,
    /// The connection was reset (RST) before a complete answer: a read or write error.
    Reset,
    /// The server closed the connection (EOF) before a complete answer. On a kept-alive
    /// connection this is the shutdown race: the server closed it just as the next request was
    /// sent. wrk counts it as a read error.
    Closed,
    /// No answer within the timeout.
    Timeout,
}

impl Outcome {
    /// 2xx and 3xx are successes; everything else failed.
    pub fn ok(&self) -> bool {
        matches!(self, Outcome::Status(s) if (200..400).contains(s))
    }

    /// `200`, `503`, `refused`, `reset`, `closed`, `timeout`.
    pub fn label(&self) -> String {
        match self {
            Outcome::Status(s) => s.to_string(),
            Outcome::Refused => "refused".into(),
            Outcome::Reset => "reset".into(),
            Outcome::Closed => "closed".into(),
            Outcome::Timeout => "timeout".into(),
        }
    }
}

/// One request.
#[derive(Debug, Clone)]
pub struct Sample {
    /// When it started, from the start of the run.
    pub at: Duration,
    /// How long it took.
    pub latency: Duration,
    /// How it ended.
    pub outcome: Outcome,
    /// Which instance answered, if it said.
    pub instance: Option<String>,
}

/// Every request of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// In the order they finished.
    pub samples: Vec<Sample>,
    /// How long the run took.
    pub elapsed: Duration,
}

impl Report {
    /// Requests that did not end in 2xx or 3xx.
    pub fn failed(&self) -> usize {
        self.samples.iter().filter(|s| !s.outcome.ok()).count()
    }

    /// Requests that were sent and got no complete answer: reset, closed, timed out. Unlike
    /// [`failed`](Self::failed) it leaves out refused connections (no request was sent) and
    /// error statuses (an answer came).
    pub fn lost(&self) -> usize {
        self.samples
            .iter()
            .filter(|s| {
                matches!(
                    s.outcome,
                    Outcome::Reset | Outcome::Closed | Outcome::Timeout
                )
            })
            .count()
    }

    /// Count per outcome label.
    pub fn by_outcome(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for s in &self.samples {
            *counts.entry(s.outcome.label()).or_default() += 1;
        }
        counts
    }

    /// Count of answered requests per instance.
    pub fn by_instance(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for s in &self.samples {
            if let Some(instance) = &s.instance {
                *counts.entry(instance.clone()).or_default() += 1;
            }
        }
        counts
    }

    /// The latency below which `p` (0.0–1.0) of the successful requests fall.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        let mut ok: Vec<Duration> = self
            .samples
            .iter()
            .filter(|s| s.outcome.ok())
            .map(|s| s.latency)
            .collect();
        if ok.is_empty() {
            return None;
        }
        ok.sort();
        let rank = ((ok.len() as f64 * p).ceil() as usize).clamp(1, ok.len());
        Some(ok[rank - 1])
    }

    /// Successful requests per second.
    pub fn throughput(&self) -> f64 {
        let ok = self.samples.len() - self.failed();
        ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The report as text, for a terminal.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let total = self.samples.len();
        let _ = writeln!(
            out,
            "{total} requests in {:.1} s: {:.0} ok/s, {} failed",
            self.elapsed.as_secs_f64(),
            self.throughput(),
            self.failed()
        );
        let _ = writeln!(out, "\nby status:");
        for (label, n) in self.by_outcome() {
            let _ = writeln!(out, "  {label:<8} {n:>8}  {:>5.1}%", pct(n, total));
        }
        let instances = self.by_instance();
        if !instances.is_empty() {
            let _ = writeln!(out, "\nby instance:");
            let answered: usize = instances.values().sum();
            for (instance, n) in &instances {
                let bar = "█".repeat((pct(*n, answered) / 2.5).round() as usize);
                let _ = writeln!(
                    out,
                    "  {instance:<14} {n:>8}  {:>5.1}%  {bar}",
                    pct(*n, answered)
                );
            }
        }
        let ms = |d: Option<Duration>| {
            d.map_or("-".into(), |d| format!("{:.1} ms", d.as_secs_f64() * 1e3))
        };
        let _ = writeln!(
            out,
            "\nlatency of successful requests: p50 {}, p90 {}, p99 {}, max {}",
            ms(self.percentile(0.5)),
            ms(self.percentile(0.9)),
            ms(self.percentile(0.99)),
            ms(self.percentile(1.0))
        );
        out
    }
}

fn pct(n: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        n as f64 * 100.0 / total as f64
    }
}

/// Says on stderr what is about to be loaded (`{what} for 10.0 s, 16 at once, keep-alive (Ctrl-C
/// stops early)…`), then [`run`]s until `options.duration` has passed or Ctrl-C is pressed: the
/// start of a load from the command line (`loadgen`, and `just load` in the runner).
pub async fn run_until_ctrl_c(options: &Options, what: &str) -> Result<Report> {
    eprintln!(
        "{what} for {:.1} s, {} at once, {} (Ctrl-C stops early)…",
        options.duration.as_secs_f64(),
        options.concurrency,
        options.mode
    );
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    run(options, stop).await
}

/// Sends requests from `options.concurrency` workers until `options.duration` has passed, or
/// until `stop` resolves, whichever is first.
pub async fn run(options: &Options, stop: impl std::future::Future<Output = ()>) -> Result<Report> {
    if options.concurrency == 0 {
        bail!("concurrency must be at least 1");
    }
    let started = Instant::now();
    let deadline = started + options.duration;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..options.concurrency {
        let options = options.clone();
        let tx = tx.clone();
        workers.spawn(async move {
            let request = request(&options);
            // test-support's client: it keeps the connection while the server does, and drops
            // it after a request that failed or timed out.
            let mut keep_alive = KeepAlive::new(options.addr);
            while Instant::now() < deadline {
                let at = started.elapsed();
                let t = Instant::now();
                let (outcome, instance) = judge(match options.mode {
                    Mode::KeepAlive => keep_alive.send(&request).await,
                    Mode::PerRequest => request.send(options.addr).await,
                });
                let sample = Sample {
                    at,
                    latency: t.elapsed(),
                    outcome,
                    instance,
                };
                if tx.send(sample).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let mut samples = Vec::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            sample = rx.recv() => match sample {
                Some(sample) => samples.push(sample),
                None => break,
            },
            () = &mut stop => {
                workers.abort_all();
                break;
            }
        }
    }
    while workers.join_next().await.is_some() {}
    while let Ok(sample) = rx.try_recv() {
        samples.push(sample);
    }
    Ok(Report {
        samples,
        elapsed: started.elapsed(),
    })
}

/// The request every worker sends: `GET path` with the URL's host, the extra headers and the
/// time limit.
fn request(options: &Options) -> Request {
    let mut request = Request::get(&options.path)
        .header("Host", &options.host)
        .timeout(options.timeout);
    for (name, value) in &options.headers {
        request = request.header(name, value);
    }
    request
}

/// How one request ended, and which instance answered it.
fn judge(answered: Result<Response, HttpError>) -> (Outcome, Option<String>) {
    match answered {
        Ok(response) => {
            let instance = response
                .header("x-instance")
                .map(str::to_owned)
                .or_else(|| {
                    let mut words = response.body.split_whitespace();
                    words.find(|w| *w == "from")?;
                    words.next().map(str::to_string)
                });
            (Outcome::Status(response.status), instance)
        }
        Err(HttpError::Refused) => (Outcome::Refused, None),
        Err(HttpError::CutOff(cut)) if cut.reset => (Outcome::Reset, None),
        Err(HttpError::CutOff(_)) => (Outcome::Closed, None),
        Err(HttpError::TimedOut(_)) => (Outcome::Timeout, None),
        // A connect error other than a refusal, or an answer that is not HTTP: the connection
        // broke, as a reset does.
        Err(HttpError::Other(_)) => (Outcome::Reset, None),
    }
}

/// `10s`, `500ms`, `2m` or a number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&text[..i], &text[i..]),
        None => (text, "s"),
    };
    let n: f64 = number
        .parse()
        .with_context(|| format!("{text:?} is not a duration (10s, 500ms, 2m)"))?;
    let seconds = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => bail!("{text:?}: unknown unit {unit:?} (use ms, s or m)"),
    };
    // `from_secs_f64` panics past u64::MAX seconds (`--duration 99999999999999999999`).
    Duration::try_from_secs_f64(seconds)
        .ok()
        .with_context(|| format!("{text:?} is too long"))
}
