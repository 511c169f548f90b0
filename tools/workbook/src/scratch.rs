//! A scratch copy of one chapter with the solution files laid over it, the way exercism checks
//! its example solutions: the chapter's tests are written once, in exercises/, and run against
//! either version.
//!
//! The copy lives in `target/workbook/scratch/<folder>/` as a small workspace of its own (the
//! root `Cargo.toml` and `Cargo.lock`, the chapter, a link to `tools/`, and what the chapter's
//! `scratch` key in chapters.toml names). Its finished
//! binaries go to a target directory of their own, so that they never replace the learner's,
//! while its intermediate artifacts share the learner's build directory (cargo's
//! `build.build-dir`, as `cargo metadata` names it): every dependency the learner's last run
//! compiled is reused, and only the chapter itself is compiled again.
//!
//! A copy is exact: it holds what its source holds and nothing else (files that are no longer
//! there are removed). The starter is the committed one, from git (the same revision `just
//! reset` restores); the solution is the chapter's tracked files with the solution's laid over,
//! so a learner's own extra files (a `src/bin/try.rs`) never reach it, nor a Docker context
//! made from it. An author's new file counts once it is `git add`ed.

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
    /// The copy's lock, held while the copy is in use: two checks of one `just verify` (which
    /// runs its lanes at once) or two runners (two terminals, `soak` beside `verify`) never
    /// prepare or test one copy at once, nor start one compose project twice.
    held: Option<std::fs::File>,
}

/// Which files to lay over the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    /// The starter as committed (the learner's edits left out): the chapter's folder from git.
    Starter,
    /// The chapter's tracked files with solutions/ laid over them.
    Solution,
}

