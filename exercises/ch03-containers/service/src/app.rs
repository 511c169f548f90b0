//! The routes and the serve loop (given: chapter 1 taught how it shuts down).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;
use constant_time_eq::constant_time_eq;
use tokio::net::TcpListener;

use crate::config::{Config, LogLevel};
use crate::shutdown;

/// Logs go to standard output, one line per event, no colours: `docker logs` collects them.
pub fn init_logging(level: LogLevel) {
    let level = match level {
        LogLevel::Trace => tracing::Level::TRACE,
        LogLevel::Debug => tracing::Level::DEBUG,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Error => tracing::Level::ERROR,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_target(false)
        .init();
}

/// The routes: `/` greets, `/healthz` answers 200 while serving, `/admin/config` shows the
/// configuration (redacted) to a caller with the API key.
pub fn router(config: Arc<Config>) -> Router {
    Router::new()
        .route("/", get(hello))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/admin/config", get(admin_config))
        .with_state(config)
}

async fn hello() -> String {
    // Docker sets HOSTNAME to the container's id: useful when several replicas answer (chapter 5).
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "unknown".into());
    format!("hello from {host}\n")
}

async fn admin_config(
    State(config): State<Arc<Config>>,
    headers: HeaderMap,
) -> (StatusCode, String) {
    let expected = format!("Bearer {}", config.api_key.expose());
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    // In constant time: `==` stops at the first byte that differs, so how long a wrong key
    // takes to refuse says how much of it was right, and a key can be guessed byte by byte
    // (3.1). Only the length shows.
    if given.is_some_and(|given| constant_time_eq(given.as_bytes(), expected.as_bytes())) {
        (StatusCode::OK, format!("{config:#?}\n"))
    } else {
        (
            StatusCode::UNAUTHORIZED,
            "send Authorization: Bearer <API_KEY>\n".into(),
        )
    }
}

/// Binds, serves until a shutdown signal, then drains for at most `shutdown_timeout`.
pub async fn serve(config: Config) -> ExitCode {
    // The handlers go in before the service says it is listening: from then on, a SIGTERM is
    // ours to handle (3.4).
    let stop = match shutdown::listen() {
        Ok(stop) => stop,
        Err(err) => {
            tracing::error!("cannot install the signal handlers: {err}");
            return ExitCode::FAILURE;
        }
    };
    let addr = SocketAddr::from((config.host, config.port));
    let listener = match TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(err) => {
            tracing::error!(%addr, "cannot bind: {err}");
            return ExitCode::from(78);
        }
    };
    let local = listener.local_addr().map_or(addr, |a| a);
    tracing::info!("listening addr={local}");
    let deadline = config.shutdown_timeout;
    let (begun_tx, begun_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, router(Arc::new(config))).with_graceful_shutdown(async {
        let name = stop.await;
        tracing::info!("shutting down signal={name}");
        let _ = begun_tx.send(());
    });
    let server = tokio::spawn(async move { server.await });
    // The deadline starts at the signal, not at start-up.
    let deadline_passed = async {
        match begun_rx.await {
            Ok(()) => tokio::time::sleep(deadline).await,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        result = server => match result {
            Ok(Ok(())) => {
                tracing::info!("stopped cleanly");
                ExitCode::SUCCESS
            }
            Ok(Err(err)) => {
                tracing::error!("server error: {err}");
                ExitCode::FAILURE
            }
            Err(err) => {
                tracing::error!("server task failed: {err}");
                ExitCode::FAILURE
            }
        },
        () = deadline_passed => {
            tracing::error!("shutdown deadline of {deadline:?} passed; exiting anyway");
            ExitCode::FAILURE
        }
    }
}
