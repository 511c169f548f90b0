//! A child's output, captured line by line as it arrives, colour codes removed, so that a test
//! can wait for a line and a failure message can show the last ones.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub(super) struct Output {
    pub(super) lines: Arc<Mutex<Vec<String>>>,
    /// Bumped after every line, so a waiter never misses one (unlike a bare `Notify`).
    pub(super) changed: Arc<watch::Sender<usize>>,
}

impl Output {
    pub(super) async fn collect(self, stream: impl AsyncRead + Unpin, echo: Option<String>) {
        let mut reader = BufReader::new(stream).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            let line = strip_ansi(&line);
            if let Some(name) = &echo {
                eprintln!("[{name}] {line}");
            }
            let count = {
                let mut lines = self
                    .lines
                    .lock()
                    .expect("no thread panics while holding it");
                lines.push(line);
                lines.len()
            };
            self.changed.send_replace(count);
        }
    }

    pub(super) fn nth_line_containing(&self, needle: &str, n: usize) -> Option<String> {
        let lines = self
            .lines
            .lock()
            .expect("no thread panics while holding it");
        lines
            .iter()
            .filter(|l| l.contains(needle))
            .nth(n - 1)
            .cloned()
    }

    pub(super) fn snapshot(&self) -> Vec<String> {
        self.lines
            .lock()
            .expect("no thread panics while holding it")
            .clone()
    }
}

/// Removes terminal colour codes, so that a line can be matched as plain text.
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip `ESC [ … final-byte`.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
