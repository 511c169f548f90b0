#![allow(clippy::print_stdout)] // Its stdout is its protocol with minipm: the ready line, and the log test's material.
//! The program minipm runs in this chapter's tests and examples: a small web service in the
//! spirit of chapter 1 (graceful shutdown included). Given, not an exercise.
//!
//! It serves from the listener minipm hands it (`LISTEN_FDS=1`, fd 3), or binds `PORT`, and
//! prints `ready` once it can take traffic. Routes: `GET /` (who answered), `GET /slow?ms=N`,
//! `GET /work?n=N` (N rounds of CPU work), `GET /crash` (answers, then exits 1).
//!
//! For the tests: `CRASH_AT_START=1` exits 1 at once; `NEVER_READY=1` never serves nor says
//! ready; `CHATTER=N` prints N long lines at start, each in several writes, as loggers do.

use std::io::Write;
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderValue, header};
use axum::middleware;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Deserialize)]
struct Params {
    ms: Option<u64>,
    n: Option<u64>,
}

fn name() -> String {
    let app = std::env::var("MINIPM_APP").unwrap_or_else(|_| "worker".into());
    let index = std::env::var("MINIPM_INSTANCE").unwrap_or_else(|_| "0".into());
    format!("{app}-{index}")
}

fn flag(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let me = name();
    if flag("CRASH_AT_START") {
        eprintln!("{me}: crashing at start, as asked (CRASH_AT_START=1)");
        std::process::exit(1);
    }
    if let Some(n) = std::env::var("CHATTER")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        chatter(&me, n).await;
    }
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    if flag("NEVER_READY") {
        eprintln!("{me}: starting, but will never serve (NEVER_READY=1)");
        tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
        return Ok(());
    }
    let listener = match listenfd::ListenFd::from_env().take_tcp_listener(0)? {
        Some(inherited) => {
            // A listener from fork/exec is blocking; tokio needs it non-blocking.
            inherited.set_nonblocking(true)?;
            tokio::net::TcpListener::from_std(inherited)?
        }
        None => {
            let port: u16 = std::env::var("PORT")
                .ok()
                .and_then(|p| p.parse().ok())
                .unwrap_or(3000);
            tokio::net::TcpListener::bind(("127.0.0.1", port)).await?
        }
    };
    let who = me.clone();
    let app = Router::new()
        .route(
            "/",
            get(move || async move { format!("{who} pid {}\n", std::process::id()) }),
        )
        .route(
            "/slow",
            get(|Query(p): Query<Params>| async move {
                // Tests wait for this line to know the request is in flight.
                eprintln!("{} slow request started", name());
                tokio::time::sleep(Duration::from_millis(p.ms.unwrap_or(1000).min(600_000))).await;
                "slow\n"
            }),
        )
        .route(
            "/work",
            get(|Query(p): Query<Params>| async move {
                let n = p.n.unwrap_or(100_000).min(100_000_000);
                let mut x: u64 = 1;
                for i in 0..n {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
                }
                format!("{x}\n")
            }),
        )
        .route(
            "/crash",
            get(|| async {
                tokio::spawn(async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    eprintln!("{}: crashing, as asked (GET /crash)", name());
                    std::process::exit(1);
                });
                "crashing\n"
            }),
        );
    let addr = listener.local_addr()?;
    let stop_accepting = CancellationToken::new();
    let listener = Stoppable {
        inner: listener,
        stop: stop_accepting.clone(),
    };
    let closing = stop_accepting.clone();
    let app = app.layer(middleware::map_response(move |response| {
        let closing = closing.clone();
        async move { close_when(closing.is_cancelled(), response) }
    }));
    println!("{me} ready addr={addr}");
    // ANCHOR: drain
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
            // Stop taking connections from the shared socket (the other instances, or this
            // one's replacement, take them), and from now on answer every request with
            // `Connection: close` (the layer above), so that each busy keep-alive client closes
            // its connection after its next answer and opens a new one, to another process.
            stop_accepting.cancel();
            // Only then, after a window, close what is still idle. Closing an idle keep-alive
            // connection at once races its client, which may be sending its next request on
            // it right now: that request would meet a closed connection (wrk: a read error).
            // And hyper closes a connection whose request it has not read yet as if it were
            // idle. After the window, an idle connection has been idle for all of it.
            tokio::time::sleep(CLOSE_IDLE_AFTER).await;
        })
        .await?;
    // ANCHOR_END: drain
    println!("{me} stopped");
    Ok(())
}

/// How long a draining worker keeps its idle keep-alive connections open, answering with
/// `Connection: close`, before it closes what is still idle. Clients under load send their next
/// request within microseconds; a browser's or a pool's idle connection may wait much longer, and
/// is closed (the client opens a new one when it next needs it). Generous, because a machine
/// busy enough to stall a client or this process for longer loses that client's request; and
/// still below minipm's `kill_timeout_ms` (1,600 ms by default), which bounds the whole drain.
const CLOSE_IDLE_AFTER: Duration = Duration::from_millis(1000);

// ANCHOR: close-when
/// Adds `Connection: close` to `response` when the worker is draining. hyper then closes the
/// connection once the response is written, and the client, told in advance, sends its next
/// request on a new connection instead of on one that is going away.
fn close_when(draining: bool, mut response: Response) -> Response {
    if draining {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
// ANCHOR_END: close-when

/// A listener that stops accepting when `stop` is cancelled, while the server keeps running.
struct Stoppable {
    inner: tokio::net::TcpListener,
    stop: CancellationToken,
}

// ANCHOR: stoppable
impl axum::serve::Listener for Stoppable {
    type Io = tokio::net::TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                biased;
                () = self.stop.cancelled() => std::future::pending::<()>().await,
                accepted = self.inner.accept() => match accepted {
                    Ok(pair) => return pair,
                    // Out of file descriptors, say: wait a little rather than spin.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}
// ANCHOR_END: stoppable

/// Prints `n` lines of 600 characters, each in three writes with a pause between, the way a
/// logger that writes a prefix, a message and a newline separately does. Two processes doing
/// this into one shared stdout mix their lines mid-way.
async fn chatter(me: &str, n: usize) {
    let letter = if me.ends_with('0') { "a" } else { "b" };
    for i in 0..n {
        let body = letter.repeat(600);
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{me} line {i:05} ");
        let _ = out.flush();
        drop(out);
        tokio::task::yield_now().await;
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{body}");
        let _ = out.flush();
        drop(out);
        tokio::task::yield_now().await;
        let _ = writeln!(std::io::stdout().lock());
    }
}
