//! One persistent connection, reused until the server says or shows it is closing it.

use std::net::SocketAddr;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::framing::read_answer;
use super::{HttpError, Request, Response, classify, within};

/// A client that keeps its connection open between requests, as browsers, client pools, nginx's
/// upstream `keepalive` and wrk do. It opens a new connection only when the server said it would
/// close this one (`Connection: close`), closed it, or a request failed on it. It never retries:
/// a request that meets a connection the server is closing is an error, which is what a shutdown
/// test must see.
#[derive(Debug)]
pub struct KeepAlive {
    addr: SocketAddr,
    open: Option<Open>,
    /// The last request's bytes, kept so that the next one reuses the allocation.
    wire: Vec<u8>,
    /// Connections opened so far.
    pub connections: usize,
}

/// An open connection and whatever of the next answer has been read already.
#[derive(Debug)]
struct Open {
    stream: TcpStream,
    buffer: Vec<u8>,
    /// It has carried a request already.
    used: bool,
}

impl KeepAlive {
    /// A client for `addr`; it connects on its first request.
    pub fn new(addr: SocketAddr) -> KeepAlive {
        KeepAlive {
            addr,
            open: None,
            wire: Vec::new(),
            connections: 0,
        }
    }

    /// `GET path` on the open connection, or on a new one if there is none.
    pub async fn get(&mut self, path: &str) -> Result<Response, HttpError> {
        self.send(&Request::get(path)).await
    }

    /// Sends `request` on the open connection, or on a new one if there is none, within the
    /// request's time limit. A connection on which a request failed or timed out is dropped.
    pub async fn send(&mut self, request: &Request) -> Result<Response, HttpError> {
        let KeepAlive {
            addr,
            open,
            wire,
            connections,
        } = self;
        within(request.timeout, async {
            let mut current = match open.take() {
                Some(current) => current,
                None => {
                    let stream = TcpStream::connect(*addr).await.map_err(classify)?;
                    // Requests are small and answered one at a time: Nagle's algorithm would
                    // only delay them.
                    stream.set_nodelay(true).map_err(HttpError::Other)?;
                    *connections += 1;
                    Open {
                        stream,
                        buffer: Vec::with_capacity(8192),
                        used: false,
                    }
                }
            };
            request.encode(true, wire);
            current.stream.write_all(wire).await.map_err(classify)?;
            let (response, close) = read_answer(
                &mut current.stream,
                &mut current.buffer,
                request.is_head(),
                current.used,
            )
            .await?;
            if !close {
                current.used = true;
                *open = Some(current);
            }
            Ok(response)
        })
        .await
    }
}
