//! A scratch copy of one chapter with the solution files laid over it, the way exercism checks
//! its example solutions: the chapter's tests are written once, in exercises/, and run against
//! either version.
//!
//! The copy lives in `target/workbook/scratch/<folder>/` as a small workspace of its own (the
//! root `Cargo.toml` and `Cargo.lock`, the chapter, a link to `tools/`, and what the chapter's
//! `scratch` key in chapters.toml names). Its finished
//! binaries go to a target directory of their own, so that they never replace the learner's,
//! while its intermediate artifacts share the learner's build directory (cargo's
//! `build.build-dir`): every dependency the learner's last run compiled is reused, and only the
//! chapter itself is compiled again.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::manifest::Chapter;

/// A chapter's scratch workspace.
#[derive(Debug)]
pub(crate) struct Scratch {
    /// The workspace root.
    pub root: PathBuf,
    /// Its target directory (final binaries), its own.
    pub target: PathBuf,
    /// The build directory it shares with the learner's workspace.
    pub build_dir: PathBuf,
}

/// Which files to lay over the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    /// The starter as committed (the learner's edits left out): exercises/ with the learner's
    /// files taken from git.
    Starter,
    /// exercises/ with solutions/ laid over it.
    Solution,
}

impl Scratch {
    /// Makes (or refreshes) the scratch copy of `chapter` at `version`.
    pub(crate) fn prepare(root: &Path, chapter: &Chapter, version: Version) -> Result<Scratch> {
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
        if version == Version::Starter {
            // The working tree may hold the learner's progress; the starter is what git has.
            let rev = crate::files::starter_revision(root)?;
            for file in &chapter.files {
                let rel = format!("exercises/{}/{file}", chapter.folder);
                let starter = crate::files::git_show(root, &rev, &rel)?;
                write_if_changed(&exercise.join(file), &starter)?;
            }
        }
        if version == Version::Solution {
            for file in &chapter.files {
                let from = chapter.solution_dir(root).join(file);
                if !from.is_file() {
                    bail!("the solution file {} is missing", from.display());
                }
                copy_if_changed(&from, &exercise.join(file))?;
            }
        }
        for file in ["Cargo.lock", "chapters.toml"] {
            copy_if_changed(&root.join(file), &scratch.join(file))?;
        }
        write_if_changed(
            &scratch.join("Cargo.toml"),
            &scratch_manifest(root, chapter, version)?,
        )?;
        // What the chapter needs from the root (chapters.toml's `scratch`).
        for entry in &chapter.scratch {
            let from = root.join(entry);
            if from.is_dir() {
                copy_tree(&from, &scratch.join(entry), &[])?;
            } else if from.is_file() {
                copy_if_changed(&from, &scratch.join(entry))?;
            } else {
                bail!(
                    "chapters.toml: chapter {}'s scratch copy needs {entry}, which is not in {}",
                    chapter.number,
                    root.display()
                );
            }
        }
        let tools = scratch.join("tools");
        if !tools.exists() {
            std::os::unix::fs::symlink(root.join("tools"), &tools)
                .with_context(|| format!("linking {}", tools.display()))?;
        }
        let target = base
            .join("scratch-target")
            .join(format!("{}-{suffix}", chapter.folder));
        if !target.join("debug").is_dir() {
            // cargo puts a binary in a target directory of its own only when it compiles it, and
            // the build directory may hold this copy's build already (a deleted target folder, a
            // renamed one): make the chapter build again, so its binaries and the paths the tests
            // were compiled with are here.
            let manifest = exercise.join("Cargo.toml");
            std::fs::File::options()
                .write(true)
                .open(&manifest)
                .and_then(|f| f.set_modified(std::time::SystemTime::now()))
                .with_context(|| format!("touching {}", manifest.display()))?;
        }
        Ok(Scratch {
            root: scratch,
            // One per copy: chapters 3 and 5 both have a `service` binary, a starter's and its
            // solution's binaries have the same names, and with a build directory of its own
            // cargo puts a binary here only when it compiles it, so a shared folder could hand
            // a test another copy's binary.
            target,
            build_dir: crate::cargo_dirs::of(root)?.build.clone(),
        })
    }

