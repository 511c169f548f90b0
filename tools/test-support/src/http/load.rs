//! Keep-alive clients sending one request after another: the load of the drain and reload tests.

use std::net::SocketAddr;

use super::{HttpError, KeepAlive};

/// What [`keep_alive_load`] saw.
#[derive(Debug, Default)]
pub struct Load {
    /// Requests answered with 2xx.
    pub ok: usize,
    /// Requests sent that failed (cut off, or answered with an error status), as text.
    pub failed: Vec<String>,
    /// Connections refused: no request was sent on them (nothing was listening any more).
    pub refused: usize,
    /// Connections opened.
    pub connections: usize,
    /// True if the clients stopped because they had sent `limit` requests, not because `stop`
    /// came or the server went away: then the load says nothing about what happened later.
    pub exhausted: bool,
}

/// `connections` keep-alive clients sending `GET path` one request after another, until `stop`
/// completes or every client's connection is refused (the server is gone). At most `limit`
/// requests in all, so that a test never runs away.
pub async fn keep_alive_load(
    addr: SocketAddr,
    connections: usize,
    path: &str,
    limit: usize,
    stop: impl std::future::Future<Output = ()>,
) -> Load {
    keep_alive_load_counting(addr, connections, path, limit, stop, Default::default()).await
}

/// [`keep_alive_load`], and `answered` counts the clients that have had their first answer, so
/// that a test can wait until every connection is open and in use before it changes anything.
pub async fn keep_alive_load_counting(
    addr: SocketAddr,
    connections: usize,
    path: &str,
    limit: usize,
    stop: impl std::future::Future<Output = ()>,
    answered: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Load {
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (done, sent, path) = (done.clone(), sent.clone(), path.to_string());
        let answered = answered.clone();
        clients.spawn(async move {
            use std::sync::atomic::Ordering::Relaxed;
            let mut load = Load::default();
            let mut client = KeepAlive::new(addr);
            while !done.load(Relaxed) && sent.fetch_add(1, Relaxed) < limit {
                match client.get(&path).await {
                    Ok(r) if (200..300).contains(&r.status) => {
                        if load.ok == 0 {
                            answered.fetch_add(1, Relaxed);
                        }
                        load.ok += 1;
                    }
                    Ok(r) => load
                        .failed
                        .push(format!("status {}: {}", r.status, r.body.trim())),
                    Err(HttpError::Refused) => {
                        load.refused += 1;
                        break;
                    }
                    Err(err) => load.failed.push(err.to_string()),
                }
            }
            load.connections = client.connections;
            load
        });
    }
    let collect = async {
        let mut total = Load::default();
        while let Some(load) = clients.join_next().await {
            let load = load.expect("a load client panicked");
            total.ok += load.ok;
            total.failed.extend(load.failed);
            total.refused += load.refused;
            total.connections += load.connections;
        }
        total
    };
    tokio::pin!(collect);
    let mut total = tokio::select! {
        total = &mut collect => total,
        () = stop => {
            // Let every client finish the request it is on: stopping must not cut one off.
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            collect.await
        }
    };
    total.exhausted = sent.load(std::sync::atomic::Ordering::Relaxed) >= limit;
    total
}
