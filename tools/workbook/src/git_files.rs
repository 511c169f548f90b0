//! Files as git has them, for the scratch copies: the committed starter (a folder at a revision,
//! read in one `git cat-file --batch`), and which files of the working tree are the workbook's
//! (tracked) rather than a learner's own additions.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// One file of a tree at a revision.
#[derive(Debug)]
pub(crate) struct Blob {
    /// Relative to the repository's root.
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    /// 0o755 for an executable (git's 100755), else 0o644.
    pub mode: u32,
}

/// Every file under `dir` (relative to `root`) at `rev`.
pub(crate) fn tree(root: &Path, rev: &str, dir: &str) -> Result<Vec<Blob>> {
    let out = Command::new("git")
        .current_dir(root)
        .args(["ls-tree", "-r", "-z", rev, "--", dir])
        .output()
        .context("running git ls-tree (is git installed?)")?;
    if !out.status.success() {
        bail!(
            "git ls-tree {rev} {dir}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    // `<mode> <type> <object>\t<path>\0`
    let mut entries = Vec::new();
    for record in out.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let text = String::from_utf8_lossy(record);
        let Some((meta, path)) = text.split_once('\t') else {
            bail!("git ls-tree printed {text:?}");
        };
        let fields: Vec<&str> = meta.split(' ').collect();
        let [mode, kind, object] = fields[..] else {
            bail!("git ls-tree printed {text:?}");
        };
        if kind != "blob" {
            continue;
        }
        let mode = if mode == "100755" { 0o755 } else { 0o644 };
        entries.push((PathBuf::from(path), object.to_owned(), mode));
    }
    let mut cat = Command::new("git")
        .current_dir(root)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("running git cat-file")?;
    let mut stdin = cat.stdin.take().expect("piped");
    let objects: String = entries.iter().map(|(_, o, _)| format!("{o}\n")).collect();
    // Written from a thread: git answers as it reads, and a full pipe would block both sides.
    let writer = std::thread::spawn(move || stdin.write_all(objects.as_bytes()));
    let mut stdout = BufReader::new(cat.stdout.take().expect("piped"));
    let mut blobs = Vec::new();
    for (path, object, mode) in entries {
        // `<object> blob <size>\n<bytes>\n`
        let mut header = String::new();
        stdout.read_line(&mut header)?;
        let size: usize = header
            .split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("git cat-file said {header:?} for {object}"))?;
        let mut bytes = vec![0; size + 1];
        stdout.read_exact(&mut bytes)?;
        bytes.pop();
        blobs.push(Blob { path, bytes, mode });
    }
    writer.join().expect("the writer does not panic")?;
    cat.wait()?;
    Ok(blobs)
}

/// The files git tracks under `paths` (relative to `root`), as they are in the working tree;
/// `None` where `root` is not a git repository (a downloaded zip), where every file counts.
pub(crate) fn tracked(root: &Path, paths: &[&str]) -> Result<Option<Vec<PathBuf>>> {
    let out = Command::new("git")
        .current_dir(root)
        .args(["ls-files", "-z", "--"])
        .args(paths)
        .output();
    let Ok(out) = out else { return Ok(None) };
    if !out.status.success() {
        return Ok(None);
    }
    Ok(Some(
        out.stdout
            .split(|b| *b == 0)
            .filter(|r| !r.is_empty())
            .map(|r| PathBuf::from(String::from_utf8_lossy(r).into_owned()))
            // Tracked, but deleted from the working tree: not there to copy.
            .filter(|p| root.join(p).symlink_metadata().is_ok())
            .collect(),
    ))
}
