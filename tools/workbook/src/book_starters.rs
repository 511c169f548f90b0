//! Part of `just verify --only book`: a page shows the starter it means to show, not the
//! learner's work in progress.
//!
//! A page that includes a file the learner edits (chapters.toml `files`) whole shows, after the
//! learner's first edit, their version: chapter 3's first page showed the learner's new
//! Dockerfile under "the Dockerfile most projects start with". Such a page includes a copy of
//! the starter instead, under `book/src/<chapter>/starter/`, at the file's path in the chapter's
//! folder; each copy must be the committed starter (as `just reset` restores it) byte for byte.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::book::{includes, markdown_files, normalize};
use crate::manifest::Manifest;

/// Every page that includes a learner's file whole, and every starter copy that is not the
/// committed starter.
pub(crate) fn check(root: &Path, manifest: &Manifest) -> Result<Vec<String>> {
    let learner: Vec<PathBuf> = manifest
        .chapters
        .iter()
        .flat_map(|c| {
            c.files
                .iter()
                .map(|f| normalize(&root.join("exercises").join(&c.folder).join(f)))
        })
        .collect();
    let mut problems = Vec::new();
    for page in markdown_files(&root.join("book/src"))? {
        let text = std::fs::read_to_string(&page)
            .with_context(|| format!("reading {}", page.display()))?;
        let rel = relative(root, &page);
        let dir = page.parent().expect("a page has a folder");
        for (line, file) in whole_includes_of(&text, dir, &learner) {
            let shown = relative(root, &file);
            problems.push(format!(
                "{rel}:{line}: includes {shown} whole, a file the learner edits: after their \
                 first edit the page shows their version. Include a copy of the starter from \
                 book/src/<chapter>/starter/ instead (checked against the committed starter)"
            ));
        }
    }
    let mut revision = None;
    for chapter in &manifest.chapters {
        let copies = root.join("book/src").join(&chapter.folder).join("starter");
        for copy in files_under(&copies)? {
            let inside = copy.strip_prefix(&copies).expect("found under it");
            let starter = format!("exercises/{}/{}", chapter.folder, slashes(inside));
            let rev = match &revision {
                Some(rev) => rev,
                None => revision.insert(crate::files::starter_revision(root)?),
            };
            let copy_rel = relative(root, &copy);
            let committed = crate::files::git_show(root, rev, &starter);
            let text = std::fs::read_to_string(&copy)
                .with_context(|| format!("reading {}", copy.display()))?;
            if let Some(problem) = stale(&copy_rel, &text, &starter, rev, committed.ok()) {
                problems.push(problem);
            }
        }
    }
    Ok(problems)
}

/// The line numbers and files of the `{{#include}}`s in `text` (a page in `dir`) that take one
/// of `learner`'s files whole (no anchor, no line range).
fn whole_includes_of(text: &str, dir: &Path, learner: &[PathBuf]) -> Vec<(usize, PathBuf)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        // `file:anchor` and `file:10:20` are parts, and never equal a learner's path.
        for include in includes(line) {
            let file = normalize(&dir.join(&include));
            if learner.contains(&file) {
                found.push((n + 1, file));
            }
        }
    }
    found
}

/// A problem if the starter copy `text` is not `committed` (the starter's text at `rev`, `None`
/// if git has no such file).
fn stale(
    copy: &str,
    text: &str,
    starter: &str,
    rev: &str,
    committed: Option<String>,
) -> Option<String> {
    match committed {
        None => Some(format!(
            "{copy}: a starter copy of {starter}, which git does not have at {rev}"
        )),
        Some(committed) if committed != text => Some(format!(
            "{copy}: differs from the committed starter ({rev}:{starter}); copy it again: \
             `git show {rev}:{starter} > {copy}`"
        )),
        Some(_) => None,
    }
}

/// Every file under `dir` (none if it does not exist), sorted.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(files_under(&path)?);
        } else {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// `path` from the workbook's root, for a message.
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A relative path with `/` between its parts, as git names it.
fn slashes(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_learner_file_is_named_and_an_anchor_or_a_starter_copy_is_not() {
        let dir = Path::new("/wb/book/src/ch03-containers");
        let learner = [PathBuf::from(
            "/wb/exercises/ch03-containers/service/Dockerfile",
        )];
        let page = "intro\n\
                    {{#include ../../../exercises/ch03-containers/service/Dockerfile}}\n\
                    {{#include ../../../exercises/ch03-containers/service/Dockerfile:runtime}}\n\
                    {{#include starter/service/Dockerfile}}\n\
                    {{#include ../../../solutions/ch03-containers/service/Dockerfile}}\n";
        assert_eq!(
            whole_includes_of(page, dir, &learner),
            [(2, learner[0].clone())]
        );
    }

    #[test]
    fn a_starter_copy_must_be_the_committed_starter() {
        let at = |committed: Option<&str>| {
            stale(
                "book/src/c/starter/f",
                "FROM a\n",
                "exercises/c/f",
                "HEAD",
                committed.map(str::to_owned),
            )
        };
        assert_eq!(at(Some("FROM a\n")), None);
        let differs = at(Some("FROM b\n")).expect("a stale copy is a problem");
        assert!(
            differs.contains("git show HEAD:exercises/c/f > book/src/c/starter/f"),
            "{differs}"
        );
        let missing = at(None).expect("a copy of nothing is a problem");
        assert!(missing.contains("git does not have"), "{missing}");
    }
}
