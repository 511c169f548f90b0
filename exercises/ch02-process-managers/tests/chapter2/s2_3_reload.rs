//! 2.3: zero-downtime reload, and a graceful stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use test_support::{Sig, http, within};

use crate::support::{self, Minipm, alive};

const CLUSTER: &str = "instances = 2\nport = 0\nready_line = \"ready addr=\"";

/// Sends minipm SIGHUP and waits until it logs that every instance has been replaced.
async fn reload(minipm: &mut Minipm) {
    hup_and_wait_for(
        minipm,
        "reload finished",
        Duration::from_secs(15),
        "After SIGHUP minipm should replace each instance and log `reload finished`. See 2.3.",
    )
    .await;
}

/// Sends minipm SIGHUP and waits (at most `timeout`) for a log line containing `line`.
async fn hup_and_wait_for(minipm: &mut Minipm, line: &str, timeout: Duration, explain: &str) {
    minipm.server.signal(Sig::Hup);
    minipm.server.wait_for_line(line, timeout, explain).await;
}

#[tokio::test]
async fn a_reload_under_load_fails_no_request_and_replaces_every_process() {
    let mut minipm = support::start(&support::worker_app(CLUSTER));
    let addr = minipm.cluster_addr().await;
    let before = minipm.pids(addr, 2).await;

    // Continuous requests, one after another, until told to stop (bounded: at most 20,000).
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn({
        let stop = stop.clone();
        async move {
            let (mut ok, mut failed) = (0u32, Vec::new());
            while !stop.load(Ordering::Relaxed) && ok + (failed.len() as u32) < 20_000 {
                match http::get(addr, "/").await {
                    Ok(r) if r.status == 200 => ok += 1,
                    other => failed.push(format!("{other:?}")),
                }
            }
            (ok, failed)
        }
    });
    // And one slow request in flight when the reload begins.
    let slow = minipm.start_slow_request(addr, 800).await;

    reload(&mut minipm).await;
    stop.store(true, Ordering::Relaxed);
    let (ok, failed) = load.await.unwrap();
    let slow = slow.await.unwrap();

    assert!(
        matches!(slow, Ok(ref r) if r.status == 200),
        "a request in flight when the reload began failed: {slow:?}. The old process must be \
         stopped gracefully (SIGTERM, then wait), not killed, and only after its replacement \
         is ready. See 2.3."
    );
    assert!(
        failed.is_empty(),
        "{} of {} requests failed during the reload, for example {:?}. A zero-downtime reload \
         starts the replacement, waits for its ready line, and only then stops the old process \
         with SIGTERM. See 2.3.",
        failed.len(),
        ok as usize + failed.len(),
        failed.first()
    );
    assert!(ok > 0, "no request was answered during the reload");
    let after = minipm.pids(addr, 2).await;
    assert!(
        before.is_disjoint(&after),
        "after the reload the processes answering were {after:?}, and before {before:?}: every \
         instance should have been replaced. See 2.3."
    );
}

// Two threads: the 16 clients must keep up with their answers, or they would look idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_under_keep_alive_load_fails_no_request() {
    let mut minipm = support::start(&support::worker_app(CLUSTER));
    let addr = minipm.cluster_addr().await;

    // 16 clients that keep their connections open between requests, as browsers, client pools,
    // nginx and wrk do, and never retry.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // The limit only bounds the loop: at tens of thousands of requests a second it lasts minutes.
    let load = tokio::spawn(http::keep_alive_load_counting(
        addr,
        16,
        "/",
        20_000_000,
        async {
            let _ = stopped.await;
        },
        answered.clone(),
    ));
    // Every client connected and answered before the reload, so each connection is to a process
    // that the reload must replace (on a busy machine the clients may start late).
    within(
        Duration::from_secs(10),
        "the 16 keep-alive clients did not all get an answer before the reload",
        async {
            while answered.load(std::sync::atomic::Ordering::Relaxed) < 16 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        },
    )
    .await;
    reload(&mut minipm).await;
    let _ = stop.send(());
    let load = load.await.unwrap();
    assert!(
        load.failed.is_empty() && load.refused == 0,
        "{} of {} requests on keep-alive connections failed during the reload ({} connections \
         refused), for example {:?}. The old process must be stopped with SIGTERM and given its \
         kill_timeout_ms to drain: the worker then answers every request with `Connection: \
         close` for a moment before it closes what is idle, so no client sends a request on a \
         connection that is being closed. SIGKILL cuts every open connection at once. See 2.3.",
        load.failed.len(),
        load.ok + load.failed.len(),
        load.refused,
        load.failed.first()
    );
    assert!(
        !load.exhausted,
        "the test's clients sent all {} requests they may send before the reload finished, so \
         they say nothing about it: this machine outran the test (not your code); raise the \
         limit in tests/chapter2/s2_3_reload.rs",
        load.ok + load.failed.len()
    );
    assert!(
        load.connections > 16,
        "the clients never had to reconnect ({} connections), so no process was replaced \
         under them. See 2.3.",
        load.connections
    );
}