    /// Where cargo runs for this copy, and the environment that points it at the copy's target
    /// directory and the shared build directory. Not `--locked`: the copy's workspace has one
    /// chapter of five, so cargo prunes the lock file's other entries (it changes no version).
    pub(crate) fn place(&self) -> crate::cargo_test::Place<'_> {
        crate::cargo_test::Place {
            dir: &self.root,
            env: self.cargo_env(),
            locked: false,
            cargo: None,
        }
    }

    /// `CARGO_TARGET_DIR` and `CARGO_BUILD_BUILD_DIR` for cargo commands in this copy.
    pub(crate) fn cargo_env(&self) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("CARGO_TARGET_DIR", self.target.clone()),
            ("CARGO_BUILD_BUILD_DIR", self.build_dir.clone()),
        ]
    }

    /// The chapter's binary in this copy, once built.
    pub(crate) fn binary(&self, package: &str) -> PathBuf {
        self.target.join("debug").join(package)
    }
}

/// The workspace manifest of a scratch copy: the root one, plus a profile setting for the
/// packages whose files differ from the learner's (the chapter, and the path dependencies
/// inside its folder). cargo names artifacts by a hash that includes a package's path relative
/// to its workspace, which is the same in the copy; the setting (a codegen-unit count of its
/// own, which changes nothing a test can see) makes the hash differ, so that the copies and the
/// learner's workspace never take each other's artifacts in the build directory they share.
fn scratch_manifest(root: &Path, chapter: &Chapter, version: Version) -> Result<String> {
    // dev's default is 256; each copy gets its own number.
    let units = match version {
        Version::Solution => 255,
        Version::Starter => 254,
    };
    let path = root.join("Cargo.toml");
    let mut manifest =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    manifest.push_str(
        "\n# Added by the workbook's scratch copy (tools/workbook/src/scratch.rs): keeps this \
         copy's\n# artifacts apart from the learner's in the build directory they share.\n",
    );
    for package in chapter_packages(&chapter.exercise_dir(root))? {
        manifest.push_str(&format!(
            "[profile.dev.package.{package}]\ncodegen-units = {units}\n"
        ));
    }
    Ok(manifest)
}

/// The chapter's package and the path dependencies it names inside its own folder.
fn chapter_packages(dir: &Path) -> Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        package: Package,
        #[serde(default)]
        dependencies: toml::Table,
    }
    #[derive(serde::Deserialize)]
    struct Package {
        name: String,
    }
    let read = |dir: &Path| -> Result<Manifest> {
        let path = dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
    };
    let chapter = read(dir)?;
    let mut packages = vec![chapter.package.name.clone()];
    for spec in chapter.dependencies.values() {
        if let Some(rel) = spec.get("path").and_then(|p| p.as_str())
            && !rel.starts_with("..")
        {
            packages.push(read(&dir.join(rel))?.package.name);
        }
    }
    Ok(packages)
}

/// `cargo build -p package` in `place`; true if it built.
pub(crate) fn cargo_build(
    place: &crate::cargo_test::Place<'_>,
    package: &str,
    quiet: bool,
) -> Result<bool> {
    let mut cargo = std::process::Command::new("cargo");
    cargo
        .current_dir(place.dir)
        .args(["build", "-p", package])
        .args(place.locked.then_some("--locked"))
        .envs(place.env.iter().map(|(k, v)| (k, v)));
    if quiet {
        cargo.arg("--quiet");
    }
    Ok(crate::stop::status(&mut cargo)?
        .context("running cargo build")?
        .success())
}

/// Copies `from` into `to` recursively, skipping `target/` and the files in `skip`, writing only
/// files that differ.
pub(crate) fn copy_tree(from: &Path, to: &Path, skip: &[PathBuf]) -> Result<()> {
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

fn write_if_changed(to: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(to).ok().as_deref() == Some(text) {
        return Ok(());
    }
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(to, text).with_context(|| format!("writing {}", to.display()))
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
