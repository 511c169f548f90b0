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
