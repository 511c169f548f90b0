//! The one HTTP/1.1 client of the workbook's tests and tools, written on a raw TCP stream so that
//! a caller can tell exactly what happened to a request: refused (nothing listening), cut off
//! (the connection was closed or reset before a complete answer), timed out, or answered. A full
//! client would retry or pool connections and blur those differences, which are what a shutdown
//! or scaling test is about.
//!
//! - [`Request`]: method, path, headers, body and an optional time limit. [`Request::send`]
//!   sends it on a new connection from async code, [`Request::send_blocking`] from sync code
//!   (std::net, no runtime); both write the same bytes and report the same errors.
//! - [`KeepAlive`]: one persistent connection, reused until the server says or shows it is
//!   closing it, as browsers, client pools and wrk do; [`keep_alive_load`] runs several.
//! - [`get`], [`send`], [`read_one`], [`read_to_end`]: the single steps, for tests that hold a
//!   connection themselves (an idle keep-alive client during a drain).
//!
//! Answers are read by their framing (`Content-Length`, chunked, or to the end of the
//! connection), so a kept-alive connection is left exactly at the start of the next answer.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod framing;
mod keep_alive;
mod load;

pub use keep_alive::KeepAlive;
pub use load::{Load, keep_alive_load, keep_alive_load_counting};

use framing::{Decoded, at_eof, decode, read_answer};

/// A request: what goes on the wire, and how long the whole exchange may take.
///
/// `Host: localhost` is added unless a `Host` header is given, `Connection` says whether the
/// connection stays open (unless given), and `Content-Length` is added when there is a body or the
/// method is `POST`, `PUT` or `PATCH` (unless given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path and query: `/slow?ms=500`.
    pub path: String,
    /// Header lines, in the order they are sent.
    pub headers: Vec<(String, String)>,
    /// The body, sent as it is.
    pub body: Vec<u8>,
    /// The longest the whole exchange (connect, send, read the answer) may take; `None` waits as
    /// long as the server does.
    pub timeout: Option<Duration>,
}

impl Request {
    /// `method path`, with no headers of its own, no body and no time limit.
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Request {
        Request {
            method: method.into(),
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout: None,
        }
    }

    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Request {
        Request::new("GET", path)
    }

    /// `POST path` with `body` (empty is fine: `Content-Length: 0` is sent).
    pub fn post(path: impl Into<String>, body: impl Into<Vec<u8>>) -> Request {
        Request::new("POST", path).body(body)
    }

    /// Adds a header line.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// Bounds the whole exchange; past it the request fails with [`HttpError::TimedOut`].
    pub fn timeout(mut self, limit: Duration) -> Request {
        self.timeout = Some(limit);
        self
    }

    /// Aims the request at `addr`: the result can be given more headers, then `.await`ed or sent
    /// with [`Call::blocking`].
    pub fn to(self, addr: SocketAddr) -> Call {
        Call {
            addr,
            request: self,
        }
    }

    /// Sends the request on a new connection (`Connection: close`) and reads the answer.
    pub async fn send(&self, addr: SocketAddr) -> Result<Response, HttpError> {
        within(self.timeout, async {
            let mut stream = TcpStream::connect(addr).await.map_err(classify)?;
            let mut wire = Vec::new();
            self.encode(false, &mut wire);
            stream.write_all(&wire).await.map_err(classify)?;
            let mut buffer = Vec::new();
            let (response, _) =
                read_answer(&mut stream, &mut buffer, self.is_head(), false).await?;
            Ok(response)
        })
        .await
    }

