//! The HTTP client's promises, against real listeners on 127.0.0.1: refused, cut off (closed or
//! reset) and timed out are told apart; a request goes on the wire as given; the blocking and the
//! async client agree; a kept-alive connection is reused and replaced when the server closes it.
//! Run with `cargo test -p test-support`.

use std::net::SocketAddr;
use std::time::Duration;

use test_support::http::{self, CutOff, HttpError, KeepAlive, Request, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads one request (head and `Content-Length` body) from `stream`, leaving what follows in
/// `buffer`; `None` at the end of the connection.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = find(buffer, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                return Some(buffer.drain(..end + 4 + length).collect());
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A listener that hands every accepted connection to `handle`.
async fn listener<F, Fut>(handle: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(handle(stream));
        }
    });
    addr
}

/// An address nothing listens on: bound a moment ago, then closed.
fn refusing() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// Reads the request, sends half an answer, closes (FIN).
async fn closing_mid_answer() -> SocketAddr {
    listener(|mut stream| async move {
        read_request(&mut stream, &mut Vec::new()).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            .await;
    })
    .await
}

/// Closes the connection with the request unread, which makes the kernel send a reset (RFC 2525
/// 2.17) instead of an orderly close.
async fn resetting() -> SocketAddr {
    listener(|mut stream| async move {
        // One byte proves the request arrived; the rest stays unread.
        let _ = stream.read_exact(&mut [0u8; 1]).await;
        drop(stream);
    })
    .await
}

/// Accepts, reads, never answers; lets go when the client does.
async fn silent() -> SocketAddr {
    listener(|mut stream| async move {
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink).await;
    })
    .await
}

