//! Where cargo puts things, as cargo itself says (`cargo metadata`): the target folder (final
//! binaries) and the build folder (intermediate artifacts) of the learner's workspace; and
//! [`metadata`], the one way the runner asks cargo about a workspace.
//!
//! Asked, never guessed: the folder can come from `CARGO_TARGET_DIR`, `CARGO_BUILD_TARGET_DIR`,
//! `build.target-dir` in any cargo config file (the user's `~/.cargo/config.toml`, the
//! repository's `.cargo/config.toml`), `build.build-dir` with its `{workspace-root}`
//! templates, each possibly relative to something different. Only cargo knows the rules, so the
//! runner, `tools/wb` and the scratch copies all ask it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};

/// The learner's workspace's folders, absolute.
#[derive(Debug, Clone)]
pub(crate) struct Dirs {
    /// `target_directory`: where `target/debug/<binary>` is.
    pub target: PathBuf,
    /// `build_directory`: where `debug/deps` is (the target folder unless `build.build-dir`
    /// says otherwise).
    pub build: PathBuf,
}

/// The folders of the workspace at `root`, asked once per run. cargo runs from `root`, as every
/// cargo command the runner starts for the learner's workspace does, so that a relative folder
/// means the same to both.
pub(crate) fn of(root: &Path) -> Result<&'static Dirs> {
    static DIRS: OnceLock<Dirs> = OnceLock::new();
    if let Some(dirs) = DIRS.get() {
        return Ok(dirs);
    }
    let dirs = ask(root)?;
    Ok(DIRS.get_or_init(|| dirs))
}

fn ask(root: &Path) -> Result<Dirs> {
    #[derive(serde::Deserialize)]
    struct Metadata {
        target_directory: PathBuf,
        /// Missing from cargo before 1.91; the target folder then holds everything.
        build_directory: Option<PathBuf>,
    }
    let metadata: Metadata = metadata(root)?;
    Ok(Dirs {
        build: metadata
            .build_directory
            .unwrap_or_else(|| metadata.target_directory.clone()),
        target: metadata.target_directory,
    })
}

/// `cargo metadata --no-deps` of the workspace at `root` (its members, its folders), read as
/// `T`: the fields of cargo's answer that the caller names.
pub(crate) fn metadata<T: serde::de::DeserializeOwned>(root: &Path) -> Result<T> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    command
        .current_dir(root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"));
    let out = crate::stop::output(&mut command)
        .map_err(|_| anyhow::anyhow!("stopped while cargo metadata ran"))?
        .context("running cargo metadata (is cargo on PATH?)")?;
    if !out.status.success() {
        bail!(
            "`cargo metadata` could not read the workspace:\n{}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout).context("reading cargo metadata's answer")
}
