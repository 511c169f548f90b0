//! `just verify` runs its lanes at once (the workbook's checks, and each chapter's), so that a
//! chapter's tests that mostly wait (on a server, a deadline, the Docker engine) do not wait in
//! turn; `--jobs 1` runs them one at a time. Its tooling-tests check runs the tests of every
//! package under tools/, each test program beside the others.

use crate::common::Workbook;

/// A test that leaves a mark for `me` (a file of that name in `dir`) and passes only if
/// `other`'s test leaves its mark while this one runs (50 s at most: under the fixture
/// chapters' 60 s time limit).
fn meeting(me: &str, other: &str, dir: &std::path::Path) -> String {
    format!(
        r#"
#[test]
fn meets_the_other() {{
    let dir = std::path::Path::new({dir:?});
    std::fs::write(dir.join("{me}"), "").unwrap();
    for _ in 0..500 {{
        if dir.join("{other}").exists() {{
            return;
        }}
        std::thread::sleep(std::time::Duration::from_millis(100));
    }}
    panic!("{other}'s tests did not run while {me}'s did");
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
        (
            "chapter 1",
            "chapter 2",
            "exercises/ch01-alpha/tests/chapter1/s1_1_add.rs",
        ),
        (
            "chapter 2",
            "chapter 1",
            "exercises/ch02-beta/tests/chapter2/s2_1_double.rs",
        ),
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

#[test]
fn the_tooling_tests_run_every_tools_package_and_its_test_programs_at_once() {
    let wb = Workbook::new();
    let dir = wb.path("meet");
    std::fs::create_dir_all(&dir).unwrap();
    // The probe's library tests and its integration tests are two programs: `cargo test` would
    // run the second only after the first had given up waiting for it.
    wb.edit("tools/probe/src/lib.rs", |text| {
        text + &meeting("library", "integration", &dir)
    });
    wb.write(
        "tools/probe/tests/other.rs",
        meeting("integration", "library", &dir),
    );
    wb.run(&["verify", "--only", "tooling-tests"])
        .assert_code(0)
        .assert_stdout("✓ the tooling's own tests")
        .assert_stdout("verify: 1 passed, 0 failed");

    // A test of a tool that fails fails the check, with what it said; so does a doc test.
    wb.edit("tools/probe/src/lib.rs", |text| {
        "//! ```\n//! assert!(false, \"the doc test's own failure\");\n//! ```\n".to_owned() + &text
    });
    wb.write(
        "tools/probe/tests/other.rs",
        "#[test]\nfn fails() {\n    panic!(\"the probe's own failure\");\n}\n",
    );
    // A test program that crashes, and a test that skips (as test-support's `skip` records it):
    // neither is a pass.
    wb.write(
        "tools/probe/tests/crash.rs",
        "#[test]\nfn aborts() {\n    std::process::abort();\n}\n",
    );
    wb.write(
        "tools/probe/tests/skip.rs",
        r#"#[test]
fn skips() {
    let dir = std::env::var_os("WORKBOOK_SKIPS_DIR").expect("verify names a folder for skips");
    std::fs::write(std::path::Path::new(&dir).join("skips"), "the probe's own reason").unwrap();
}
"#,
    );
    wb.run(&["verify", "--only", "tooling-tests"])
        .assert_code(1)
        .assert_stdout("✗ the tooling's own tests")
        .assert_stdout("the probe's own failure")
        .assert_stdout("the doc test's own failure")
        .assert_stdout("failed (signal: 6 (SIGABRT)")
        .assert_stdout("skips skipped, and checked nothing: the probe's own reason")
        .assert_stdout("verify: 0 passed, 1 failed");
}