/// Answers every request with `answer`, and sends each request's bytes to the returned channel.
async fn recording(answer: &'static str) -> (SocketAddr, mpsc::UnboundedReceiver<Vec<u8>>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let addr = listener(move |mut stream| {
        let tx = tx.clone();
        async move {
            let mut buffer = Vec::new();
            while let Some(request) = read_request(&mut stream, &mut buffer).await {
                let _ = tx.send(request);
                if stream.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    (addr, rx)
}

/// The request sent both ways, and the two results, for comparing.
async fn both(
    request: &Request,
    addr: SocketAddr,
) -> (Result<Response, HttpError>, Result<Response, HttpError>) {
    let async_result = request.send(addr).await;
    let blocking = request.clone();
    let blocking_result = tokio::task::spawn_blocking(move || blocking.send_blocking(addr))
        .await
        .unwrap();
    (async_result, blocking_result)
}

/// `GET /` sent both ways to a server that cuts it off; panics unless both were cut off, and
/// returns how each was, named `async` and `blocking`.
async fn cut_off_both_ways(addr: SocketAddr) -> [(&'static str, CutOff); 2] {
    let (a, b) = both(&Request::get("/").timeout(Duration::from_secs(5)), addr).await;
    [("async", a), ("blocking", b)].map(|(how, result)| match result {
        Err(HttpError::CutOff(cut)) => (how, cut),
        other => panic!("{how}: expected a cut-off answer, got {other:?}"),
    })
}

const LIMIT: Duration = Duration::from_millis(300);

#[tokio::test]
async fn nothing_listening_is_refused_both_ways() {
    let (a, b) = both(&Request::get("/").timeout(LIMIT), refusing()).await;
    assert!(matches!(a, Err(HttpError::Refused)), "async: {a:?}");
    assert!(matches!(b, Err(HttpError::Refused)), "blocking: {b:?}");
}

#[tokio::test]
async fn half_an_answer_then_a_close_is_cut_off_not_reset_both_ways() {
    for (how, cut) in cut_off_both_ways(closing_mid_answer().await).await {
        assert!(!cut.reset, "{how}: a FIN is a close, not a reset: {cut}");
        assert_eq!(
            cut.detail,
            "the server closed the connection before a complete answer"
        );
    }
}

#[tokio::test]
async fn a_reset_is_cut_off_and_says_reset_both_ways() {
    for (how, cut) in cut_off_both_ways(resetting().await).await {
        assert!(cut.reset, "{how}: expected a reset: {cut}");
    }
}

#[tokio::test]
async fn a_silent_server_times_out_both_ways() {
    let addr = silent().await;
    let (a, b) = both(&Request::get("/").timeout(LIMIT), addr).await;
    assert!(
        matches!(a, Err(HttpError::TimedOut(l)) if l == LIMIT),
        "async: {a:?}"
    );
    assert!(
        matches!(b, Err(HttpError::TimedOut(l)) if l == LIMIT),
        "blocking: {b:?}"
    );
    assert_eq!(
        b.unwrap_err().to_string(),
        "no complete answer within 300 ms"
    );
}

#[tokio::test]
async fn method_headers_and_body_go_out_as_given_and_both_ways_agree() {
    let (addr, mut requests) =
        recording("HTTP/1.1 201 Created\r\nX-Test: yes\r\nContent-Length: 5\r\n\r\nhello").await;
    let request = Request::post("/login?user=ada", "name=ada")
        .header("Cookie", "session=1")
        .header("X-Real-IP", "203.0.113.10")
        .timeout(Duration::from_secs(5));
    let (a, b) = both(&request, addr).await;
    let expected = "POST /login?user=ada HTTP/1.1\r\nHost: localhost\r\nCookie: session=1\r\n\
                    X-Real-IP: 203.0.113.10\r\nConnection: close\r\nContent-Length: 8\r\n\r\n\
                    name=ada";
    for how in ["async", "blocking"] {
        let sent = requests.recv().await.unwrap();
        assert_eq!(String::from_utf8_lossy(&sent), expected, "{how}");
    }
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        a, b,
        "the async and the blocking client read the same answer"
    );
    assert_eq!(
        (a.status, a.header("x-test"), a.body.as_str()),
        (201, Some("yes"), "hello")
    );
}

#[tokio::test]
async fn a_given_host_connection_or_length_is_not_doubled_and_an_empty_post_says_length_0() {
    let (addr, mut requests) = recording("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
    Request::post("/count", "")
        .header("Host", "lab")
        .to(addr)
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&requests.recv().await.unwrap()),
        "POST /count HTTP/1.1\r\nHost: lab\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    );
    let call = Request::get("/")
        .header("connection", "keep-alive")
        .to(addr)
        .timeout(Duration::from_secs(5));
    tokio::task::spawn_blocking(|| call.blocking())
        .await
        .unwrap()
        .expect("an answer with a length is complete even if the server keeps the connection");
    assert_eq!(
        String::from_utf8_lossy(&requests.recv().await.unwrap()),
        "GET / HTTP/1.1\r\nHost: localhost\r\nconnection: keep-alive\r\n\r\n"
    );
}

#[tokio::test]
async fn chunked_and_to_the_end_answers_are_read_whole() {
    let (chunked, _) = recording(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n7\r\nfrom c\n\r\n0\r\n\r\n",
    )
    .await;
    let (a, b) = both(&Request::get("/").timeout(Duration::from_secs(5)), chunked).await;
    assert_eq!(a.unwrap().body, "hello from c\n");
    assert_eq!(b.unwrap().body, "hello from c\n");
    let to_the_end = listener(|mut stream| async move {
        read_request(&mut stream, &mut Vec::new()).await;
        let _ = stream.write_all(b"HTTP/1.0 200 OK\r\n\r\nno length").await;
    })
    .await;
    let (a, b) = both(
        &Request::get("/").timeout(Duration::from_secs(5)),
        to_the_end,
    )
    .await;
    assert_eq!(a.unwrap().body, "no length");
    assert_eq!(b.unwrap().body, "no length");
}

/// A server that answers `answers` requests on each connection, the last one with
/// `Connection: close` when `close_last`, and then closes (without answering, if not).
async fn server(answers: usize, close_last: bool) -> SocketAddr {
    listener(move |mut stream| async move {
        let mut buffer = Vec::new();
        for n in 1.. {
            if read_request(&mut stream, &mut buffer).await.is_none() || n > answers {
                return;
            }
            let close = if close_last && n == answers {
                "Connection: close\r\n"
            } else {
                ""
            };
            let answer = format!("HTTP/1.1 200 OK\r\n{close}Content-Length: 3\r\n\r\nok\n");
            if stream.write_all(answer.as_bytes()).await.is_err() || !close.is_empty() {
                return;
            }
        }
    })
    .await
}

#[tokio::test]
async fn keep_alive_reuses_its_connection_and_reconnects_after_connection_close() {
    let mut client = KeepAlive::new(server(3, true).await);
    for _ in 0..7 {
        assert_eq!(client.get("/").await.unwrap().body, "ok\n");
    }
    assert_eq!(
        client.connections, 3,
        "3 answers a connection: 7 requests need 3"
    );
}

#[tokio::test]
async fn keep_alive_sends_keep_alive_and_carries_several_requests_on_one_connection() {
    let (addr, mut requests) = recording("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
    let mut client = KeepAlive::new(addr);
    let request = Request::post("/count", "1").header("Host", "lab");
    for _ in 0..3 {
        assert_eq!(client.send(&request).await.unwrap().body, "ok");
        assert_eq!(
            String::from_utf8_lossy(&requests.recv().await.unwrap()),
            "POST /count HTTP/1.1\r\nHost: lab\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n1"
        );
    }
    assert_eq!(client.connections, 1);
}

#[tokio::test]
async fn keep_alive_reports_a_request_met_by_a_closing_connection_then_reconnects() {
    let mut client = KeepAlive::new(server(1, false).await);
    assert_eq!(client.get("/").await.unwrap().status, 200);
    match client.get("/").await {
        Err(HttpError::CutOff(cut)) => assert_eq!(
            cut.detail,
            "the server closed the kept-alive connection without answering the request sent on it"
        ),
        other => panic!("expected a request cut off, got {other:?}"),
    }
    assert_eq!(client.get("/").await.unwrap().status, 200);
    assert_eq!(client.connections, 2, "the failed connection is replaced");
}

#[tokio::test]
async fn keep_alive_times_out_and_starts_afresh() {
    let silent = silent().await;
    let mut client = KeepAlive::new(silent);
    let request = Request::get("/").timeout(LIMIT);
    assert!(matches!(
        client.send(&request).await,
        Err(HttpError::TimedOut(_))
    ));
    assert!(matches!(
        client.send(&request).await,
        Err(HttpError::TimedOut(_))
    ));
    assert_eq!(
        client.connections, 2,
        "a timed-out connection is not reused"
    );
}

#[tokio::test]
async fn keep_alive_load_stops_when_nothing_listens_and_counts_refusals_apart() {
    let load = http::keep_alive_load(refusing(), 4, "/", 1000, std::future::pending()).await;
    assert_eq!((load.ok, load.refused, load.failed.len()), (0, 4, 0));
}

#[tokio::test]
async fn an_idle_connection_closed_by_the_server_reads_as_cut_off() {
    let addr = server(1, false).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    http::send(&mut stream, "GET", "/", false).await.unwrap();
    assert_eq!(http::read_one(&mut stream).await.unwrap().body, "ok\n");
    http::send(&mut stream, "GET", "/", false).await.unwrap();
    let closed = http::read_to_end(&mut stream).await;
    assert!(matches!(closed, Err(HttpError::CutOff(_))), "{closed:?}");
}

#[test]
fn addr_in_reads_the_address_services_print() {
    let addr: SocketAddr = "127.0.0.1:4321".parse().unwrap();
    for line in [
        "2026-12-01T10:00:00Z INFO service: listening addr=127.0.0.1:4321",
        "web#1 ready addr=127.0.0.1:4321",
        "listening addr=\"127.0.0.1:4321\" instance=i1",
    ] {
        assert_eq!(http::addr_in(line), Ok(addr), "{line}");
    }
    assert_eq!(
        http::addr_in("metrics_addr=127.0.0.1:1 up"),
        Err("no `addr=` in \"metrics_addr=127.0.0.1:1 up\"".to_owned())
    );
    assert!(http::addr_in("listening addr=localhost").is_err());
}

#[tokio::test]
async fn a_server_sends_its_requests_to_the_address_it_printed() {
    let (addr, mut requests) = recording("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
    // A child that only prints a ready line naming the test's own listener, then waits.
    let (mut server, printed) = test_support::Server::builder("sh")
        .args(["-c", "echo \"ready addr=$ADDR\"; exec sleep 30"])
        .env("ADDR", addr.to_string())
        .spawn_service()
        .await;
    assert_eq!((printed, server.addr()), (addr, addr));
    let answer = server.get("/me").header("Cookie", "s=1").await.unwrap();
    assert_eq!(answer.body, "ok");
    assert_eq!(
        String::from_utf8_lossy(&requests.recv().await.unwrap()),
        "GET /me HTTP/1.1\r\nHost: localhost\r\nCookie: s=1\r\nConnection: close\r\n\r\n"
    );
    let call = server.post("/login?user=ada", "");
    let answer = tokio::task::spawn_blocking(|| call.blocking())
        .await
        .unwrap();
    assert_eq!(answer.unwrap().status, 200);
    assert_eq!(
        String::from_utf8_lossy(&requests.recv().await.unwrap()),
        "POST /login?user=ada HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Length: 0\r\n\r\n"
    );
    server.kill();
}
