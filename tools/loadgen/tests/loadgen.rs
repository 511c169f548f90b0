//! The load generator against small in-process servers on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use loadgen::{Mode, Options, Outcome, parse_duration, run, svg};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// A router whose `GET /` gives the `i`th request it receives (from 0) the answer `answer(i)`.
fn numbered(answer: impl Fn(usize) -> Response + Clone + Send + Sync + 'static) -> Router {
    let n = Arc::new(AtomicUsize::new(0));
    Router::new().route(
        "/",
        get(move || {
            let response = answer(n.fetch_add(1, Ordering::Relaxed));
            async move { response }
        }),
    )
}

async fn options(addr: SocketAddr, millis: u64) -> Options {
    let mut options = Options::for_url(&format!("http://{addr}/")).await.unwrap();
    options.duration = Duration::from_millis(millis);
    options.concurrency = 4;
    options.timeout = Duration::from_millis(500);
    options
}

/// A raw HTTP/1.1 server that counts the connections it accepts. For the n-th request on a
/// connection (from 0) `answer(n)` gives the whole answer to write, or `None` to close the
/// connection without answering.
async fn raw(answer: fn(usize) -> Option<&'static str>) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 1024];
                for n in 0.. {
                    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => buffer.extend_from_slice(&chunk[..k]),
                        }
                    }
                    let end = buffer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
                    buffer.drain(..end + 4);
                    let Some(text) = answer(n) else { return };
                    if stream.write_all(text.as_bytes()).await.is_err() {
                        return;
                    }
                    if text.contains("Connection: close") {
                        return;
                    }
                }
            });
        }
    });
    (addr, accepted)
}

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nhello from a\n";
const OK_CLOSE: &str =
    "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 13\r\n\r\nhello from b\n";
const OK_CHUNKED: &str = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n7\r\nfrom c\n\r\n0\r\n\r\n";

fn never() -> std::future::Pending<()> {
    std::future::pending()
}

#[tokio::test]
async fn counts_requests_by_instance_from_the_header() {
    let router = numbered(|i| {
        let instance = if i.is_multiple_of(2) { "a" } else { "b" };
        ([("x-instance", instance)], "hello\n").into_response()
    });
    let addr = serve(router).await;
    let report = run(&options(addr, 400).await, never()).await.unwrap();
    let total = report.samples.len();
    assert!(total > 20, "only {total} requests in 400 ms on loopback");
    assert_eq!(report.failed(), 0, "{:?}", report.by_outcome());
    let by = report.by_instance();
    assert_eq!(by.keys().collect::<Vec<_>>(), ["a", "b"]);
    let (a, b) = (by["a"] as i64, by["b"] as i64);
    assert!(
        (a - b).abs() <= 1,
        "alternating answers should split evenly: {by:?}"
    );
    let (p50, p99) = (
        report.percentile(0.5).unwrap(),
        report.percentile(0.99).unwrap(),
    );
    assert!(p50 <= p99, "p50 {p50:?} > p99 {p99:?}");
    assert!(report.text().contains("by instance:"));
}

#[tokio::test]
async fn takes_the_instance_from_the_body_and_counts_5xx_as_failed() {
    let router = Router::new().route(
        "/",
        get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "hello from c\n").into_response() }),
    );
    let addr = serve(router).await;
    let report = run(&options(addr, 200).await, never()).await.unwrap();
    assert!(!report.samples.is_empty());
    assert_eq!(report.failed(), report.samples.len());
    assert_eq!(report.by_outcome().keys().collect::<Vec<_>>(), ["503"]);
    assert_eq!(report.by_instance().keys().collect::<Vec<_>>(), ["c"]);
    assert_eq!(
        report.percentile(0.5),
        None,
        "no successful request, no latency"
    );
}

#[tokio::test]
async fn tells_refused_from_timed_out() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let report = run(&options(closed, 200).await, never()).await.unwrap();
    assert!(!report.samples.is_empty());
    assert!(report.samples.iter().all(|s| s.outcome == Outcome::Refused));

    // Accepts, reads, never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let mut options = options(addr, 100).await;
    options.timeout = Duration::from_millis(200);
    let report = run(&options, never()).await.unwrap();
    assert!(!report.samples.is_empty());
    assert!(
        report.samples.iter().all(|s| s.outcome == Outcome::Timeout),
        "{:?}",
        report.by_outcome()
    );
}

