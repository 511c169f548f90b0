//! A tiny web service for chapter 4's pipeline to test, build and deploy: it answers every
//! request with a greeting and the number of visits, which it keeps in Redis.
//!
//! Std only, on purpose: the point of the chapter is the pipeline around it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

/// Sends one Redis command (RESP) and returns the reply line.
pub fn redis(addr: &str, args: &[&str]) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    let mut command = format!("*{}\r\n", args.len());
    for a in args {
        command.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.write_all(command.as_bytes())?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    Ok(line.trim_end().to_owned())
}

/// The page: a greeting and the visit count (`:42` in RESP is the integer 42).
pub fn page(visits: &str) -> String {
    format!(
        "hello from the sample app; visit {}\n",
        visits.trim_start_matches(':')
    )
}

fn main() -> std::io::Result<()> {
    let redis_addr = std::env::var("REDIS_ADDR").unwrap_or_else(|_| "127.0.0.1:6379".into());
    let listener = TcpListener::bind(("0.0.0.0", 8080))?;
    for stream in listener.incoming() {
        let mut stream = stream?;
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf)?;
        let visits = redis(&redis_addr, &["INCR", "visits"]).unwrap_or_else(|_| "?".into());
        let body = page(&visits);
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_shows_the_count() {
        assert_eq!(page(":42"), "hello from the sample app; visit 42\n");
    }

    /// Needs a Redis: in CI, the workflow's service container; locally, `just redis`.
    #[test]
    fn visits_are_counted_in_redis() {
        let addr = std::env::var("REDIS_ADDR").unwrap_or_else(|_| "127.0.0.1:6379".into());
        let first = redis(&addr, &["INCR", "test:visits"]).expect("a Redis at REDIS_ADDR");
        let second = redis(&addr, &["INCR", "test:visits"]).unwrap();
        let n = |s: &str| s.trim_start_matches(':').parse::<i64>().unwrap();
        assert_eq!(n(&second), n(&first) + 1);
    }
}
