//! The chapter 1 service. Run it with `just run chapter1` (your version) or
//! `just run chapter1 --solution`, then try `curl 'localhost:3000/slow?ms=5000'` and press
//! Ctrl-C while it waits.
//!
//! `main` only reads the configuration, installs the signal handlers, connects, binds and hands
//! over to `lifecycle::run`; everything worth testing happens there.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use ch01_graceful_shutdown::signal::Signals;
use ch01_graceful_shutdown::{Config, Outcome, lifecycle};
use tokio::net::TcpListener;
use tracing::{error, info};

/// Exit code for a service that cannot start: bad settings, Redis unreachable, port taken.
/// 78 is `EX_CONFIG` from sysexits.h; systemd units can name it in `RestartPreventExitStatus=`
/// so that a crash loop does not hammer a misconfigured service (restarting will not fix it).
const CANNOT_START: u8 = 78;

#[tokio::main]
async fn main() -> ExitCode {
    service_kit::telemetry::init();
    match start().await {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            error!("cannot start: {err:#}");
            ExitCode::from(CANNOT_START)
        }
    }
}

// ANCHOR: start
async fn start() -> anyhow::Result<Outcome> {
    let config = Config::from_env()?;
    // Before anything else: from here on a SIGTERM is ours to handle (1.1).
    let signals = Signals::install().context("installing the signal handlers")?;
    let redis = service_kit::redis::connect(&config.redis_url, Duration::from_secs(3)).await?;
    let listener = TcpListener::bind((config.host, config.port))
        .await
        .with_context(|| format!("binding {}:{}", config.host, config.port))?;
    // The one line that says "ready": tests and humans wait for it.
    info!(addr = %listener.local_addr()?, "listening");
    Ok(lifecycle::run(listener, &config, redis, signals).await?)
}
// ANCHOR_END: start
