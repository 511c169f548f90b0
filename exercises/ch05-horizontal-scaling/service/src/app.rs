//! The routes, the rate-limit middleware and the serve loop (given).

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

use crate::config::{Config, TrustedProxies};
use crate::health;
use crate::ratelimit::{self, Decision};
use crate::state::Store;

/// What every handler shares.
#[derive(Debug)]
pub struct Shared {
    pub config: Config,
    pub store: Store,
    pub shutting_down: AtomicBool,
}

type AppState = State<Arc<Shared>>;

/// The routes. Every answer carries `x-instance`, so a client (and `just load`) can see which
/// copy served it.
pub fn router(shared: Arc<Shared>) -> Router {
    let limited = Router::new()
        .route("/", get(hello))
        .route("/login", post(login))
        .route("/me", get(me))
        .route("/count", get(count).post(increment))
        .layer(middleware::from_fn_with_state(shared.clone(), rate_limit));
    Router::new()
        .route("/healthz", get(liveness))
        .route("/readyz", get(readiness))
        .merge(limited)
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            instance_header,
        ))
        .with_state(shared)
}

async fn instance_header(State(shared): AppState, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&shared.config.instance) {
        response.headers_mut().insert("x-instance", value);
    }
    response
}

fn unavailable(err: &redis::RedisError) -> Response {
    tracing::warn!("redis: {err}");
    (StatusCode::SERVICE_UNAVAILABLE, "redis unavailable\n").into_response()
}

async fn hello(State(shared): AppState) -> String {
    format!("hello from {}\n", shared.config.instance)
}

#[derive(Debug, Deserialize)]
struct Login {
    user: String,
}

async fn login(State(shared): AppState, Query(login): Query<Login>) -> Response {
    match shared
        .store
        .create_session(&login.user, shared.config.session_ttl)
        .await
    {
        Ok(id) => (
            [(
                header::SET_COOKIE,
                format!("session={id}; Path=/; HttpOnly; SameSite=Lax"),
            )],
            format!("welcome {}\n", login.user),
        )
            .into_response(),
        Err(err) => unavailable(&err),
    }
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    cookies
        .split(';')
        .find_map(|c| c.trim().strip_prefix("session=").map(str::to_string))
}

async fn me(State(shared): AppState, headers: HeaderMap) -> Response {
    let Some(id) = session_cookie(&headers) else {
        return (StatusCode::UNAUTHORIZED, "no session: POST /login?user=…\n").into_response();
    };
    match shared.store.session_user(&id).await {
        Ok(Some(user)) => format!("{user}\n").into_response(),
        Ok(None) => (StatusCode::UNAUTHORIZED, "unknown or expired session\n").into_response(),
        Err(err) => unavailable(&err),
    }
}

async fn increment(State(shared): AppState) -> Response {
    match shared.store.increment("visits").await {
        Ok(n) => format!("{n}\n").into_response(),
        Err(err) => unavailable(&err),
    }
}

async fn count(State(shared): AppState) -> Response {
    match shared.store.count("visits").await {
        Ok(n) => format!("{n}\n").into_response(),
        Err(err) => unavailable(&err),
    }
}

async fn liveness(State(shared): AppState) -> (StatusCode, String) {
    health::liveness(&shared.store).await
}

async fn readiness(State(shared): AppState) -> (StatusCode, String) {
    let shutting_down = shared.shutting_down.load(Ordering::Relaxed);
    health::readiness(&shared.store, shutting_down).await
}

// ANCHOR: client_of
/// The client a request counts against (5.4): the address it connected from; or, when that is
/// one of `TRUSTED_PROXIES` (our balancer), the address the balancer saw, which it sends as
/// `X-Real-IP` in place of any the client wrote. Never what the client says about itself: an
/// `x-client-id` or the left end of `X-Forwarded-For` is whatever it typed, and a new value on
/// every request would be a new, empty count on every request.
fn client_of(request: &Request, trusted: &TrustedProxies) -> String {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return "unknown".into();
    };
    let peer = peer.ip().to_canonical();
    // Exactly one X-Real-IP: a second means a proxy added one instead of replacing the
    // client's, and then the first is the client's own.
    let mut values = request.headers().get_all("x-real-ip").iter();
    if trusted.contains(peer)
        && let (Some(value), None) = (values.next(), values.next())
        && let Some(ip) = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
    {
        return ip.to_canonical().to_string();
    }
    peer.to_string()
}
// ANCHOR_END: client_of

