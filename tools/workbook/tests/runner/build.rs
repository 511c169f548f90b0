//! Building is not testing: a compile error shows the compiler's first error, a slow build is not
//! a hang, and a hang is stopped at the chapter's time limit.

use crate::common::Workbook;

const ADD: &str = "exercises/ch01-alpha/src/add.rs";

#[test]
fn a_compile_error_shows_the_compilers_first_error() {
    let wb = Workbook::new();
    // Two errors: the first one is shown.
    wb.write(
        ADD,
        "pub fn add(a: i64, b: i64) -> i64 {\n    a + c\n}\n\npub fn two() -> i64 {\n    d\n}\n",
    );
    wb.run(&["test", "chapter1"])
        .assert_code(1)
        .assert_stdout("Chapter 1 does not compile yet")
        .assert_stdout("error[E0425]: cannot find value `c` in this scope")
        .assert_stdout("src/add.rs:2:9")
        .refute_stdout("cannot find value `d`")
        .assert_stdout("chapter 1: does not compile");
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
