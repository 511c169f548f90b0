//! 2.5: memory and CPU from /proc, and metrics in Prometheus's format.

use std::time::{Duration, Instant};

use ch02_process_managers::metrics::{parse_proc, render_prometheus};
use ch02_process_managers::status::{
    InstanceStatus, Phase, clock_ticks_per_second, page_size, process_stats,
};

use crate::support;

/// What /proc/<pid>/statm and /proc/<pid>/stat hold for a worker whose command name has spaces
/// and a parenthesis in it (Linux allows any bytes there): 2,500 pages resident, 300 + 50 ticks
/// of user and system time. Parsed the same way on every platform.
const STATM: &str = "12500 2500 700 120 0 3000 0\n";
const STAT: &str = "4242 (web (worker) 1) S 1 4242 4242 0 -1 4194560 1200 0 3 0 300 50 0 0 20 0 \
                    4 0 98765 51200000 2500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 \
                    0 0 0 0\n";

#[test]
fn proc_text_is_read_as_bytes_and_seconds() {
    let stats = parse_proc(STATM, STAT).unwrap_or_else(|err| {
        panic!("parse_proc failed on /proc text of a real shape: {err}. See 2.5.")
    });
    assert_eq!(
        stats.rss_bytes,
        2500 * page_size(),
        "statm's second field is the resident set: 2,500 pages of {} bytes. See 2.5.",
        page_size()
    );
    let expected = 350.0 / clock_ticks_per_second();
    assert!(
        (stats.cpu_seconds - expected).abs() < 1e-9,
        "fields 14 and 15 of stat (300 and 50 ticks of user and system time) make {expected} s, \
         but parse_proc says {}. The command name `(web (worker) 1)` has spaces and a ')' in it: \
         count fields after the last ')'. See 2.5.",
        stats.cpu_seconds
    );
    for (statm, stat, what) in [
        ("", STAT, "an empty statm"),
        (STATM, "4242 (web) S 1", "a stat cut short"),
        (STATM, "not a stat line", "a stat with no command name"),
    ] {
        assert!(
            parse_proc(statm, stat).is_err(),
            "{what} should be an error, so that a bad read never shows as 0 bytes. See 2.5."
        );
    }
}

// /proc is Linux's; on macOS `process_stats` asks the platform through sysinfo instead, and the
// test above checks your parser.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "reads /proc, which only Linux has; proc_text_is_read_as_bytes_and_seconds checks 2.5 here"
)]
fn memory_and_cpu_of_a_process_are_read_from_proc() {
    let me = std::process::id();
    let before = process_stats(me).expect("reading /proc for this test's own process");
    let clock_before = process_cpu_time();
    // Half a second of CPU (not of wall time: on a busy machine half a second of wall time may
    // give this process far less CPU), measured by the kernel's own clock for this process.
    let wall = Instant::now();
    let mut x = 1u64;
    while process_cpu_time() - clock_before < 0.5 {
        assert!(
            wall.elapsed() < Duration::from_secs(60),
            "this machine gave the test less than 0.5 s of CPU in a minute"
        );
        for _ in 0..10_000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
    let after = process_stats(me).unwrap();
    let expected = process_cpu_time() - clock_before;
    assert!(
        before.rss_bytes > 1_000_000,
        "this test process uses more than 1 MB of memory, but parse_proc says {} bytes. RSS is \
         the second field of /proc/<pid>/statm, in pages. See 2.5.",
        before.rss_bytes
    );
    let used = after.cpu_seconds - before.cpu_seconds;
    // /proc counts in clock ticks (10 ms) and the other tests' threads run too: a margin.
    assert!(
        (used - expected).abs() <= 0.1 + 0.25 * expected,
        "the kernel says this process just used {expected:.2} s of CPU, but parse_proc's \
         cpu_seconds moved by {used:.2}. Fields 14 and 15 of /proc/<pid>/stat, in clock ticks. \
         See 2.5."
    );
}

/// CPU time of this whole process (every thread), in seconds: the kernel's clock that /proc's
/// fields 14 and 15 also count.
#[allow(unsafe_code)]
fn process_cpu_time() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which we own.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) } == 0;
    assert!(ok, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
}

#[test]
fn metrics_are_written_in_prometheus_text_format() {
    let mut web0 = InstanceStatus::new("web", 0);
    web0.phase = Phase::Online;
    web0.pid = Some(42);
    web0.restarts = 3;
    web0.rss_bytes = 5_000_000;
    let web1 = InstanceStatus::new("web", 1);
    let text = render_prometheus(&[web0, web1]);
    // A counter only goes up (Prometheus's rate() and increase() rely on it; a gauge may go
    // down); a gauge is a value right now.
    for expected in [
        "# TYPE minipm_up gauge",
        "# TYPE minipm_restarts_total counter",
        "# TYPE minipm_cpu_seconds_total counter",
        "minipm_restarts_total{app=\"web\",instance=\"0\"} 3",
        "minipm_up{app=\"web\",instance=\"0\"} 1",
        "minipm_up{app=\"web\",instance=\"1\"} 0",
        "# TYPE minipm_memory_rss_bytes gauge",
        "minipm_memory_rss_bytes{app=\"web\",instance=\"0\"} 5000000",
    ] {
        assert!(
            text.lines().any(|l| l == expected),
            "the metrics should contain the line\n  {expected}\nbut are:\n{text}\nSee 2.5."
        );
    }
}

#[tokio::test]
async fn after_a_crash_the_metrics_show_the_restart_and_the_memory() {
    let mut minipm = support::start(&support::worker_app("env = { PORT = \"0\" }"));
    let first = minipm
        .nth_ready(1, "The worker should start and print `ready`.")
        .await;
    minipm
        .crash_and_wait_for_restart(
            first,
            2,
            "The worker should be restarted after its crash. See 2.1.",
        )
        .await;
    // The sampler refreshes memory once a second.
    let mut metrics = String::new();
    for _ in 0..30 {
        metrics = minipm.status_page("/metrics").await;
        if metrics
            .lines()
            .any(|l| l.starts_with("minipm_memory_rss_bytes") && !l.ends_with(" 0"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        metrics
            .lines()
            .any(|l| l == "minipm_restarts_total{app=\"web\",instance=\"0\"} 1"),
        "after one crash, /metrics should count one restart, but says:\n{}\nSee 2.5.",
        if metrics.trim().is_empty() {
            "(an empty body)"
        } else {
            metrics.as_str()
        }
    );
    assert!(
        metrics.lines().any(|l| l
            .starts_with("minipm_memory_rss_bytes{app=\"web\",instance=\"0\"} ")
            && !l.ends_with(" 0")),
        "/metrics should show the instance's resident memory (from /proc), but says:\n{metrics}\nSee 2.5."
    );
}
