//! 1.4: readiness fails as soon as shutdown begins; liveness does not.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ch01_graceful_shutdown::{AppState, app};
use test_support::{Sig, http, within};
use tower::ServiceExt;

use crate::support::{self, assert_exit_code};

async fn status_of(state: &AppState, path: &str) -> StatusCode {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = within(
        Duration::from_secs(2),
        &format!(
            "GET {path} did not answer within 2 s: a health check must answer at once. See 1.4."
        ),
        app(state.clone()).oneshot(request),
    )
    .await;
    response.unwrap().status()
}

#[tokio::test]
async fn readiness_turns_503_when_shutdown_begins_but_liveness_stays_200() {
    let state = AppState::default();
    assert_eq!(status_of(&state, "/health/ready").await, StatusCode::OK);

    state.health.begin_shutdown();
    assert_eq!(
        status_of(&state, "/health/ready").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "Once shutdown has begun, GET /health/ready must answer 503 so that load balancers stop \
         sending new requests. See 1.4."
    );
    assert_eq!(
        status_of(&state, "/health/live").await,
        StatusCode::OK,
        "Liveness must stay 200 during shutdown: a failing liveness probe gets the process \
         restarted, in the middle of its drain. See 1.4."
    );
}

#[tokio::test]
async fn during_the_shutdown_delay_readiness_fails_and_requests_are_still_served() {
    let mut running = support::start(&[("SHUTDOWN_DELAY", "2")]).await;
    let signalled = Instant::now();
    running.begin_shutdown(Sig::Term).await;

    let window = "With SHUTDOWN_DELAY=2 the service must go on accepting and answering requests \
                  for 2 s after the signal, while readiness fails, so that load balancers have \
                  time to notice and route elsewhere. Sleep for `config.shutdown_delay` before \
                  you stop accepting. See 1.4.";
    // "As soon as" is an event, not an instant: allow the service a moment to flip it.
    let addr = running.addr;
    within(
        Duration::from_millis(500),
        "GET /health/ready still did not answer 503 half a second after the service logged \
         \"shutdown started\". Call `state.health.begin_shutdown()` first thing after the \
         signal, and make `health::ready` answer 503 once it has been called. See 1.4.",
        async {
            loop {
                match http::get(addr, "/health/ready").await {
                    Ok(r) if r.status == 503 => return,
                    Ok(_) => tokio::task::yield_now().await,
                    Err(err) => {
                        panic!("GET /health/ready during the shutdown delay: {err}.\n{window}")
                    }
                }
            }
        },
    )
    .await;
    for path in ["/health/live", "/slow?ms=0"] {
        match http::get(running.addr, path).await {
            Ok(r) => assert!(
                r.status == 200,
                "GET {path} answered {} during the shutdown delay; expected 200. See 1.4.",
                r.status
            ),
            Err(err) => panic!("GET {path} during the shutdown delay: {err}.\n{window}"),
        }
    }

    let (status, _) = running
        .server
        .wait_exit(
            Duration::from_secs(5),
            "The service should stop accepting after the 2 s delay and then exit. See 1.4.",
        )
        .await;
    assert_exit_code(&running, status, 0, "A drained service exits 0.");
    let stopped = signalled.elapsed();
    assert!(
        stopped >= Duration::from_secs(2),
        "the service exited after {stopped:?}, before its 2 s shutdown delay was over. See 1.4."
    );
}