#[tokio::test]
async fn stops_early_when_asked() {
    let router = Router::new().route("/", get(|| async { "hello from a\n" }));
    let addr = serve(router).await;
    let mut options = options(addr, 60_000).await;
    options.concurrency = 2;
    let started = std::time::Instant::now();
    let report = run(&options, tokio::time::sleep(Duration::from_millis(200)))
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!report.samples.is_empty());
}

#[tokio::test]
async fn draws_a_timeline_with_a_lane_per_instance() {
    let router = numbered(|i| {
        if i % 10 == 9 {
            (StatusCode::BAD_GATEWAY, [("x-instance", "<b>")], "no\n").into_response()
        } else {
            ([("x-instance", "a")], "ok\n").into_response()
        }
    });
    let addr = serve(router).await;
    let report = run(&options(addr, 300).await, never()).await.unwrap();
    let picture = svg::render(
        &report,
        "test & timeline",
        &[(Duration::from_millis(150), "kill <b>".into())],
    );
    assert!(picture.starts_with("<svg") && picture.trim_end().ends_with("</svg>"));
    assert!(picture.contains(">a</text>"), "a lane for instance a");
    assert!(picture.contains("&lt;b&gt;"), "names are escaped");
    assert!(picture.contains("test &amp; timeline"));
    assert!(picture.contains("kill &lt;b&gt;"), "the event is marked");
    assert!(!picture.contains("<b>"), "no raw markup from the data");
    assert!(picture.contains("#c62828"), "the 502s are drawn in red");
}

#[test]
fn durations() {
    assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
    assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
    assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
    assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
    assert!(parse_duration("soon").is_err());
    assert!(parse_duration("3h").is_err());
}

#[tokio::test]
async fn keeps_one_connection_per_worker_by_default() {
    let (addr, accepted) = raw(|n| Some(if n % 2 == 0 { OK } else { OK_CHUNKED })).await;
    let options = options(addr, 300).await;
    assert_eq!(options.mode, Mode::KeepAlive);
    let report = run(&options, never()).await.unwrap();
    assert!(report.samples.len() > 50, "{}", report.samples.len());
    assert_eq!(report.failed(), 0, "{:?}", report.by_outcome());
    assert_eq!(
        accepted.load(Ordering::Relaxed),
        4,
        "four workers, four connections, reused for {} requests",
        report.samples.len()
    );
    assert_eq!(
        report.by_instance().keys().collect::<Vec<_>>(),
        ["a", "c"],
        "content-length and chunked bodies are both read to their end"
    );
}

#[tokio::test]
async fn opens_a_new_connection_after_an_answer_that_says_connection_close() {
    let (addr, accepted) = raw(|_| Some(OK_CLOSE)).await;
    let report = run(&options(addr, 300).await, never()).await.unwrap();
    assert!(report.samples.len() > 20);
    assert_eq!(report.failed(), 0, "{:?}", report.by_outcome());
    assert_eq!(accepted.load(Ordering::Relaxed), report.samples.len());
}

#[tokio::test]
async fn per_request_mode_opens_a_connection_for_every_request() {
    let (addr, accepted) = raw(|_| Some(OK)).await;
    let mut options = options(addr, 300).await;
    options.mode = Mode::PerRequest;
    let report = run(&options, never()).await.unwrap();
    assert!(report.samples.len() > 20);
    assert_eq!(report.failed(), 0, "{:?}", report.by_outcome());
    assert_eq!(accepted.load(Ordering::Relaxed), report.samples.len());
}

#[tokio::test]
async fn a_kept_alive_connection_closed_before_the_answer_counts_as_lost() {
    // The shutdown race: the second request on each connection meets a server that closes.
    let (addr, _) = raw(|n| (n == 0).then_some(OK)).await;
    let report = run(&options(addr, 200).await, never()).await.unwrap();
    let by = report.by_outcome();
    assert!(by.get("200").copied().unwrap_or(0) > 0, "{by:?}");
    assert!(by.get("closed").copied().unwrap_or(0) > 0, "{by:?}");
    assert_eq!(
        report.lost(),
        by.get("closed").copied().unwrap_or(0) + by.get("reset").copied().unwrap_or(0)
    );
    assert_eq!(report.failed(), report.lost(), "nothing was refused");
}

#[test]
fn modes() {
    assert_eq!("keep-alive".parse::<Mode>().unwrap(), Mode::KeepAlive);
    assert_eq!("per-request".parse::<Mode>().unwrap(), Mode::PerRequest);
    assert!("pipelined".parse::<Mode>().is_err());
}
