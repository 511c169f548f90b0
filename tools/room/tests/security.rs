//! The room's promises, over real HTTP against the real binary: the join code guards every
//! write, every field and the body are bounded, writes are rate-limited per learner, and what was
//! kept survives a restart. (That names show as text is the browser's to check: the page's
//! check in `.ci/room-check` opens it in Chromium with a learner named `<img src=x …>`.)
//! Run with `cargo test -p room --test security`.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use test_support::Server;
use test_support::http::Request;

/// Two sections, as the room reads them from a chapters.toml.
const MANIFEST: &str = r#"
[[chapter]]
number = 1
folder = "ch01-alpha"
title = "Alpha"
status = "ready"

  [[chapter.section]]
  id = "1.1"
  title = "Adding"
  tests = "s1_1_add"
  minutes = 10
  core = true

  [[chapter.section]]
  id = "1.2"
  title = "Greeting"
  tests = "s1_2_greet"
  minutes = 10
  core = true
"#;

struct Room {
    server: Server,
    addr: SocketAddr,
    code: String,
}

async fn start(dir: &Path) -> Room {
    std::fs::write(dir.join("chapters.toml"), MANIFEST).unwrap();
    let mut server = Server::builder(env!("CARGO_BIN_EXE_room"))
        .name("the room")
        .arg("--manifest")
        .arg(dir.join("chapters.toml"))
        .arg("--db")
        .arg(dir.join("room.sqlite"))
        .args(["--addr", "127.0.0.1", "--port", "0"])
        .spawn();
    let join = server
        .wait_for_line(
            "just room join",
            Duration::from_secs(30),
            "the room prints the join command",
        )
        .await;
    let code = join.split_whitespace().last().unwrap().to_owned();
    let addr = server.wait_for_address(Duration::from_secs(30)).await;
    Room { server, addr, code }
}

fn report(code: &str, learner: &str, name: &str) -> String {
    serde_json::json!({
        "code": code, "learner": learner, "name": name,
        "sections": [{"id": "1.1", "passed": 1, "total": 2, "failure": "add(2, 2) was 5, expected 4. See 1.1."}],
    })
    .to_string()
}

async fn post(room: &Room, body: impl Into<Vec<u8>>) -> test_support::http::Response {
    Request::post("/api/report", body)
        .header("Content-Type", "application/json")
        .timeout(Duration::from_secs(10))
        .send(room.addr)
        .await
        .expect("the room answers")
}

async fn state(room: &Room) -> serde_json::Value {
    let answer = Request::get("/api/state")
        .timeout(Duration::from_secs(10))
        .send(room.addr)
        .await
        .expect("the room answers");
    assert_eq!(answer.status, 200, "{}", answer.body);
    serde_json::from_str(&answer.body).unwrap()
}

fn names(state: &serde_json::Value) -> Vec<String> {
    state["learners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_report_with_a_forged_code_is_refused_and_kept_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let room = start(dir.path()).await;
    // Right length, last letter changed; and a prefix of the real code.
    let mut forged = room.code.clone();
    let last = if forged.ends_with('A') { "B" } else { "A" };
    forged.replace_range(forged.len() - 1.., last);
    for code in [forged.as_str(), &room.code[..3], ""] {
        let answer = post(&room, report(code, "mallory-1", "Mallory")).await;
        assert_eq!(answer.status, 403, "code {code:?}: {}", answer.body);
    }
    assert!(
        names(&state(&room).await).is_empty(),
        "a refused report was kept"
    );
    let answer = post(&room, report(&room.code, "ada-00001", "Ada")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        names(&state(&room).await),
        ["Ada"],
        "{}",
        room.server.tail(10)
    );
}

#[tokio::test]
async fn a_body_over_16_kib_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let room = start(dir.path()).await;
    let name = "A".repeat(20 * 1024);
    let answer = post(&room, report(&room.code, "ada-00001", &name)).await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    assert!(names(&state(&room).await).is_empty());
}

#[tokio::test]
async fn names_and_sentences_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let room = start(dir.path()).await;
    let long_name = "N".repeat(41);
    let answer = post(&room, report(&room.code, "ada-00001", &long_name)).await;
    assert_eq!(answer.status, 422, "a 41-character name: {}", answer.body);
    let long_sentence = serde_json::json!({
        "code": room.code, "learner": "ada-00001", "name": "Ada",
        "sections": [{"id": "1.1", "passed": 0, "total": 1, "failure": "x".repeat(301)}],
    });
    let answer = post(&room, long_sentence.to_string()).await;
    assert_eq!(
        answer.status, 422,
        "a 301-character sentence: {}",
        answer.body
    );
    let unknown = serde_json::json!({
        "code": room.code, "learner": "ada-00001", "name": "Ada",
        "sections": [{"id": "9.9", "passed": 0, "total": 1}],
    });
    let answer = post(&room, unknown.to_string()).await;
    assert_eq!(answer.status, 422, "an unknown section: {}", answer.body);
    assert!(names(&state(&room).await).is_empty());
}

#[tokio::test]
async fn a_learner_posting_in_a_loop_is_slowed_and_others_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let room = start(dir.path()).await;
    let mut refused = 0;
    for _ in 0..20 {
        let answer = post(&room, report(&room.code, "loop-0001", "Loop")).await;
        match answer.status {
            200 => {}
            429 => {
                assert!(
                    answer.header("Retry-After").is_some(),
                    "429 without Retry-After"
                );
                refused += 1;
            }
            other => panic!("status {other}: {}", answer.body),
        }
    }
    assert!(
        refused >= 10,
        "only {refused} of 20 back-to-back reports were refused"
    );
    let answer = post(&room, report(&room.code, "ada-00001", "Ada")).await;
    assert_eq!(
        answer.status, 200,
        "another learner was slowed too: {}",
        answer.body
    );
}

#[tokio::test]
async fn what_the_room_kept_survives_a_restart_and_so_does_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let room = start(dir.path()).await;
    let answer = post(&room, report(&room.code, "ada-00001", "Ada")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let code = room.code.clone();
    drop(room);
    let room = start(dir.path()).await;
    assert_eq!(room.code, code, "a restart changed the join code");
    let state = state(&room).await;
    assert_eq!(names(&state), ["Ada"]);
    assert_eq!(
        state["learners"][0]["cells"]["1.1"],
        serde_json::json!([1, 2])
    );
}

#[tokio::test]
async fn a_name_is_sent_to_the_page_as_data_and_the_page_forbids_inline_script() {
    let dir = tempfile::tempdir().unwrap();
    let room = start(dir.path()).await;
    let name = "<img src=x onerror=alert(1)>";
    let answer = post(&room, report(&room.code, "eve-00001", name)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(names(&state(&room).await), [name]);
    let page = Request::get("/").send(room.addr).await.unwrap();
    let csp = page.header("Content-Security-Policy").unwrap_or_default();
    assert!(
        csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"),
        "the page's CSP would let injected script run: {csp:?}"
    );
    assert!(
        !page.body.contains("<img"),
        "the page itself holds learner data"
    );
}
