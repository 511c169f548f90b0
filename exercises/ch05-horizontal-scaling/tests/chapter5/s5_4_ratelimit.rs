//! 5.4: a rate limit shared by every instance, keyed on what the client cannot choose.

use std::net::SocketAddr;

use test_support::Redis;
use test_support::http::Response;

use crate::support::{balancer, instances, request};

/// What an attacker adds to request `i` to look like a new client each time: a made-up id, a
/// made-up `X-Forwarded-For` chain and a made-up `X-Real-IP`.
fn disguise(i: usize) -> [(&'static str, String); 3] {
    [
        ("x-client-id", format!("nobody-{i}")),
        (
            "x-forwarded-for",
            format!("203.0.113.{}, 198.51.100.{}", i + 1, i + 1),
        ),
        ("x-real-ip", format!("192.0.2.{}", i + 1)),
    ]
}

/// Sends `n` disguised GETs of `/`, the `i`-th to `targets[i % len]`; returns how many got 429.
async fn disguised_requests(targets: &[SocketAddr], n: usize) -> usize {
    let mut limited = 0;
    for i in 0..n {
        let headers = disguise(i);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer: Response = request(targets[i % targets.len()], "GET", "/", &headers).await;
        match answer.status {
            200 => {}
            429 => limited += 1,
            other => panic!("GET / answered {other}: {}", answer.body),
        }
    }
    limited
}

#[tokio::test]
async fn the_rate_limit_holds_across_instances() {
    let redis = Redis::start().await;
    let limit = 12;
    // The test stands where the balancer would (127.0.0.1 is trusted), and says who each
    // client is in X-Real-IP, as the balancer does.
    let env = [
        ("RATE_LIMIT", "12"),
        ("RATE_WINDOW", "60"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ];
    let all = instances(&redis, 3, &env).await;
    let mut allowed = 0;
    let mut limited = Vec::new();
    // 24 requests from one client, spread over the three instances like a balancer would.
    for i in 0..2 * limit {
        let (_, addr) = &all[i % all.len()];
        let answer = request(*addr, "GET", "/", &[("x-real-ip", "203.0.113.10")]).await;
        match answer.status {
            200 => allowed += 1,
            429 => limited.push(answer),
            other => panic!("GET / answered {other}: {}", answer.body),
        }
    }
    assert_eq!(
        allowed,
        limit,
        "RATE_LIMIT=12 per 60 s, and one client sent 24 requests spread over 3 instances: 12 \
         should pass and 12 get 429. {allowed} passed: each instance counted on its own, so the \
         client got {}× its limit. Count in Redis, shared by every instance. See 5.4.",
        allowed as f64 / limit as f64
    );
    let retry = limited[0].header("retry-after");
    assert!(
        retry
            .and_then(|r| r.parse::<u64>().ok())
            .is_some_and(|r| (1..=60).contains(&r)),
        "a 429 should say when to come back: Retry-After in seconds (got {retry:?}). See 5.4."
    );
    let other = request(all[0].1, "GET", "/", &[("x-real-ip", "203.0.113.11")]).await;
    assert_eq!(
        other.status, 200,
        "another client has its own count, and is not limited. See 5.4."
    );
    // Every count must expire, or Redis keeps one key per client and window forever.
    let mut conn = redis.connection().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", redis.prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        !keys.is_empty(),
        "the rate limit counted 25 requests, yet this test's Redis namespace ({}) holds no key. \
         Count in Redis, under `store.key(…)`. See 5.4.",
        redis.prefix()
    );
    for key in keys {
        let ttl: i64 = redis::cmd("TTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(
            ttl > 0,
            "the rate-limit key {key} never expires (TTL {ttl}): Redis would keep one key per \
             client and window forever. Set an expiry with the INCR, in the same MULTI/EXEC \
             (`redis::pipe().atomic()`), so no key is left without one if the connection drops \
             between the two. See 5.4."
        );
    }
}

#[tokio::test]
async fn a_client_cannot_reset_its_limit_with_headers_it_makes_up() {
    let redis = Redis::start().await;
    // No TRUSTED_PROXIES: nobody's headers are believed, every client is its address. A long
    // window, so the 20 requests do not straddle two windows.
    let env = [("RATE_LIMIT", "5"), ("RATE_WINDOW", "3600")];
    let all = instances(&redis, 3, &env).await;
    let addrs: Vec<SocketAddr> = all.iter().map(|(_, a)| *a).collect();
    let limited = disguised_requests(&addrs, 20).await;
    assert_eq!(
        limited, 15,
        "RATE_LIMIT=5: one client sent 20 requests straight to the 3 instances, each with a new \
         x-client-id, X-Forwarded-For and X-Real-IP it made up. They all come from one address, \
         so 15 should get 429; {limited} did. The headers are the client's to write: count by \
         the connection's address, shared in Redis by every instance. See 5.4."
    );
}

#[tokio::test]
async fn forged_headers_through_the_balancers_do_not_reset_the_limit() {
    let redis = Redis::start().await;
    // Behind the balancers: their address (127.0.0.1) is trusted, and each one replaces
    // X-Real-IP with the address it saw.
    let env = [
        ("RATE_LIMIT", "5"),
        ("RATE_WINDOW", "3600"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ];
    let all = instances(&redis, 3, &env).await;
    let addrs: Vec<SocketAddr> = all.iter().map(|(_, a)| *a).collect();
    // Production runs more than one balancer (two nginx, a cloud balancer's nodes), and a
    // client's requests reach the replicas through any of them: three here, each listing the
    // backends from a different one.
    let mut balancers = Vec::new();
    for first in 0..addrs.len() {
        let mut order = addrs.clone();
        order.rotate_left(first);
        balancers.push(balancer(&order, 60_000).await);
    }
    let fronts: Vec<SocketAddr> = balancers.iter().map(|(_, a)| *a).collect();
    let limited = disguised_requests(&fronts, 20).await;
    assert_eq!(
        limited, 15,
        "RATE_LIMIT=5: one client sent 20 requests through 3 balancers, each with a new \
         x-client-id, X-Forwarded-For and X-Real-IP it made up. The balancers replace X-Real-IP \
         with the address they saw, the service believes it only from them, and the count is \
         shared in Redis, so 15 should get 429; {limited} did. See 5.4."
    );
}
