//! 3.4 The signals that stop the service.

use std::future::Future;

use tokio::signal::unix::{SignalKind, signal};

// TODO(3.4): Ctrl-C works in a terminal, so this looks done. In a container the service is PID 1,
// `docker stop` sends SIGTERM, and the kernel gives PID 1 no default action for it. Listen for
// SIGTERM as well, and resolve with the name of the signal that arrived.
/// Installs the handlers now (so a signal that arrives from here on is ours), and returns a
/// future that resolves with the signal's name.
pub fn listen() -> std::io::Result<impl Future<Output = &'static str> + Send> {
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        int.recv().await;
        "SIGINT"
    })
}
