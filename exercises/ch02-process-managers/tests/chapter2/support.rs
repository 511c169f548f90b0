//! Running minipm for a test: a configuration file of its own, the process, and the addresses
//! it reports. The generic parts (processes, signals, deadlines) live in test-support.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use test_support::{Server, TempDir, http, within};

/// A private folder for one test's configuration and log file, removed when dropped.
pub(crate) fn temp_dir() -> TempDir {
    TempDir::with_prefix("minipm-test-").expect("the system's temporary folder is writable")
}

/// A `[[app]]` running the chapter's worker, with `extra` lines (TOML) added to it.
pub(crate) fn worker_app(extra: &str) -> String {
    format!(
        "[[app]]\nname = \"web\"\ncommand = {:?}\n{extra}\n",
        env!("CARGO_BIN_EXE_worker")
    )
}

/// minipm under test.
pub(crate) struct Minipm {
    pub server: Server,
    pub config: PathBuf,
    /// Held so that the folder (configuration, log file) lives as long as minipm does.
    _dir: TempDir,
}

/// Writes `apps` (with a status endpoint on a free port) and starts `minipm start` on it.
pub(crate) fn start(apps: &str) -> Minipm {
    start_in(temp_dir(), apps)
}

/// Like [`start`], in a folder the test prepared (for a log file in it, say).
pub(crate) fn start_in(dir: TempDir, apps: &str) -> Minipm {
    let config = dir.path().join("minipm.toml");
    write_config(&config, apps);
    let server = Server::builder(env!("CARGO_BIN_EXE_minipm"))
        .name("minipm")
        .args(["start".as_ref(), config.as_os_str()])
        .env("RUST_LOG", "info")
        .spawn();
    Minipm {
        server,
        config,
        _dir: dir,
    }
}

/// Writes a configuration file: the status endpoint on a free port, then `apps`.
pub(crate) fn write_config(path: &std::path::Path, apps: &str) {
    std::fs::write(path, format!("metrics_addr = \"127.0.0.1:0\"\n\n{apps}")).unwrap();
}

impl Minipm {
    /// The address minipm listens on for the app (cluster mode), from its log.
    pub(crate) async fn cluster_addr(&mut self) -> SocketAddr {
        let line = self
            .server
            .wait_for_line(
                "listening app=web",
                Duration::from_secs(5),
                "In cluster mode minipm binds the app's port itself, once, and logs \
                 `listening app=… addr=…`. See 2.2 (`cluster::listener`).",
            )
            .await;
        addr_in(&line)
    }

    /// The status endpoint's address, from minipm's log.
    pub(crate) async fn status_addr(&mut self) -> SocketAddr {
        let line = self
            .server
            .wait_for_line(
                "/metrics addr=",
                Duration::from_secs(10),
                "minipm did not start its status endpoint.",
            )
            .await;
        addr_in(&line)
    }

    /// Waits for the `n`th `ready` line of any instance, and returns the address it reports.
    pub(crate) async fn nth_ready(&mut self, n: usize, explain: &str) -> SocketAddr {
        let line = self
            .server
            .wait_for_nth_line(" ready addr=", n, Duration::from_secs(5), explain)
            .await;
        addr_in(&line)
    }

    /// [`Self::nth_ready`] for instances that print a lot first: it waits as long as minipm
    /// goes on printing (60 s at most), and fails once it has printed nothing for 5 s.
    pub(crate) async fn nth_ready_after_chatter(&mut self, n: usize, explain: &str) -> SocketAddr {
        let line = self
            .server
            .wait_for_nth_line_while_printing(
                " ready addr=",
                n,
                Duration::from_secs(5),
                Duration::from_secs(60),
                explain,
            )
            .await;
        addr_in(&line)
    }

    /// Crashes the instance answering at `addr` (`GET /crash`) and waits for the `n`th ready
    /// line: its replacement's. Returns the replacement's address.
    pub(crate) async fn crash_and_wait_for_restart(
        &mut self,
        addr: SocketAddr,
        n: usize,
        explain: &str,
    ) -> SocketAddr {
        let _ = http::get(addr, "/crash").await;
        self.nth_ready(n, explain).await
    }

    /// Starts `GET /slow?ms=…` at `addr` and waits until an instance has begun to handle it.
    pub(crate) async fn start_slow_request(
        &mut self,
        addr: SocketAddr,
        ms: u64,
    ) -> tokio::task::JoinHandle<Result<http::Response, http::HttpError>> {
        self.server
            .request_in_flight(addr, &format!("/slow?ms={ms}"), "slow request started")
            .await
    }

    /// Which instance answers `GET /` at `addr` (`web-0 pid 123`).
    pub(crate) async fn who(&self, addr: SocketAddr) -> String {
        let response = within(
            Duration::from_secs(5),
            "GET / was not answered within 5 s: is any instance running and serving?",
            http::get(addr, "/"),
        )
        .await;
        match response {
            Ok(r) if r.status == 200 => r.body.trim().to_owned(),
            other => panic!(
                "GET / failed: {other:?}. minipm's last output:\n{}",
                self.server.tail(15)
            ),
        }
    }

    /// The pids of the instances answering at `addr` (asks until it has seen `instances`, at
    /// most 200 times).
    pub(crate) async fn pids(&self, addr: SocketAddr, instances: usize) -> BTreeSet<u32> {
        let mut pids = BTreeSet::new();
        for _ in 0..200 {
            let who = self.who(addr).await;
            pids.insert(
                who.rsplit(' ')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0),
            );
            if pids.len() >= instances {
                break;
            }
        }
        pids
    }

    /// `GET path` on the status endpoint.
    pub(crate) async fn status_page(&mut self, path: &str) -> String {
        let addr = self.status_addr().await;
        http::get(addr, path)
            .await
            .map(|r| r.body)
            .unwrap_or_default()
    }
}

/// `addr=127.0.0.1:1234` in a log line (test-support's one parser of those lines).
pub(crate) fn addr_in(line: &str) -> SocketAddr {
    test_support::http::addr_in(line).unwrap_or_else(|err| panic!("{err}"))
}

/// True while a process with this pid exists (and is not a zombie); the one copy lives in
/// test-support.
pub(crate) use test_support::process::alive;
