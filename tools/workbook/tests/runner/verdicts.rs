//! Every verdict is true: a skip is not a pass, the section blamed is the one whose code is
//! wrong, `--solution` runs the solution's code, and the exit code says which.

use crate::common::Workbook;

#[test]
fn a_skip_is_shown_as_skipped_never_as_passed() {
    let wb = Workbook::new();
    wb.solve("ch02-beta");
    let run = wb
        .runner(&["test", "chapter2"])
        .env("FIXTURE_NO_ENGINE", "1")
        .run();
    run.assert_code(1)
        .refute_stdout("Every test passes")
        .assert_stdout("doubles on the engine (skipped: did not run)");
    assert_eq!(
        run.line("chapter 2:"),
        "chapter 2: 1 passed, 0 failed, 1 skipped (no engine: start it, then run again)",
        "{run}"
    );
}

#[test]
fn the_section_blamed_is_the_one_whose_code_is_wrong() {
    let wb = Workbook::new();
    // 1.1's code is right for small numbers only; 1.2's test notices, and names 1.1.
    wb.solve("ch01-alpha").write(
        "exercises/ch01-alpha/src/add.rs",
        "pub fn add(a: i64, b: i64) -> i64 {\n    (a as i32 + b as i32) as i64\n}\n",
    );
    wb.run(&["test", "chapter1"])
        .assert_code(1)
        .assert_stdout("First failing test: s1_2_greet::greets_after_adding_big_numbers")
        .assert_stdout("Read section 1.1 \"Adding\"");
    // 1.2's own code wrong: 1.2.
    wb.solve("ch01-alpha").write(
        "exercises/ch01-alpha/src/greet.rs",
        "pub fn greet(name: &str) -> String {\n    format!(\"Hi, {name}!\")\n}\n",
    );
    wb.run(&["test", "chapter1"])
        .assert_code(1)
        .assert_stdout("Read section 1.2 \"Greeting\"");
}

#[test]
fn the_solution_flag_runs_the_solutions_code_and_not_the_learners() {
    let wb = Workbook::new();
    // The starter fails; the solution passes; in turns, each as itself (they share one build
    // folder, so a mix-up of their artifacts would show here).
    for _ in 0..2 {
        wb.run(&["test", "chapter1", "--solution"])
            .assert_code(0)
            .assert_stdout("Every test passes");
        wb.run(&["test", "chapter1"])
            .assert_code(1)
            .assert_stdout("chapter 1: 0 passed, 4 failed");
    }
    // And the other way round: a learner who solved it, against a broken reference.
    wb.solve("ch01-alpha").write(
        "solutions/ch01-alpha/src/greet.rs",
        "pub fn greet(_: &str) -> String {\n    String::new()\n}\n",
    );
    wb.run(&["test", "chapter1"]).assert_code(0);
    wb.run(&["test", "chapter1", "--solution"])
        .assert_code(1)
        .assert_stdout("chapter 1: 2 passed, 2 failed");
}

#[test]
fn exit_codes_say_green_red_or_a_usage_error() {
    let wb = Workbook::new();
    wb.solve("ch02-beta");
    wb.run(&["test", "chapter2"]).assert_code(0);
    wb.run(&["test", "chapter1"]).assert_code(1);
    wb.run(&["test", "chapter9"])
        .assert_code(2)
        .assert_stderr("there is no chapter called \"chapter9\"")
        .assert_stderr("just test chapter1");
}
