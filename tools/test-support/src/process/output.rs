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

/// Removes terminal escape codes (colours, cursor moves, links), so that a line can be matched
/// as plain text.
pub fn strip_ansi(line: &str) -> String {
    anstream::adapter::strip_str(line).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn colours_and_links_are_stripped_and_the_text_kept() {
        // cargo's bold red `error`, and an OSC 8 hyperlink as newer compilers print.
        let line = "\u{1b}[1m\u{1b}[91merror\u{1b}[0m: see \u{1b}]8;;https://e.x/\u{1b}\\here\u{1b}]8;;\u{1b}\\ now";
        assert_eq!(super::strip_ansi(line), "error: see here now");
        assert_eq!(super::strip_ansi("plain ✓ text"), "plain ✓ text");
    }
}
