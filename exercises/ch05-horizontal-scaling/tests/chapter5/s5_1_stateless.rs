//! 5.1: state in Redis, so any instance serves any request.

use test_support::Redis;

use crate::support::{instances, request};

#[tokio::test]
async fn a_session_made_on_one_instance_is_valid_on_all() {
    let redis = Redis::start().await;
    let all = instances(&redis, 3, &[]).await;
    let login = request(all[0].1, "POST", "/login?user=ada", &[]).await;
    assert_eq!(
        login.status, 200,
        "POST /login answered {}: {}",
        login.status, login.body
    );
    let cookie = login
        .header("set-cookie")
        .and_then(|c| c.split(';').next().map(str::to_string))
        .expect("POST /login sets a session cookie");
    for (i, (_, addr)) in all.iter().enumerate() {
        let me = request(*addr, "GET", "/me", &[("Cookie", &cookie)]).await;
        assert_eq!(
            (me.status, me.body.trim()),
            (200, "ada"),
            "ada logged in on instance 1; instance {} says {} {:?}. Behind a load balancer her \
             next request can land on any instance, and every one must know her session: keep \
             sessions in Redis, not in the process's memory. See 5.1.",
            i + 1,
            me.status,
            me.body.trim()
        );
    }
    let id = cookie.trim_start_matches("session=");
    let mut conn = redis.connection().await;
    let ttl: i64 = redis::cmd("TTL")
        .arg(redis.key(&format!("session:{id}")))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        (1..=1800).contains(&ttl),
        "the session's key {} has TTL {ttl} (-1: no expiry, -2: no such key). A session without \
         an expiry stays in Redis for ever, one per login: store it with `SET … EX` (SESSION_TTL, \
         default 1800 s). See 5.1.",
        redis.key(&format!("session:{id}"))
    );
}

#[tokio::test]
async fn a_counter_incremented_through_all_instances_is_exact() {
    let redis = Redis::start().await;
    let all = instances(&redis, 3, &[]).await;
    let per_instance = 40;
    let mut tasks = tokio::task::JoinSet::new();
    for (_, addr) in &all {
        for _ in 0..per_instance {
            let addr = *addr;
            tasks.spawn(async move { request(addr, "POST", "/count", &[]).await.status });
        }
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.unwrap(), 200, "POST /count failed");
    }
    let expected = (per_instance * all.len()) as i64;
    for (i, (_, addr)) in all.iter().enumerate() {
        let answer = request(*addr, "GET", "/count", &[]).await;
        let seen: i64 = answer.body.trim().parse().unwrap_or(-1);
        assert_eq!(
            seen,
            expected,
            "{expected} visits were counted, {per_instance} through each of 3 instances, at the \
             same time; instance {} reports {seen}. Each instance counting in its own memory \
             sees only its own share. Count in Redis with INCR, which is atomic: concurrent \
             increments from every instance all count. See 5.1.",
            i + 1
        );
    }
    assert_eq!(
        redis.get_int("counter:visits").await,
        expected,
        "the counter in Redis ({}) should hold every visit. See 5.1.",
        redis.key("counter:visits")
    );
}
