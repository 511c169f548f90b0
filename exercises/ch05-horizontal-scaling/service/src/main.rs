//! `service`: the chapter 5 service. Exit codes: 0 after a clean stop, 1 when the shutdown
//! deadline passed, 78 when it cannot start (bad settings, Redis unreachable).

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use service::app::{self, Shared};
use service::config::Config;
use service::state::Store;

const CANNOT_START: u8 = 78;

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return healthcheck();
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("service: cannot start: {err}");
            return ExitCode::from(CANNOT_START);
        }
    };
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("service: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let redis = match connect(&config.redis_url).await {
            Ok(redis) => redis,
            Err(err) => {
                tracing::error!("cannot start: {err}");
                return ExitCode::from(CANNOT_START);
            }
        };
        let store = Store::new(redis, config.prefix.clone());
        app::serve(Arc::new(Shared {
            config,
            store,
            shutting_down: AtomicBool::new(false),
        }))
        .await
    })
}

/// Connects to Redis within 3 s, or says where it looked.
async fn connect(url: &str) -> Result<redis::aio::ConnectionManager, String> {
    let client = redis::Client::open(url).map_err(|e| format!("REDIS_URL={url}: {e}"))?;
    match tokio::time::timeout(Duration::from_secs(3), client.get_connection_manager()).await {
        Ok(Ok(manager)) => Ok(manager),
        Ok(Err(err)) => Err(format!("cannot reach Redis at {url}: {err}")),
        Err(_) => Err(format!("Redis at {url} did not answer within 3 s")),
    }
}

/// `service healthcheck`: exit 0 if this machine's service answers `/readyz` with 200 within
/// 2 s (chapter 3, 3.3): the image's HEALTHCHECK, with no curl in the image.
fn healthcheck() -> ExitCode {
    use std::io::{Read, Write};
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let timeout = Duration::from_secs(2);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let answer = std::net::TcpStream::connect_timeout(&addr, timeout).and_then(|mut stream| {
        stream.set_read_timeout(Some(timeout))?;
        stream
            .write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head)
    });
    match answer {
        Ok(head) if head.ends_with(b" 200") => ExitCode::SUCCESS,
        Ok(head) => {
            eprintln!(
                "unhealthy: /readyz answered {:?}",
                String::from_utf8_lossy(&head)
            );
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("unhealthy: {err}");
            ExitCode::FAILURE
        }
    }
}
