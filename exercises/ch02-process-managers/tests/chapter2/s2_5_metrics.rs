//! 2.5: memory and CPU from /proc, and metrics in Prometheus's format.

use std::time::{Duration, Instant};

use ch02_process_managers::metrics::{read_proc, render_prometheus};
use ch02_process_managers::status::{InstanceStatus, Phase};

use crate::support;

#[test]
fn memory_and_cpu_of_a_process_are_read_from_proc() {
    let me = std::process::id();
    let before = read_proc(me).expect("reading /proc for this test's own process");
    // Half a second of work, to move the CPU counter.
    let start = Instant::now();
    let mut x = 1u64;
    while start.elapsed() < Duration::from_millis(500) {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
    let after = read_proc(me).unwrap();
    assert!(
        before.rss_bytes > 1_000_000,
        "this test process uses more than 1 MB of memory, but read_proc says {} bytes. RSS is the \
         second field of /proc/<pid>/statm, in pages. See 2.5.",
        before.rss_bytes
    );
    let used = after.cpu_seconds - before.cpu_seconds;
    assert!(
        (0.2..=2.0).contains(&used),
        "the test just used about 0.5 s of CPU, but read_proc's cpu_seconds moved by {used:.2}. \
         Fields 14 and 15 of /proc/<pid>/stat, in clock ticks. See 2.5."
    );
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
    for expected in [
        "# TYPE minipm_restarts_total counter",
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
        "after one crash, /metrics should count one restart, but says:\n{metrics}\nSee 2.5."
    );
    assert!(
        metrics.lines().any(|l| l
            .starts_with("minipm_memory_rss_bytes{app=\"web\",instance=\"0\"} ")
            && !l.ends_with(" 0")),
        "/metrics should show the instance's resident memory (from /proc), but says:\n{metrics}\nSee 2.5."
    );
}
