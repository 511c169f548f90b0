//! 1.5: background work finishes its current item and nothing is lost.

use std::sync::Arc;
use std::time::Duration;

use ch01_graceful_shutdown::app::Hits;
use ch01_graceful_shutdown::flusher;
use test_support::{Redis, Sig, http, within};
use tokio_util::sync::CancellationToken;

use crate::support::{self, assert_exit_code};

#[tokio::test]
async fn the_flusher_writes_what_is_left_when_it_is_stopped() {
    let redis = Redis::start().await;
    let hits = Arc::new(Hits::default());
    let stop = CancellationToken::new();
    hits.add(3);
    let flusher = tokio::spawn(flusher::run(
        hits.clone(),
        redis.connection().await,
        redis.key("hits"),
        // So long that only the first tick (at once) and the last flush can write anything.
        Duration::from_secs(3600),
        stop.clone(),
    ));
    hits.add(4);
    stop.cancel();
    within(
        Duration::from_secs(2),
        "`flusher::run` was still running 2 s after its token was cancelled. A background loop \
         needs a way out: race `ticks.tick()` against `stop.cancelled()` with `tokio::select!` \
         and break out of the loop when the token wins. See 1.5.",
        flusher,
    )
    .await
    .expect("the flusher does not panic");
    let written = redis.get_int("hits").await;
    assert_eq!(
        written, 7,
        "7 hits were counted and the flusher has returned, but Redis holds {written}: after the \
         loop ends, flush one last time. See 1.5."
    );
}

#[tokio::test]
async fn hits_of_requests_in_flight_at_sigterm_reach_redis() {
    let mut running = support::start(&[("FLUSH_INTERVAL", "3600")]).await;
    for _ in 0..5 {
        let r = http::get(running.addr, "/slow?ms=0").await.unwrap();
        assert_eq!(r.status, 200);
    }
    let mut in_flight = Vec::new();
    for _ in 0..3 {
        in_flight.push(running.start_slow_request(400).await);
    }

    let (status, _) = running
        .stop(
            Sig::Term,
            Duration::from_secs(5),
            "The service did not exit within 5 s of SIGTERM. Is it waiting for a background task \
             that was never told to stop? Cancel its token before you wait on the tracker. \
             See 1.5.",
        )
        .await;
    for request in in_flight {
        let response = request.await.unwrap();
        assert!(
            matches!(response, Ok(ref r) if r.status == 200),
            "a request in flight at SIGTERM should finish with 200, got {response:?}. See 1.2."
        );
    }
    assert_exit_code(&running, status, 0, "A drained service exits 0.");

    let written = running.redis.get_int("hits").await;
    let explain = match written {
        0 => {
            "none of them: the flusher was dropped before it could write. Track it with a \
              `TaskTracker`, stop it with its `CancellationToken`, and wait for it before `run` \
              returns"
        }
        5 => {
            "only the 5 answered before the signal: the flusher made its last flush before the \
              3 requests in flight had finished. Stop background work only after the server has \
              drained"
        }
        _ => "some of them",
    };
    assert_eq!(
        written,
        8,
        "The service answered 8 requests, so Redis should count 8 hits, but it holds {written}, \
         {explain}. See 1.5. The service's last output:\n{}",
        running.server.tail(12)
    );
}
