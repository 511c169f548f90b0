//! The state of every instance, sampled once a second, served as a table (`/status`, which
//! `minipm status` prints) and as Prometheus metrics (`/metrics`). Given, not an exercise; what
//! it reads and how the metrics are written is `metrics.rs` (2.5).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use tokio::time::Instant;

use crate::metrics;

// ANCHOR: status
/// Where an instance is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Starting,
    Online,
    /// Crashed; waiting out the backoff delay before the next start.
    Waiting,
    /// Crashed too often: minipm gave up on it.
    Errored,
    Stopped,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Online => "online",
            Phase::Waiting => "waiting",
            Phase::Errored => "errored",
            Phase::Stopped => "stopped",
        }
    }
}

/// One instance, as `minipm status` shows it.
#[derive(Debug, Clone)]
pub struct InstanceStatus {
    pub app: String,
    pub index: usize,
    pub phase: Phase,
    pub pid: Option<u32>,
    pub started_at: Option<Instant>,
    pub restarts: u32,
    pub rss_bytes: u64,
    pub cpu_seconds: f64,
    pub cpu_percent: f64,
}
// ANCHOR_END: status

impl InstanceStatus {
    pub fn new(app: &str, index: usize) -> InstanceStatus {
        InstanceStatus {
            app: app.to_owned(),
            index,
            phase: Phase::Starting,
            pid: None,
            started_at: None,
            restarts: 0,
            rss_bytes: 0,
            cpu_seconds: 0.0,
            cpu_percent: 0.0,
        }
    }
}

/// Every instance's status, shared by the supervisors (who write it) and the endpoint.
pub type Registry = Arc<Mutex<Vec<Arc<Mutex<InstanceStatus>>>>>;

/// Refreshes memory and CPU of every running instance once a second, until `stop`.
pub async fn sample(registry: Registry, stop: tokio_util::sync::CancellationToken) {
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = stop.cancelled() => return,
        }
        let instances: Vec<_> = registry.lock().expect("not poisoned").clone();
        for instance in instances {
            let mut s = instance.lock().expect("not poisoned");
            let Some(pid) = s.pid else { continue };
            if let Ok(stats) = process_stats(pid) {
                // CPU % over the last second: CPU time used in it, over the wall time.
                s.cpu_percent =
                    ((stats.cpu_seconds - s.cpu_seconds).max(0.0) * 100.0).min(100.0 * 64.0);
                s.rss_bytes = stats.rss_bytes;
                s.cpu_seconds = stats.cpu_seconds;
            }
        }
    }
}

/// Serves `/status` and `/metrics` on `listener`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    registry: Registry,
    stop: tokio_util::sync::CancellationToken,
) {
    let app =
        Router::new()
            .route(
                "/status",
                get(|State(r): State<Registry>| async move { table(&snapshot(&r)) }),
            )
            .route(
                "/metrics",
                get(|State(r): State<Registry>| async move {
                    metrics::render_prometheus(&snapshot(&r))
                }),
            )
            .with_state(registry);
    let _ = axum::serve(listener, app)
        .with_graceful_shutdown(stop.cancelled_owned())
        .await;
}

fn snapshot(registry: &Registry) -> Vec<InstanceStatus> {
    let instances = registry.lock().expect("not poisoned");
    instances
        .iter()
        .map(|i| i.lock().expect("not poisoned").clone())
        .collect()
}

/// The table `minipm status` prints.
pub fn table(instances: &[InstanceStatus]) -> String {
    let mut out = format!(
        "{:<16} {:<9} {:>8} {:>9} {:>9} {:>7} {:>10}\n",
        "name", "status", "pid", "uptime", "restarts", "cpu", "memory"
    );
    for s in instances {
        let uptime = match (s.phase, s.started_at) {
            (Phase::Online | Phase::Starting, Some(t)) => human(t.elapsed()),
            _ => "-".to_owned(),
        };
        let _ = writeln!(
            out,
            "{:<16} {:<9} {:>8} {:>9} {:>9} {:>6.1}% {:>8.1}MB",
            format!("{}-{}", s.app, s.index),
            s.phase.name(),
            s.pid.map_or("-".to_owned(), |p| p.to_string()),
            uptime,
            s.restarts,
            s.cpu_percent,
            s.rss_bytes as f64 / 1_048_576.0
        );
    }
    out
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else {
        format!("{}h", s / 3600)
    }
}

/// `minipm status`: asks a running minipm for its table.
#[allow(clippy::print_stdout)] // A command-line client: printing the table is its job.
pub async fn print_status(addr: SocketAddr) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.map_err(|err| {
        anyhow::anyhow!(
            "no minipm answers on {addr} ({err}): is it running? (`minipm start minipm.toml`)"
        )
    })?;
    stream
        .write_all(b"GET /status HTTP/1.1\r\nHost: minipm\r\nConnection: close\r\n\r\n")
        .await?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await?;
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    print!("{body}");
    Ok(())
}

// ANCHOR: process-stats
/// Memory and CPU of one process: on Linux from /proc, through your `metrics::parse_proc`
/// (2.5); elsewhere from the platform's own API (on macOS, `proc_pidinfo`) through the
/// maintained `sysinfo` crate, since there is no /proc to read.
pub fn process_stats(pid: u32) -> std::io::Result<metrics::ProcStats> {
    #[cfg(target_os = "linux")]
    {
        let statm = std::fs::read_to_string(format!("/proc/{pid}/statm"))?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        metrics::parse_proc(&statm, &stat)
    }
    #[cfg(not(target_os = "linux"))]
    {
        use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
        let pid = Pid::from_u32(pid);
        let mut system = System::new();
        system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[pid]),
            true,
            ProcessRefreshKind::nothing().with_memory().with_cpu(),
        );
        let process = system
            .process(pid)
            .ok_or_else(|| std::io::Error::other(format!("no process {pid}")))?;
        Ok(metrics::ProcStats {
            rss_bytes: process.memory(),
            cpu_seconds: process.accumulated_cpu_time() as f64 / 1000.0,
        })
    }
}

// ANCHOR_END: process-stats

/// The size of a memory page, to turn /proc's page counts into bytes.
pub fn page_size() -> u64 {
    sysconf(libc::_SC_PAGESIZE) as u64
}

/// Clock ticks per second, the unit of /proc's CPU times (usually 100).
pub fn clock_ticks_per_second() -> f64 {
    sysconf(libc::_SC_CLK_TCK) as f64
}

#[allow(unsafe_code)]
fn sysconf(name: libc::c_int) -> i64 {
    // SAFETY: sysconf only reads a configuration value.
    let value = unsafe { libc::sysconf(name) };
    value.max(1)
}
