//! What a run leaves for the book's panel (`.workbook/verdicts.json`) and sends to a joined room:
//! per section, passed out of total and the first failure's sentence with the hint command;
//! never code; after the verdict is printed; and a room that is gone costs one quiet line.
//! Run with `cargo test -p workbook --test room_link`.

#[path = "common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::Workbook;

fn verdicts(wb: &Workbook) -> serde_json::Value {
    serde_json::from_slice(&wb.read(".workbook/verdicts.json")).expect("verdicts.json is JSON")
}

#[test]
fn each_run_records_every_section_it_ran_for_the_books_panel() {
    let wb = Workbook::new();
    wb.run(&["test", "chapter1"]).assert_code(1);
    let first = verdicts(&wb);
    let add = &first["sections"]["1.1"];
    assert_eq!(add["passed"], 0, "{first:#}");
    assert_eq!(add["total"], 2, "{first:#}");
    assert!(
        add["failure"].as_str().unwrap().contains("should be"),
        "the panel's sentence is not the failure's: {first:#}"
    );
    assert_eq!(add["hint"], "just hint chapter1 1.1");
    // A run of one section changes that section only, and moves the counter on.
    wb.solve("ch01-alpha");
    wb.run(&["test", "chapter1", "1.1"]).assert_code(0);
    let second = verdicts(&wb);
    assert!(second["seq"].as_u64() > first["seq"].as_u64(), "{second:#}");
    assert_eq!(second["sections"]["1.1"]["passed"], 2, "{second:#}");
    assert!(second["sections"]["1.1"]["failure"].is_null(), "{second:#}");
    assert_eq!(second["sections"]["1.2"], first["sections"]["1.2"]);
}

/// A one-request HTTP server on 127.0.0.1 that keeps the body it got and answers 200.
fn one_request_room() -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got);
            if let Some(at) = text.find("\r\n\r\n") {
                let length: usize = text[..at]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if got.len() >= at + 4 + length {
                    let body = String::from_utf8_lossy(&got[at + 4..]).into_owned();
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}",
                    );
                    return body;
                }
            }
            assert!(n > 0, "the runner closed before sending a whole request");
        }
    });
    (url, handle)
}

fn join(wb: &Workbook, url: &str) {
    wb.write(
        ".workbook/room.toml",
        format!(
            "url = \"{url}\"\ncode = \"K7QM2P\"\nname = \"Ada\"\nlearner = \"ada-0000000001\"\n"
        ),
    );
}

#[test]
fn a_joined_run_sends_names_and_verdicts_and_never_code() {
    let wb = Workbook::new();
    let (url, room) = one_request_room();
    join(&wb, &url);
    let run = wb.run(&["test", "chapter1"]);
    run.assert_code(1).assert_stdout("chapter 1: 0 passed");
    let body: serde_json::Value = serde_json::from_str(&room.join().unwrap()).unwrap();
    assert_eq!(
        sorted_keys(&body),
        ["code", "learner", "name", "sections"],
        "{body:#}"
    );
    assert_eq!(body["name"], "Ada");
    for section in body["sections"].as_array().unwrap() {
        assert_eq!(
            sorted_keys(section),
            ["failure", "id", "passed", "total"],
            "{body:#}"
        );
    }
    let text = body.to_string();
    for file in [
        "exercises/ch01-alpha/src/add.rs",
        "exercises/ch01-alpha/src/greet.rs",
    ] {
        let code = String::from_utf8(wb.read(file)).unwrap();
        let line = code.lines().find(|l| l.contains("TODO")).unwrap().trim();
        assert!(
            !text.contains(line),
            "the room got a line of {file}: {line}"
        );
    }
    assert!(run.stderr.lines().all(|l| !l.starts_with("room:")), "{run}");
}

#[test]
fn a_room_that_is_gone_costs_one_quiet_line_and_changes_nothing() {
    let wb = Workbook::new();
    let gone = {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", probe.local_addr().unwrap())
    };
    join(&wb, &gone);
    let run = wb.run(&["test", "chapter1"]);
    run.assert_code(1)
        .assert_stdout("chapter 1: 0 passed, 4 failed");
    let notes: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("room:"))
        .collect();
    assert_eq!(notes.len(), 1, "{run}");
    assert!(notes[0].contains("not sent"), "{run}");
    // The verdict came first: the summary is printed, whatever the room did.
    assert!(run.stdout.trim_end().ends_with("failed"), "{run}");
}

/// The keys of a JSON object, sorted: what a send holds, whatever its order.
fn sorted_keys(value: &serde_json::Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}
