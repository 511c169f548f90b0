//! The projects outside the workspace (a `[workspace]` of their own, so that their folder alone is
//! a Docker build context): clippy with the workspace's lint table (their `[lints]`, a copy), and
//! rustfmt, starter and solution.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::{Ctx, Found, Problems, command};
use crate::manifest::{Chapter, Status};
use crate::scratch::{Scratch, Version};

/// A project inside a chapter's folder that is not a workspace member (a `[workspace]` of its
/// own, so that its folder alone is a Docker build context): the root Cargo.toml's `exclude`.
#[derive(Debug)]
pub(super) struct Outside<'a> {
    pub(super) chapter: &'a Chapter,
    /// Its folder inside the chapter's, e.g. `service`.
    pub(super) dir: String,
}

pub(super) fn root_manifest(root: &Path) -> Result<toml::Table> {
    let path = root.join("Cargo.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))
}

pub(super) fn outside_projects<'a>(
    ctx: &Ctx<'a>,
    manifest: &toml::Table,
) -> Result<Vec<Outside<'a>>> {
    let exclude = manifest
        .get("workspace")
        .and_then(|w| w.get("exclude"))
        .and_then(|e| e.as_array())
        .cloned()
        .unwrap_or_default();
    let mut found = Vec::new();
    for entry in exclude {
        let Some(path) = entry.as_str() else {
            bail!("Cargo.toml: [workspace] exclude holds {entry}, not a path");
        };
        let Some(rest) = path.strip_prefix("exercises/") else {
            continue;
        };
        let Some((folder, dir)) = rest.split_once('/') else {
            bail!("Cargo.toml excludes {path}, a whole chapter");
        };
        let Some(chapter) = ctx.manifest.chapters.iter().find(|c| c.folder == folder) else {
            bail!("Cargo.toml excludes {path}, in no chapter of chapters.toml");
        };
        if chapter.status != Status::Planned {
            found.push(Outside {
                chapter,
                dir: dir.trim_end_matches('/').to_owned(),
            });
        }
    }
    Ok(found)
}

/// `chapter`'s projects outside the workspace.
fn projects_of<'a>(ctx: &Ctx<'a>, chapter: &Chapter) -> Result<Vec<Outside<'a>>> {
    let mut found = outside_projects(ctx, &root_manifest(ctx.root)?)?;
    found.retain(|p| p.chapter.number == chapter.number);
    Ok(found)
}

/// Whether `chapter` holds a project outside the workspace (or the root manifest cannot be
/// read, which the check then reports).
pub(super) fn has_outside_projects(ctx: &Ctx<'_>, chapter: &Chapter) -> bool {
    projects_of(ctx, chapter).map_or(true, |found| !found.is_empty())
}

/// Clippy with the workspace's lint table (the project's copy), and rustfmt, on `chapter`'s
/// projects outside the workspace:
/// on the starter (as committed: a scratch copy with the learner's files from git) and on the
/// solution (the solution's scratch copy), each with a target folder of its own. A copy and
/// the learner's tree would hash their packages alike (cargo hashes a package by its path
/// relative to its workspace, here the project's own folder), so no folder is shared. A
/// chapter check, in the chapter's lane: the copies are the ones its tests use, one at a time.
pub(super) fn check_outside_workspace<'a>(ctx: &'a Ctx<'a>, chapter: &'a Chapter) -> Found<'a> {
    Box::pin(async move { lint(ctx, chapter) })
}

fn lint(ctx: &Ctx<'_>, chapter: &Chapter) -> Result<Problems> {
    let mut problems = Vec::new();
    let mut linted = 0;
    for project in projects_of(ctx, chapter)? {
        let prefix = format!("{}/", project.dir);
        // A project no solution file touches (chapter 4's sample app) is the same in both
        // versions: its starter's lint covers it.
        let solution_touches = chapter.files.iter().any(|f| f.starts_with(&prefix));
        for version in [Version::Starter, Version::Solution] {
            if version == Version::Solution && !solution_touches {
                continue;
            }
            let scratch = Scratch::prepare(ctx.root, chapter, version)?;
            let dir = scratch
                .root
                .join("exercises")
                .join(&chapter.folder)
                .join(&project.dir);
            let suffix = match version {
                Version::Starter => "starter",
                Version::Solution => "solution",
            };
            let target = ctx
                .root
                .join("target/workbook/lint")
                .join(format!("{}-{}-{suffix}", chapter.folder, project.dir));
            let env = [
                ("CARGO_TARGET_DIR", target.clone()),
                ("CARGO_BUILD_BUILD_DIR", target),
            ];
            let mut args = vec!["clippy", "--all-targets"];
            // A project with no dependencies (chapter 4's app) commits no lock file.
            if dir.join("Cargo.lock").is_file() {
                args.push("--locked");
            }
            // The lint table is the project's own [lints], a copy of the workspace's (the
            // `editor` check proves it the same).
            args.extend(["--", "-D", "warnings"]);
            problems.extend(command(&dir, "cargo", &args, &env));
            problems.extend(command(&dir, "cargo", &["fmt", "--check"], &env));
            linted += 1;
        }
    }
    ctx.note(match linted {
        1 => "1 copy".to_owned(),
        n => format!("{n} copies"),
    });
    Ok(problems)
}
