//! `balancer LISTEN BACKEND…`: the small load balancer of 5.3, for example
//! `balancer 127.0.0.1:8080 127.0.0.1:8081 127.0.0.1:8082`. `CHECK_INTERVAL_MS` (default 1000)
//! sets how often each backend's `/readyz` is checked.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use ch05_horizontal_scaling::{balancer::Pool, proxy};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_target(false)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed: Result<Vec<SocketAddr>, _> = args.iter().map(|a| a.parse()).collect();
    let addrs = match parsed {
        Ok(addrs) if addrs.len() >= 2 => addrs,
        _ => {
            eprintln!(
                "usage: balancer LISTEN BACKEND [BACKEND…], each as host:port (IP addresses)"
            );
            return ExitCode::from(2);
        }
    };
    let interval = std::env::var("CHECK_INTERVAL_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(1), Duration::from_millis);
    let listener = match tokio::net::TcpListener::bind(addrs[0]).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("balancer: cannot bind {}: {err}", addrs[0]);
            return ExitCode::from(78);
        }
    };
    let local = listener.local_addr().map_or(addrs[0], |a| a);
    tracing::info!(backends = ?&addrs[1..], "listening addr={local}");
    let pool = Arc::new(Pool::new(addrs[1..].to_vec()));
    tokio::select! {
        () = proxy::serve(listener, pool, interval) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    ExitCode::SUCCESS
}
