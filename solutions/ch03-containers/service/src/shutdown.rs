//! 3.4 The signals that stop the service. In a container the service is PID 1, and the kernel
//! gives PID 1 no default action for SIGTERM: a signal it has no handler for is simply dropped.
//! So the handler is not optional there; without it `docker stop` waits 10 s and kills.

use std::future::Future;

use tokio::signal::unix::{SignalKind, signal};

// ANCHOR: listen
/// Installs the handlers now (so a signal that arrives from here on is ours), and returns a
/// future that resolves with the signal's name: SIGTERM (`docker stop`, Kubernetes, systemd) or
/// SIGINT (Ctrl-C in a terminal, PM2).
pub fn listen() -> std::io::Result<impl Future<Output = &'static str> + Send> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    })
}
// ANCHOR_END: listen