impl Scratch {
    /// Makes (or refreshes) the scratch copy of `chapter` at `version`, and holds its lock until
    /// the copy is dropped (or [`Scratch::release`]d): whoever else wants the copy waits, and
    /// says so.
    pub(crate) fn prepare(root: &Path, chapter: &Chapter, version: Version) -> Result<Scratch> {
        let suffix = match version {
            Version::Starter => "starter",
            Version::Solution => "solution",
        };
        let base = root.join("target/workbook");
        let name = format!("{}-{suffix}", chapter.folder);
        let scratch = base.join("scratch").join(&name);
        let held = lock(&base.join("scratch").join(format!("{name}.lock")))?;
        let exercise = scratch.join("exercises").join(&chapter.folder);
        let mut wanted = Wanted::new();
        let folder = format!("exercises/{}", chapter.folder);
        match version {
            // The committed starter, as `just reset` restores it: the chapter's whole folder at
            // the starter revision, never the working tree (which holds the learner's work).
            Version::Starter => {
                let rev = crate::files::starter_revision(root)?;
                for blob in crate::git_files::tree(root, &rev, &folder)? {
                    wanted.insert(blob.path, Content::Bytes(blob.bytes, blob.mode));
                }
                if wanted.is_empty() {
                    bail!("git has no {folder} at {rev}: commit the chapter first");
                }
            }
            // The workbook's files of the chapter (a learner's own additions, such as a
            // `src/bin/try.rs`, are not the solution's), with the solution's files laid over.
            Version::Solution => {
                wanted.add_tracked(root, &folder)?;
                for file in &chapter.files {
                    let from = chapter.solution_dir(root).join(file);
                    if !from.is_file() {
                        bail!("the solution file {} is missing", from.display());
                    }
                    wanted.insert(Path::new(&folder).join(file), Content::Disk(from));
                }
            }
        }
        for file in ["Cargo.lock", "chapters.toml"] {
            wanted.insert(file.into(), Content::Disk(root.join(file)));
        }
        wanted.insert(
            "Cargo.toml".into(),
            Content::Bytes(
                scratch_manifest(root, chapter, version)?.into_bytes(),
                0o644,
            ),
        );
        // What the chapter needs from the root (chapters.toml's `scratch`).
        for entry in &chapter.scratch {
            if !root.join(entry).exists() {
                bail!(
                    "chapters.toml: chapter {}'s scratch copy needs {entry}, which is not in {}",
                    chapter.number,
                    root.display()
                );
            }
            wanted.add_tracked(root, entry)?;
        }
        sync(&scratch, &wanted)?;
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
            held: Some(held),
        })
    }

    /// Lets others have the copy while this one still runs what it built from it (`just run
    /// --solution`'s service, for as long as the learner keeps it running).
    pub(crate) fn release(&mut self) {
        self.held = None;
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

/// What a copy holds: each file by its path in the copy, and where its bytes come from.
type Wanted = std::collections::BTreeMap<PathBuf, Content>;

#[derive(Debug)]
enum Content {
    /// A file on disk, copied with its mode.
    Disk(PathBuf),
    /// These bytes, with this mode.
    Bytes(Vec<u8>, u32),
}

trait AddTracked {
    /// The files of `rel` (a file or a folder, relative to `root`) that the workbook holds.
    fn add_tracked(&mut self, root: &Path, rel: &str) -> Result<()>;
}

impl AddTracked for Wanted {
    fn add_tracked(&mut self, root: &Path, rel: &str) -> Result<()> {
        let files = match crate::git_files::tracked(root, &[rel])? {
            Some(files) => files,
            // Not a git repository: every file there, but build output.
            None => {
                let mut files = Vec::new();
                walk(root, Path::new(rel), &mut files)?;
                files
            }
        };
        for file in files {
            self.insert(file.clone(), Content::Disk(root.join(file)));
        }
        Ok(())
    }
}

/// The files under `root/rel`, relative to `root`, skipping `target/` folders.
fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let path = root.join(rel);
    if !path.is_dir() {
        out.push(rel.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(&path).with_context(|| format!("reading {}", path.display()))? {
        let entry = entry?;
        if entry.file_name() != "target" {
            walk(root, &rel.join(entry.file_name()), out)?;
        }
    }
    Ok(())
}

/// Makes the folder `to` hold exactly `wanted` (and the `tools` link): writes only the files that
/// differ, so unchanged files keep their timestamps and cargo rebuilds only what changed, and
/// removes every other file and every folder left empty.
fn sync(to: &Path, wanted: &Wanted) -> Result<()> {
    for (rel, content) in wanted {
        let dest = to.join(rel);
        match content {
            Content::Disk(from) => copy_if_changed(from, &dest)?,
            Content::Bytes(bytes, mode) => write_if_changed(&dest, bytes, *mode)?,
        }
    }
    prune(to, Path::new(""), wanted)?;
    Ok(())
}

/// Removes what is under `to/rel` and not wanted; true if the folder is left empty.
fn prune(to: &Path, rel: &Path, wanted: &Wanted) -> Result<bool> {
    let dir = to.join(rel);
    let mut empty = true;
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let rel = rel.join(entry.file_name());
        let path = entry.path();
        // The link to the workbook's tools.
        if rel == Path::new("tools") {
            empty = false;
            continue;
        }
        // `file_type` does not follow links: a link is removed, never walked.
        if entry.file_type()?.is_dir() {
            if prune(to, &rel, wanted)? {
                std::fs::remove_dir(&path)
                    .with_context(|| format!("removing {}", path.display()))?;
            } else {
                empty = false;
            }
        } else if wanted.contains_key(&rel) {
            empty = false;
        } else {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(empty)
}

/// An exclusive lock on `path` (made if missing), held until the file is dropped. Another runner
/// preparing the same copy waits here; the OS releases it if the runner dies.
fn lock(path: &Path) -> Result<std::fs::File> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            eprintln!(
                "waiting for {}: another check or run of the workbook is using it…",
                path.with_extension("").display()
            );
            file.lock()
                .with_context(|| format!("locking {}", path.display()))?;
        }
        Err(std::fs::TryLockError::Error(err)) => {
            return Err(err).with_context(|| format!("locking {}", path.display()));
        }
    }
    Ok(file)
}

fn write_if_changed(to: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if std::fs::read(to).ok().as_deref() != Some(bytes) {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(to, bytes).with_context(|| format!("writing {}", to.display()))?;
    }
    // Keep the mode: a script (chapter 4's deploy.sh) must stay executable.
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the mode of {}", to.display()))
}

fn copy_if_changed(from: &Path, to: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let new = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    let mode = std::fs::metadata(from)?.permissions().mode();
    write_if_changed(to, &new, mode)
}
