//! A deliberately small HTTP/1.1 client on a raw `TcpStream`, so that a test can tell exactly
//! what happened to a request during shutdown: refused (nobody listening), reset or closed before
//! an answer (the request was cut off), or answered. A full client would retry or pool
//! connections and blur that difference.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An answer: status code and body text.
#[derive(Debug, Clone)]
pub struct Response {
    /// `200`, `503`, …
    pub status: u16,
    /// The body as text (the chapter services answer with short text or JSON).
    pub body: String,
}

/// What can go wrong, in the terms a shutdown test cares about.
#[derive(Debug)]
pub enum HttpError {
    /// Nothing was listening: the connection was refused.
    Refused,
    /// The server closed or reset the connection before a complete answer.
    CutOff(String),
    /// Anything else.
    Other(io::Error),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Refused => write!(f, "the connection was refused (nothing listening)"),
            HttpError::CutOff(how) => write!(f, "the request was cut off: {how}"),
            HttpError::Other(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for HttpError {}

fn classify(err: io::Error) -> HttpError {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => HttpError::Refused,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => HttpError::CutOff(err.to_string()),
        _ => HttpError::Other(err),
    }
}

/// `GET path` on a new connection (`Connection: close`), reading the whole answer.
pub async fn get(addr: SocketAddr, path: &str) -> Result<Response, HttpError> {
    let mut stream = TcpStream::connect(addr).await.map_err(classify)?;
    send(&mut stream, "GET", path, true).await?;
    read_to_end(&mut stream).await
}

/// Sends one request on an open connection without waiting for the answer.
pub async fn send(
    stream: &mut TcpStream,
    method: &str,
    path: &str,
    close: bool,
) -> Result<(), HttpError> {
    let connection = if close { "close" } else { "keep-alive" };
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: {connection}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.map_err(classify)
}

/// Reads until the server closes the connection and parses the answer.
pub async fn read_to_end(stream: &mut TcpStream) -> Result<Response, HttpError> {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.map_err(classify)?;
    parse(&raw)
}

/// Reads exactly one answer from a keep-alive connection (by `Content-Length`), leaving the
/// connection open.
pub async fn read_one(stream: &mut TcpStream) -> Result<Response, HttpError> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = find(&raw, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_string();
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())
                        .flatten()
                })
                .unwrap_or(0);
            if raw.len() >= end + 4 + length {
                return parse(&raw[..end + 4 + length]);
            }
        }
        let n = stream.read(&mut buf).await.map_err(classify)?;
        if n == 0 {
            return Err(HttpError::CutOff(
                "the server closed the connection before a complete answer".into(),
            ));
        }
        raw.extend_from_slice(&buf[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse(raw: &[u8]) -> Result<Response, HttpError> {
    if raw.is_empty() {
        return Err(HttpError::CutOff(
            "the server closed the connection without answering".into(),
        ));
    }
    let Some(end) = find(raw, b"\r\n\r\n") else {
        return Err(HttpError::CutOff(
            "the answer stopped in the middle of its headers".into(),
        ));
    };
    let head = String::from_utf8_lossy(&raw[..end]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| HttpError::Other(io::Error::other(format!("not HTTP: {head:?}"))))?;
    let body = String::from_utf8_lossy(&raw[end + 4..]).to_string();
    Ok(Response { status, body })
}

/// A client that keeps its connection open between requests, as browsers, client pools, nginx's
/// upstream `keepalive` and wrk do. It opens a new connection only when the server said it would
/// close this one (`Connection: close`) or closed it. It never retries: a request that meets a
/// connection the server is closing is an error, which is what a shutdown test must see.
#[derive(Debug)]
pub struct KeepAlive {
    addr: SocketAddr,
    open: Option<(TcpStream, Vec<u8>)>,
    /// Connections opened so far.
    pub connections: usize,
}

impl KeepAlive {
    /// A client for `addr`; it connects on its first request.
    pub fn new(addr: SocketAddr) -> KeepAlive {
        KeepAlive {
            addr,
            open: None,
            connections: 0,
        }
    }

    /// `GET path` on the open connection, or on a new one if there is none.
    pub async fn get(&mut self, path: &str) -> Result<Response, HttpError> {
        let (mut stream, mut buffer) = match self.open.take() {
            Some(open) => open,
            None => {
                let stream = TcpStream::connect(self.addr).await.map_err(classify)?;
                self.connections += 1;
                (stream, Vec::new())
            }
        };
        send(&mut stream, "GET", path, false).await?;
        let (response, close) = read_kept(&mut stream, &mut buffer).await?;
        if !close {
            self.open = Some((stream, buffer));
        }
        Ok(response)
    }
}

/// Reads one answer by `Content-Length` from a kept-alive connection, keeping what follows it
/// in `buffer`; also says whether the server will close the connection after it.
async fn read_kept(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> Result<(Response, bool), HttpError> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(buffer, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_string();
            let header = |wanted: &str| {
                head.lines().find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.trim()
                        .eq_ignore_ascii_case(wanted)
                        .then(|| value.trim().to_ascii_lowercase())
                })
            };
            let length = header("content-length")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            let close = header("connection").is_some_and(|v| v.contains("close"));
            if buffer.len() >= end + 4 + length {
                let response = parse(&buffer[..end + 4 + length])?;
                buffer.drain(..end + 4 + length);
                return Ok((response, close));
            }
        }
        let n = stream.read(&mut chunk).await.map_err(classify)?;
        if n == 0 {
            return Err(HttpError::CutOff(if buffer.is_empty() {
                "the server closed the kept-alive connection without answering the request \
                 sent on it"
                    .into()
            } else {
                "the server closed the connection before a complete answer".into()
            }));
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

/// What [`keep_alive_load`] saw.
#[derive(Debug, Default)]
pub struct Load {
    /// Requests answered with 2xx.
    pub ok: usize,
    /// Requests sent that failed (cut off, or answered with an error status), as text.
    pub failed: Vec<String>,
    /// Connections refused: no request was sent on them (nothing was listening any more).
    pub refused: usize,
    /// Connections opened.
    pub connections: usize,
}

/// `connections` keep-alive clients sending `GET path` one request after another, until `stop`
/// completes or every client's connection is refused (the server is gone). At most `limit`
/// requests in all, so that a test never runs away.
pub async fn keep_alive_load(
    addr: SocketAddr,
    connections: usize,
    path: &str,
    limit: usize,
    stop: impl std::future::Future<Output = ()>,
) -> Load {
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (done, sent, path) = (done.clone(), sent.clone(), path.to_string());
        clients.spawn(async move {
            use std::sync::atomic::Ordering::Relaxed;
            let mut load = Load::default();
            let mut client = KeepAlive::new(addr);
            while !done.load(Relaxed) && sent.fetch_add(1, Relaxed) < limit {
                match client.get(&path).await {
                    Ok(r) if (200..300).contains(&r.status) => load.ok += 1,
                    Ok(r) => load
                        .failed
                        .push(format!("status {}: {}", r.status, r.body.trim())),
                    Err(HttpError::Refused) => {
                        load.refused += 1;
                        break;
                    }
                    Err(err) => load.failed.push(err.to_string()),
                }
            }
            load.connections = client.connections;
            load
        });
    }
    let collect = async {
        let mut total = Load::default();
        while let Some(load) = clients.join_next().await {
            let load = load.expect("a load client panicked");
            total.ok += load.ok;
            total.failed.extend(load.failed);
            total.refused += load.refused;
            total.connections += load.connections;
        }
        total
    };
    tokio::pin!(collect);
    tokio::select! {
        total = &mut collect => return total,
        () = stop => {}
    }
    // Let every client finish the request it is on: stopping must not cut one off.
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    collect.await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that answers `answers` requests on each connection, the last one with
    /// `Connection: close` when `close_last`, and then closes (without answering, if not).
    async fn server(answers: usize, close_last: bool) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut chunk = [0u8; 1024];
                    for n in 1.. {
                        while find(&buffer, b"\r\n\r\n").is_none() {
                            match stream.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(k) => buffer.extend_from_slice(&chunk[..k]),
                            }
                        }
                        let end = find(&buffer, b"\r\n\r\n").unwrap();
                        buffer.drain(..end + 4);
                        if n > answers {
                            return;
                        }
                        let close = if close_last && n == answers {
                            "Connection: close\r\n"
                        } else {
                            ""
                        };
                        let answer =
                            format!("HTTP/1.1 200 OK\r\n{close}Content-Length: 3\r\n\r\nok\n");
                        if stream.write_all(answer.as_bytes()).await.is_err() || !close.is_empty() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn keep_alive_reuses_its_connection_and_reconnects_after_connection_close() {
        let mut client = KeepAlive::new(server(3, true).await);
        for _ in 0..7 {
            assert_eq!(client.get("/").await.unwrap().body, "ok\n");
        }
        assert_eq!(
            client.connections, 3,
            "3 answers a connection: 7 requests need 3"
        );
    }

    #[tokio::test]
    async fn keep_alive_reports_a_request_met_by_a_closing_connection() {
        let mut client = KeepAlive::new(server(1, false).await);
        assert_eq!(client.get("/").await.unwrap().status, 200);
        let err = client.get("/").await.unwrap_err();
        assert!(matches!(err, HttpError::CutOff(_)), "{err}");
    }

    #[tokio::test]
    async fn keep_alive_load_stops_when_nothing_listens_and_counts_refusals_apart() {
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let load = keep_alive_load(closed, 4, "/", 1000, std::future::pending()).await;
        assert_eq!((load.ok, load.refused, load.failed.len()), (0, 4, 0));
    }
}
