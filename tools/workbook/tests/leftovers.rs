//! Nothing left behind on the Docker engine: a run killed at its time limit removes what its
//! tests had created there (they carry its run's label), and says so; `just doctor` lists and
//! `just clean` removes what runs of this checkout that died left, and nothing of a run that is
//! still alive. On a real engine; without one these tests skip loudly (fail in CI and under
//! `just verify`). Run with `cargo test -p workbook --test leftovers`.

#[path = "common/mod.rs"]
mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Workbook;
use test_support::docker::{self, labels};

/// Section 2.2's test, rewritten: it builds an image and creates a container, both with the
/// labels the runner hands it (as test-support's helpers put them on), then hangs until the
/// runner's time limit stops it, so that no guard of its own can clean up.
const LEAVES_THINGS_BEHIND: &str = r#"//! 2.2, rewritten by the leftovers test.

#[test]
fn doubles_on_the_engine() {
    use std::io::Write;
    let run = std::env::var("WORKBOOK_RUN").expect("the runner names its run");
    let checkout = std::env::var("WORKBOOK_CHECKOUT").expect("the runner names its checkout");
    let labels = [
        "--label".to_owned(),
        format!("workbook.run={run}"),
        "--label".to_owned(),
        format!("workbook.checkout={checkout}"),
    ];
    let tag = format!("workbook-fixture-leftover:{checkout}");
    let mut build = std::process::Command::new("docker")
        .args(["build", "--quiet", "--tag", &tag])
        .args(&labels)
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    build
        .stdin
        .take()
        .unwrap()
        .write_all(b"FROM scratch\nCMD [\"/nothing\"]\n")
        .unwrap();
    assert!(build.wait().unwrap().success(), "docker build failed");
    let name = format!("workbook-fixture-leftover-{}", std::process::id());
    let created = std::process::Command::new("docker")
        .args(["create", "--name", &name])
        .args(&labels)
        .arg(&tag)
        .status()
        .unwrap();
    assert!(created.success(), "docker create failed");
    eprintln!("created {name}");
    loop {
        std::thread::park();
    }
}
"#;

/// What carries this checkout's label on the engine: `docker ps -a` names, and the ids of the
/// tagged images (`docker images`). A build's untagged layers carry the labels too, and stay
/// after a stopped run: they are the next build's cache (`just clean` removes them).
fn labelled(wb: &Workbook) -> (Vec<String>, Vec<String>) {
    let filter = format!(
        "label={}={}",
        labels::CHECKOUT,
        labels::checkout_of(wb.root())
    );
    let list = |args: &[&str]| -> Vec<String> {
        docker::docker(args)
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    };
    (
        list(&["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"]),
        list(&[
            "images",
            "-q",
            "--filter",
            &filter,
            "--filter",
            "dangling=false",
        ]),
    )
}

/// Removes whatever carries the copy's checkout label when the test ends, passed or not.
struct Sweep(String);

impl Drop for Sweep {
    fn drop(&mut self) {
        let filter = format!("label={}={}", labels::CHECKOUT, self.0);
        for (list, rm) in [
            (
                vec!["ps", "-aq", "--filter", &filter],
                vec!["rm", "-f", "-v"],
            ),
            (vec!["images", "-q", "--filter", &filter], vec!["rmi", "-f"]),
        ] {
            let ids = docker::docker(&list).unwrap_or_default();
            let ids: Vec<&str> = ids.lines().filter(|l| !l.is_empty()).collect();
            if !ids.is_empty() {
                let mut args = rm.clone();
                args.extend(ids);
                let _ = docker::docker(&args);
            }
        }
    }
}

#[test]
fn a_run_killed_at_its_time_limit_leaves_nothing_labelled_behind_and_says_so() {
    if !docker::engine_or_skip() {
        return;
    }
    let wb = Workbook::new();
    let _sweep = Sweep(labels::checkout_of(wb.root()));
    // Chapter 2 drives the engine (chapters.toml's `docker`) and gets a short time limit.
    wb.edit("chapters.toml", |text| {
        let (head, tail) = text.split_once("folder = \"ch02-beta\"").unwrap();
        format!(
            "{head}folder = \"ch02-beta\"{}",
            tail.replacen("time_limit = 60", "time_limit = 30\ndocker = true", 1)
        )
    });
    wb.write(
        "exercises/ch02-beta/tests/chapter2/s2_2_engine.rs",
        LEAVES_THINGS_BEHIND,
    );
    let run = wb.run(&["test", "chapter2", "2.2"]);
    run.assert_stdout("stopped at the time limit");
    run.assert_stderr("Removed what the stopped run had left on the Docker engine");
    run.assert_stderr("workbook-fixture-leftover-");
    assert_eq!(
        labelled(&wb),
        (Vec::new(), Vec::new()),
        "the killed run left these (containers, images) carrying its checkout's label\n{run}"
    );
}

/// A pid no process has now: that of a child that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

/// `docker create` of a container named `name` with the labels of `run` and `checkout`, from an
/// untagged image with the same labels; returns the image's id.
fn plant(name: &str, run: &str, checkout: &str) -> String {
    let labels = [
        "--label".to_owned(),
        format!("{}={run}", labels::RUN),
        "--label".to_owned(),
        format!("{}={checkout}", labels::CHECKOUT),
    ];
    let mut build = Command::new("docker")
        .args(["build", "--quiet"])
        .args(&labels)
        // A LABEL of its own, so that each planted image is a different one.
        .args(["--label", &format!("planted={name}"), "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    build
        .stdin
        .take()
        .unwrap()
        .write_all(b"FROM scratch\nCMD [\"/nothing\"]\n")
        .unwrap();
    let out = build.wait_with_output().unwrap();
    assert!(out.status.success(), "docker build failed");
    let image = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let mut args = vec!["create", "--name", name];
    args.extend(labels.iter().map(String::as_str));
    args.push(&image);
    docker::docker(&args).unwrap();
    image
}

#[test]
fn doctor_lists_and_clean_removes_what_dead_runs_left_and_spares_live_ones() {
    if !docker::engine_or_skip() {
        return;
    }
    let wb = Workbook::new();
    let checkout = labels::checkout_of(wb.root());
    let _sweep = Sweep(checkout.clone());
    let tag = &checkout[..8];
    let dead = format!("workbook-fixture-dead-{tag}");
    let live = format!("workbook-fixture-live-{tag}");
    plant(&dead, &format!("{}-1", dead_pid()), &checkout);
    // This test's own process is alive: a run of it is not a leftover.
    plant(&live, &format!("{}-1", std::process::id()), &checkout);

    let doctor = wb.runner(&["doctor"]).limit(Duration::from_secs(120)).run();
    doctor.assert_stdout(&dead).refute_stdout(&live);
    doctor.assert_stdout("just clean");

    let clean = wb.run(&["clean"]);
    clean.assert_code(0);
    clean.assert_stderr(&dead);
    let (containers, _) = labelled(&wb);
    assert_eq!(
        containers,
        vec![live.clone()],
        "after `just clean` these containers carry the checkout's label; only the live run's \
         should\n{clean}"
    );
    // Its layers too: `just clean` is asked for, the cache goes with it.
    let images = docker::docker(&[
        "images",
        "-aq",
        "--filter",
        &format!("label=planted={dead}"),
    ])
    .unwrap();
    assert_eq!(
        images, "",
        "the dead run's untagged image is still there\n{clean}"
    );
}
