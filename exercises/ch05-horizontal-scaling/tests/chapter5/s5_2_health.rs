//! 5.2: liveness and readiness.

use std::time::{Duration, Instant};

use test_support::{Redis, Sig};

use crate::support::{instances, request};

#[tokio::test]
async fn readiness_fails_while_redis_is_down_and_liveness_does_not() {
    let mut redis = Redis::start().await;
    let all = instances(&redis, 1, &[]).await;
    let addr = all[0].1;
    let ready = request(addr, "GET", "/readyz", &[]).await;
    assert_eq!(
        ready.status, 200,
        "/readyz with Redis up answered {}: {}",
        ready.status, ready.body
    );
    redis.kill();
    let started = Instant::now();
    let mut last = (0, String::new());
    while started.elapsed() < Duration::from_secs(5) {
        let answer = request(addr, "GET", "/readyz", &[]).await;
        last = (answer.status, answer.body);
        if last.0 == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        last.0,
        503,
        "Redis is down, yet /readyz still answers {} {:?}. Every request this instance gets will \
         fail; readiness is how it tells the load balancer to send them elsewhere. Ping Redis \
         (with a timeout) in `readiness`. See 5.2.",
        last.0,
        last.1.trim()
    );
    let live = request(addr, "GET", "/healthz", &[]).await;
    assert_eq!(
        live.status,
        200,
        "with Redis down, /healthz answers {} {:?}. Liveness decides whether the platform \
         restarts the process: restarting every replica because Redis is down fixes nothing \
         and drops their in-flight work. Liveness must not depend on Redis. See 5.2.",
        live.status,
        live.body.trim()
    );
}

#[tokio::test]
async fn readiness_fails_as_soon_as_shutdown_begins() {
    let redis = Redis::start().await;
    let mut all = instances(&redis, 1, &[("SHUTDOWN_DELAY", "2")]).await;
    let (server, addr) = &mut all[0];
    server.signal(Sig::Term);
    server
        .wait_for_line(
            "shutting down",
            Duration::from_secs(3),
            "The service logs `shutting down` when SIGTERM arrives (given code).",
        )
        .await;
    let ready = request(*addr, "GET", "/readyz", &[]).await;
    assert_eq!(
        ready.status,
        503,
        "shutdown has begun (SIGTERM, SHUTDOWN_DELAY=2), yet /readyz answers {} {:?}. During \
         the delay the instance still serves, but must tell the load balancer to stop sending, \
         so that when draining starts no new request is on its way. See 5.2.",
        ready.status,
        ready.body.trim()
    );
    let hello = request(*addr, "GET", "/", &[]).await;
    assert_eq!(
        hello.status, 200,
        "during the shutdown delay the instance still serves requests that arrive. See 5.2."
    );
}
