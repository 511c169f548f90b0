//! A small HTTP load generator, for the chapter 5 lab and benchmarks.
//!
//! Workers send `GET` requests in a loop for a fixed duration, one connection per request (so a
//! balancer picks a backend for every request, and a dead backend shows up as refused or reset
//! connections rather than hiding behind a kept-alive one). Every request is recorded: when it
//! started, how long it took, how it ended, and which instance answered (the `x-instance`
//! header, or the word after "from" in the body: "hello from 3f2a…"). The report counts them by
//! status and by instance, gives latency percentiles, and draws a timeline as SVG.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub mod svg;

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
    /// How many requests are in flight at once.
    pub concurrency: usize,
    /// The longest one request may take before it counts as timed out.
    pub timeout: Duration,
    /// Extra headers (`Cookie: …`), sent with every request.
    pub headers: Vec<(String, String)>,
}

impl Options {
    /// Options for `url` (`http://host:port/path`), with defaults: 10 s, 16 at once, 5 s timeout.
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
    /// The connection was closed or reset before a complete answer.
    Reset,
    /// No answer within the timeout.
    Timeout,
}

impl Outcome {
    /// 2xx and 3xx are successes; everything else failed.
    pub fn ok(&self) -> bool {
        matches!(self, Outcome::Status(s) if (200..400).contains(s))
    }

    /// `200`, `503`, `refused`, `reset`, `timeout`.
    pub fn label(&self) -> String {
        match self {
            Outcome::Status(s) => s.to_string(),
            Outcome::Refused => "refused".into(),
            Outcome::Reset => "reset".into(),
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
            while Instant::now() < deadline {
                let at = started.elapsed();
                let t = Instant::now();
                let (outcome, instance) = one(&options).await;
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

/// One request on a fresh connection.
async fn one(options: &Options) -> (Outcome, Option<String>) {
    let attempt = async {
        let mut stream = match TcpStream::connect(options.addr).await {
            Ok(stream) => stream,
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionRefused => {
                return (Outcome::Refused, None);
            }
            Err(_) => return (Outcome::Reset, None),
        };
        let mut request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            options.path, options.host
        );
        for (name, value) in &options.headers {
            let _ = write!(request, "{name}: {value}\r\n");
        }
        request.push_str("\r\n");
        if stream.write_all(request.as_bytes()).await.is_err() {
            return (Outcome::Reset, None);
        }
        let mut answer = Vec::with_capacity(512);
        if stream.read_to_end(&mut answer).await.is_err() && answer.is_empty() {
            return (Outcome::Reset, None);
        }
        parse(&answer)
    };
    match tokio::time::timeout(options.timeout, attempt).await {
        Ok(result) => result,
        Err(_) => (Outcome::Timeout, None),
    }
}

/// The status and the answering instance of a raw HTTP answer.
fn parse(answer: &[u8]) -> (Outcome, Option<String>) {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return (Outcome::Reset, None);
    };
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .map_or(Outcome::Reset, Outcome::Status);
    let from_header = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("x-instance")
            .then(|| value.trim().to_string())
    });
    let instance = from_header.or_else(|| {
        let mut words = body.split_whitespace();
        words.find(|w| *w == "from")?;
        words.next().map(str::to_string)
    });
    (status, instance)
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
    Ok(Duration::from_secs_f64(seconds))
}
