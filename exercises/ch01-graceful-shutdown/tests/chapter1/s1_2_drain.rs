//! 1.2: stop accepting, and drain the requests in flight.

use std::time::Duration;

use test_support::{Sig, http, within};
use tokio::net::TcpStream;

use crate::support::{self, assert_exit_code};

#[tokio::test]
async fn a_request_in_flight_at_sigterm_completes_with_200() {
    let mut running = support::start(&[]).await;
    let request = running.start_slow_request(500).await;

    running.server.signal(Sig::Term);
    let response = within(
        Duration::from_secs(5),
        "GET /slow?ms=500 did not finish within 5 s of SIGTERM. See 1.2.",
        request,
    )
    .await
    .expect("the request task does not panic");
    match response {
        Ok(r) => assert_eq!(
            r.status, 200,
            "the request in flight got {} instead of 200",
            r.status
        ),
        Err(err) => panic!(
            "A request that was already being handled when SIGTERM arrived failed: {err}.\n\
             A graceful shutdown lets it finish: serve with `.with_graceful_shutdown(…)` and wait \
             for the server before returning from `run`. See 1.2.\nThe service's last output:\n{}",
            running.server.tail(12)
        ),
    }
    let (status, _) = running
        .server
        .wait_exit(
            Duration::from_secs(5),
            "Once its last request was answered, the service should have exited. See 1.2.",
        )
        .await;
    assert_exit_code(&running, status, 0, "A drained service exits 0. See 1.2.");
}

#[tokio::test]
async fn new_connections_are_refused_while_requests_in_flight_finish() {
    let mut running = support::start(&[]).await;
    let request = running.start_slow_request(1500).await;

    running.begin_shutdown(Sig::Term).await;

    // The listener closes a moment after the signal is handled; keep trying until it has.
    let addr = running.addr;
    let refused = within(
        Duration::from_secs(1),
        "The service still accepted new connections 1 s after shutdown started, while it was \
         draining a request. After the signal it must stop accepting: that is what \
         `with_graceful_shutdown` does when its future completes. See 1.2.",
        async {
            loop {
                match http::get(addr, "/health/live").await {
                    Err(http::HttpError::Refused) => return,
                    _ => tokio::task::yield_now().await,
                }
            }
        },
    );
    refused.await;

    let response = within(
        Duration::from_secs(5),
        "the request in flight did not finish",
        request,
    )
    .await
    .expect("the request task does not panic");
    match response {
        Ok(r) => assert_eq!(r.status, 200),
        Err(err) => panic!(
            "The service stopped accepting, as it should, but the request it was handling \
             failed: {err}. It must finish the requests it has before exiting. See 1.2.\n\
             Its last output:\n{}",
            running.server.tail(12)
        ),
    }
}

#[tokio::test]
async fn idle_keep_alive_connections_do_not_hold_up_the_exit() {
    let mut running = support::start(&[]).await;
    // A client that made one request and keeps the connection open, as browsers and proxies do.
    let mut idle = TcpStream::connect(running.addr).await.unwrap();
    http::send(&mut idle, "GET", "/health/live", false)
        .await
        .unwrap();
    let first = http::read_one(&mut idle).await.unwrap();
    assert_eq!(first.status, 200);
    let request = running.start_slow_request(300).await;

    let (status, elapsed) = running
        .stop(
            Sig::Term,
            Duration::from_secs(3),
            "An idle keep-alive connection held the service open after SIGTERM, or the drain \
             never ended. Graceful shutdown should close idle connections at once. See 1.2.",
        )
        .await;
    assert_exit_code(&running, status, 0, "A drained service exits 0. See 1.2.");
    let response = request.await.unwrap();
    assert!(
        matches!(response, Ok(ref r) if r.status == 200),
        "the request in flight should have finished with 200, but got {response:?}. See 1.2."
    );
    assert!(
        elapsed < Duration::from_secs(2),
        "the service took {elapsed:?} to exit; the only request in flight needed 300 ms"
    );
    // The idle connection was closed by the server, not left dangling.
    let closed = http::read_to_end(&mut idle).await;
    assert!(
        closed.is_err(),
        "the idle connection should have been closed without an answer, got {closed:?}"
    );
}

#[tokio::test]
async fn a_drain_under_keep_alive_load_fails_no_request() {
    let mut running = support::start(&[]).await;
    // 16 clients that keep their connections open between requests, as browsers, client pools,
    // nginx and wrk do, and never retry. They stop once their connection is refused.
    let before = running.server.count_lines("connection accepted");
    let load = tokio::spawn(http::keep_alive_load(
        running.addr,
        16,
        "/health/live",
        // Only a bound on the loop: at tens of thousands of requests a second it lasts minutes.
        20_000_000,
        std::future::pending(),
    ));
    running
        .server
        .wait_for_nth_line(
            "connection accepted",
            before + 16,
            Duration::from_secs(5),
            "the 16 keep-alive clients could not connect",
        )
        .await;
    let (status, _) = running
        .stop(
            Sig::Term,
            Duration::from_secs(5),
            "With 16 busy keep-alive connections the service did not exit within 5 s of SIGTERM. \
             See 1.2.",
        )
        .await;
    let load = within(
        Duration::from_secs(5),
        "the keep-alive clients did not finish after the service exited",
        load,
    )
    .await
    .expect("the load task does not panic");
    assert!(
        load.failed.is_empty(),
        "{} of {} requests on keep-alive connections failed during the drain, for example \
         {:?}. Closing a kept-alive connection as soon as the drain begins races its client, \
         which may be sending its next request on it. Begin the drain with \
         `state.draining.cancel()` (every answer then says `Connection: close`, and the client \
         closes), and let `with_graceful_shutdown`'s future complete only `CLOSE_IDLE_AFTER` \
         later, when it closes what is still idle. See 1.2.\nThe service's last output:\n{}",
        load.failed.len(),
        load.ok + load.failed.len(),
        load.failed.first(),
        running.server.tail(12)
    );
    assert!(load.ok >= 16, "only {} requests were answered", load.ok);
    assert!(
        !load.exhausted,
        "the test's clients sent all {} requests they may send before the drain, so they say \
         nothing about it: this machine outran the test (not your code); raise the limit in \
         tests/chapter1/s1_2_drain.rs",
        load.ok + load.failed.len()
    );
    assert_exit_code(&running, status, 0, "A drained service exits 0. See 1.2.");
}
