//! The workspace's own checks: rustfmt (the solution files included), clippy, and
//! the tooling's tests.

use anyhow::Result;

use super::{Ctx, Problems, command};

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

pub(super) fn check_tooling_tests(ctx: &Ctx<'_>) -> Result<Problems> {
    Ok(command(
        ctx.root,
        "cargo",
        &[
            "test",
            "--locked",
            "-p",
            "test-support",
            "-p",
            "service-kit",
            "-p",
            "proc-guard",
            "-p",
            "workbook",
            "-p",
            "loadgen",
            "-p",
            "room",
        ],
        &[],
    ))
}
