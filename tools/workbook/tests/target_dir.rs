//! Cargo says where things are: a target folder moved by `CARGO_TARGET_DIR` (relative),
//! `CARGO_BUILD_TARGET_DIR`, the repository's `.cargo/config.toml` or the user's
//! (`$CARGO_HOME/config.toml`) works for `test`, `test --solution` and `run`, and the binaries
//! are where cargo put them. Run with `cargo test -p workbook --test target_dir`.

#[path = "common/mod.rs"]
mod common;

use std::path::Path;

use common::Workbook;

/// A solved chapter 1 with a program to `run`, and what `run` prints.
fn solved_with_a_program() -> Workbook {
    let wb = Workbook::new();
    wb.solve("ch01-alpha").write(
        "exercises/ch01-alpha/src/main.rs",
        "fn main() {\n    println!(\"ran: {}\", ch01_alpha::add::add(2, 3));\n}\n",
    );
    wb
}

/// `test`, `test --solution` and `run` pass with these settings, and the binary is in `target`.
fn works_with(wb: &Workbook, env: &[(&str, String)], target: &Path) {
    for args in [
        &["test", "chapter1"][..],
        &["test", "chapter1", "--solution"][..],
        &["run", "chapter1"][..],
    ] {
        let mut runner = wb.runner(args);
        for (k, v) in env {
            runner = runner.env(k, v.clone());
        }
        let run = runner.run();
        run.assert_code(0);
        if args[0] == "run" {
            run.assert_stdout("ran: 5");
        } else {
            run.assert_stdout("Every test passes");
        }
    }
    assert!(
        target.join("debug/ch01-alpha").is_file(),
        "no binary in {}, where cargo was told to build",
        target.display()
    );
    assert!(
        !wb.path("target/debug").exists(),
        "something built in target/ although cargo was told {}",
        target.display()
    );
}

#[test]
fn a_relative_cargo_target_dir() {
    let wb = solved_with_a_program();
    works_with(
        &wb,
        &[("CARGO_TARGET_DIR", "rel-target".into())],
        &wb.path("rel-target"),
    );
}

#[test]
fn cargo_build_target_dir() {
    let wb = solved_with_a_program();
    let target = wb.path("elsewhere/target");
    works_with(
        &wb,
        &[("CARGO_BUILD_TARGET_DIR", target.display().to_string())],
        &target,
    );
}

#[test]
fn build_target_dir_in_the_repositorys_cargo_config() {
    let wb = solved_with_a_program();
    wb.write(
        ".cargo/config.toml",
        "[build]\ntarget-dir = \"cfg-target\"\n",
    );
    works_with(&wb, &[], &wb.path("cfg-target"));
}

#[test]
fn build_target_dir_in_the_users_cargo_config() {
    let wb = solved_with_a_program();
    // The user's config is `$CARGO_HOME/config.toml`; the fixture has no dependencies, so a
    // cargo home of its own needs no registry.
    let target = wb.path("home-target");
    wb.write(
        "cargo-home/config.toml",
        format!("[build]\ntarget-dir = \"{}\"\n", target.display()),
    );
    works_with(
        &wb,
        &[("CARGO_HOME", wb.path("cargo-home").display().to_string())],
        &target,
    );
}
