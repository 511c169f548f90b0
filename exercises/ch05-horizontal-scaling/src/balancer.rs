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

    /// The next healthy backend in round-robin order that is not in `tried`, or `None`.
    // TODO(5.3): this sends everything to the first backend, dead or alive. Take turns (`next`
    // counts requests), skip backends the health checks marked down and those in `tried`.
    pub fn pick(&self, tried: &[SocketAddr]) -> Option<SocketAddr> {
        let _ = (tried, &self.next);
        self.backends.first().map(|b| b.addr)
    }

    /// Records one health check of `addr`. Returns true if its state changed.
    // TODO(5.3): `FAILS_TO_MARK_DOWN` failures in a row take a backend out (`healthy` false);
    // one success brings it back.
    pub fn record_check(&self, addr: SocketAddr, ok: bool) -> bool {
        let _ = (addr, ok);
        false
    }

    /// What the checks say about `addr` now.
    pub fn is_healthy(&self, addr: SocketAddr) -> bool {
        self.backends.iter().any(|b| {
            b.addr == addr
                && b.healthy.load(Ordering::Relaxed)
                && b.failures.load(Ordering::Relaxed) < u32::MAX
        })
    }
}

/// May a request that failed on one backend be sent to another? `sent` says whether the
/// request had reached the backend before it failed.
// TODO(5.3): never retrying turns every dead backend into errors for its share of requests.
// Retry when nothing was sent (refused); after sending, only idempotent methods (not POST).
pub fn may_retry(method: &str, sent: bool) -> bool {
    let _ = (method, sent);
    false
}
