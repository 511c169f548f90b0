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
