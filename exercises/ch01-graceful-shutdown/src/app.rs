//! The HTTP side of the service: its routes, the state they share, and the listener they are
//! served from. Given, not an exercise; the shutdown work happens around it, in `lifecycle.rs`.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::health;

/// What the handlers share. Cheap to clone: every field is an `Arc`.
#[derive(Debug, Clone, Default)]
pub struct AppState {
    /// Requests served, not yet written to Redis (the flusher does that, 1.5).
    pub hits: Arc<Hits>,
    /// Whether shutdown has begun (readiness reads it, 1.4).
    pub health: Health,
    /// Requests being handled right now (the deadline's log line names them, 1.3).
    pub in_flight: InFlight,
    /// Connections open right now, busy or not (the deadline's log line names them, 1.3).
    pub connections: Connections,
    /// Cancelled when the drain begins (1.2): from then on the [`Listener`] accepts nothing and
    /// every answer carries `Connection: close`.
    pub draining: CancellationToken,
}

impl AppState {
    /// Open connections with no request being handled: clients that have not finished sending
    /// their request (or sent nothing yet), and, before the drain closes them, idle keep-alive
    /// connections. hyper waits for the first kind when it drains, with no time limit (1.3).
    pub fn half_sent_requests(&self) -> usize {
        self.connections
            .open()
            .saturating_sub(self.in_flight.count())
    }
}

// ANCHOR: close-idle-after
/// How long the drain keeps idle keep-alive connections open, answering every request with
/// `Connection: close`, before it closes what is still idle (1.2). A client under load sends its
/// next request within microseconds and is told to close; a browser's or a pool's idle
/// connection may wait much longer, and is closed (it opens a new one when it next needs one).
/// Short next to the deadline (`SHUTDOWN_TIMEOUT`, 10 s by default), which bounds it all; and
/// cut short once every connection has closed ([`Connections::all_closed`]).
pub const CLOSE_IDLE_AFTER: Duration = Duration::from_millis(500);
// ANCHOR_END: close-idle-after

/// Builds the router. A plain function of the state, so tests can call it without a socket
/// (`app(state).oneshot(request)`).
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/slow", get(slow))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .layer(middleware::from_fn_with_state(
            state.in_flight.clone(),
            count_in_flight,
        ))
        .layer(middleware::from_fn_with_state(
            state.connections.clone(),
            close_when_draining,
        ))
        .with_state(state)
}

#[derive(Debug, Deserialize)]
struct SlowParams {
    /// How long to take, in milliseconds.
    ms: Option<u64>,
}

// ANCHOR: slow
/// `GET /slow?ms=N`: answers after N ms (default 1000, at most ten minutes), standing in for
/// any real work: a database query, a call to another service, a file upload.
async fn slow(State(state): State<AppState>, Query(params): Query<SlowParams>) -> String {
    let ms = params.ms.unwrap_or(1000).min(600_000);
    // The tests wait for this line to know a request is in flight before they send a signal.
    debug!(ms, "slow request started");
    tokio::time::sleep(Duration::from_millis(ms)).await;
    state.hits.add(1);
    format!("slept {ms} ms\n")
}
// ANCHOR_END: slow

async fn count_in_flight(
    State(in_flight): State<InFlight>,
    request: Request,
    next: Next,
) -> Response {
    let _guard = in_flight.enter();
    next.run(request).await
}

