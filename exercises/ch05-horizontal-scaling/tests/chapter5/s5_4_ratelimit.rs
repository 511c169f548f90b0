//! 5.4: a rate limit shared by every instance.

use test_support::Redis;

use crate::support::{instances, request};

#[tokio::test]
async fn the_rate_limit_holds_across_instances() {
    let redis = Redis::start().await;
    let limit = 12;
    let all = instances(&redis, 3, &[("RATE_LIMIT", "12"), ("RATE_WINDOW", "60")]).await;
    let mut allowed = 0;
    let mut limited = Vec::new();
    // 24 requests from one client, spread over the three instances like a balancer would.
    for i in 0..2 * limit {
        let (_, addr) = &all[i % all.len()];
        let answer = request(*addr, "GET", "/", &[("x-client-id", "client-a")]).await;
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
            .as_deref()
            .and_then(|r| r.parse::<u64>().ok())
            .is_some_and(|r| (1..=60).contains(&r)),
        "a 429 should say when to come back: Retry-After in seconds (got {retry:?}). See 5.4."
    );
    let other = request(all[0].1, "GET", "/", &[("x-client-id", "client-b")]).await;
    assert_eq!(
        other.status, 200,
        "another client has its own count, and is not limited. See 5.4."
    );
}
