//! One section at a time (`just test chapter1 1.2`), and every failure of the failing section
//! explained, the first first.

use crate::common::Workbook;

#[test]
fn a_named_section_runs_only_its_tests_with_the_same_report() {
    let wb = Workbook::new();
    let run = wb.run(&["test", "chapter1", "1.2"]);
    run.assert_code(1)
        .assert_stdout("greets by name")
        .refute_stdout("adds small numbers")
        .assert_stdout("First failing test: s1_2_greet::")
        .assert_stdout("`just test chapter1 1.1`");
    assert_eq!(
        run.line("chapter 1"),
        "chapter 1, section 1.2: 0 passed, 2 failed",
        "{run}"
    );
    // Green when that section is, though the others still fail.
    wb.write(
        "exercises/ch01-alpha/src/add.rs",
        wb.read("solutions/ch01-alpha/src/add.rs"),
    );
    wb.run(&["test", "chapter1", "s1_1_add"])
        .assert_code(0)
        // A section passing is not the chapter passing: the line says which, and no more.
        .assert_stdout("Every test of section 1.1 passes")
        .assert_stdout("The whole chapter: `just test chapter1`")
        .refute_stdout("Compare with the reference")
        .assert_stdout("chapter 1, section 1.1: 2 passed, 0 failed");
}

#[test]
fn an_unknown_section_lists_the_chapters_sections() {
    let wb = Workbook::new();
    for recipe in ["test", "watch", "hint"] {
        wb.run(&[recipe, "chapter1", "1.9"])
            .assert_code(2)
            .assert_stderr("section \"1.9\" of chapter 1 is not one of its sections")
            .assert_stderr(&format!("just {recipe} chapter1 1.2"));
    }
    wb.run(&["test", "chapter1", "1.0"])
        .assert_code(2)
        .assert_stderr("has no tests");
}

#[test]
fn every_failure_of_the_failing_section_is_explained_the_first_first() {
    let wb = Workbook::new();
    let run = wb.run(&["test", "chapter1"]);
    run.assert_code(1);
    let first = run
        .stdout
        .find("add(-2, -3) should be -5")
        .expect("1.1's first failure");
    let second = run
        .stdout
        .find("add(2, 3) should be 5")
        .expect("1.1's second failure");
    assert!(first < second, "the first failure is not first\n{run}");
    run.assert_stdout("Also failing in 1.1 (2 of its 2 failures): s1_1_add::adds_small_numbers")
        // Only the first failing section's.
        .refute_stdout("should say hello to Ada");
}

#[test]
fn a_hint_for_a_named_section_is_about_that_sections_tests() {
    let wb = Workbook::new();
    // 2.1 fails first in the chapter; 2.2 was named.
    wb.run(&["hint", "chapter2", "2.2"])
        .assert_code(0)
        .assert_stdout("Section 2.2")
        .assert_stdout("engine one")
        .assert_stdout("`just test chapter2 2.2`")
        .assert_stdout("`just hint chapter2 2.2` again");
}
