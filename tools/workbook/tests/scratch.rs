//! Scratch copies are exact: a copy holds what its source holds and nothing else; the starter is
//! the committed one; two runners never prepare one copy at once. Run with
//! `cargo test -p workbook --test scratch`.

#[path = "common/mod.rs"]
mod common;

#[path = "background/mod.rs"]
mod background;

use std::time::Duration;

use common::Workbook;

const COPY: &str = "target/workbook/scratch/ch01-alpha-solution";
/// A file that does not compile: wherever it lands, the chapter's build fails.
const BROKEN: &str = "fn main() {\n    this does not compile\n}\n";

#[test]
fn a_learners_extra_file_does_not_reach_the_solution_copy() {
    let wb = Workbook::new();
    wb.write("exercises/ch01-alpha/src/bin/try.rs", BROKEN);
    wb.run(&["test", "chapter1", "--solution"])
        .assert_code(0)
        .assert_stdout("Every test passes");
    assert!(
        !wb.path(&format!("{COPY}/exercises/ch01-alpha/src/bin/try.rs"))
            .exists()
    );
}

#[test]
fn a_file_the_source_does_not_hold_is_removed_from_the_copy() {
    let wb = Workbook::new();
    wb.run(&["test", "chapter1", "--solution"]).assert_code(0);
    let stale = format!("{COPY}/exercises/ch01-alpha/src/bin/stale.rs");
    wb.write(&stale, BROKEN);
    wb.run(&["test", "chapter1", "--solution"])
        .assert_code(0)
        .assert_stdout("Every test passes");
    assert!(!wb.path(&stale).exists(), "{stale} is still in the copy");
}

#[test]
fn the_starter_is_the_committed_one_whatever_the_working_tree_holds() {
    let wb = Workbook::new();
    // The learner solved chapter 1 (not committed): the starter still fails every test.
    wb.solve("ch01-alpha");
    wb.run(&["verify", "--only", "chapter1/starter-fails"])
        .assert_code(0)
        .assert_stdout("✓ chapter 1: every test fails on the starter");
}

#[test]
fn a_copy_being_prepared_by_another_runner_is_waited_for() {
    let wb = Workbook::new();
    let lock_path = wb.path(&format!("{COPY}.lock"));
    std::fs::create_dir_all(lock_path.parent().unwrap()).unwrap();
    let held = std::fs::File::create(&lock_path).unwrap();
    held.lock().unwrap();
    let runner = background::Background::start(wb.root(), &["test", "chapter1", "--solution"], &[]);
    runner.wait_for_stderr(
        "another check or run of the workbook is using it",
        Duration::from_secs(120),
    );
    assert!(
        !wb.path(COPY).exists(),
        "the runner wrote the copy while another held its lock"
    );
    drop(held);
    let (code, stdout, stderr) = runner.finish(Duration::from_secs(240));
    let shown = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(code, Some(0), "{shown}");
    assert!(stdout.contains("Every test passes"), "{shown}");
}

#[test]
fn a_copy_whose_tests_are_running_is_waited_for() {
    let wb = Workbook::new();
    // The solution's `add` records its test program's pid, then never returns: the first run
    // holds the copy while its tests hang.
    let pids = background::pid_file(wb.root(), "add");
    wb.write(
        "solutions/ch01-alpha/src/add.rs",
        r#"pub fn add(_: i64, _: i64) -> i64 {
    use std::io::Write;
    let path = std::env::var("HANGING_ADD_PIDS").expect("the test names the file");
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    writeln!(file, "{}", std::process::id()).unwrap();
    loop {
        std::thread::park();
    }
}
"#,
    );
    let env = [("HANGING_ADD_PIDS", pids.to_str().unwrap())];
    let first = background::Background::start(wb.root(), &["test", "chapter1", "--solution"], &env);
    background::wait_for_pids(&pids, Duration::from_secs(240));
    let second =
        background::Background::start(wb.root(), &["test", "chapter1", "--solution"], &env);
    second.wait_for_stderr(
        "another check or run of the workbook is using it",
        Duration::from_secs(120),
    );
    first.signal(test_support::process::Sig::Int);
    second.signal(test_support::process::Sig::Int);
    let (code, _, stderr) = second.finish(Duration::from_secs(60));
    assert_eq!(code, Some(130), "{stderr}");
    first.finish(Duration::from_secs(60));
}
