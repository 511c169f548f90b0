//! `just verify` runs its lanes at once (the workbook's checks, and each chapter's), so that a
//! chapter's tests that mostly wait (on a server, a deadline, the Docker engine) do not wait in
//! turn; `--jobs 1` runs them one at a time.

use crate::common::Workbook;

/// A test that leaves a mark for chapter `me` and passes only if the other chapter's test
/// leaves its mark while this one runs (50 s at most: under the fixture's 60 s time limit).
fn meeting(me: u32, other: u32, dir: &std::path::Path) -> String {
    format!(
        r#"
#[test]
fn meets_the_other_chapter() {{
    let dir = std::path::Path::new({dir:?});
    std::fs::write(dir.join("{me}"), "").unwrap();
    for _ in 0..500 {{
        if dir.join("{other}").exists() {{
            return;
        }}
        std::thread::sleep(std::time::Duration::from_millis(100));
    }}
    panic!("chapter {other}'s tests did not run while chapter {me}'s did");
}}
"#
    )
}

#[test]
fn the_chapters_checks_run_at_once() {
    let wb = Workbook::new();
    let dir = wb.path("meet");
    std::fs::create_dir_all(&dir).unwrap();
    for (me, other, file) in [
        (1, 2, "exercises/ch01-alpha/tests/chapter1/s1_1_add.rs"),
        (2, 1, "exercises/ch02-beta/tests/chapter2/s2_1_double.rs"),
    ] {
        wb.edit(file, |text| text + &meeting(me, other, &dir));
    }
    let run = wb.run(&["verify", "--only", "solution-passes"]);
    run.assert_code(0)
        .assert_stdout("verify: 2 checks in 2 lanes")
        .assert_stdout("✓ chapter 1: every test passes on the solution")
        .assert_stdout("✓ chapter 2: every test passes on the solution")
        .assert_stdout("verify: 2 passed, 0 failed");
}
