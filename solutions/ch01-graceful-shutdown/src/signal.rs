//! 1.1: knowing when to stop.
//!
//! The kernel's default action for SIGTERM and SIGINT is to end the process on the spot: no
//! destructor runs, no response is finished, nothing is flushed. Installing a handler replaces
//! that default for the whole process, which is what lets us stop on our own terms, and also
//! why a second Ctrl-C no longer kills the process unless we make it (1.6).

use std::fmt;
use std::io;

use tokio::signal::unix::{SignalKind, signal};

/// The two signals that mean "please stop".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM: sent by `docker stop`, Kubernetes, systemd and `kill`.
    Terminate,
    /// SIGINT: Ctrl-C in a terminal, and what PM2 sends.
    Interrupt,
}

impl Signal {
    /// The signal's number: 15 for SIGTERM, 2 for SIGINT.
    pub fn number(self) -> i32 {
        match self {
            Signal::Terminate => 15,
            Signal::Interrupt => 2,
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Terminate => "SIGTERM",
            Signal::Interrupt => "SIGINT",
        })
    }
}

// ANCHOR: signals-struct
/// The process's stop signals, listened to from the moment [`Signals::install`] returns.
#[derive(Debug)]
pub struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}
// ANCHOR_END: signals-struct

// ANCHOR: signals-impl
impl Signals {
    /// Installs handlers for SIGTERM and SIGINT.
    ///
    /// Call it before the service says it is ready: a signal that arrives before the handler is
    /// installed still gets the default action and kills the process mid-flight.
    pub fn install() -> io::Result<Signals> {
        // Both handlers are registered here, eagerly, not on first poll.
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    /// Completes when the next SIGTERM or SIGINT arrives, and says which it was.
    ///
    /// Call it again after it returned to wait for a second signal (1.6).
    pub async fn recv(&mut self) -> Signal {
        // `recv` returns `Option<()>` but never `None` (tokio's doc: the `Option` was exposed
        // by accident), so the `else` branch never runs; `select!` needs it only because it
        // panics when every pattern has failed and there is no `else`.
        tokio::select! {
            Some(()) = self.terminate.recv() => Signal::Terminate,
            Some(()) = self.interrupt.recv() => Signal::Interrupt,
            else => std::future::pending().await,
        }
    }
}
// ANCHOR_END: signals-impl
