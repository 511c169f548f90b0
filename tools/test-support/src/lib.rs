//! The helpers every chapter's tests share, so that each exists exactly once: spawning a binary
//! in its own process group (killed when the test ends, panics included), waiting for a log line
//! or an exit with a deadline whose failure message teaches, sending real signals, a Redis per
//! test, free ports, and a tiny HTTP/1.1 client that tells "refused" from "reset".
//!
//! Tests stay quiet: a child's output is kept and shown only when an assertion fails, or live on
//! stderr when `TEST_LOG` is set (`TEST_LOG=1 just test chapter1`).
//!
//! Used by every chapter's `tests/` (`just test chapter1`).

pub mod docker;
pub mod http;
pub mod process;
pub mod redis_server;

use std::future::Future;
use std::net::TcpListener;
use std::time::Duration;

pub use process::{Server, ServerBuilder, Sig};
pub use redis_server::Redis;
/// The one temporary-folder guard (`tempfile`'s): the folder is removed when the guard is
/// dropped, panics included. `TempDir::with_prefix("minipm-test-")` names it after its test.
pub use tempfile::TempDir;

/// A port that was free a moment ago on 127.0.0.1.
///
/// Prefer letting a server bind port 0 and reading the address it reports (the chapter services
/// log it); use this only for programs that cannot do that, such as redis-server, and retry if
/// the port was taken in between.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0 always succeeds");
    listener
        .local_addr()
        .expect("a bound socket has an address")
        .port()
}

/// Runs `fut`, failing the test with `explain` if it has not finished within `limit`.
///
/// Every wait in a test goes through a deadline like this one, so a half-finished exercise fails
/// in seconds with a message that says what to look at, instead of hanging the suite.
pub async fn within<F: Future>(limit: Duration, explain: &str, fut: F) -> F::Output {
    match tokio::time::timeout(limit, fut).await {
        Ok(output) => output,
        Err(_) => panic!("{explain} (waited {})", human(limit)),
    }
}

/// `1.5 s`, `250 ms`: durations the way a failure message should show them.
pub fn human(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// True when the learner asked to see the children's output live (`TEST_LOG=1`).
pub fn test_log_enabled() -> bool {
    std::env::var_os("TEST_LOG").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The environment variable naming the folder where [`skip`] records skipped tests; the
/// workbook's runner sets it and shows those tests as skipped, not passed.
pub const SKIPS_ENV: &str = "WORKBOOK_SKIPS_DIR";

/// Records that the calling test is returning without checking anything, and why. libtest has
/// no "skipped" result (the test will show "ok"), so the runner reads these records back and
/// shows the test as skipped; without the runner a loud notice on stderr says the same.
pub fn skip(reason: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("unnamed test")
        .to_owned();
    if let Some(dir) = std::env::var_os(SKIPS_ENV) {
        // One file per test; the name is the test's path with `::` made file-safe.
        let file = std::path::Path::new(&dir).join(test.replace("::", "__"));
        if let Err(err) = std::fs::write(&file, reason) {
            eprintln!(
                "could not record the skip of {test} in {}: {err}",
                file.display()
            );
        }
    }
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !! SKIPPED {test}: {reason}.\n\
         !! `just test` shows it as skipped; bare `cargo test` says ok only because it did not run.\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    );
}

/// The skips recorded in `dir` by [`skip`]: test name → reason.
pub fn recorded_skips(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    let mut skips = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().replace("__", "::");
        let reason = std::fs::read_to_string(entry.path()).unwrap_or_default();
        skips.insert(name, reason);
    }
    skips
}
