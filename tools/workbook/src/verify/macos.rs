//! The workspace and every solution type-check for macOS (Intel and Apple Silicon).

use std::process::Command;

use anyhow::Result;

use super::{Ctx, Problems, command};
use crate::manifest::Status;
use crate::scratch::{Scratch, Version};

/// The macOS targets every learner's code must build for (Intel and Apple Silicon).
pub(crate) const MACOS_TARGETS: [&str; 2] = ["x86_64-apple-darwin", "aarch64-apple-darwin"];

/// `cargo check --target …` for both macOS targets: the workspace (starters, tools, the services
/// the chapters build), and each chapter's solution over its scratch copy. A type-check needs only
/// the target's standard library (`rustup target add`), no Apple linker.
pub(super) fn check_macos(ctx: &Ctx<'_>) -> Result<Problems> {
    let (root, manifest) = (ctx.root, ctx.manifest);
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let mut problems = Vec::new();
    for target in MACOS_TARGETS {
        if !installed.lines().any(|l| l.trim() == target) {
            problems.push(format!(
                "the {target} standard library is not installed, so macOS cannot be checked \
                 here: `rustup target add {target}` (.ci/run does it)"
            ));
            continue;
        }
        problems.extend(command(
            root,
            "cargo",
            &[
                "check",
                "--locked",
                "--workspace",
                // The workshop room (tools/room) builds SQLite's C (rusqlite's bundled build),
                // which needs an Apple C toolchain; a Linux host's cc refuses `-arch`. Its own
                // Rust uses nothing platform-specific (tokio, std::net), so it is left out here.
                "--exclude",
                "room",
                "--all-targets",
                "--target",
                target,
            ],
            &[],
        ));
        for chapter in manifest
            .chapters
            .iter()
            .filter(|c| c.status != Status::Planned)
        {
            let scratch = Scratch::prepare(root, chapter, Version::Solution)?;
            let env = scratch.cargo_env();
            problems.extend(command(
                &scratch.root,
                "cargo",
                &[
                    "check",
                    "-p",
                    chapter.package(),
                    "--all-targets",
                    "--target",
                    target,
                ],
                &env,
            ));
        }
    }
    Ok(problems)
}
