//! Colour reaches a terminal only, and never past `NO_COLOR`: the runner's test report, the
//! solution diff and cargo's build output. A test cannot be a terminal, so `CLICOLOR_FORCE=1`
//! stands in for one (the harness sets `NO_COLOR`; an empty one is unset, as no-color.org says).

use crate::common::{Run, Workbook};

const ESC: char = '\x1b';

fn has_escapes(run: &Run) -> bool {
    run.stdout.contains(ESC) || run.stderr.contains(ESC)
}

/// The runner as on a terminal (`CLICOLOR_FORCE`), with no `NO_COLOR`.
fn on_a_terminal(wb: &Workbook, args: &[&str]) -> Run {
    wb.runner(args)
        .env("NO_COLOR", "")
        .env("CLICOLOR_FORCE", "1")
        .run()
}

/// The runner through a pipe, with no `NO_COLOR`.
fn through_a_pipe(wb: &Workbook, args: &[&str]) -> Run {
    wb.runner(args).env("NO_COLOR", "").run()
}

#[test]
fn a_report_is_coloured_for_a_terminal_and_plain_through_a_pipe() {
    let wb = Workbook::new();
    // The starter: every test fails, so the report has its red marks.
    let forced = on_a_terminal(&wb, &["test", "chapter1"]);
    forced.assert_code(1);
    assert!(
        forced.stdout.contains("\x1b[31m✗"),
        "a terminal's report has no red ✗\n{forced}"
    );
    let piped = through_a_pipe(&wb, &["test", "chapter1"]);
    piped.assert_code(1).assert_stdout("✗ 1.1");
    assert!(!has_escapes(&piped), "escapes went down a pipe\n{piped}");
}

#[test]
fn no_color_wins_over_a_terminal() {
    let wb = Workbook::new();
    for args in [&["test", "chapter1"][..], &["solution", "chapter1"]] {
        let run = wb
            .runner(args)
            .env("NO_COLOR", "1")
            .env("CLICOLOR_FORCE", "1")
            .run();
        assert!(!has_escapes(&run), "escapes despite NO_COLOR\n{run}");
    }
    // The same diff is coloured without NO_COLOR: the test above sees the diff's lines.
    let diff = on_a_terminal(&wb, &["solution", "chapter1"]);
    diff.assert_code(0);
    assert!(diff.stdout.contains("\x1b[32m+"), "{diff}");
}

#[test]
fn compile_errors_are_shown_in_the_compilers_colours_on_a_terminal_only() {
    let wb = Workbook::new();
    wb.write(
        "exercises/ch01-alpha/src/add.rs",
        "pub fn add(a: i64, b: i64) -> i64 {\n    \"a + b\"\n}\n",
    );
    let forced = on_a_terminal(&wb, &["test", "chapter1"]);
    forced.assert_code(1);
    // rustc's bold bright red, as it prints it on a terminal.
    assert!(
        forced.stderr.contains("\x1b[91merror[E0308]"),
        "the compile error lost its colour on a terminal\n{forced}"
    );
    let piped = through_a_pipe(&wb, &["test", "chapter1"]);
    piped
        .assert_code(1)
        .assert_stderr("error[E0308]: mismatched types")
        .assert_stdout("error[E0308]: mismatched types");
    assert!(!has_escapes(&piped), "escapes went down a pipe\n{piped}");
}