async fn rate_limit(State(shared): AppState, request: Request, next: Next) -> Response {
    let config = &shared.config;
    let client = client_of(&request, &config.trusted_proxies);
    match ratelimit::check(
        &shared.store,
        &client,
        config.rate_limit,
        config.rate_window,
    )
    .await
    {
        Ok(Decision::Allowed { remaining }) => {
            // As GitHub's API does: a client (and a test) can see its count go down.
            let mut response = next.run(request).await;
            response
                .headers_mut()
                .insert("x-ratelimit-remaining", HeaderValue::from(remaining));
            response
        }
        Ok(Decision::Limited { retry_after }) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(
                header::RETRY_AFTER,
                retry_after.as_secs().max(1).to_string(),
            )],
            "rate limit reached: try again later\n",
        )
            .into_response(),
        Err(err) => unavailable(&err),
    }
}

// From here to the end, the listener and the serve loop are a deliberate twin of those in
// chapter 3's service/src/app.rs (this one adds readiness and its own signals): each service/
// folder is a self-contained Docker build context and its own Cargo workspace, so the two cannot
// share a crate. A fix to the drain belongs in both.

/// How long idle keep-alive connections stay open once the listener has closed (chapter 1.2).
const CLOSE_IDLE_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// The listener: closes when `stop` turns true, after taking the connections the kernel has
/// already queued (their clients may have sent a request; closing would reset them).
#[derive(Debug)]
struct Listener {
    inner: Option<TcpListener>,
    addr: SocketAddr,
    stop: tokio::sync::watch::Receiver<bool>,
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
                continue;
            }
            let stop = &mut self.stop;
            tokio::select! {
                biased;
                _ = async { let _ = stop.wait_for(|stop| *stop).await; } => {}
                accepted = inner.accept() => match accepted {
                    Ok(pair) => return pair,
                    // Out of file descriptors, say: wait a little rather than spin.
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
                },
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

/// Serves until SIGTERM or SIGINT; then readiness fails for `shutdown_delay`, in-flight requests
/// drain (keep-alive connections told `Connection: close`, idle ones closed after a window), and
/// the process exits 0 (1 if the deadline passes first).
pub async fn serve(shared: Arc<Shared>) -> ExitCode {
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(term), Ok(int)) => (term, int),
        _ => {
            tracing::error!("cannot install the signal handlers");
            return ExitCode::FAILURE;
        }
    };
    let config = &shared.config;
    let addr = SocketAddr::from((config.host, config.port));
    let listener = match TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(err) => {
            tracing::error!(%addr, "cannot bind: {err}");
            return ExitCode::from(78);
        }
    };
    let local = listener.local_addr().map_or(addr, |a| a);
    tracing::info!(instance = %config.instance, "listening addr={local}");
    let (delay, deadline) = (config.shutdown_delay, config.shutdown_timeout);
    let (begun_tx, begun_rx) = tokio::sync::oneshot::channel::<()>();
    let (stop_accepting, stop) = tokio::sync::watch::channel(false);
    // `tap_io` does nothing to the connections; it is what lets `ConnectInfo<SocketAddr>` work
    // with a listener of our own (axum implements it for `TcpListener` and for `TapIo`).
    let listener = axum::serve::ListenerExt::tap_io(
        Listener {
            addr: local,
            inner: Some(listener),
            stop,
        },
        |_| {},
    );
    let flag = shared.clone();
    // Once shutdown has begun, every answer says `Connection: close`: a keep-alive client
    // (a browser, a pool, kube-proxy's pinned connection) then opens its next connection
    // elsewhere, instead of sending a request on one this process is about to close.
    let closing = shared.clone();
    let app = router(shared)
        .layer(middleware::map_response(move |mut response: Response| {
            let closing = closing.shutting_down.load(Ordering::Relaxed);
            async move {
                if closing {
                    response
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                response
            }
        }))
        .into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        flag.shutting_down.store(true, Ordering::Relaxed);
        tracing::info!("shutting down signal={name}; readiness fails for {delay:?} first");
        let _ = begun_tx.send(());
        tokio::time::sleep(delay).await;
        // Stop accepting, then give busy keep-alive connections a window to get their
        // `Connection: close` answer before the server closes what is idle: closing an idle
        // connection at once races a client that is sending its next request on it.
        let _ = stop_accepting.send(true);
        tokio::time::sleep(CLOSE_IDLE_AFTER).await;
    });
    let server = tokio::spawn(async move { server.await });
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
