//! 2.2: cluster mode, many instances serving one port.
//!
//! Two processes cannot each bind the same port (the second gets "address in use"), unless
//! both set `SO_REUSEPORT`, in which case the kernel gives each its own accept queue and
//! spreads new connections between them. minipm does what systemd's socket activation and
//! nginx's workers do instead: it binds the port once, and every instance inherits that one
//! listening socket. (Node's cluster module is a third way: its primary accepts every connection
//! and hands it to a worker, round-robin.) They share one accept queue, so an instance that stops (to be replaced, or
//! because it crashed) strands no connection: the others, or its replacement, accept it.

use std::io;
use std::net::TcpListener;

use crate::config::{AppConfig, Instances};

/// How many instances to run: the number asked for, or one per core for `"max"`.
pub fn instance_count(instances: Instances) -> usize {
    match instances {
        Instances::Count(n) => n as usize,
        Instances::Max => std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}

// ANCHOR: listener
/// The app's listening socket on 127.0.0.1:`port`, bound once by minipm, if it runs in cluster
/// mode (it has a `port`).
pub fn listener(app: &AppConfig) -> io::Result<Option<TcpListener>> {
    let Some(port) = app.port else {
        return Ok(None);
    };
    TcpListener::bind(("127.0.0.1", port))
        .map(Some)
        .map_err(|err| {
            io::Error::new(
                err.kind(),
                format!("app {}: cannot listen on 127.0.0.1:{port}: {err}", app.name),
            )
        })
}
// ANCHOR_END: listener
