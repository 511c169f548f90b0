//! 1.1: knowing when to stop.
//!
//! The kernel's default action for SIGTERM and SIGINT is to end the process on the spot: no
//! destructor runs, no response is finished, nothing is flushed. Installing a handler replaces
//! that default for the whole process, which is what lets us stop on our own terms, and also
//! why a second Ctrl-C no longer kills the process unless we make it (1.6).

use std::fmt;
use std::io;

#[allow(unused_imports)] // You will need these in 1.1.
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
    // TODO(1.1): hold one `tokio::signal::unix::Signal` for SIGTERM and one for SIGINT.
    _todo: (),
}
// ANCHOR_END: signals-struct

// ANCHOR: signals-impl
impl Signals {
    /// Installs handlers for SIGTERM and SIGINT.
    ///
    /// Call it before the service says it is ready: a signal that arrives before the handler is
    /// installed still gets the default action and kills the process mid-flight.
    pub fn install() -> io::Result<Signals> {
        // TODO(1.1): create both handlers here, with `signal(SignalKind::terminate())` and
        // `signal(SignalKind::interrupt())`. Until you do, the kernel's default action applies:
        // SIGTERM kills the process on the spot.
        Ok(Signals { _todo: () })
    }

    /// Completes when the next SIGTERM or SIGINT arrives, and says which it was.
    ///
    /// Call it again after it returned to wait for a second signal (1.6).
    pub async fn recv(&mut self) -> Signal {
        // TODO(1.1): wait for whichever of the two handlers fires first (`tokio::select!`).
        std::future::pending().await
    }
}
// ANCHOR_END: signals-impl
