//! The runner's build and each chapter's test build share their dependencies: every crate that
//! both compile is asked for the same features in both. A learner's first `just test chapterN`
//! builds the runner (`cargo build -p workbook`), then the chapter's tests (`cargo test -p
//! <chapter>`); cargo picks each dependency's features for the packages one command builds, so a
//! feature asked for on one side only compiles that crate a second time, and every crate above
//! it. Checked with `cargo tree` for this machine and for both macOS targets (a platform's own
//! dependencies differ); `tools/shared-build` is where the fix usually goes.
//!
//! Run with `cargo test -p workbook --test shared_build`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Each crate (`name v1.2.3`) a build compiles, with its features: one set per way it is built
/// (a crate compiled for a build script and for the program can have two).
type Build = BTreeMap<String, BTreeSet<String>>;

/// `None` is the machine the test runs on. macOS's own dependencies (notify's FSEvents,
/// chapter 2's sysinfo) are resolved without a macOS toolchain.
const TARGETS: [Option<&str>; 3] = [
    None,
    Some("aarch64-apple-darwin"),
    Some("x86_64-apple-darwin"),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The chapters that have a crate: chapters.toml's folders, each also the package's name.
fn chapters() -> Vec<String> {
    let path = root().join("chapters.toml");
    let text = std::fs::read_to_string(&path).expect("reading chapters.toml");
    let manifest: toml::Table = text.parse().expect("chapters.toml is TOML");
    let chapters = manifest["chapter"].as_array().expect("[[chapter]] entries");
    let exercises = root().join("exercises");
    chapters
        .iter()
        .filter_map(|chapter| chapter.get("folder")?.as_str())
        .filter(|folder| exercises.join(folder).join("Cargo.toml").is_file())
        .map(str::to_string)
        .collect()
}

/// What cargo compiles for `package`, as `cargo tree` resolves it: `edges` "normal,build" for
/// `cargo build`, "normal,build,dev" for `cargo test`.
fn build(package: &str, edges: &str, target: Option<&str>) -> Build {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut tree = Command::new(cargo);
    tree.current_dir(root()).args([
        "tree", "--locked", "-p", package, "--edges", edges, "--prefix", "none", "--format",
        "{p}|{f}",
    ]);
    if let Some(target) = target {
        tree.args(["--target", target]);
    }
    let out = tree.output().expect("running cargo tree");
    assert!(
        out.status.success(),
        "cargo tree -p {package} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// `cargo tree --prefix none --format '{p}|{f}'`: `name v1.2.3 (/path)|a,b` a line, `(*)` after
/// a crate already shown.
fn parse(text: &str) -> Build {
    let mut build = Build::new();
    for line in text.lines() {
        let Some((package, features)) = line.split_once('|') else {
            continue;
        };
        // The name and version say which crate; a path or `(proc-macro)` may follow.
        let package = package.split(" (").next().unwrap_or(package).trim();
        let features = features.trim().trim_end_matches("(*)").trim();
        build
            .entry(package.to_string())
            .or_default()
            .insert(features.to_string());
    }
    build
}

/// The crates in both builds whose features differ, one paragraph each.
fn differences(runner: &Build, chapter: &Build) -> Vec<String> {
    let show = |sets: &BTreeSet<String>| {
        sets.iter()
            .map(|set| format!("[{set}]"))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    runner
        .iter()
        .filter_map(|(package, in_runner)| {
            let in_chapter = chapter.get(package)?;
            (in_chapter != in_runner).then(|| {
                format!(
                    "  {package}\n    runner:  {}\n    chapter: {}",
                    show(in_runner),
                    show(in_chapter)
                )
            })
        })
        .collect()
}

#[test]
fn every_crate_the_runner_and_a_chapter_both_build_has_the_same_features() {
    let chapters = chapters();
    assert!(chapters.len() >= 5, "chapters.toml names only {chapters:?}");
    let mut problems = Vec::new();
    for target in TARGETS {
        let runner = build("workbook", "normal,build", target);
        for chapter in &chapters {
            let found = differences(&runner, &build(chapter, "normal,build,dev", target));
            if !found.is_empty() {
                let on = target.unwrap_or("this machine");
                problems.push(format!("{chapter}, for {on}:\n{}", found.join("\n")));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "crates that the runner's build and a chapter's test build both compile, with different \
         features: a learner's first `just test` compiles each of them (and every crate above \
         it) twice. Ask for the same features in the root Cargo.toml's [workspace.dependencies], \
         or, for a crate asked for deep in the graph, in tools/shared-build/Cargo.toml \
         (`cargo tree -p <package> -e features -i <crate>` shows who asks):\n\n{}",
        problems.join("\n\n")
    );
}

#[test]
fn a_crate_shown_twice_or_built_twice_is_read_as_one_crate() {
    let build = parse(
        "workbook v0.1.0 (/w/tools/workbook)|\n\
         serde v1.0.1|default,std\n\
         serde v1.0.1|default,std (*)\n\
         serde_derive v1.0.1 (proc-macro)|default\n\
         syn v3.0.1|full\n\
         syn v3.0.1|full,visit (*)\n",
    );
    let features = |package: &str| build[package].iter().cloned().collect::<Vec<_>>();
    assert_eq!(features("workbook v0.1.0"), [""]);
    assert_eq!(features("serde v1.0.1"), ["default,std"]);
    assert_eq!(features("serde_derive v1.0.1"), ["default"]);
    assert_eq!(features("syn v3.0.1"), ["full", "full,visit"]);
}
