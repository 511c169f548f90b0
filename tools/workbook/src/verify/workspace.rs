//! The workspace's own checks: rustfmt (the solution files included), clippy, and
//! the tooling's tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::{Ctx, Problems, command, command_within, failed};
use crate::cargo_test::{Line, read_cargo_line};

pub(super) fn check_rustfmt(ctx: &Ctx<'_>) -> Result<Problems> {
    let root = ctx.root;
    let mut problems = command(root, "cargo", &["fmt", "--all", "--check"], &[]);
    for chapter in ctx.chapters() {
        // The solution files are not in the workspace: rustfmt each (the projects outside the
        // workspace are formatted by `outside-workspace`, starter and solution). The chapters'
        // benchmarks are workspace members, which `cargo fmt --all` formats.
        let files: Vec<String> = chapter
            .files
            .iter()
            .filter(|f| f.ends_with(".rs"))
            .map(|f| chapter.solution_dir(root).join(f))
            .map(|path| path.display().to_string())
            .collect();
        if files.is_empty() {
            continue;
        }
        let mut args = vec!["--check", "--edition", "2024"];
        args.extend(files.iter().map(String::as_str));
        problems.extend(command(root, "rustfmt", &args, &[]));
    }
    Ok(problems)
}

pub(super) fn check_clippy(ctx: &Ctx<'_>) -> Result<Problems> {
    Ok(command(
        ctx.root,
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    ))
}

/// The tooling's tests: those of every package under tools/ (`cargo metadata` says which), each
/// test program run in its package's folder with CARGO_MANIFEST_DIR, as `cargo test` does, and
/// the doc tests of those with a library; but every program at once. `cargo test` runs them one
/// after another, so their waits add up (the leftovers test alone waits out a 30 s time limit);
/// here the check takes as long as the build and then the longest program (or the doc tests).
/// As in the chapters' checks, a test that needs the Docker engine must not skip, and any other
/// skip is a problem: a test that skipped checked nothing.
pub(super) fn check_tooling_tests(ctx: &Ctx<'_>) -> Result<Problems> {
    let tooling = tooling(ctx.root)?;
    if tooling.is_empty() {
        bail!("`cargo metadata` lists no package under tools/");
    }
    let packages = |libraries_only: bool| {
        tooling
            .iter()
            .filter(move |p| {
                !libraries_only || p.targets.iter().any(|t| t.kind.iter().any(|k| k == "lib"))
            })
            .flat_map(|p| ["-p", p.name.as_str()])
    };
    let mut build = vec![
        "test",
        "--locked",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ];
    build.extend(packages(false));
    let Ok(built) = crate::stop::output(Command::new("cargo").current_dir(ctx.root).args(&build))
    else {
        return Ok(Vec::new());
    };
    let built = built.context("running cargo")?;
    if !built.status.success() {
        // Its stdout is cargo's records; the compiler's messages are on stderr.
        let records = std::process::Output {
            stdout: Vec::new(),
            ..built
        };
        return Ok(vec![failed(ctx.root, "cargo", &build, &records)]);
    }
    let programs: Vec<(PathBuf, PathBuf)> = String::from_utf8_lossy(&built.stdout)
        .lines()
        .filter_map(|line| match read_cargo_line(line) {
            Line::TestProgram { path, manifest, .. } => {
                Some((path, manifest.parent()?.to_path_buf()))
            }
            _ => None,
        })
        .collect();
    if programs.is_empty() {
        bail!("`cargo {}` built no test program", build.join(" "));
    }
    let has_doc = packages(true).next().is_some();
    let mut doc = vec!["test", "--locked", "--doc"];
    doc.extend(packages(true));
    let skips = crate::cargo_test::tempdir_for_skips()?;
    let mut problems: Problems = std::thread::scope(|s| {
        let runs: Vec<_> = programs
            .iter()
            .map(|(program, dir)| {
                let env = [
                    ("CARGO_MANIFEST_DIR", dir.clone()),
                    ("WORKBOOK_REQUIRE_DOCKER", "1".into()),
                    (test_support::SKIPS_ENV, skips.path().to_path_buf()),
                ];
                let program = program.to_string_lossy();
                s.spawn(move || command_within(dir, &program, &[], &env, Some(PROGRAM_LIMIT)))
            })
            .collect();
        let doc = has_doc.then(|| s.spawn(|| command(ctx.root, "cargo", &doc, &[])));
        runs.into_iter()
            .chain(doc)
            .flat_map(|run| run.join().expect("a check's thread does not panic"))
            .collect()
    });
    problems.extend(
        test_support::recorded_skips(skips.path())
            .into_iter()
            .map(|(test, why)| format!("{test} skipped, and checked nothing: {why}")),
    );
    Ok(problems)
}

/// How long one of the tooling's test programs may run: ten times the longest (the leftovers
/// test, 30–35 s under verify's load). Past it, the program hangs, and is stopped.
const PROGRAM_LIMIT: Duration = Duration::from_secs(600);

/// A workspace member, as `cargo metadata` describes it.
#[derive(serde::Deserialize)]
struct Package {
    name: String,
    manifest_path: PathBuf,
    targets: Vec<Target>,
}

#[derive(serde::Deserialize)]
struct Target {
    /// `lib`, `bin`, `test`, …
    kind: Vec<String>,
}

/// The workspace's members under tools/.
fn tooling(root: &Path) -> Result<Vec<Package>> {
    #[derive(serde::Deserialize)]
    struct Metadata {
        packages: Vec<Package>,
        /// As cargo spells it, as it spells the manifests (through a symbolic link, if the
        /// root was given through one).
        workspace_root: PathBuf,
    }
    let metadata: Metadata = crate::cargo_dirs::metadata(root)?;
    let tools = metadata.workspace_root.join("tools");
    Ok(metadata
        .packages
        .into_iter()
        .filter(|p| p.manifest_path.starts_with(&tools))
        .collect())
}
