//! 5.3: the small balancer in front of real instances.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ch05_horizontal_scaling::balancer::{FAILS_TO_MARK_DOWN, Pool};
use test_support::{Redis, Sig};
use tokio::io::AsyncReadExt;

use crate::support::{balancer, instances, request};

/// `n` GETs of `/` through `addr`: count per answering instance (`x-instance`), and failures.
async fn spread(addr: SocketAddr, n: usize) -> (BTreeMap<String, usize>, Vec<String>) {
    let mut by = BTreeMap::new();
    let mut failed = Vec::new();
    for _ in 0..n {
        let answer = request(addr, "GET", "/", &[]).await;
        if answer.status == 200 {
            *by.entry(answer.header("x-instance").unwrap_or_default().to_owned())
                .or_default() += 1;
        } else {
            failed.push(format!("{} {}", answer.status, answer.body.trim()));
        }
    }
    (by, failed)
}

#[test]
fn two_failed_checks_take_a_backend_out_and_one_success_brings_it_back() {
    let addrs: Vec<SocketAddr> = (1..=3)
        .map(|port| SocketAddr::from(([127, 0, 0, 1], port)))
        .collect();
    let pool = Pool::new(addrs.clone());
    let b = addrs[1];
    pool.record_check(b, false);
    assert!(
        pool.is_healthy(b),
        "one failed health check took a backend out of rotation: a single slow answer or lost \
         packet would flap it in and out. It takes FAILS_TO_MARK_DOWN ({FAILS_TO_MARK_DOWN}) \
         failures in a row. See 5.3 (`record_check`)."
    );
    assert!(
        pool.record_check(b, false) && !pool.is_healthy(b),
        "a second failed check in a row should take the backend out (and `record_check` should \
         return true: its state changed). See 5.3."
    );
    for _ in 0..6 {
        let picked = pool.pick(&[]);
        assert!(
            picked.is_some() && picked != Some(b),
            "`pick` chose {picked:?}, but {b} is marked down. See 5.3."
        );
    }
    assert!(
        pool.record_check(b, true) && pool.is_healthy(b),
        "one successful check should bring a backend back into rotation (a restarted instance \
         must get traffic again), and `record_check` should return true. See 5.3."
    );
    pool.record_check(b, false);
    assert!(
        pool.is_healthy(b),
        "after a success the count of failures starts over: one new failure is not two in a \
         row. See 5.3 (`record_check`)."
    );
    for _ in 0..6 {
        let picked = pool.pick(&[addrs[0], addrs[2]]);
        assert_eq!(
            picked,
            Some(b),
            "this request already failed on {} and {}: `pick` must skip the backends in \
             `tried`, so the only one left is {b}. See 5.3.",
            addrs[0],
            addrs[2]
        );
    }
    assert_eq!(
        pool.pick(&addrs),
        None,
        "every backend was tried already: `pick` should say None, so the balancer answers 502 \
         instead of trying forever. See 5.3."
    );
}

#[tokio::test]
async fn requests_take_turns_across_the_backends() {
    let redis = Redis::start().await;
    let all = instances(&redis, 3, &[]).await;
    let addrs: Vec<SocketAddr> = all.iter().map(|(_, a)| *a).collect();
    let (_lb, lb) = balancer(&addrs, 60_000).await;
    let (by, failed) = spread(lb, 30).await;
    assert!(
        failed.is_empty(),
        "requests failed through the balancer: {failed:?}"
    );
    assert_eq!(
        by.values().copied().collect::<Vec<_>>(),
        [10, 10, 10],
        "30 requests through the balancer to 3 healthy backends should be 10 each (round-robin); \
         they went {by:?}. See 5.3 (`Pool::pick`)."
    );
}

