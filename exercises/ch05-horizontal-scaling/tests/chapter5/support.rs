//! Starting copies of the service against one Redis, the balancer in front of them, and one
//! request with headers (test-support's HTTP client, with this chapter's time limit).

use std::net::SocketAddr;
use std::time::Duration;

use test_support::http::{HttpError, Request, Response};
use test_support::{Redis, Server};

/// `n` copies of the service on free ports, sharing `redis` (and its key prefix).
pub(crate) async fn instances(
    redis: &Redis,
    n: usize,
    env: &[(&str, &str)],
) -> Vec<(Server, SocketAddr)> {
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
pub(crate) async fn balancer(backends: &[SocketAddr], interval_ms: u64) -> (Server, SocketAddr) {
    let mut builder = Server::builder(env!("CARGO_BIN_EXE_balancer"))
        .name("the balancer")
        .env("CHECK_INTERVAL_MS", interval_ms.to_string())
        .arg("127.0.0.1:0");
    for addr in backends {
        builder = builder.arg(addr.to_string());
    }
    builder.spawn_service().await
}

/// One request on a new connection, within 5 s, through the test-support client; a request
/// that gets no answer fails the test with what happened to it.
pub(crate) async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Response {
    let mut request = Request::new(method, path).timeout(Duration::from_secs(5));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send(addr).await.unwrap_or_else(|err| match err {
        HttpError::TimedOut(_) => panic!("{method} {path} on {addr}: no answer within 5 s"),
        err => panic!("{method} {path} on {addr} failed: {err}"),
    })
}
