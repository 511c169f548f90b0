//! 2.5: what each process is doing, from the kernel's own accounting in /proc (Linux). On macOS
//! there is no /proc: `status::process_stats` reads the same two numbers through the `sysinfo`
//! crate there, and your parser is checked against /proc text the tests supply.

use std::fmt::Write as _;
use std::io;

use crate::status::{InstanceStatus, clock_ticks_per_second, page_size};

/// Memory and CPU use of one process.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcStats {
    /// Resident set size: memory the process has in RAM right now.
    pub rss_bytes: u64,
    /// CPU time used since it started, user and system together.
    pub cpu_seconds: f64,
}

// ANCHOR: read-proc
/// Turns the text of `/proc/<pid>/statm` (sizes in pages; the second field is the resident set)
/// and `/proc/<pid>/stat` (fields 14 and 15 are user and system time, in clock ticks) into
/// bytes and seconds. Text that is not in that shape is an error, not zeros.
pub fn parse_proc(statm: &str, stat: &str) -> io::Result<ProcStats> {
    let resident_pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| io::Error::other("unexpected /proc/<pid>/statm"))?;
    // The second field, the command name, is in parentheses and may contain spaces: count the
    // fields after the last ')'. Field 3 (state) is the first one after it.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| io::Error::other("unexpected /proc/<pid>/stat"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |n: usize| -> io::Result<u64> {
        fields
            .get(n - 3)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| io::Error::other("unexpected /proc/<pid>/stat"))
    };
    let ticks = tick(14)? + tick(15)?;
    Ok(ProcStats {
        rss_bytes: resident_pages * page_size(),
        cpu_seconds: ticks as f64 / clock_ticks_per_second(),
    })
}
// ANCHOR_END: read-proc

/// Renders the instances in Prometheus's text exposition format.
pub fn render_prometheus(instances: &[InstanceStatus]) -> String {
    let mut out = String::new();
    type Value = fn(&InstanceStatus) -> f64;
    let families: [(&str, &str, &str, Value); 4] = [
        ("minipm_up", "gauge", "1 if the instance is running", |s| {
            f64::from(u8::from(s.pid.is_some()))
        }),
        (
            "minipm_restarts_total",
            "counter",
            "restarts since minipm started",
            |s| f64::from(s.restarts),
        ),
        (
            "minipm_memory_rss_bytes",
            "gauge",
            "resident memory of the instance",
            |s| s.rss_bytes as f64,
        ),
        (
            "minipm_cpu_seconds_total",
            "counter",
            "CPU time used by the current process",
            |s| s.cpu_seconds,
        ),
    ];
    for (name, kind, help, value) in families {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for s in instances {
            let _ = writeln!(
                out,
                "{name}{{app=\"{}\",instance=\"{}\"}} {}",
                s.app,
                s.index,
                value(s)
            );
        }
    }
    out
}
