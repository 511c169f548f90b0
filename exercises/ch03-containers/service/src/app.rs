//! The routes and the serve loop (given: chapter 1 taught how it shuts down).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

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

// From here to the end, the listener and the serve loop are a deliberate twin of those in
// chapter 5's service/src/app.rs (which adds readiness and its own signals): each service/ folder
// is a self-contained Docker build context and its own Cargo workspace, so the two cannot share a
// crate. A fix to the drain belongs in both.

/// How long idle keep-alive connections stay open once the listener has closed (chapter 1.2).
const CLOSE_IDLE_AFTER: Duration = Duration::from_millis(500);

/// The listener: closes when `stop` turns true, after taking the connections the kernel has
/// already queued (their clients may have sent a request; closing would reset them), and then
/// sets `closed`.
#[derive(Debug)]
struct Listener {
    inner: Option<TcpListener>,
    addr: SocketAddr,
    stop: tokio::sync::watch::Receiver<bool>,
    closed: Arc<AtomicBool>,
}

impl axum::serve::Listener for Listener {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, SocketAddr) {
        loop {
            let Some(inner) = &self.inner else {
                return std::future::pending().await;
            };
            if *self.stop.borrow() {
                let queued =
                    std::future::poll_fn(|cx| std::task::Poll::Ready(inner.poll_accept(cx))).await;
                if let std::task::Poll::Ready(Ok(pair)) = queued {
                    return pair;
                }
                self.inner = None;
                self.closed.store(true, Ordering::Relaxed);
                continue;
            }
            let stop = &mut self.stop;
            tokio::select! {
                biased;
                _ = async { let _ = stop.wait_for(|stop| *stop).await; } => {}
                accepted = inner.accept() => match accepted {
                    Ok(pair) => return pair,
                    // Out of file descriptors, say: wait a little rather than spin.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

/// Binds, serves until a shutdown signal, then drains for at most `shutdown_timeout`: the
/// listener closes, keep-alive connections are told `Connection: close`, and what is still
/// idle after a short window is closed.
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
    let (stop_accepting, stopping) = tokio::sync::watch::channel(false);
    let closed = Arc::new(AtomicBool::new(false));
    let listener = Listener {
        addr: local,
        inner: Some(listener),
        stop: stopping,
        closed: closed.clone(),
    };
    // Once the listener has closed, every answer says `Connection: close` (chapter 1.2), so a
    // keep-alive client opens a new connection for its next request instead of sending it on
    // one that is about to be closed.
    let app = router(Arc::new(config)).layer(axum::middleware::map_response(
        move |mut response: axum::response::Response| {
            let closing = closed.load(Ordering::Relaxed);
            async move {
                if closing {
                    response.headers_mut().insert(
                        header::CONNECTION,
                        header::HeaderValue::from_static("close"),
                    );
                }
                response
            }
        },
    ));
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let name = stop.await;
        tracing::info!("shutting down signal={name}");
        let _ = begun_tx.send(());
        // Stop accepting, then give busy keep-alive connections a window to get their
        // `Connection: close` answer before the server closes what is idle: closing an idle
        // connection at once races a client that is sending its next request on it.
        let _ = stop_accepting.send(true);
        tokio::time::sleep(CLOSE_IDLE_AFTER).await;
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