#[tokio::test]
async fn a_replacement_that_never_becomes_ready_leaves_the_old_process_serving() {
    let mut minipm = support::start(&support::worker_app(CLUSTER));
    let addr = minipm.cluster_addr().await;
    let before = minipm.pids(addr, 2).await;

    // A bad deploy: the new version never gets ready.
    support::write_config(
        &minipm.config,
        &support::worker_app(&format!(
            "{CLUSTER}\nlisten_timeout_ms = 500\nenv = {{ NEVER_READY = \"1\" }}"
        )),
    );
    hup_and_wait_for(
        &mut minipm,
        "reload failed",
        Duration::from_secs(10),
        "The replacement never printed its ready line, so within listen_timeout_ms (500 ms) the \
         reload should fail, say `reload failed`, and keep the old process. See 2.3.",
    )
    .await;
    let who = within(
        Duration::from_secs(3),
        "After a failed reload nothing answers any more: the old process must keep serving \
         until a replacement is ready. See 2.3.",
        minipm.pids(addr, 2),
    )
    .await;
    assert!(
        who.is_subset(&before),
        "after the failed reload, requests were answered by {who:?}; the old processes were \
         {before:?} and should still be the ones serving. See 2.3."
    );
    // The other instance may answer for a stopped one, so ask the kernel too.
    for pid in &before {
        assert!(
            alive(*pid),
            "after the failed reload, the old process {pid} is gone: it was stopped before its \
             replacement was ready, and the replacement never was. Start the replacement, wait \
             for its ready line, and only then stop the old process. See 2.3."
        );
    }
}

#[tokio::test]
async fn minipm_stops_its_processes_gracefully_and_even_sigkill_leaves_none_behind() {
    // SIGTERM: every instance is asked to stop and finishes what it is doing.
    let mut minipm = support::start(&support::worker_app(CLUSTER));
    let addr = minipm.cluster_addr().await;
    let pids = minipm.pids(addr, 2).await;
    let slow = minipm.start_slow_request(addr, 500).await;
    let (status, _) = minipm
        .server
        .stop_with(
            Sig::Term,
            Duration::from_secs(10),
            "minipm did not exit within 10 s of SIGTERM. See 2.3.",
        )
        .await;
    assert_eq!(
        status.code(),
        Some(0),
        "minipm should exit 0 after a clean stop"
    );
    let slow = slow.await.unwrap();
    assert!(
        matches!(slow, Ok(ref r) if r.status == 200),
        "a request in flight when minipm was stopped failed: {slow:?}. Stop instances with \
         SIGTERM and wait up to kill_timeout_ms before SIGKILL. See 2.3."
    );
    for pid in &pids {
        assert!(
            !alive(*pid),
            "instance {pid} is still running after minipm stopped"
        );
    }

    // SIGKILL: minipm runs no code at all, yet no instance may survive it.
    let mut minipm = support::start(&support::worker_app(CLUSTER));
    let addr = minipm.cluster_addr().await;
    let pids = minipm.pids(addr, 2).await;
    minipm.server.signal(Sig::Kill);
    within(
        Duration::from_secs(3),
        "instances were still running 3 s after minipm was killed with SIGKILL",
        async {
            while pids.iter().any(|p| alive(*p)) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        },
    )
    .await;
}
