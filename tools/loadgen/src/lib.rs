//! A small HTTP load generator, for the chapter 5 lab and benchmarks.
//!
//! Workers send `GET` requests in a loop for a fixed duration, each on a persistent connection as
//! wrk and real clients do ([`Mode::KeepAlive`], the default), or on a new connection per request
//! ([`Mode::PerRequest`]). Nothing is retried: a request that meets a connection the server is
//! closing counts as failed (`closed` or `reset`), as wrk counts it as a read error. Every request is recorded: when it
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
            let mut connection = None;
            while Instant::now() < deadline {
                let at = started.elapsed();
                let t = Instant::now();
                let (outcome, instance) = one(&options, &mut connection).await;
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

/// An open connection, with whatever of the next answer has been read already.
#[derive(Debug)]
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

/// One request: on `connection` if it is open (keep-alive), else on a new one. The connection is
/// kept for the next request only if the answer was complete and did not say `Connection: close`.
async fn one(options: &Options, connection: &mut Option<Connection>) -> (Outcome, Option<String>) {
    let keep_alive = options.mode == Mode::KeepAlive;
    let attempt = async {
        let mut open = match connection.take() {
            Some(open) => open,
            None => match TcpStream::connect(options.addr).await {
                Ok(stream) => Connection {
                    stream,
                    buffer: Vec::with_capacity(1024),
                },
                Err(err) if err.kind() == std::io::ErrorKind::ConnectionRefused => {
                    return (Outcome::Refused, None);
                }
                Err(err) => return (broken(&err), None),
            },
        };
        let mut request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\n",
            options.path, options.host
        );
        if !keep_alive {
            request.push_str("Connection: close\r\n");
        }
        for (name, value) in &options.headers {
            let _ = write!(request, "{name}: {value}\r\n");
        }
        request.push_str("\r\n");
        if let Err(err) = open.stream.write_all(request.as_bytes()).await {
            return (broken(&err), None);
        }
        match read_answer(&mut open).await {
            Ok(answer) => {
                if keep_alive && !answer.close {
                    *connection = Some(open);
                }
                (Outcome::Status(answer.status), answer.instance)
            }
            Err(outcome) => (outcome, None),
        }
    };
    // A timed-out attempt drops its connection with it: the next request opens a new one.
    match tokio::time::timeout(options.timeout, attempt).await {
        Ok(result) => result,
        Err(_) => (Outcome::Timeout, None),
    }
}

/// How a connection that failed mid-request ended: reset, or closed (EOF) before the answer.
fn broken(err: &std::io::Error) -> Outcome {
    match err.kind() {
        std::io::ErrorKind::UnexpectedEof => Outcome::Closed,
        _ => Outcome::Reset,
    }
}

/// A complete answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    instance: Option<String>,
    /// The server will close the connection after it (`Connection: close`, or HTTP/1.0 without
    /// `keep-alive`), so it must not carry another request.
    close: bool,
}

/// Reads one complete answer (its body by `Content-Length`, chunks, or to the end), leaving any
/// bytes after it in the buffer.
async fn read_answer(open: &mut Connection) -> Result<Answer, Outcome> {
    let head_end = loop {
        if let Some(i) = find(&open.buffer, b"\r\n\r\n") {
            break i + 4;
        }
        fill(open).await?;
    };
    let head = String::from_utf8_lossy(&open.buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut words = status_line.split_whitespace();
    let version = words.next().unwrap_or_default();
    let status: u16 = words
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or(Outcome::Reset)?;
    let (mut length, mut chunked, mut instance, mut connection) = (None, false, None, None);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            "x-instance" => instance = Some(value.to_string()),
            "connection" => connection = Some(value.to_ascii_lowercase()),
            _ => {}
        }
    }
    let mut close = match &connection {
        Some(c) if c.contains("close") => true,
        Some(c) if c.contains("keep-alive") => false,
        _ => version == "HTTP/1.0",
    };
    open.buffer.drain(..head_end);
    let body = if chunked {
        read_chunked(open).await?
    } else if let Some(length) = length {
        while open.buffer.len() < length {
            fill(open).await?;
        }
        open.buffer.drain(..length).collect()
    } else if status == 204 || status == 304 || (100..200).contains(&status) {
        Vec::new()
    } else {
        // No length: the body runs to the end of the connection.
        close = true;
        loop {
            match fill(open).await {
                Ok(()) => {}
                Err(Outcome::Closed) => break,
                Err(other) => return Err(other),
            }
        }
        std::mem::take(&mut open.buffer)
    };
    let instance = instance.or_else(|| {
        let text = String::from_utf8_lossy(&body);
        let mut words = text.split_whitespace();
        words.find(|w| *w == "from")?;
        words.next().map(str::to_string)
    });
    Ok(Answer {
        status,
        instance,
        close,
    })
}

async fn read_chunked(open: &mut Connection) -> Result<Vec<u8>, Outcome> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(i) = find(&open.buffer, b"\r\n") {
                break i;
            }
            fill(open).await?;
        };
        let size_text = String::from_utf8_lossy(&open.buffer[..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| Outcome::Reset)?;
        open.buffer.drain(..line_end + 2);
        if size == 0 {
            // Trailers, if any, end with an empty line.
            loop {
                if let Some(i) = find(&open.buffer, b"\r\n") {
                    open.buffer.drain(..i + 2);
                    if i == 0 {
                        return Ok(body);
                    }
                    continue;
                }
                fill(open).await?;
            }
        }
        while open.buffer.len() < size + 2 {
            fill(open).await?;
        }
        body.extend(open.buffer.drain(..size));
        open.buffer.drain(..2);
    }
}

/// Reads more bytes into the buffer; the server closing the connection is `Closed`.
async fn fill(open: &mut Connection) -> Result<(), Outcome> {
    let mut chunk = [0u8; 8192];
    match open.stream.read(&mut chunk).await {
        Ok(0) => Err(Outcome::Closed),
        Ok(n) => {
            open.buffer.extend_from_slice(&chunk[..n]);
            Ok(())
        }
        Err(err) => Err(broken(&err)),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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
