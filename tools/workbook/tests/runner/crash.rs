//! A crashed test program is a failure, named: never "Every test passes", and the other
//! failures keep their messages.

use crate::common::Workbook;

const ADD: &str = "exercises/ch01-alpha/src/add.rs";

/// 1.1's `add` with a learner's slips: wrong for small numbers (a failure with a message), and
/// `crash` for negative ones (only `adds_negative_numbers` passes one); right for big ones, so
/// 1.2's tests pass.
fn add_that(crash: &str) -> String {
    format!(
        "pub fn add(a: i64, b: i64) -> i64 {{\n    if a < 0 {{\n        {crash}\n    }}\n    \
         if a < 100 {{ a - b }} else {{ a + b }}\n}}\n"
    )
}

/// A recursion whose stop test is never true, as in a walk that compares the wrong thing.
const OVERFLOW: &str = "fn walk(n: u64) -> u64 { if n == u64::MAX { 0 } else { 1 + walk(std::hint::black_box(n + 1)) } }\n        return walk(0) as i64;";

#[test]
fn a_stack_overflow_is_a_failure_that_names_its_test_and_keeps_the_other_messages() {
    let wb = Workbook::new();
    wb.solve("ch01-alpha").write(ADD, add_that(OVERFLOW));
    let run = wb.run(&["test", "chapter1"]);
    run.assert_code(1)
        .refute_stdout("Every test passes")
        .assert_stdout("stack overflow in `s1_1_add::adds_negative_numbers`")
        .assert_stdout("SIGABRT")
        .assert_stdout("Read section 1.1")
        // The other failure of 1.1 still says why, though libtest never printed it.
        .assert_stdout("add(2, 3) should be 5");
    // 1.2's tests passed, alone or not; both of 1.1's failed.
    assert_eq!(
        run.line("chapter 1:"),
        "chapter 1: 2 passed, 2 failed (the test program crashed)",
        "{run}"
    );
}

#[test]
fn an_abort_is_a_failure_named_with_its_signal_and_test() {
    let wb = Workbook::new();
    wb.solve("ch01-alpha")
        .write(ADD, add_that("std::process::abort();"));
    let run = wb.run(&["test", "chapter1"]);
    run.assert_code(1)
        .refute_stdout("Every test passes")
        .assert_stdout("killed by SIGABRT")
        .assert_stdout("The test that crashes it is s1_1_add::adds_negative_numbers")
        .assert_stdout("add(2, 3) should be 5");
}

#[test]
fn a_segfault_is_a_failure() {
    let wb = Workbook::new();
    // A real invalid memory access (a signal sent with `kill` would be caught by Rust's
    // stack-overflow handler and ignored).
    let segv = "unsafe { std::ptr::null_mut::<i64>().write_volatile(1) };";
    wb.solve("ch01-alpha").write(ADD, add_that(segv));
    let run = wb.run(&["test", "chapter1"]);
    run.assert_code(1)
        .refute_stdout("Every test passes")
        .assert_stdout("killed by SIGSEGV")
        .assert_stdout("The test that crashes it is s1_1_add::adds_negative_numbers");
}

#[test]
fn an_exit_in_the_middle_of_a_test_is_not_a_pass() {
    let wb = Workbook::new();
    wb.solve("ch01-alpha")
        .write(ADD, add_that("std::process::exit(0);"));
    let run = wb.run(&["test", "chapter1"]);
    run.assert_code(1)
        .refute_stdout("Every test passes")
        .assert_stdout("exited with status 0")
        .assert_stdout("s1_1_add::adds_negative_numbers");
}

#[test]
fn a_crash_reads_as_a_failure_in_progress_and_hint_too() {
    let wb = Workbook::new();
    wb.solve("ch01-alpha")
        .write(ADD, add_that("std::process::abort();"));
    let progress = wb.run(&["progress"]);
    progress.assert_stdout("the test program crashed");
    assert!(
        !progress.line("1 Alpha").contains("4/4"),
        "a crash counted every test as passed\n{progress}"
    );
    // The hint is for the section of the test that crashes.
    wb.run(&["hint", "chapter1"])
        .assert_code(0)
        .assert_stdout("Section 1.1")
        .assert_stdout("alpha one");
}
