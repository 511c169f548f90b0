//! The docs name the pinned tool versions and the one MSRV.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::outside::{outside_projects, root_manifest};
use super::versions::{msrv_named, versions_named};
use super::{Ctx, Problems, collect_files};

/// The files that tell a reader which version to install.
pub(super) fn pin_documents(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![
        root.join("README.md"),
        root.join("justfile"),
        root.join(".ci/run"),
        root.join("book/book.toml"),
    ];
    collect_files(&root.join("book/src"), "md", &mut files);
    collect_files(&root.join(".github/workflows"), "yml", &mut files);
    for entry in std::fs::read_dir(root.join("exercises"))
        .into_iter()
        .flatten()
        .flatten()
    {
        files.push(entry.path().join("README.md"));
    }
    files.retain(|f| f.is_file());
    files
}

/// The docs name the versions pinned in tools/pins.env (they cannot read it); the MSRV is the
/// root Cargo.toml's `rust-version` everywhere it is stated; the workflow installs the Rust of
/// rust-toolchain.toml.
pub(super) fn check_pins(ctx: &Ctx<'_>) -> Result<Problems> {
    let root = ctx.root;
    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    let mut problems = Vec::new();
    for file in pin_documents(root) {
        let text = std::fs::read_to_string(&file)?;
        for (tool, pinned) in crate::pins::ALL {
            for (line, version) in versions_named(&text, tool) {
                if version != pinned {
                    problems.push(format!(
                        "{}:{line} names {tool} {version}, but tools/pins.env pins {pinned}",
                        rel(&file)
                    ));
                }
            }
        }
    }
    let readme = std::fs::read_to_string(root.join("README.md")).context("reading README.md")?;
    if !readme.contains(&format!("just@{}", crate::pins::JUST)) {
        problems.push(format!(
            "README.md does not say how to install the pinned just (`cargo install --locked \
             just@{}`)",
            crate::pins::JUST
        ));
    }

    let manifest = root_manifest(root)?;
    let msrv = manifest
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("rust-version"))
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let Some(msrv) = msrv else {
        problems.push("the root Cargo.toml has no [workspace.package] rust-version".to_owned());
        return Ok(problems);
    };
    for doc in ["README.md", "book/src/introduction.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap_or_default();
        let named = msrv_named(&text);
        if named.is_empty() {
            problems.push(format!(
                "{doc} does not say which Rust it needs ({msrv} or newer)"
            ));
        }
        for (line, version) in named {
            if version != msrv {
                problems.push(format!(
                    "{doc}:{line} says Rust {version} or newer, but Cargo.toml's rust-version \
                     is {msrv}"
                ));
            }
        }
    }
    for project in outside_projects(ctx, &manifest)? {
        let path = project
            .chapter
            .exercise_dir(root)
            .join(&project.dir)
            .join("Cargo.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let table: toml::Table =
            toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
        let package = table.get("package");
        let theirs = package
            .and_then(|p| p.get("rust-version"))
            .and_then(|v| v.as_str());
        if theirs != Some(msrv.as_str()) {
            problems.push(format!(
                "{}: rust-version is {theirs:?}, the workspace's is {msrv:?}",
                rel(&path)
            ));
        }
    }

    // The workflow's toolchain action cannot read rust-toolchain.toml: it must name the same.
    let channel = toolchain_channel(root)?;
    let mut workflows = Vec::new();
    collect_files(&root.join(".github/workflows"), "yml", &mut workflows);
    for workflow in workflows {
        let text = std::fs::read_to_string(&workflow)?;
        for (n, line) in text.lines().enumerate() {
            if let Some((_, version)) = line.split_once("dtolnay/rust-toolchain@")
                && version.trim() != channel
            {
                problems.push(format!(
                    "{}:{} installs Rust {}, but rust-toolchain.toml pins {channel}",
                    rel(&workflow),
                    n + 1,
                    version.trim()
                ));
            }
        }
    }
    // The images, and the tools the images and CI install (verify/images.rs).
    problems.extend(super::images::problems(root)?);
    Ok(problems)
}

/// The Rust that rust-toolchain.toml pins (its `channel`; empty if it names none).
pub(super) fn toolchain_channel(root: &Path) -> Result<String> {
    let text = std::fs::read_to_string(root.join("rust-toolchain.toml"))
        .context("reading rust-toolchain.toml")?;
    let table: toml::Table = toml::from_str(&text).context("rust-toolchain.toml is not valid")?;
    Ok(table
        .get("toolchain")
        .and_then(|t| t.get("channel"))
        .and_then(|c| c.as_str())
        .unwrap_or_default()
        .to_owned())
}
