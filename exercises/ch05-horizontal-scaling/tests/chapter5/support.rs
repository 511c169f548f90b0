//! Starting copies of the service against one Redis, the balancer in front of them, and a small
//! HTTP client with headers.

use std::net::SocketAddr;
use std::time::Duration;

use test_support::{Redis, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `n` copies of the service on free ports, sharing `redis` (and its key prefix).
pub async fn instances(redis: &Redis, n: usize, env: &[(&str, &str)]) -> Vec<(Server, SocketAddr)> {
    let mut all = Vec::new();
    for i in 0..n {
        let mut builder = Server::builder(env!("CARGO_BIN_EXE_service"))
            .name(format!("instance {}", i + 1))
            .redis(redis)
            .env("HOST", "127.0.0.1")
            .env("INSTANCE", format!("i{}", i + 1));
        for (k, v) in env {
            builder = builder.env(*k, *v);
        }
        all.push(builder.spawn_service().await);
    }
    all
}

/// The chapter's balancer (5.3) in front of `backends`, checking them every `interval_ms`.
pub async fn balancer(backends: &[SocketAddr], interval_ms: u64) -> (Server, SocketAddr) {
    let mut builder = Server::builder(env!("CARGO_BIN_EXE_balancer"))
        .name("the balancer")
        .env("CHECK_INTERVAL_MS", interval_ms.to_string())
        .arg("127.0.0.1:0");
    for addr in backends {
        builder = builder.arg(addr.to_string());
    }
    builder.spawn_service().await
}

/// An answer: status, header lines, body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// One request on a new connection, within 5 s.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Answer {
    let attempt = async {
        let mut stream = TcpStream::connect(addr).await?;
        let mut text =
            format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        if method == "POST" {
            text.push_str("Content-Length: 0\r\n");
        }
        text.push_str("\r\n");
        stream.write_all(text.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&raw).to_string())
    };
    let raw = match tokio::time::timeout(Duration::from_secs(5), attempt).await {
        Ok(Ok(raw)) => raw,
        Ok(Err(err)) => panic!("{method} {path} on {addr} failed: {err}"),
        Err(_) => panic!("{method} {path} on {addr}: no answer within 5 s"),
    };
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{method} {path} on {addr}: not an HTTP answer: {raw:?}"));
    Answer {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}
