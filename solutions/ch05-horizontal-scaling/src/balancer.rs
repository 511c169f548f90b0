//! 5.3 How a load balancer picks a backend, routes around a dead one, and decides what it may
//! retry.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

/// How many failed health checks in a row take a backend out of rotation.
pub const FAILS_TO_MARK_DOWN: u32 = 2;

/// One backend and what the health checks last said about it.
#[derive(Debug)]
pub struct Backend {
    pub addr: SocketAddr,
    healthy: AtomicBool,
    failures: AtomicU32,
}

/// The backends, and where round-robin is.
#[derive(Debug)]
pub struct Pool {
    backends: Vec<Backend>,
    next: AtomicUsize,
}

impl Pool {
    /// Every backend starts healthy: the first health check corrects that within an interval.
    pub fn new(addrs: Vec<SocketAddr>) -> Pool {
        Pool {
            backends: addrs
                .into_iter()
                .map(|addr| Backend {
                    addr,
                    healthy: AtomicBool::new(true),
                    failures: AtomicU32::new(0),
                })
                .collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// Every backend's address, in order.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.backends.iter().map(|b| b.addr).collect()
    }

    // ANCHOR: pick
    /// The next healthy backend in round-robin order that is not in `tried` (the backends this
    /// request already failed on), or `None` if there is none.
    pub fn pick(&self, tried: &[SocketAddr]) -> Option<SocketAddr> {
        let n = self.backends.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|i| &self.backends[(start + i) % n])
            .find(|b| b.healthy.load(Ordering::Relaxed) && !tried.contains(&b.addr))
            .map(|b| b.addr)
    }
    // ANCHOR_END: pick

    // ANCHOR: checks
    /// Records one health check of `addr`: `FAILS_TO_MARK_DOWN` failures in a row take it out,
    /// one success brings it back. Returns true if its state changed.
    pub fn record_check(&self, addr: SocketAddr, ok: bool) -> bool {
        let Some(backend) = self.backends.iter().find(|b| b.addr == addr) else {
            return false;
        };
        let healthy = if ok {
            backend.failures.store(0, Ordering::Relaxed);
            true
        } else {
            backend.failures.fetch_add(1, Ordering::Relaxed) + 1 < FAILS_TO_MARK_DOWN
        };
        backend.healthy.swap(healthy, Ordering::Relaxed) != healthy
    }

    /// What the checks say about `addr` now.
    pub fn is_healthy(&self, addr: SocketAddr) -> bool {
        self.backends
            .iter()
            .any(|b| b.addr == addr && b.healthy.load(Ordering::Relaxed))
    }
    // ANCHOR_END: checks
}

// ANCHOR: retry
/// May a request that failed on one backend be sent to another? If nothing reached the backend
/// (`sent` is false: the connection was refused), always. If the request was sent and the
/// answer never came, only for idempotent methods: a POST may have been carried out already,
/// and doing it twice (two payments, two orders) is worse than an error.
pub fn may_retry(method: &str, sent: bool) -> bool {
    !sent || matches!(method, "GET" | "HEAD" | "OPTIONS" | "PUT" | "DELETE")
}
// ANCHOR_END: retry
