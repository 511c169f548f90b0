//! 3.3 `service healthcheck`: the container's health check, built into the binary, so the image
//! needs no curl (and no shell to run it). Docker runs it inside the container every interval;
//! exit 0 means healthy, 1 unhealthy.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

/// How long one check may take in all: well under Docker's `--timeout`.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// `service healthcheck`: checks the service on this machine's `PORT` (default 8080).
pub fn run() -> ExitCode {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(8080);
    match check(SocketAddr::from(([127, 0, 0, 1], port)), TIMEOUT) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("unhealthy: {why}");
            ExitCode::FAILURE
        }
    }
}

// ANCHOR: check
/// `GET /healthz` on `addr`; `Ok` only for a `200` that arrives within `timeout`. Every way it
/// can go wrong (refused, slow, another status, garbage) is an `Err` that says which.
pub fn check(addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|err| format!("cannot connect to {addr}: {err}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|err| format!("setting timeouts: {err}"))?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(|err| format!("sending the request: {err}"))?;
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < 12 {
        match stream.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(err) => return Err(format!("no answer within {timeout:?}: {err}")),
        }
    }
    let status_line = String::from_utf8_lossy(&head[..read]);
    match status_line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        Some(status) => Err(format!("/healthz answered {status}")),
        None => Err(format!("not an HTTP answer: {status_line:?}")),
    }
}
// ANCHOR_END: check