// ANCHOR: close-when-draining
/// Once the drain has begun, every answer says `Connection: close`: hyper closes the connection
/// after writing it, and the client, told in advance, sends its next request on a new connection
/// (to another instance, behind a balancer) instead of on one that is about to be closed.
///
/// From the moment the listener has closed, not the moment the drain began: a client told to
/// close that reconnected before the listener closed would have its new connection reset, with
/// its request on it, when the kernel drops the connections nobody accepted.
async fn close_when_draining(
    State(connections): State<Connections>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if connections.listener_closed() {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
// ANCHOR_END: close-when-draining

/// A counter of requests served, written to Redis in batches by the flusher (1.5).
///
/// Batching like this (analytics, metrics, rate-limit counters, write-behind caches) is exactly
/// the kind of state that is lost when a process exits without a last flush.
#[derive(Debug, Default)]
pub struct Hits(AtomicU64);

impl Hits {
    /// Counts `n` more hits.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Takes every hit counted so far, leaving zero.
    pub fn take(&self) -> u64 {
        self.0.swap(0, Ordering::Relaxed)
    }

    /// Hits counted and not yet taken.
    pub fn pending(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Whether the service has begun to shut down. Set once, never cleared.
#[derive(Debug, Clone, Default)]
pub struct Health {
    shutting_down: Arc<AtomicBool>,
}

impl Health {
    /// Marks the start of shutdown: from now on readiness should fail (1.4).
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
    }

    /// True once [`begin_shutdown`](Self::begin_shutdown) has been called.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }
}

/// The number of requests being handled right now.
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// Counts a request until the returned guard is dropped, which also happens when the
    /// request is cancelled (its client went away, or the server was forced to stop).
    pub fn enter(&self) -> InFlightGuard {
        self.0.fetch_add(1, Ordering::Relaxed);
        InFlightGuard(self.0.clone())
    }

    /// How many requests are being handled.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// Decrements [`InFlight`] when dropped.
#[derive(Debug)]
pub struct InFlightGuard(Arc<AtomicUsize>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The connections open right now, and whether the listener has closed.
#[derive(Debug, Clone, Default)]
pub struct Connections {
    open: Arc<AtomicUsize>,
    listener_closed: Arc<AtomicBool>,
    changed: Arc<Notify>,
}

impl Connections {
    /// How many connections are open.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// True once the [`Listener`] has closed: new connections are refused.
    pub fn listener_closed(&self) -> bool {
        self.listener_closed.load(Ordering::Relaxed)
    }

    /// Completes once the listener has closed and every connection with it: nothing is left
    /// for the drain to wait for, so an idle server stops at once.
    pub async fn all_closed(&self) {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            // Registered before the check, so a change in between is not missed.
            notified.as_mut().enable();
            if self.listener_closed() && self.open() == 0 {
                return;
            }
            notified.await;
        }
    }
}

// ANCHOR: listener
/// The service's listener: a `TcpListener` that closes when the drain begins
/// (`state.draining` is cancelled), so that new connections are refused, while the server goes
/// on answering the connections it has. `axum::serve` takes any [`axum::serve::Listener`].
#[derive(Debug)]
pub struct Listener {
    inner: Option<TcpListener>,
    addr: SocketAddr,
    draining: CancellationToken,
    connections: Connections,
}

impl Listener {
    /// Wraps `inner`, counting its connections in `state.connections`.
    pub fn new(inner: TcpListener, state: &AppState) -> io::Result<Listener> {
        Ok(Listener {
            addr: inner.local_addr()?,
            inner: Some(inner),
            draining: state.draining.clone(),
            connections: state.connections.clone(),
        })
    }
}

impl axum::serve::Listener for Listener {
    type Io = Counted;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Counted, SocketAddr) {
        loop {
            let Some(inner) = &self.inner else {
                return std::future::pending().await;
            };
            if self.draining.is_cancelled() {
                // The kernel has completed the handshake of the connections in the queue, and
                // their clients may have sent a request already: take them all, then close the
                // socket. From then on a new connection is refused at once; one left in the
                // queue would be reset, request and all.
                let queued = std::future::poll_fn(|cx| Poll::Ready(inner.poll_accept(cx))).await;
                if let Poll::Ready(Ok((stream, peer))) = queued {
                    return self.counted(stream, peer);
                }
                self.inner = None;
                self.connections
                    .listener_closed
                    .store(true, Ordering::Relaxed);
                self.connections.changed.notify_waiters();
                continue;
            }
            tokio::select! {
                biased;
                () = self.draining.cancelled() => {}
                accepted = inner.accept() => match accepted {
                    Ok((stream, peer)) => return self.counted(stream, peer),
                    // Out of file descriptors, say: wait a little rather than spin.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}
// ANCHOR_END: listener

impl Listener {
    fn counted(&self, stream: TcpStream, peer: SocketAddr) -> (Counted, SocketAddr) {
        // Tests wait for this line to know the connection is open.
        debug!(%peer, "connection accepted");
        self.connections.open.fetch_add(1, Ordering::Relaxed);
        let connections = self.connections.clone();
        (
            Counted {
                stream,
                connections,
            },
            peer,
        )
    }
}

/// A connection, counted in [`Connections`] until it is dropped (closed).
#[derive(Debug)]
pub struct Counted {
    stream: TcpStream,
    connections: Connections,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.connections.open.fetch_sub(1, Ordering::Relaxed);
        self.connections.changed.notify_waiters();
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
