//! Building is not testing: a compile error shows the compiler's first error (read from cargo's
//! JSON diagnostics: warnings before it skipped; cargo's own error where the compiler said
//! nothing), a slow build is not a hang, and a hang is stopped at the chapter's time limit.

use crate::common::Workbook;

const ADD: &str = "exercises/ch01-alpha/src/add.rs";

/// Two type errors in the learner's file, the second a few lines on.
const TWO_TYPE_ERRORS: &str = "pub fn add(a: i64, b: i64) -> i64 {\n    \"a + b\"\n}\n\npub fn two() -> i64 {\n    \"two\"\n}\n";

#[test]
fn a_compile_error_shows_the_compilers_first_error() {
    let wb = Workbook::new();
    wb.write(ADD, TWO_TYPE_ERRORS);
    let run = wb.run(&["test", "chapter1"]);
    run.assert_code(1)
        .assert_stdout("Chapter 1 does not compile yet")
        .assert_stdout("error[E0308]: mismatched types")
        .assert_stdout("src/add.rs:2:5")
        .refute_stdout("src/add.rs:6:5")
        .assert_stdout("chapter 1: does not compile");
    // While it built, both were shown as the compiler renders them.
    run.assert_stderr("--> exercises/ch01-alpha/src/add.rs:2:5")
        .assert_stderr("--> exercises/ch01-alpha/src/add.rs:6:5")
        .assert_stderr("expected `i64`, found `&str`");
}

#[test]
fn an_error_in_a_test_file_after_a_warning_is_the_first_error() {
    let wb = Workbook::new();
    // 1.1's add loses an argument the tests pass: the library builds, with a warning from 1.2's
    // file, and the tests do not.
    wb.write(ADD, "pub fn add(a: i64) -> i64 {\n    a\n}\n").write(
        "exercises/ch01-alpha/src/greet.rs",
        "pub fn greet(name: &str) -> String {\n    let unused = 1;\n    format!(\"{name}\")\n}\n",
    );
    let run = wb.run(&["test", "chapter1"]);
    run.assert_code(1)
        .assert_stdout("error[E0061]: this function takes 1 argument but 2 arguments were supplied")
        .assert_stdout("tests/chapter1/s1_1_add.rs:7:16")
        .refute_stdout("unused variable")
        .refute_stdout("s1_2_greet.rs")
        .assert_stdout("chapter 1: does not compile");
    // The warning still showed while it built, before the error.
    let warning = run.stderr.find("warning: unused variable: `unused`");
    let error = run.stderr.find("error[E0061]");
    assert!(
        warning.is_some() && warning < error,
        "the warning was not shown before the error\n{run}"
    );
}

#[test]
fn a_warning_is_shown_once() {
    let wb = Workbook::new();
    // It builds, with a warning; the run's cargo replays it, which the learner saw seconds ago.
    wb.write(
        "exercises/ch01-alpha/src/greet.rs",
        "pub fn greet(name: &str) -> String {\n    let unused = 1;\n    format!(\"{name}\")\n}\n",
    );
    let run = wb.run(&["test", "chapter1"]);
    run.assert_code(1).assert_stdout("chapter 1: 0 passed");
    assert_eq!(
        run.stderr.matches("warning: unused variable").count(),
        1,
        "the warning was not shown exactly once\n{run}"
    );
}

#[test]
fn a_failed_build_script_shows_cargos_own_error() {
    let wb = Workbook::new();
    // No compiler message at all: cargo's `error:` and its explanation stand in.
    wb.write(
        "exercises/ch01-alpha/build.rs",
        "fn main() {\n    eprintln!(\"no libfoo on this machine\");\n    std::process::exit(1);\n}\n",
    );
    wb.run(&["test", "chapter1"])
        .assert_code(1)
        .assert_stdout("Chapter 1 does not compile yet")
        // Not the compiler's: it said nothing.
        .assert_stdout("The first error (fix it first")
        .refute_stdout("The compiler's")
        .assert_stdout("error: failed to run custom build command for `ch01-alpha")
        .assert_stdout("no libfoo on this machine")
        .assert_stdout("chapter 1: does not compile");
}