#[tokio::test]
async fn a_dead_backend_costs_no_request() {
    let redis = Redis::start().await;
    let mut all = instances(&redis, 3, &[]).await;
    let addrs: Vec<SocketAddr> = all.iter().map(|(_, a)| *a).collect();
    let (mut lb_server, lb) = balancer(&addrs, 200).await;
    all[0].0.signal(Sig::Kill);
    all[0]
        .0
        .wait_exit(Duration::from_secs(5), "SIGKILL ends a process at once.")
        .await;
    let (by, failed) = spread(lb, 20).await;
    assert!(
        failed.is_empty(),
        "instance 1 was killed; {} of 20 requests through the balancer failed: {:?}. A refused \
         connection means the request never reached the backend, so it is safe to try the next \
         one, for any method. See 5.3 (`may_retry` with sent = false, and `tried` in `pick`).",
        failed.len(),
        failed.first()
    );
    assert!(!by.contains_key("i1"), "the dead instance answered? {by:?}");
    lb_server
        .wait_for_line(
            &format!("backend down addr={}", addrs[0]),
            Duration::from_secs(3),
            "Health checks run every 200 ms here; two failures in a row should take the dead \
             backend out of rotation (`record_check`), which the balancer logs. See 5.3.",
        )
        .await;
}

#[tokio::test]
async fn a_post_is_never_sent_twice() {
    let redis = Redis::start().await;
    let all = instances(&redis, 1, &[]).await;
    // A backend that reads each request, counts it, and hangs up without an answer: like a
    // service that crashed while handling it. Did it charge the card? Nobody knows.
    let seen = Arc::new(AtomicUsize::new(0));
    let flaky = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let flaky_addr = flaky.local_addr().unwrap();
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = flaky.accept().await {
            let mut buf = [0u8; 2048];
            let _ = stream.read(&mut buf).await;
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let (_lb, lb) = balancer(&[flaky_addr, all[0].1], 60_000).await;

    for _ in 0..4 {
        let answer = request(lb, "GET", "/", &[]).await;
        assert_eq!(
            answer.status,
            200,
            "a GET whose backend hung up without answering should be retried on the other \
             backend: GET is idempotent, doing it twice changes nothing. It answered {} {:?}. \
             See 5.3 (`may_retry`).",
            answer.status,
            answer.body.trim()
        );
    }
    let before = seen.load(Ordering::SeqCst);
    let mut bad_gateways = 0;
    for _ in 0..4 {
        let answer = request(lb, "POST", "/count", &[]).await;
        if answer.status == 502 {
            bad_gateways += 1;
        }
    }
    let posts_to_flaky = seen.load(Ordering::SeqCst) - before;
    let executed = request(all[0].1, "GET", "/count", &[])
        .await
        .body
        .trim()
        .parse::<usize>()
        .unwrap_or(0);
    assert!(
        posts_to_flaky > 0 && bad_gateways == posts_to_flaky && executed + posts_to_flaky == 4,
        "4 POSTs: {posts_to_flaky} reached the backend that hangs up, {bad_gateways} got 502, and \
         the healthy backend carried out {executed}. A POST that reached a backend and got no \
         answer may have been carried out: sending it again could do it twice. It must fail \
         (502), never be retried, so every POST is carried out at most once. See 5.3 \
         (`may_retry` with sent = true)."
    );
}

#[tokio::test]
async fn a_backend_that_is_not_ready_gets_no_traffic() {
    let redis = Redis::start().await;
    let all = instances(&redis, 3, &[("SHUTDOWN_DELAY", "10")]).await;
    let addrs: Vec<SocketAddr> = all.iter().map(|(_, a)| *a).collect();
    let (mut lb_server, lb) = balancer(&addrs, 200).await;
    // Instance 1 begins shutting down: it still answers, but its /readyz says 503.
    all[0].0.signal(Sig::Term);
    let started = Instant::now();
    lb_server
        .wait_for_line(
            &format!("backend down addr={}", addrs[0]),
            Duration::from_secs(3),
            "Instance 1's /readyz answers 503 (it is shutting down). Two failed checks in a row \
             (200 ms apart here) should take it out of rotation (`record_check`). See 5.3.",
        )
        .await;
    let (by, failed) = spread(lb, 20).await;
    assert!(failed.is_empty(), "requests failed: {failed:?}");
    assert!(
        !by.contains_key("i1"),
        "instance 1 is not ready (shutting down) and was marked down {:?} ago, yet it served \
         {} of 20 requests. See 5.3 (`pick` skips unhealthy backends).",
        started.elapsed(),
        by.get("i1").copied().unwrap_or(0)
    );
}
