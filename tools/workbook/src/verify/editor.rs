//! `just verify --only editor`: an editor opened at the workbook's root knows every file a
//! learner edits, and warns about what verify will refuse.
//!
//! Chapter 3's and chapter 5's `service/` and chapter 4's `app/` are projects of their own
//! (each folder is a Docker build context), outside the workspace, so rust-analyzer finds them
//! only when the editor settings the repository ships list them in `linkedProjects` (which then
//! replaces its own search: the root Cargo.toml is listed too). This check reads each of those
//! settings and proves that:
//! - every project they link exists and loads (`cargo metadata`, which is what rust-analyzer
//!   runs first), and none is a solution (the editor would show two copies of every item);
//! - every project a learner edits (the crate around each `.rs` file of a chapter's `files`,
//!   and every project the root Cargo.toml excludes) is a package of one of them;
//! - rust-analyzer checks with clippy, as verify does;
//! - the projects outside the workspace carry the workspace's lint table (`[lints]`, a copy of
//!   the root's `[workspace.lints]`: a project of its own cannot inherit it), so the editor
//!   warns about what verify's clippy will.
//!
//! The settings are read as JSON: no comments in them (setup.md explains them instead).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;
use serde_json::Value;

use super::outside::root_manifest;
use crate::manifest::{Manifest, Status};

/// What its line in `just verify` says.
pub(super) const ABOUT: &str = "the editor settings load every project a learner edits, with \
                                clippy and the workspace's lints";

/// An editor's settings file, and where in it rust-analyzer's settings are.
struct Settings {
    file: &'static str,
    /// JSON pointers to `linkedProjects` and to the check command.
    linked: &'static str,
    check: &'static str,
}

/// The settings the repository ships (book/src/setup.md gives the same for other editors).
const SETTINGS: &[Settings] = &[
    Settings {
        file: ".vscode/settings.json",
        linked: "/rust-analyzer.linkedProjects",
        check: "/rust-analyzer.check.command",
    },
    Settings {
        file: ".zed/settings.json",
        linked: "/lsp/rust-analyzer/initialization_options/linkedProjects",
        check: "/lsp/rust-analyzer/initialization_options/check/command",
    },
];

/// Every problem, one sentence each.
pub(super) fn check(root: &Path, manifest: &Manifest) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let root_manifest = root_manifest(root)?;
    let outside = outside_projects(&root_manifest);
    let wanted = learner_projects(root, manifest, &outside);
    // What each linked project loads, by its path in the settings: cargo runs once per path.
    let mut loaded: BTreeMap<String, Result<BTreeSet<PathBuf>, String>> = BTreeMap::new();
    for settings in SETTINGS {
        let path = root.join(settings.file);
        let json: Value = match std::fs::read_to_string(&path)
            .map_err(anyhow::Error::from)
            .and_then(|t| serde_json::from_str(&t).map_err(anyhow::Error::from))
        {
            Ok(json) => json,
            Err(err) => {
                problems.push(format!("{}: cannot be read as JSON: {err}", settings.file));
                continue;
            }
        };
        match json.pointer(settings.check).and_then(Value::as_str) {
            Some("clippy") => {}
            other => problems.push(format!(
                "{}: rust-analyzer's check command is {other:?}, not \"clippy\": the editor \
                 would not show the warnings verify's clippy refuses",
                settings.file
            )),
        }
        let Some(linked) = json.pointer(settings.linked).and_then(Value::as_array) else {
            problems.push(format!(
                "{}: no list at {}: rust-analyzer finds only the workspace, not the projects \
                 outside it",
                settings.file, settings.linked
            ));
            continue;
        };
        let mut covered = BTreeSet::new();
        for entry in linked {
            let Some(project) = entry.as_str() else {
                problems.push(format!(
                    "{}: linkedProjects holds {entry}, not a path",
                    settings.file
                ));
                continue;
            };
            if project.starts_with("solutions/") {
                problems.push(format!(
                    "{}: links {project}, a solution: the editor would show two copies of \
                     every item a learner writes",
                    settings.file
                ));
            }
            let packages = loaded
                .entry(project.to_owned())
                .or_insert_with(|| load(root, project));
            match packages {
                Ok(packages) => covered.extend(packages.iter().cloned()),
                Err(why) => problems.push(format!("{}: links {project}, {why}", settings.file)),
            }
        }
        for (dir, why) in &wanted {
            if !covered.contains(&canonical(&root.join(dir))) {
                problems.push(format!(
                    "{}: rust-analyzer does not load {dir} ({why}): add \"{dir}/Cargo.toml\" \
                     to its linkedProjects",
                    settings.file
                ));
            }
        }
    }
    problems.extend(lints_agree(root, &root_manifest, &outside));
    Ok(problems)
}

