//! Reading an answer by its framing (`Content-Length`, chunked, or to the end of the connection),
//! so that a kept-alive connection is left exactly at the start of the next answer.

use std::borrow::Cow;
use std::io;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::{HttpError, Response, classify, closed};

/// How far an answer at the start of a buffer has come.
pub(super) enum Decoded {
    Complete {
        response: Response,
        /// Its length in the buffer: what follows belongs to the next answer.
        len: usize,
        /// The server will close the connection after it.
        close: bool,
    },
    /// More bytes are needed; at the end of the connection, the answer is cut off here.
    Partial(Missing),
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Missing {
    Everything,
    Head,
    Body,
}

pub(super) enum Framing {
    Length(usize),
    Chunked,
    /// No length: the body runs to the end of the connection.
    ToEof,
}

pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Decodes one answer from the start of `buffer`; `eof` says that no more bytes will come.
pub(super) fn decode(buffer: &[u8], head_request: bool, eof: bool) -> Result<Decoded, HttpError> {
    if buffer.is_empty() {
        return Ok(Decoded::Partial(Missing::Everything));
    }
    let Some(head_end) = find(buffer, b"\r\n\r\n") else {
        return Ok(Decoded::Partial(Missing::Head));
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut words = status_line.split_whitespace();
    let version = words.next().unwrap_or_default();
    let status: u16 = words
        .next()
        .filter(|_| version.starts_with("HTTP/"))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| HttpError::Other(io::Error::other(format!("not HTTP: {head:?}"))))?;
    let mut headers = Vec::new();
    let (mut length, mut chunked, mut connection) = (None, false, None);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            connection = Some(value.to_ascii_lowercase());
        }
        headers.push((name.to_owned(), value.to_owned()));
    }
    let mut close = match &connection {
        Some(c) if c.contains("close") => true,
        Some(c) if c.contains("keep-alive") => false,
        _ => version == "HTTP/1.0",
    };
    let framing = if head_request || status == 204 || status == 304 || (100..200).contains(&status)
    {
        Framing::Length(0)
    } else if chunked {
        Framing::Chunked
    } else if let Some(length) = length {
        Framing::Length(length)
    } else {
        close = true;
        Framing::ToEof
    };
    let rest = &buffer[head_end + 4..];
    let (body, body_len) = match framing {
        Framing::Length(n) if rest.len() >= n => (Cow::Borrowed(&rest[..n]), n),
        Framing::Length(_) => return Ok(Decoded::Partial(Missing::Body)),
        Framing::Chunked => match dechunk(rest)? {
            Some((body, len)) => (Cow::Owned(body), len),
            None => return Ok(Decoded::Partial(Missing::Body)),
        },
        Framing::ToEof if eof => (Cow::Borrowed(rest), rest.len()),
        Framing::ToEof => return Ok(Decoded::Partial(Missing::Body)),
    };
    Ok(Decoded::Complete {
        response: Response {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        },
        len: head_end + 4 + body_len,
        close,
    })
}

/// A chunked body from the start of `raw`: the joined chunks and how many bytes they took, or
/// `None` if it is not complete yet.
pub(super) fn dechunk(raw: &[u8]) -> Result<Option<(Vec<u8>, usize)>, HttpError> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(line) = find(&raw[at..], b"\r\n") else {
            return Ok(None);
        };
        let size_text = String::from_utf8_lossy(&raw[at..at + line]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| {
                HttpError::Other(io::Error::other(format!("bad chunk size {size_text:?}")))
            })?;
        at += line + 2;
        if size == 0 {
            // Trailers, if any, end with an empty line.
            loop {
                let Some(line) = find(&raw[at..], b"\r\n") else {
                    return Ok(None);
                };
                at += line + 2;
                if line == 0 {
                    return Ok(Some((body, at)));
                }
            }
        }
        if raw.len() < at + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&raw[at..at + size]);
        at += size + 2;
    }
}

/// The connection ended: the answer in `buffer` if it is complete now, else how it was cut off.
pub(super) fn at_eof(
    buffer: &[u8],
    head_request: bool,
    reused: bool,
) -> Result<(Response, usize, bool), HttpError> {
    match decode(buffer, head_request, true)? {
        Decoded::Complete {
            response,
            len,
            close,
        } => Ok((response, len, close)),
        Decoded::Partial(Missing::Everything) if reused => Err(closed(
            "the server closed the kept-alive connection without answering the request sent on it",
        )),
        Decoded::Partial(Missing::Everything) => {
            Err(closed("the server closed the connection without answering"))
        }
        Decoded::Partial(Missing::Head) => {
            Err(closed("the answer stopped in the middle of its headers"))
        }
        Decoded::Partial(Missing::Body) => Err(closed(
            "the server closed the connection before a complete answer",
        )),
    }
}

/// Reads one answer from `stream`, leaving what follows it in `buffer`; also says whether the
/// server will close the connection after it. `reused`: the request went on a connection that
/// had carried one before (for the message when it is closed unanswered).
pub(super) async fn read_answer(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    head_request: bool,
    reused: bool,
) -> Result<(Response, bool), HttpError> {
    loop {
        if let Decoded::Complete {
            response,
            len,
            close,
        } = decode(buffer, head_request, false)?
        {
            buffer.drain(..len);
            return Ok((response, close));
        }
        buffer.reserve(8192);
        if stream.read_buf(buffer).await.map_err(classify)? == 0 {
            let (response, len, close) = at_eof(buffer, head_request, reused)?;
            buffer.drain(..len);
            return Ok((response, close));
        }
    }
}
