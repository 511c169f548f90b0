//! The room's HTTP interface: `fn app(state) -> Router`.
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /api/report` | a learner's runner | a join (no sections) or a run's verdicts; needs the code |
//! | `GET /api/state` | the instructor's page | learners × sections, stuck learners, counts |
//! | `GET /export.csv` | the instructor | the same table as CSV |
//! | `GET /` | the instructor | the page (its script builds the table with `textContent`) |

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State as Extract};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::limits::{RateLimit, Report, code_matches};
use crate::manifest::Section;
use crate::store::Store;

/// A report is a name and a few dozen sections: 16 KiB is ten times the largest real one.
pub(crate) const MAX_BODY: usize = 16 * 1024;

/// The page's script and style are files of their own, so that the page's Content-Security-Policy
/// can forbid inline script: a name that slipped into the page as HTML still could not run.
const PAGE: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/room.js");
const STYLE: &str = include_str!("page/room.css");
const CSP: &str =
    "default-src 'self'; img-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'";

#[derive(Debug, Clone)]
pub(crate) struct State(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    store: Store,
    code: String,
    sections: Vec<Section>,
    stuck_after: Duration,
    limit: RateLimit,
}

impl State {
    pub(crate) fn new(
        store: Store,
        code: String,
        sections: Vec<Section>,
        stuck_after: Duration,
    ) -> State {
        State(Arc::new(Inner {
            store,
            code,
            sections,
            stuck_after,
            limit: RateLimit::default(),
        }))
    }
}

pub(crate) fn app(state: State) -> Router {
    Router::new()
        .route("/", get(page))
        .route(
            "/room.js",
            get(|| async { text("text/javascript", SCRIPT) }),
        )
        .route("/room.css", get(|| async { text("text/css", STYLE) }))
        .route("/api/report", post(report))
        .route("/api/state", get(room_state))
        .route("/export.csv", get(export))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

fn text(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        PAGE,
    )
        .into_response()
}

/// An answer the runner prints as it is: `{"error": "…"}`.
fn refuse(status: StatusCode, why: impl Into<String>) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "error": why.into() })),
    )
        .into_response()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

async fn report(Extract(state): Extract<State>, body: Bytes) -> Response {
    let report: Report = match serde_json::from_slice(&body) {
        Ok(report) => report,
        Err(err) => return refuse(StatusCode::BAD_REQUEST, format!("not a report: {err}")),
    };
    if !code_matches(&report.code, &state.0.code) {
        return refuse(
            StatusCode::FORBIDDEN,
            "wrong join code: ask the instructor for the room's code",
        );
    }
    if let Some(problem) = report.problem(&state.0.sections) {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, problem);
    }
    if let Err(wait) = state.0.limit.take(&report.learner) {
        let mut answer = refuse(StatusCode::TOO_MANY_REQUESTS, "too many reports: slow down");
        let secs = wait.as_secs().max(1).to_string();
        if let Ok(value) = header::HeaderValue::from_str(&secs) {
            answer.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return answer;
    }
    let kept = state.clone();
    let written = tokio::task::spawn_blocking(move || kept.0.store.record(&report, now_ms())).await;
    match written {
        Ok(Ok(())) => axum::Json(serde_json::json!({ "ok": true })).into_response(),
        Ok(Err(err)) => {
            tracing::error!(cause = %format!("{err:#}"), "keeping a report failed");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the room could not keep it",
            )
        }
        Err(err) => {
            tracing::error!(cause = %err, "the writer task failed");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the room could not keep it",
            )
        }
    }
}

/// The table, as the page draws it.
#[derive(Debug, serde::Serialize)]
struct Table {
    now: i64,
    stuck_after_ms: u64,
    sections: Vec<Column>,
    learners: Vec<Row>,
}

#[derive(Debug, serde::Serialize)]
struct Column {
    id: String,
    title: String,
    chapter: u32,
    /// How many learners pass every test of it.
    past: usize,
}

#[derive(Debug, serde::Serialize)]
struct Row {
    #[serde(flatten)]
    learner: crate::store::Learner,
    stuck: bool,
}

async fn table(state: &State) -> Result<Table, Response> {
    let kept = state.clone();
    let learners = tokio::task::spawn_blocking(move || kept.0.store.learners())
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| format!("{e:#}")))
        .map_err(|err| {
            tracing::error!(cause = %err, "reading the room failed");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the room could not be read",
            )
        })?;
    let now = now_ms();
    let stuck_after = u64::try_from(state.0.stuck_after.as_millis()).unwrap_or(u64::MAX);
    let sections = state
        .0
        .sections
        .iter()
        .map(|s| Column {
            id: s.id.clone(),
            title: s.title.clone(),
            chapter: s.chapter,
            past: learners
                .iter()
                .filter(|l| l.cells.get(&s.id).is_some_and(|(p, t)| p == t && *t > 0))
                .count(),
        })
        .collect();
    let learners = learners
        .into_iter()
        .map(|learner| {
            let stuck = learner
                .failure
                .as_ref()
                .is_some_and(|f| u64::try_from(now - f.since).unwrap_or(0) >= stuck_after);
            Row { learner, stuck }
        })
        .collect();
    Ok(Table {
        now,
        stuck_after_ms: stuck_after,
        sections,
        learners,
    })
}

async fn room_state(Extract(state): Extract<State>) -> Response {
    match table(&state).await {
        Ok(table) => ([(header::CACHE_CONTROL, "no-store")], axum::Json(table)).into_response(),
        Err(answer) => answer,
    }
}

async fn export(Extract(state): Extract<State>) -> Response {
    let table = match table(&state).await {
        Ok(table) => table,
        Err(answer) => return answer,
    };
    let mut csv = String::new();
    let mut head = vec!["name".to_owned(), "runs".to_owned()];
    head.extend(table.sections.iter().map(|s| s.id.clone()));
    head.extend(["stuck on".to_owned(), "first failure".to_owned()]);
    push_row(&mut csv, &head);
    for row in &table.learners {
        let mut fields = vec![row.learner.name.clone(), row.learner.runs.to_string()];
        fields.extend(table.sections.iter().map(|s| {
            row.learner
                .cells
                .get(&s.id)
                .map(|(p, t)| format!("{p}/{t}"))
                .unwrap_or_default()
        }));
        let failure = row.learner.failure.as_ref();
        fields.push(
            failure
                .filter(|_| row.stuck)
                .map(|f| f.section.clone())
                .unwrap_or_default(),
        );
        fields.push(failure.map(|f| f.sentence.clone()).unwrap_or_default());
        push_row(&mut csv, &fields);
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"room.csv\"",
            ),
        ],
        csv,
    )
        .into_response()
}

/// One CSV line (RFC 4180 quoting). A field that a spreadsheet would read as a formula (`=`,
/// `+`, `-`, `@` first) gets a `'` in front: a learner's name is never run as one.
fn push_row(csv: &mut String, fields: &[String]) {
    let cells: Vec<String> = fields
        .iter()
        .map(|f| {
            let f = if f.starts_with(['=', '+', '-', '@']) {
                format!("'{f}")
            } else {
                f.clone()
            };
            format!("\"{}\"", f.replace('"', "\"\""))
        })
        .collect();
    csv.push_str(&cells.join(","));
    csv.push_str("\r\n");
}
