//! `just verify --only editor` over the fixture workbook: the editor settings it ships link every
//! project a learner edits, each linked project loads, and a project outside the workspace
//! carries the workspace's lint table.
//!
//! The fixture's chapters are workspace members, so the fixture links only its root; these
//! tests add a project of its own (as chapter 3's `service/` is) and change one thing each.

mod common;

use common::Workbook;

/// Both settings files the workbook ships.
const SETTINGS: [&str; 2] = [".vscode/settings.json", ".zed/settings.json"];

/// The fixture with chapter 2 holding `inner/`, a project outside the workspace whose
/// `src/lib.rs` the learner edits, and the root with a lint table that `inner/` copies.
fn with_inner_project() -> Workbook {
    let wb = Workbook::new();
    wb.write(
        "exercises/ch02-beta/inner/Cargo.toml",
        "[package]\nname = \"inner\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [lints.rust]\nunsafe_code = \"deny\"\n\n[workspace]\n",
    )
    .write("exercises/ch02-beta/inner/src/lib.rs", "//! Inner.\n")
    .edit("Cargo.toml", |t| {
        t.replace(
            "members = [\"exercises/*\", \"tools/*\"]",
            "members = [\"exercises/*\", \"tools/*\"]\nexclude = [\"exercises/ch02-beta/inner\"]",
        ) + "\n[workspace.lints.rust]\nunsafe_code = \"deny\"\n"
    })
    .edit("chapters.toml", |t| {
        t.replace(
            "files = [\"src/double.rs\"]",
            "files = [\"src/double.rs\", \"inner/src/lib.rs\"]",
        )
    });
    wb
}

/// Adds `projects` to every settings file's linkedProjects, after the root.
fn link(wb: &Workbook, projects: &[&str]) {
    let listed: String = projects.iter().map(|p| format!(", \"{p}\"")).collect();
    for file in SETTINGS {
        wb.edit(file, |t| {
            t.replace("[\"Cargo.toml\"]", &format!("[\"Cargo.toml\"{listed}]"))
        });
    }
}

#[test]
fn the_fixture_as_shipped_passes() {
    let wb = Workbook::new();
    wb.run(&["verify", "--only", "editor"])
        .assert_code(0)
        .assert_stdout("✓ the editor settings load every project a learner edits");
}

#[test]
fn a_learner_project_the_settings_do_not_link_is_named_in_each() {
    let wb = with_inner_project();
    let run = wb.run(&["verify", "--only", "editor"]);
    run.assert_code(1);
    for file in SETTINGS {
        run.assert_stdout(&format!(
            "{file}: rust-analyzer does not load exercises/ch02-beta/inner"
        ));
    }
    link(&wb, &["exercises/ch02-beta/inner/Cargo.toml"]);
    wb.run(&["verify", "--only", "editor"]).assert_code(0);
}

#[test]
fn a_linked_project_that_is_missing_or_does_not_load_is_a_problem() {
    let wb = with_inner_project();
    link(
        &wb,
        &[
            "exercises/ch02-beta/inner/Cargo.toml",
            "exercises/ch02-beta/gone/Cargo.toml",
        ],
    );
    wb.run(&["verify", "--only", "editor"])
        .assert_code(1)
        .assert_stdout(
            "links exercises/ch02-beta/gone/Cargo.toml, which is not a Cargo.toml on disk",
        );
    let wb = with_inner_project();
    link(&wb, &["exercises/ch02-beta/inner/Cargo.toml"]);
    wb.write(
        "exercises/ch02-beta/inner/Cargo.toml",
        "[package]\nname = \n",
    );
    wb.run(&["verify", "--only", "editor"])
        .assert_code(1)
        .assert_stdout("which `cargo metadata` cannot load");
}

#[test]
fn a_project_outside_the_workspace_without_the_lint_table_is_a_problem() {
    let wb = with_inner_project();
    link(&wb, &["exercises/ch02-beta/inner/Cargo.toml"]);
    wb.edit("exercises/ch02-beta/inner/Cargo.toml", |t| {
        t.replace("unsafe_code = \"deny\"", "unsafe_code = \"warn\"")
    });
    wb.run(&["verify", "--only", "editor"])
        .assert_code(1)
        .assert_stdout(
            "exercises/ch02-beta/inner/Cargo.toml: its [lints] are not the root Cargo.toml's \
             [workspace.lints]",
        );
}

#[test]
fn settings_that_check_without_clippy_or_are_not_json_are_problems() {
    let wb = Workbook::new();
    wb.edit(".vscode/settings.json", |t| {
        t.replace("\"clippy\"", "\"check\"")
    });
    wb.write(".zed/settings.json", "{ // a comment\n}");
    wb.run(&["verify", "--only", "editor"])
        .assert_code(1)
        .assert_stdout(".vscode/settings.json: rust-analyzer's check command is Some(\"check\")")
        .assert_stdout(".zed/settings.json: cannot be read as JSON");
}
