//! `just room`: the workshop room. `just room` starts the room's server (tools/room) on the
//! instructor's laptop; `just room join URL CODE` joins it, once, from a learner's; from then
//! each test run sends the room the learner's name and, per section, tests passed out of total
//! and the first failure's sentence: never code, never a file's contents. `just room leave`
//! stops that.
//!
//! The send comes after the verdict is printed and has a short time limit: a room that is gone
//! costs the learner at most that, and one quiet line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use test_support::http::Request;

use crate::cargo_test::Report;
use crate::manifest::{Chapter, Section};

/// The longest a run waits for the room after its verdict is printed.
const SEND_LIMIT: Duration = Duration::from_millis(300);
/// What the learner is told when they join, and what setup.md says.
const WHAT_IS_SENT: &str = "Each `just test` and `just watch` run now sends the room your name \
     and, for each section it ran, how many tests passed out of how many and the first failure's \
     sentence. Never your code, never a file's contents. `just room leave` stops it.";

#[derive(Debug, clap::Subcommand)]
pub(crate) enum RoomCommand {
    /// Join a room (once): `just room join http://192.168.1.23:4002 K7QM2P`.
    Join {
        url: String,
        code: String,
        /// The name the instructor sees (default: git's user.name, else your login).
        #[arg(long)]
        name: Option<String>,
    },
    /// Stop sending your runs to the room.
    Leave,
}

/// What `just room join` keeps: where the room is, its code, and who you are to it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Joined {
    url: String,
    code: String,
    name: String,
    /// Random, made at join: two learners with one name stay two rows.
    learner: String,
}

fn joined_path(root: &Path) -> PathBuf {
    root.join(".workbook/room.toml")
}

pub(crate) async fn room(
    root: &Path,
    command: Option<RoomCommand>,
    stuck_after: Option<f64>,
) -> Result<ExitCode> {
    match command {
        None => open(root, stuck_after).await,
        Some(RoomCommand::Join { url, code, name }) => join(root, &url, &code, name).await,
        Some(RoomCommand::Leave) => leave(root),
    }
}

/// Starts the room's server, built from tools/room, until Ctrl-C.
async fn open(root: &Path, stuck_after: Option<f64>) -> Result<ExitCode> {
    let mut command = Command::new("cargo");
    command
        .current_dir(root)
        .args(["run", "--locked", "--quiet", "-p", "room", "--"])
        .args([
            "--manifest",
            "chapters.toml",
            "--db",
            ".workbook/room.sqlite",
        ]);
    if let Some(minutes) = stuck_after {
        command.args(["--stuck-after", &minutes.to_string()]);
    }
    println!("Starting the room (the first time, cargo builds it: a minute or two)…");
    let status = tokio::task::spawn_blocking(move || crate::stop::status(&mut command))
        .await
        .context("waiting for the room")??
        .context("starting cargo")?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `http://192.168.1.23:4002` (a trailing `/` allowed): the room's address.
async fn room_addr(url: &str) -> Result<SocketAddr> {
    let rest = url
        .trim()
        .strip_prefix("http://")
        .with_context(|| format!("{url:?} is not a room's address: it starts with http://"))?;
    let host = rest.trim_end_matches('/');
    if host.contains('/') {
        bail!("{url:?} is not a room's address: give it as the room printed it, http://HOST:PORT");
    }
    tokio::net::lookup_host(host)
        .await
        .with_context(|| format!("{url:?}: no such host"))?
        .next()
        .with_context(|| format!("{url:?}: no address for that host"))
}

fn default_name() -> Option<String> {
    let git = Command::new("git")
        .args(["config", "user.name"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|n| !n.is_empty());
    git.or_else(|| std::env::var("USER").ok().filter(|n| !n.is_empty()))
}

fn new_learner_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState's keys come from the system's randomness: an id, not a secret.
    let mut id = String::new();
    for _ in 0..2 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        id.push_str(&format!("{:016x}", hasher.finish()));
    }
    id
}

