//! The book's panel of the learner's verdicts: a small HTTP endpoint of the runner, on
//! 127.0.0.1 only, that `just serve` starts beside `mdbook serve`. The book's script
//! (`book/theme/panel.js`, added to the page only by `just serve`) asks it for
//! `/verdicts?after=SEQ` and gets an answer as soon as `.workbook/verdicts.json` has a newer run
//! than SEQ (or after 25 s, unchanged): a long poll, so that the page updates within the
//! file check's 100 ms of a run ending, without a reload.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::manifest::Manifest;
use crate::share::{self, SectionVerdict};

/// The panel's port: chapters.toml's `[[port]]` table lists it (and `just doctor` checks it);
/// `book/theme/panel.js` asks this port. A unit test holds the three together.
pub(crate) const PORT: u16 = 4001;
/// The book's port (`mdbook serve --port`), whose pages may read the panel (CORS).
pub(crate) const BOOK_PORT: u16 = 4000;
/// How often the file is looked at: the panel's delay after a run, at most.
const CHECK_EVERY: Duration = Duration::from_millis(100);
/// How long one poll waits for a new run before answering with the same one.
const LONG_POLL: Duration = Duration::from_secs(25);

/// What the panel shows: every section with tests, its page, and its last verdict.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct Panel {
    seq: u64,
    chapters: Vec<ChapterRow>,
    sections: Vec<SectionRow>,
}

#[derive(Debug, Clone, serde::Serialize)]
struct ChapterRow {
    number: u32,
    title: String,
    page: String,
    passed: u32,
    total: u32,
    /// Sections with tests, and how many of them pass.
    sections: usize,
    sections_green: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
struct SectionRow {
    id: String,
    chapter: u32,
    title: String,
    page: Option<String>,
    /// `just test chapter1 1.2`, for a section that has not run yet.
    command: String,
    green: bool,
    verdict: Option<SectionVerdict>,
}

fn html_page(md: &str) -> String {
    md.strip_suffix(".md")
        .map_or_else(|| md.to_owned(), |p| format!("{p}.html"))
}

impl Panel {
    fn build(manifest: &Manifest, root: &Path) -> Panel {
        let verdicts = share::read(root);
        let mut panel = Panel {
            seq: verdicts.seq,
            ..Panel::default()
        };
        for chapter in &manifest.chapters {
            let mut row = ChapterRow {
                number: chapter.number,
                title: chapter.title.clone(),
                page: format!("{}/index.html", chapter.folder),
                passed: 0,
                total: 0,
                sections: 0,
                sections_green: 0,
            };
            for section in chapter.sections.iter().filter(|s| s.tests.is_some()) {
                let verdict = verdicts.sections.get(&section.id).cloned();
                let green = verdict.as_ref().is_some_and(SectionVerdict::green);
                row.sections += 1;
                row.sections_green += usize::from(green);
                if let Some(v) = &verdict {
                    row.passed += v.passed;
                    row.total += v.total;
                }
                panel.sections.push(SectionRow {
                    id: section.id.clone(),
                    chapter: chapter.number,
                    title: section.title.clone(),
                    page: section.page.as_deref().map(html_page),
                    command: format!("just test chapter{} {}", chapter.number, section.id),
                    green,
                    verdict,
                });
            }
            if row.sections > 0 {
                panel.chapters.push(row);
            }
        }
        panel
    }
}

#[derive(Debug)]
struct Shared {
    manifest: Manifest,
    root: PathBuf,
    runs: tokio::sync::watch::Receiver<u64>,
}

#[derive(Debug, serde::Deserialize)]
struct After {
    after: Option<u64>,
}

/// Binds 127.0.0.1:`port` (0: any free one), or says what to do.
pub(crate) async fn bind(port: u16) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .with_context(|| {
            format!(
                "the book's panel could not listen on 127.0.0.1:{port}: `just doctor` names what \
                 holds the port"
            )
        })
}

/// Serves the panel on `listener` until `stop` ends.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    root: PathBuf,
    manifest: Manifest,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let (tell, runs) = tokio::sync::watch::channel(share::read(&root).seq);
    let file = share::path(&root);
    let watched = root.clone();
    let watcher = tokio::spawn(async move {
        let mut last = stamp(&file);
        let mut every = tokio::time::interval(CHECK_EVERY);
        loop {
            every.tick().await;
            let now = stamp(&file);
            if now != last {
                last = now;
                if tell.send(share::read(&watched).seq).is_err() {
                    return;
                }
            }
        }
    });
    let shared = Arc::new(Shared {
        manifest,
        root,
        runs,
    });
    let app = axum::Router::new()
        .route("/verdicts", get(verdicts))
        .with_state(shared);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
        .context("serving the book's panel");
    watcher.abort();
    served
}

/// The file's length and modification time: a new run changes them.
fn stamp(file: &Path) -> Option<(u64, std::time::SystemTime)> {
    let meta = std::fs::metadata(file).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

async fn verdicts(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<After>,
    headers: HeaderMap,
) -> Response {
    if let Some(after) = query.after {
        let mut runs = shared.runs.clone();
        let _ = tokio::time::timeout(LONG_POLL, runs.wait_for(|seq| *seq > after)).await;
    }
    let panel = Panel::build(&shared.manifest, &shared.root);
    let mut answer = ([(header::CACHE_CONTROL, "no-store")], axum::Json(panel)).into_response();
    // Only the book's own pages may read it: a site elsewhere in the browser may not.
    if let Some(origin) = headers.get(header::ORIGIN)
        && allowed_origin(origin)
    {
        answer
            .headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    }
    answer
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Origin"));
    answer
}

fn allowed_origin(origin: &HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    ["localhost", "127.0.0.1"]
        .iter()
        .any(|host| origin == format!("http://{host}:{BOOK_PORT}"))
}

/// The panel's address.
pub(crate) fn addr(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_panel_port_is_the_one_in_the_table_and_in_the_script() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let manifest = Manifest::load(&root).unwrap();
        let ports: Vec<u16> = manifest.ports.iter().map(|p| p.port).collect();
        assert!(
            ports.contains(&PORT),
            "chapters.toml's [[port]] table lacks {PORT}"
        );
        assert!(
            ports.contains(&BOOK_PORT),
            "chapters.toml's [[port]] table lacks {BOOK_PORT}"
        );
        let script = std::fs::read_to_string(root.join("book/theme/panel.js")).unwrap();
        assert!(
            script.contains(&format!("127.0.0.1:{PORT}")),
            "book/theme/panel.js does not ask port {PORT}"
        );
    }

    #[test]
    fn only_the_books_origin_may_read_the_panel() {
        assert!(allowed_origin(&HeaderValue::from_static(
            "http://localhost:4000"
        )));
        assert!(allowed_origin(&HeaderValue::from_static(
            "http://127.0.0.1:4000"
        )));
        assert!(!allowed_origin(&HeaderValue::from_static(
            "http://evil.example"
        )));
        assert!(!allowed_origin(&HeaderValue::from_static(
            "http://localhost:4000.evil.example"
        )));
    }
}