    /// [`send`](Self::send) for code without a runtime: the same bytes, answer and errors, on a
    /// std::net stream whose connect, write and read time limits are what is left of the
    /// request's timeout.
    pub fn send_blocking(&self, addr: SocketAddr) -> Result<Response, HttpError> {
        let deadline = Deadline::new(self.timeout);
        let mut stream = match deadline.left()? {
            Some(left) => std::net::TcpStream::connect_timeout(&addr, left),
            None => std::net::TcpStream::connect(addr),
        }
        .map_err(|err| deadline.classify(err))?;
        let mut wire = Vec::new();
        self.encode(false, &mut wire);
        stream
            .set_write_timeout(deadline.left()?)
            .map_err(HttpError::Other)?;
        stream
            .write_all(&wire)
            .map_err(|err| deadline.classify(err))?;
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            if let Decoded::Complete { response, .. } = decode(&buffer, self.is_head(), false)? {
                return Ok(response);
            }
            stream
                .set_read_timeout(deadline.left()?)
                .map_err(HttpError::Other)?;
            let n = stream
                .read(&mut chunk)
                .map_err(|err| deadline.classify(err))?;
            if n == 0 {
                return at_eof(&buffer, self.is_head(), false).map(|(response, _, _)| response);
            }
            buffer.extend_from_slice(&chunk[..n]);
        }
    }

    fn is_head(&self) -> bool {
        self.method.eq_ignore_ascii_case("HEAD")
    }

    fn has(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// The request as bytes, into `wire` (cleared first, so that a caller can reuse it).
    fn encode(&self, keep_alive: bool, wire: &mut Vec<u8>) {
        wire.clear();
        // Writing into a Vec cannot fail.
        let _ = write!(wire, "{} {} HTTP/1.1\r\n", self.method, self.path);
        if !self.has("host") {
            wire.extend_from_slice(b"Host: localhost\r\n");
        }
        for (name, value) in &self.headers {
            let _ = write!(wire, "{name}: {value}\r\n");
        }
        if !self.has("connection") {
            wire.extend_from_slice(if keep_alive {
                b"Connection: keep-alive\r\n"
            } else {
                b"Connection: close\r\n"
            });
        }
        let wants_length = !self.body.is_empty()
            || ["POST", "PUT", "PATCH"]
                .iter()
                .any(|m| self.method.eq_ignore_ascii_case(m));
        if wants_length && !self.has("content-length") {
            let _ = write!(wire, "Content-Length: {}\r\n", self.body.len());
        }
        wire.extend_from_slice(b"\r\n");
        wire.extend_from_slice(&self.body);
    }
}

/// A [`Request`] aimed at an address; `.await` sends it on a new connection.
#[derive(Debug, Clone)]
pub struct Call {
    addr: SocketAddr,
    request: Request,
}

impl Call {
    /// Adds a header line.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Call {
        self.request = self.request.header(name, value);
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Call {
        self.request = self.request.body(body);
        self
    }

    /// Bounds the whole exchange.
    pub fn timeout(mut self, limit: Duration) -> Call {
        self.request = self.request.timeout(limit);
        self
    }

    /// The request as it stands.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Sends it from sync code ([`Request::send_blocking`]).
    pub fn blocking(self) -> Result<Response, HttpError> {
        self.request.send_blocking(self.addr)
    }
}

impl std::future::IntoFuture for Call {
    type Output = Result<Response, HttpError>;
    type IntoFuture =
        std::pin::Pin<Box<dyn std::future::Future<Output = Self::Output> + Send + 'static>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.request.send(self.addr).await })
    }
}

/// An answer: status code, headers and body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `200`, `503`, …
    pub status: u16,
    /// Header lines as the server sent them (names in its own case), in order.
    pub headers: Vec<(String, String)>,
    /// The body as text (the chapter services answer with short text or JSON), chunks joined.
    pub body: String,
}

impl Response {
    /// The first header called `name` (in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What can go wrong, in the terms a shutdown or scaling test cares about.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Nothing was listening: the connection was refused, so no request was sent.
    #[error("the connection was refused (nothing listening)")]
    Refused,
    /// The server closed or reset the connection before a complete answer.
    #[error("the request was cut off: {0}")]
    CutOff(CutOff),
    /// No complete answer within the request's time limit.
    #[error("no complete answer within {}", crate::human(*.0))]
    TimedOut(Duration),
    /// Anything else: an answer that is not HTTP, a connect error other than a refusal, …
    #[error("{0}")]
    Other(io::Error),
}

