//! A scratch copy of one chapter with the solution files laid over it, the way exercism checks
//! its example solutions: the chapter's tests are written once, in exercises/, and run against
//! either version.
//!
//! The copy lives in `target/workbook/scratch/<folder>/` as a small workspace of its own (the
//! root `Cargo.toml` and `Cargo.lock`, the chapter, and a link to `tools/`), and builds into its
//! own target directory, so that its binaries never replace the learner's.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::manifest::Chapter;

/// A chapter's scratch workspace.
#[derive(Debug)]
pub struct Scratch {
    /// The workspace root.
    pub root: PathBuf,
    /// Its target directory, shared by every scratch copy so dependencies build once.
    pub target: PathBuf,
}

/// Which files to lay over the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// The starter as it is in exercises/.
    Starter,
    /// exercises/ with solutions/ laid over it.
    Solution,
}

impl Scratch {
    /// Makes (or refreshes) the scratch copy of `chapter` at `version`.
    pub fn prepare(root: &Path, chapter: &Chapter, version: Version) -> Result<Scratch> {
        let suffix = match version {
            Version::Starter => "starter",
            Version::Solution => "solution",
        };
        let base = root.join("target/workbook");
        let scratch = base
            .join("scratch")
            .join(format!("{}-{suffix}", chapter.folder));
        let exercise = scratch.join("exercises").join(&chapter.folder);
        // Refresh the chapter's files in place rather than deleting the folder, so unchanged
        // files keep their timestamps and cargo rebuilds only what changed.
        // The files the solution replaces are not copied from the starter first: writing them
        // twice would change their timestamps on every run and force a rebuild each time.
        let overlaid: Vec<PathBuf> = match version {
            Version::Starter => Vec::new(),
            Version::Solution => chapter
                .files
                .iter()
                .map(|f| chapter.exercise_dir(root).join(f))
                .collect(),
        };
        copy_tree(&chapter.exercise_dir(root), &exercise, &overlaid)?;
        if version == Version::Solution {
            for file in &chapter.files {
                let from = chapter.solution_dir(root).join(file);
                if !from.is_file() {
                    bail!("the solution file {} is missing", from.display());
                }
                copy_if_changed(&from, &exercise.join(file))?;
            }
        }
        for file in ["Cargo.toml", "Cargo.lock", "chapters.toml"] {
            copy_if_changed(&root.join(file), &scratch.join(file))?;
        }
        // The repository's own pipeline, which chapter 4's given code checks.
        if root.join(".github").is_dir() {
            copy_tree(&root.join(".github"), &scratch.join(".github"), &[])?;
        }
        // The compose lab, which chapter 5's lab test starts.
        copy_if_changed(
            &root.join("docker-compose.yml"),
            &scratch.join("docker-compose.yml"),
        )?;
        if root.join("lab").is_dir() {
            copy_tree(&root.join("lab"), &scratch.join("lab"), &[])?;
        }
        let tools = scratch.join("tools");
        if !tools.exists() {
            std::os::unix::fs::symlink(root.join("tools"), &tools)
                .with_context(|| format!("linking {}", tools.display()))?;
        }
        Ok(Scratch {
            root: scratch,
            target: base.join("scratch-target"),
        })
    }

    /// The chapter's binary in this copy, once built.
    pub fn binary(&self, package: &str) -> PathBuf {
        self.target.join("debug").join(package)
    }
}

/// `cargo build -p package` in the workspace at `dir`, into `target`; true if it built.
pub fn cargo_build(dir: &Path, target: &Path, package: &str, quiet: bool) -> Result<bool> {
    let mut cargo = std::process::Command::new("cargo");
    cargo
        .current_dir(dir)
        .args(["build", "-p", package])
        .env("CARGO_TARGET_DIR", target);
    if quiet {
        cargo.arg("--quiet");
    }
    Ok(cargo.status().context("running cargo build")?.success())
}

/// Copies `from` into `to` recursively, skipping `target/` and the files in `skip`, writing only
/// files that differ.
pub fn copy_tree(from: &Path, to: &Path, skip: &[PathBuf]) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let path = entry.path();
        if skip.contains(&path) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            copy_tree(&path, &to.join(&name), skip)?;
        } else {
            copy_if_changed(&path, &to.join(&name))?;
        }
    }
    Ok(())
}

fn copy_if_changed(from: &Path, to: &Path) -> Result<()> {
    let new = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    if std::fs::read(to).ok().as_deref() == Some(&new[..]) {
        return Ok(());
    }
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(to, new).with_context(|| format!("writing {}", to.display()))?;
    // Keep the mode: a script (chapter 4's deploy.sh) must stay executable.
    let mode = std::fs::metadata(from)?.permissions();
    std::fs::set_permissions(to, mode)
        .with_context(|| format!("setting the mode of {}", to.display()))
}