#[test]
fn a_link_failure_shows_the_linkers_complaint() {
    let wb = Workbook::new();
    // It compiles; the test program does not link. The compiler reports it, with the reason.
    wb.write(
        ADD,
        "unsafe extern \"C\" {\n    fn workbook_no_such_symbol() -> i64;\n}\n\npub fn add(a: i64, b: i64) -> i64 {\n    unsafe { workbook_no_such_symbol() + a + b }\n}\n",
    );
    wb.run(&["test", "chapter1"])
        .assert_code(1)
        .assert_stdout("error: linking with")
        .assert_stdout("workbook_no_such_symbol")
        .assert_stdout("chapter 1: does not compile");
}

#[test]
fn verify_shows_the_errors_of_a_starter_that_does_not_compile() {
    let wb = Workbook::new();
    wb.write(ADD, TWO_TYPE_ERRORS)
        .commit("a starter that does not compile");
    wb.run(&["verify", "--only", "chapter1/starter-fails"])
        .assert_code(1)
        .assert_stdout("the starter does not compile")
        .assert_stdout("error[E0308]: mismatched types")
        .assert_stdout("src/add.rs:2:5")
        .assert_stdout("src/add.rs:6:5");
}

#[test]
fn a_compile_error_in_another_section_says_the_chapter_is_one_program() {
    let wb = Workbook::new();
    // 1.1's file does not compile; the learner runs 1.2.
    wb.write(ADD, "pub fn add(a: i64, b: i64) -> i64 {\n    a + c\n}\n");
    wb.run(&["test", "chapter1", "1.2"])
        .assert_code(1)
        .assert_stdout("Chapter 1 does not compile yet")
        .assert_stdout("one program, built from the whole chapter")
        .assert_stdout("src/add.rs:2:9");
}

#[test]
fn a_slow_build_is_not_a_hang() {
    let wb = Workbook::new();
    // A limit of 3 s for the tests, and a build (a build script) that takes 9: longer than the
    // 8 s the runner lets a build go without a line, so it also says it is still at it.
    wb.solve("ch01-alpha")
        .edit("chapters.toml", |t| {
            t.replacen("time_limit = 60", "time_limit = 3", 1)
        })
        .write(
            "exercises/ch01-alpha/build.rs",
            "fn main() { std::thread::sleep(std::time::Duration::from_secs(9)); }\n",
        );
    wb.run(&["test", "chapter1"])
        .assert_code(0)
        .assert_stdout("Every test passes")
        .assert_stdout("chapter 1: 4 passed, 0 failed")
        .assert_stderr(" s so far (last: ");
}

#[test]
fn a_hang_is_stopped_at_the_time_limit() {
    let wb = Workbook::new();
    wb.solve("ch01-alpha")
        .edit("chapters.toml", |t| t.replacen("time_limit = 60", "time_limit = 3", 1))
        .write(
            ADD,
            "pub fn add(_: i64, _: i64) -> i64 {\n    loop {\n        std::thread::park();\n    }\n}\n",
        );
    wb.runner(&["test", "chapter1"])
        .limit(std::time::Duration::from_secs(120))
        .run()
        .assert_code(1)
        .assert_stdout("still running 3 s after they started")
        .refute_stdout("Every test passes");
}

#[test]
fn what_the_learners_code_prints_is_shown_and_cargos_list_of_programs_is_not() {
    let wb = Workbook::new();
    // A server's log line, written to stderr as a logger writes it (past libtest's capture),
    // that begins as one of cargo's own lines does. cargo, told to speak JSON, lists the
    // programs it built in its records only, so no line needs hiding.
    wb.write(
        ADD,
        "pub fn add(a: i64, b: i64) -> i64 {\n    use std::io::Write;\n    let _ = writeln!(std::io::stderr(), \"Running on 127.0.0.1:3000\");\n    a - b\n}\n",
    );
    wb.run(&["test", "chapter1"])
        .assert_code(1)
        .assert_stderr("Running on 127.0.0.1:3000")
        .refute_stderr("Executable ");
}