/// How a connection ended before a complete answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutOff {
    /// A reset (RST: the read or write failed) rather than an orderly close (EOF). wrk counts
    /// both as errors; a balancer test tells them apart.
    pub reset: bool,
    /// What the client saw.
    pub detail: String,
}

impl std::fmt::Display for CutOff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

fn closed(detail: &str) -> HttpError {
    HttpError::CutOff(CutOff {
        reset: false,
        detail: detail.to_owned(),
    })
}

fn classify(err: io::Error) -> HttpError {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => HttpError::Refused,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => HttpError::CutOff(CutOff {
            reset: true,
            detail: err.to_string(),
        }),
        io::ErrorKind::UnexpectedEof => HttpError::CutOff(CutOff {
            reset: false,
            detail: err.to_string(),
        }),
        _ => HttpError::Other(err),
    }
}

/// Runs `exchange` within `limit`, if there is one.
async fn within<T>(
    limit: Option<Duration>,
    exchange: impl std::future::Future<Output = Result<T, HttpError>>,
) -> Result<T, HttpError> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, exchange)
            .await
            .unwrap_or(Err(HttpError::TimedOut(limit))),
        None => exchange.await,
    }
}

/// The blocking client's clock: one deadline for the whole exchange, handed to each socket call
/// as the time left.
struct Deadline(Option<(Instant, Duration)>);

impl Deadline {
    fn new(limit: Option<Duration>) -> Deadline {
        Deadline(limit.map(|limit| (Instant::now() + limit, limit)))
    }

    /// The time left (`None`: no limit), or `TimedOut` once there is none (a zero socket timeout
    /// would mean "no limit" to std).
    fn left(&self) -> Result<Option<Duration>, HttpError> {
        match self.0 {
            None => Ok(None),
            Some((at, limit)) => match at.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Ok(Some(left)),
                _ => Err(HttpError::TimedOut(limit)),
            },
        }
    }

    fn classify(&self, err: io::Error) -> HttpError {
        match (self.0, err.kind()) {
            // A socket timeout shows as WouldBlock on Unix and TimedOut elsewhere.
            (Some((_, limit)), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                HttpError::TimedOut(limit)
            }
            _ => classify(err),
        }
    }
}

/// The address in a line a service printed when it was ready: the word `addr=127.0.0.1:PORT`
/// (`listening addr=…`, `ready addr=…`; quotes around it are allowed). The one parser of those
/// lines, used by [`Server`](crate::Server) and every chapter's tests.
pub fn addr_in(line: &str) -> Result<SocketAddr, String> {
    let word = line
        .split_whitespace()
        .find_map(|word| word.strip_prefix("addr="))
        .ok_or_else(|| format!("no `addr=` in {line:?}"))?;
    word.trim_matches('"')
        .parse()
        .map_err(|err| format!("{line:?}: {err}"))
}

/// `GET path` on a new connection (`Connection: close`), with no time limit.
pub async fn get(addr: SocketAddr, path: &str) -> Result<Response, HttpError> {
    Request::get(path).send(addr).await
}

/// Sends `method path` on an open connection without waiting for the answer, asking the server to
/// close it afterwards if `close`, else to keep it open.
pub async fn send(
    stream: &mut TcpStream,
    method: &str,
    path: &str,
    close: bool,
) -> Result<(), HttpError> {
    let mut wire = Vec::new();
    Request::new(method, path).encode(!close, &mut wire);
    stream.write_all(&wire).await.map_err(classify)
}

/// Reads until the server closes the connection and parses the answer; an idle connection that
/// is closed without one is [`HttpError::CutOff`].
pub async fn read_to_end(stream: &mut TcpStream) -> Result<Response, HttpError> {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.map_err(classify)?;
    at_eof(&raw, false, false).map(|(response, _, _)| response)
}

/// Reads exactly one answer from a keep-alive connection, leaving the connection open.
pub async fn read_one(stream: &mut TcpStream) -> Result<Response, HttpError> {
    let mut buffer = Vec::new();
    read_answer(stream, &mut buffer, false, false)
        .await
        .map(|(response, _)| response)
}