async fn join(root: &Path, url: &str, code: &str, name: Option<String>) -> Result<ExitCode> {
    let addr = room_addr(url).await?;
    let name = name
        .or_else(default_name)
        .context("no name to join with: `just room join URL CODE --name \"Your Name\"`")?;
    let joined = Joined {
        url: url.trim().trim_end_matches('/').to_owned(),
        code: code.trim().to_owned(),
        name: name.trim().to_owned(),
        learner: new_learner_id(),
    };
    let body = serde_json::json!({
        "code": joined.code, "learner": joined.learner, "name": joined.name, "sections": [],
    });
    let answer = post(addr, &body, Duration::from_secs(5))
        .await
        .with_context(|| format!("the room at {} did not answer", joined.url))?;
    match answer.status {
        200 => {}
        403 => bail!(
            "the room refused the code {:?}: ask the instructor for it again",
            joined.code
        ),
        _ => bail!(
            "the room refused to let you join: {}",
            refusal(&answer.body)
        ),
    }
    let path = joined_path(root);
    std::fs::create_dir_all(path.parent().expect("a file has a folder"))?;
    std::fs::write(&path, toml::to_string(&joined)?)
        .with_context(|| format!("writing {}", path.display()))?;
    println!(
        "You are in the room at {} as {:?}.",
        joined.url, joined.name
    );
    println!("{WHAT_IS_SENT}");
    Ok(ExitCode::SUCCESS)
}

fn leave(root: &Path) -> Result<ExitCode> {
    let path = joined_path(root);
    match std::fs::remove_file(&path) {
        Ok(()) => println!("You left the room: your runs are no longer sent anywhere."),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            println!("You are in no room: nothing is sent.");
        }
        Err(err) => return Err(err).with_context(|| format!("removing {}", path.display())),
    }
    Ok(ExitCode::SUCCESS)
}

fn refusal(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(200).collect())
}

async fn post(
    addr: SocketAddr,
    body: &serde_json::Value,
    limit: Duration,
) -> Result<test_support::http::Response> {
    Ok(Request::post("/api/report", body.to_string())
        .header("Content-Type", "application/json")
        .timeout(limit)
        .send(addr)
        .await?)
}

/// After a run's verdict is printed: sends its sections to the room, if the learner joined one.
/// At most [`SEND_LIMIT`]; a failure is one line on stderr, and never changes the run's result.
pub(crate) async fn send(root: &Path, chapter: &Chapter, only: Option<&Section>, report: &Report) {
    let Ok(text) = std::fs::read_to_string(joined_path(root)) else {
        return;
    };
    let Ok(joined) = toml::from_str::<Joined>(&text) else {
        eprintln!("room: .workbook/room.toml is unreadable; `just room join` again");
        return;
    };
    let sections: Vec<serde_json::Value> = crate::share::of_run(chapter, only, report)
        .into_iter()
        .map(|(id, v)| {
            serde_json::json!({"id": id, "passed": v.passed, "total": v.total, "failure": v.failure})
        })
        .collect();
    let body = serde_json::json!({
        "code": joined.code, "learner": joined.learner, "name": joined.name, "sections": sections,
    });
    let sent = tokio::time::timeout(SEND_LIMIT, async {
        let addr = room_addr(&joined.url).await?;
        post(addr, &body, SEND_LIMIT).await
    })
    .await;
    match sent {
        Ok(Ok(answer)) if answer.status == 200 => {}
        Ok(Ok(answer)) => eprintln!(
            "room: {} did not take this run: {}",
            joined.url,
            refusal(&answer.body)
        ),
        Ok(Err(err)) => eprintln!("room: not sent to {} ({err:#})", joined.url),
        Err(_) => eprintln!(
            "room: not sent to {} (no answer within {} ms)",
            joined.url,
            SEND_LIMIT.as_millis()
        ),
    }
}