/// The folders, relative to the root, of the projects the root Cargo.toml excludes from the
/// workspace.
fn outside_projects(root_manifest: &toml::Table) -> Vec<String> {
    root_manifest
        .get("workspace")
        .and_then(|w| w.get("exclude"))
        .and_then(|e| e.as_array())
        .into_iter()
        .flatten()
        .filter_map(|e| e.as_str())
        .map(|p| p.trim_end_matches('/').to_owned())
        .collect()
}

/// Every project a learner edits, relative to the root, with why: the crate holding each Rust
/// file a written chapter lists, and every project outside the workspace.
fn learner_projects(
    root: &Path,
    manifest: &Manifest,
    outside: &[String],
) -> BTreeMap<String, String> {
    let mut wanted = BTreeMap::new();
    for dir in outside {
        wanted.insert(dir.clone(), "outside the workspace".to_owned());
    }
    for chapter in manifest
        .chapters
        .iter()
        .filter(|c| c.status != Status::Planned)
    {
        for file in chapter.files.iter().filter(|f| f.ends_with(".rs")) {
            let path = Path::new("exercises").join(&chapter.folder).join(file);
            let crate_dir = path
                .ancestors()
                .skip(1)
                .find(|dir| root.join(dir).join("Cargo.toml").is_file());
            if let Some(dir) = crate_dir {
                wanted
                    .entry(dir.display().to_string())
                    .or_insert_with(|| format!("chapter {}'s {file}", chapter.number));
            }
        }
    }
    wanted
}

/// The folders of the packages `cargo metadata` finds in a linked project (its workspace's
/// members), or why it could not load it.
fn load(root: &Path, project: &str) -> Result<BTreeSet<PathBuf>, String> {
    let path = root.join(project);
    if path.file_name().is_none_or(|n| n != "Cargo.toml") || !path.is_file() {
        return Err("which is not a Cargo.toml on disk".to_owned());
    }
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(&path);
    // With its dependencies, as rust-analyzer loads it, and from the committed lock file; a
    // project with no dependencies (chapter 4's app) commits none, and cargo would write one
    // into the learner's folder.
    if path.with_file_name("Cargo.lock").is_file() {
        cmd.arg("--locked");
    } else {
        cmd.arg("--no-deps");
    }
    let output = match crate::stop::output(&mut cmd) {
        Ok(Ok(output)) => output,
        Ok(Err(err)) => return Err(format!("but cargo could not be run: {err}")),
        // Stopped with the run: verify ends it without counting the check.
        Err(_) => return Ok(BTreeSet::new()),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "which `cargo metadata` cannot load:\n{}",
            stderr.trim_end()
        ));
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("but cargo metadata's answer is not JSON: {e}"))?;
    let members: BTreeSet<&str> = metadata["workspace_members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    Ok(metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["id"].as_str().is_some_and(|id| members.contains(id)))
        .filter_map(|p| p["manifest_path"].as_str())
        .filter_map(|m| Path::new(m).parent().map(canonical))
        .collect())
}

/// Each project outside the workspace has `[lints]` equal to the root's `[workspace.lints]`.
fn lints_agree(root: &Path, root_manifest: &toml::Table, outside: &[String]) -> Vec<String> {
    let table = root_manifest.get("workspace").and_then(|w| w.get("lints"));
    let mut problems = Vec::new();
    for dir in outside {
        let path = root.join(dir).join("Cargo.toml");
        let theirs = match read_toml(&path) {
            Ok(manifest) => manifest.get("lints").cloned(),
            Err(err) => {
                problems.push(format!("{err:#}"));
                continue;
            }
        };
        if theirs.as_ref() != table {
            problems.push(format!(
                "{dir}/Cargo.toml: its [lints] are not the root Cargo.toml's [workspace.lints] \
                 (copy them: a project of its own cannot inherit them, and the editor and \
                 verify's clippy read them there)"
            ));
        }
    }
    problems
}

fn read_toml(path: &Path) -> Result<toml::Table> {
    use anyhow::Context as _;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))
}

/// `path` with links resolved, to compare with the paths cargo reports.
fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}
