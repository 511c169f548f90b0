//! The room under a class: N simulated learners, each sending a run every few seconds, for a
//! while; then every run sent must be in the room (none lost), and the write latencies and the
//! room's memory are printed.
//!
//! ```text
//! cargo build -p room && cargo run -p room --example class -- 40 2 300
//! ```
//! (learners, seconds between one learner's runs, seconds in all; the room binary is
//! target/debug/room, or ROOM_BIN.) Memory is read from /proc (Linux); elsewhere it says so.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use test_support::Server;
use test_support::http::Request;

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers: learners, every, seconds"))
        .collect();
    let (learners, every, seconds) = match args.as_slice() {
        [l, e, s] => (*l, *e, *s),
        [] => (40, 2, 300),
        _ => panic!("usage: class [LEARNERS EVERY_S SECONDS]"),
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = std::env::var("ROOM_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root.join("target/debug/room"));
    let dir = tempfile::tempdir().unwrap();
    let mut room = Server::builder(&bin)
        .name("the room")
        .arg("--manifest")
        .arg(root.join("chapters.toml"))
        .arg("--db")
        .arg(dir.path().join("room.sqlite"))
        .args(["--addr", "127.0.0.1", "--port", "0"])
        .spawn();
    let join = room
        .wait_for_line("just room join", Duration::from_secs(30), "the join line")
        .await;
    let code = join.split_whitespace().last().unwrap().to_owned();
    let addr = room.wait_for_address(Duration::from_secs(30)).await;
    let sections = ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6"];
    let sent = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for i in 0..learners {
        let code = code.clone();
        let sent = sent.clone();
        tasks.push(tokio::spawn(async move {
            // Spread over the interval, as a class is.
            let offset = Duration::from_millis(every * 1000 * i / learners.max(1));
            let mut tick = tokio::time::interval_at(
                tokio::time::Instant::now() + offset,
                Duration::from_secs(every),
            );
            let mut latencies = Vec::new();
            let mut failed = 0u64;
            let mut run = 0u32;
            while Instant::now() < end {
                tick.tick().await;
                run += 1;
                // Each run moves the learner on: 0 to 3 of 3 tests pass, then again.
                let passed = run % 4;
                let verdicts: Vec<_> = sections
                    .iter()
                    .map(|id| {
                        serde_json::json!({"id": id, "passed": passed, "total": 3,
                            "failure": (passed < 3).then_some("After SIGTERM the service did not exit. See 1.2.")})
                    })
                    .collect();
                let body = serde_json::json!({
                    "code": code, "learner": format!("learner-{i:04}"),
                    "name": format!("Learner {i}"), "sections": verdicts,
                });
                let at = Instant::now();
                let answer = Request::post("/api/report", body.to_string())
                    .header("Content-Type", "application/json")
                    .timeout(Duration::from_secs(5))
                    .send(addr)
                    .await;
                latencies.push(at.elapsed());
                match answer {
                    Ok(a) if a.status == 200 => {
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => failed += 1,
                }
            }
            (latencies, failed)
        }));
    }
    let mut latencies = Vec::new();
    let mut failed = 0;
    for task in tasks {
        let (l, f) = task.await.unwrap();
        latencies.extend(l);
        failed += f;
    }
    latencies.sort();
    let state = Request::get("/api/state").send(addr).await.unwrap();
    let state: serde_json::Value = serde_json::from_str(&state.body).unwrap();
    let stored: u64 = state["learners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["runs"].as_u64().unwrap())
        .sum();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1);
        latencies[i.min(latencies.len() - 1)]
    };
    let memory = std::fs::read_to_string(format!("/proc/{}/status", room.pid()))
        .map(|s| {
            s.lines()
                .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join(" / peak ")
        })
        .unwrap_or_else(|_| "(no /proc here)".into());
    let accepted = sent.load(Ordering::Relaxed);
    eprintln!(
        "{learners} learners, a run every {every} s each, {seconds} s: {} sent, {accepted} \
         accepted, {failed} failed, {stored} in the room ({} lost)\n\
         write latency p50 {:?}, p99 {:?}, max {:?}\nroom memory (RSS): {memory}",
        latencies.len(),
        accepted.saturating_sub(stored),
        pct(0.50),
        pct(0.99),
        latencies.last().unwrap(),
    );
    if failed > 0 || stored != accepted {
        std::process::exit(1);
    }
}
