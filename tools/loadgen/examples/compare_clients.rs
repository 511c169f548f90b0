//! Measures loadgen's old hand-written keep-alive client against test-support's shared one, and
//! wrk, on the same keep-alive load against the same local server (a separate process, so the
//! server never shares the clients' runtime): requests/s over 5 s, three rounds, interleaved.
//!
//! Run with `cargo run --release -p loadgen --example compare_clients`.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use loadgen::{Mode, Options};
use test_support::http::{HttpError, KeepAlive, Request};

const SECONDS: u64 = 5;
const CONNECTIONS: usize = 16;

#[allow(clippy::print_stdout)]
fn main() {
    if std::env::args().nth(1).as_deref() == Some("--serve") {
        serve();
        return;
    }
    let mut server = Command::new(std::env::current_exe().unwrap())
        .arg("--serve")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let addr = test_support::http::addr_in(&line).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (mut old, mut shared, mut wrk) = (Vec::new(), Vec::new(), Vec::new());
    let (mut old_cpu, mut shared_cpu) = (Vec::new(), Vec::new());
    for round in 1..=3 {
        let cpu = cpu_seconds();
        old.push(runtime.block_on(rate(addr, Client::Old)));
        old_cpu.push((cpu_seconds() - cpu) / (old[round - 1] * SECONDS as f64) * 1e6);
        let cpu = cpu_seconds();
        shared.push(runtime.block_on(rate(addr, Client::Shared)));
        shared_cpu.push((cpu_seconds() - cpu) / (shared[round - 1] * SECONDS as f64) * 1e6);
        if let Some(r) = wrk_rate(addr) {
            wrk.push(r);
        }
        println!(
            "round {round}: old {:.0}/s ({:.1} µs CPU each), shared {:.0}/s ({:.1} µs), wrk {}",
            old[round - 1],
            old_cpu[round - 1],
            shared[round - 1],
            shared_cpu[round - 1],
            wrk.get(round - 1)
                .map_or("-".into(), |r| format!("{r:.0}/s"))
        );
    }
    let (o, s) = (median(&mut old), median(&mut shared));
    println!(
        "median of 3 ({CONNECTIONS} keep-alive connections, {SECONDS} s each): old {o:.0}/s, \
         shared {s:.0}/s ({:+.1}%), wrk {}",
        (s - o) / o * 100.0,
        if wrk.is_empty() {
            "not installed".to_string()
        } else {
            format!("{:.0}/s", median(&mut wrk))
        }
    );
    let (oc, sc) = (median(&mut old_cpu), median(&mut shared_cpu));
    println!(
        "client CPU per request, median: old {oc:.1} µs, shared {sc:.1} µs ({:+.1}%)",
        (sc - oc) / oc * 100.0
    );
    let _ = server.kill();
    let _ = server.wait();
}

/// This process's CPU time (user + system) so far, from /proc (Linux); the clients' cost per
/// request is steadier than their rate on a busy machine.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat(5), 11 and 12 after `pid (comm) `; 100 Hz.
    (ticks(11) + ticks(12)) / 100.0
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A tiny axum service on a runtime of its own: `GET /` answers like a chapter service.
fn serve() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        #[allow(clippy::print_stdout)]
        {
            println!("listening addr={}", listener.local_addr().unwrap());
        }
        let app =
            axum::Router::new().route("/", axum::routing::get(|| async { "hello from bench\n" }));
        axum::serve(listener, app).await.unwrap();
    });
}

#[derive(Clone, Copy)]
enum Client {
    Old,
    Shared,
}

/// Successful requests per second from `CONNECTIONS` workers for `SECONDS`.
async fn rate(addr: SocketAddr, client: Client) -> f64 {
    let mut options = Options::for_url(&format!("http://{addr}/")).await.unwrap();
    options.mode = Mode::KeepAlive;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(SECONDS);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        let options = options.clone();
        workers.spawn(async move {
            let mut ok = 0usize;
            match client {
                Client::Old => {
                    let mut connection = None;
                    while Instant::now() < deadline {
                        let (outcome, _) = old::one(&options, &mut connection).await;
                        ok += usize::from(outcome.ok());
                    }
                }
                Client::Shared => {
                    let request = Request::get(&options.path)
                        .header("Host", &options.host)
                        .timeout(options.timeout);
                    let mut keep_alive = KeepAlive::new(options.addr);
                    while Instant::now() < deadline {
                        let answered: Result<_, HttpError> = keep_alive.send(&request).await;
                        ok += usize::from(answered.is_ok_and(|r| (200..400).contains(&r.status)));
                    }
                }
            }
            ok
        });
    }
    let mut total = 0;
    while let Some(ok) = workers.join_next().await {
        total += ok.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// wrk's requests/s on the same load, if wrk is installed.
fn wrk_rate(addr: SocketAddr) -> Option<f64> {
    let out = Command::new("wrk")
        .args(["-t2", &format!("-c{CONNECTIONS}"), &format!("-d{SECONDS}s")])
        .arg(format!("http://{addr}/"))
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|r| r.trim().parse().ok())
}

/// loadgen's own client before it moved to test-support's, verbatim. It is kept on purpose as the
/// measured "before": where it repeats test-support's code (reading a status line and headers in
/// `read_answer`), it must not be made to call it, or the comparison would time the shared client
/// twice.
mod old {
    use std::fmt::Write as _;

    use loadgen::{Mode, Options, Outcome};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// An open connection, with whatever of the next answer has been read already.
    #[derive(Debug)]
    pub(crate) struct Connection {
        stream: TcpStream,
        buffer: Vec<u8>,
    }

    /// One request: on `connection` if it is open (keep-alive), else on a new one. The connection is
    /// kept for the next request only if the answer was complete and did not say `Connection: close`.
    pub(crate) async fn one(
        options: &Options,
        connection: &mut Option<Connection>,
    ) -> (Outcome, Option<String>) {
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
    /// bytes after it in the buffer. Its head parsing repeats test-support's `decode` on purpose:
    /// this is the baseline (see the module's comment).
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
}
