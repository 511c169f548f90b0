//! 2.4: one log stream for every instance.
//!
//! Each instance writes its own stdout and stderr. Let them all write to minipm's terminal
//! directly and their lines mix mid-way whenever two write at once, and nobody can tell which
//! instance said what. So minipm reads each stream line by line, and one writer prints every
//! line whole, prefixed with the time and its instance, to the terminal and to a file.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

/// One line an instance printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// `web-0`: the app's name and the instance's index.
    pub source: String,
    /// The line, without its newline.
    pub text: String,
}

// ANCHOR: read-lines
/// Forwards what `stream` prints to `logs`, one whole line at a time, and sets `ready` when a
/// line contains `ready_line`.
pub async fn read_lines(
    mut stream: impl AsyncRead + Unpin,
    source: String,
    logs: mpsc::Sender<LogLine>,
    ready_line: Option<String>,
    ready: Arc<watch::Sender<bool>>,
) {
    // TODO(2.4): this forwards whatever each read returns: a piece of a line, or several lines.
    // Forward whole lines instead, however many writes the instance used for each
    // (`BufReader::new(stream).lines()` keeps a partial line until its newline arrives).
    let mut buf = vec![0u8; 8192];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        if ready_line.as_deref().is_some_and(|r| text.contains(r)) {
            ready.send_replace(true);
        }
        if logs
            .send(LogLine {
                source: source.clone(),
                text,
            })
            .await
            .is_err()
        {
            break;
        }
    }
}
// ANCHOR_END: read-lines

/// The single writer: prints every line as `HH:MM:SS.mmm source | text` to stdout, and appends
/// it to `file` if there is one. Ends when every sender is gone.
pub async fn write_merged(
    mut lines: mpsc::Receiver<LogLine>,
    file: Option<PathBuf>,
) -> std::io::Result<()> {
    // TODO(2.4): prefix each line with `clock()` and its source, end it with a newline, write it
    // in one piece, and append it to `file` too.
    let _ = file;
    let mut stdout = tokio::io::stdout();
    while let Some(line) = lines.recv().await {
        stdout.write_all(line.text.as_bytes()).await?;
        stdout.flush().await?;
    }
    Ok(())
}
/// The time of day in UTC, `HH:MM:SS.mmm`.
pub fn clock() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let ms = now.as_millis() % 86_400_000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}
