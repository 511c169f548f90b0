//! The balancer's plumbing (given): accept a connection, read one HTTP/1.1 request, send it to
//! the backend `Pool::pick` chooses, retry where `may_retry` allows, and copy the answer back.
//! One request per connection (`Connection: close`) keeps it small; nginx and HAProxy keep
//! connections open and do much more, but decide the same two things.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::balancer::{Pool, may_retry};

/// How long a backend may take to accept a connection, and to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves on `listener`, checking every backend's `/readyz` every `interval`.
pub async fn serve(listener: TcpListener, pool: Arc<Pool>, interval: Duration) {
    tokio::spawn(health_checks(pool.clone(), interval));
    loop {
        let Ok((client, peer)) = listener.accept().await else {
            continue;
        };
        let pool = pool.clone();
        tokio::spawn(async move {
            if let Err(err) = handle(client, peer, &pool).await {
                tracing::debug!("client {peer}: {err}");
            }
        });
    }
}

async fn health_checks(pool: Arc<Pool>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        for addr in pool.addrs() {
            let ok = matches!(
                tokio::time::timeout(CONNECT_TIMEOUT, fetch(addr, b"GET /readyz HTTP/1.1\r\nHost: backend\r\nConnection: close\r\n\r\n")).await,
                Ok(Ok(answer)) if status_of(&answer) == Some(200)
            );
            if pool.record_check(addr, ok) {
                let state = if pool.is_healthy(addr) { "up" } else { "down" };
                tracing::info!("backend {state} addr={addr}");
            }
        }
    }
}

/// Sends `request` to `addr` and reads the whole answer.
async fn fetch(addr: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    Ok(answer)
}

fn status_of(answer: &[u8]) -> Option<u16> {
    let line = answer.split(|b| *b == b'\n').next()?;
    std::str::from_utf8(line)
        .ok()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Reads one request: the head, then `Content-Length` bytes of body.
async fn read_request(client: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return Err(std::io::Error::other("request head too large"));
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok((head, body))
}

// ANCHOR: rewrite
/// The request as the backend gets it: `Connection: close`, and the client's address, as this
/// balancer saw it on the socket, in `X-Real-IP`: the one header the service's rate limit
/// believes, and only from a trusted proxy (5.4). Whatever `X-Real-IP` the client sent is
/// dropped, not passed on. `X-Forwarded-For` gets the address appended, as nginx's
/// `$proxy_add_x_forwarded_for` does: everything left of it is what the client wrote.
fn rewrite(head: &str, body: &[u8], peer: SocketAddr) -> Vec<u8> {
    let mut out = String::new();
    let mut forwarded = Vec::new();
    for (i, line) in head.trim_end().split("\r\n").enumerate() {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let name = name.trim().to_ascii_lowercase();
        if i > 0 && (name == "connection" || name == "x-real-ip") {
            continue;
        }
        if i > 0 && name == "x-forwarded-for" {
            forwarded.push(value.trim().to_string());
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    forwarded.push(peer.ip().to_string());
    out.push_str(&format!(
        "Connection: close\r\nX-Real-IP: {}\r\nX-Forwarded-For: {}\r\n\r\n",
        peer.ip(),
        forwarded.join(", ")
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}
// ANCHOR_END: rewrite

async fn handle(mut client: TcpStream, peer: SocketAddr, pool: &Pool) -> std::io::Result<()> {
    let (head, body) = read_request(&mut client).await?;
    let method = head.split_whitespace().next().unwrap_or("GET").to_string();
    let request = rewrite(&head, &body, peer);
    let mut tried = Vec::new();
    let answer = loop {
        let Some(addr) = pool.pick(&tried) else {
            break bad_gateway("no healthy backend left to try");
        };
        tried.push(addr);
        let mut stream = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await
        {
            Ok(Ok(stream)) => stream,
            _ => {
                tracing::warn!("backend {addr} refused {method}");
                if may_retry(&method, false) {
                    continue;
                }
                break bad_gateway("the backend refused the connection");
            }
        };
        let exchange = async {
            stream.write_all(&request).await?;
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).await?;
            Ok::<_, std::io::Error>(answer)
        };
        match tokio::time::timeout(ANSWER_TIMEOUT, exchange).await {
            Ok(Ok(answer)) if status_of(&answer).is_some() => break answer,
            _ => {
                tracing::warn!("backend {addr} did not answer {method}");
                if may_retry(&method, true) {
                    continue;
                }
                break bad_gateway(
                    "the backend did not answer, and the request may not be repeated",
                );
            }
        }
    };
    client.write_all(&answer).await?;
    client.shutdown().await
}

fn bad_gateway(why: &str) -> Vec<u8> {
    let body = format!("502 bad gateway: {why}\n");
    format!(
        "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
