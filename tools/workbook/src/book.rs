//! Checks on the book's sources that mdbook itself does not make fatal: every `{{#include}}`
//! names a file and anchor that exist, every internal link and `#anchor` resolves, every page is
//! reachable from SUMMARY.md, the instructor guide's schedules add up to chapters.toml, and a
//! page shows the starter, not the learner's edits (book_starters.rs).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};

use crate::manifest::Manifest;

/// Every problem found, as sentences naming file and line.
pub(crate) fn check(root: &Path, manifest: &Manifest) -> Result<Vec<String>> {
    let src = root.join("book/src");
    let mut problems = Vec::new();
    let pages = markdown_files(&src)?;
    let summary =
        std::fs::read_to_string(src.join("SUMMARY.md")).context("reading book/src/SUMMARY.md")?;
    let listed: BTreeSet<PathBuf> = links(&summary)
        .into_iter()
        .filter(|(_, target)| !target.is_empty())
        .map(|(_, target)| normalize(&src.join(target.split('#').next().unwrap_or(""))))
        .collect();
    for page in &pages {
        let rel = page.strip_prefix(&src).unwrap_or(page);
        if rel != Path::new("SUMMARY.md") && !listed.contains(page) {
            problems.push(format!(
                "book/src/{}: not listed in SUMMARY.md, so no reader can reach it",
                rel.display()
            ));
        }
    }
    for listed_page in &listed {
        if !listed_page.is_file() {
            problems.push(format!(
                "SUMMARY.md lists {}, which does not exist",
                listed_page.display()
            ));
        }
    }
    for page in &pages {
        let text = std::fs::read_to_string(page)?;
        let rel = page
            .strip_prefix(root)
            .unwrap_or(page)
            .display()
            .to_string();
        let dir = page.parent().expect("a file has a parent");
        for (line_no, line) in text.lines().enumerate() {
            let at = format!("{rel}:{}", line_no + 1);
            for include in includes(line) {
                check_include(dir, &include, &at, &mut problems);
            }
        }
        for (line_no, target) in links(&text) {
            let at = format!("{rel}:{line_no}");
            check_link(&src, page, &target, &at, &mut problems);
        }
    }
    problems.extend(check_schedules(&src, manifest)?);
    problems.extend(crate::book_starters::check(root, manifest)?);
    Ok(problems)
}

pub(crate) fn markdown_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(markdown_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(normalize(&path));
        }
    }
    out.sort();
    Ok(out)
}

/// `a/./b/../c` → `a/c`, without touching the file system.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The `path[:anchor]` of every `{{#include …}}` / `{{#rustdoc_include …}}` on a line.
pub(crate) fn includes(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("{{#") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let inner = after[..end].trim();
        if let Some(arg) = inner
            .strip_prefix("include ")
            .or_else(|| inner.strip_prefix("rustdoc_include "))
        {
            out.push(arg.trim().to_owned());
        }
        rest = &after[end + 2..];
    }
    out
}

fn check_include(dir: &Path, include: &str, at: &str, problems: &mut Vec<String>) {
    let (file, anchor) = match include.split_once(':') {
        Some((f, a)) => (f, Some(a)),
        None => (include, None),
    };
    let path = normalize(&dir.join(file));
    let Ok(text) = std::fs::read_to_string(&path) else {
        problems.push(format!("{at}: includes {file}, which does not exist"));
        return;
    };
    // A line range (`file:10:20`, `file:5`) is allowed but discouraged; anchors survive edits.
    if let Some(anchor) = anchor.filter(|a| {
        !a.chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == ':')
    }) {
        let start = format!("ANCHOR: {anchor}");
        let end = format!("ANCHOR_END: {anchor}");
        let has = |marker: &str| text.lines().any(|l| l.trim_end().ends_with(marker));
        if !has(&start) || !has(&end) {
            problems.push(format!("{at}: includes {file}:{anchor}, but the file has no `// ANCHOR: {anchor}` … `// ANCHOR_END: {anchor}`"));
        }
    }
}

/// Every markdown link target `[text](target)` in a text, with its line number, skipping code.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_code = false;
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(pos) = rest.find("](") {
            let after = &rest[pos + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].trim();
            // Skip inline code spans such as `[a](b)` shown as text.
            let before = &rest[..pos];
            if before.matches('`').count() % 2 == 0 {
                out.push((
                    n + 1,
                    target.split_whitespace().next().unwrap_or("").to_owned(),
                ));
            }
            rest = &after[end..];
        }
    }
    out
}

fn check_link(src: &Path, page: &Path, target: &str, at: &str, problems: &mut Vec<String>) {
    if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
        return;
    }
    let (file, anchor) = match target.split_once('#') {
        Some((f, a)) => (f, Some(a)),
        None => (target, None),
    };
    let dest = if file.is_empty() {
        page.to_path_buf()
    } else {
        let md = file
            .strip_suffix(".html")
            .map(|f| format!("{f}.md"))
            .unwrap_or_else(|| file.to_owned());
        normalize(&page.parent().expect("a file has a parent").join(md))
    };
    if !dest.starts_with(src) {
        // A link out of the book (to the repository's files) must still point at something.
        if !dest.exists() {
            problems.push(format!("{at}: links to {target}, which does not exist"));
        }
        return;
    }
    let Ok(text) = std::fs::read_to_string(&dest) else {
        problems.push(format!("{at}: links to {target}, which does not exist"));
        return;
    };
    if let Some(anchor) = anchor
        && !heading_ids(&text).contains(anchor)
    {
        problems.push(format!(
            "{at}: links to {target}, but that page has no heading with the id #{anchor}"
        ));
    }
}

/// The ids mdbook gives a page's headings: lower case, spaces to `-`, punctuation dropped, and
/// `-1`, `-2` … for repeats.
fn heading_ids(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        // An explicit `{#id}` wins.
        if let Some(start) = title.rfind("{#")
            && let Some(id) = title[start + 2..].strip_suffix('}')
        {
            ids.insert(id.to_owned());
            continue;
        }
        let id = normalize_id(title);
        let count = seen.entry(id.clone()).or_insert(0);
        if *count == 0 {
            ids.insert(id.clone());
        } else {
            ids.insert(format!("{id}-{count}"));
        }
        *count += 1;
    }
    ids
}

fn normalize_id(title: &str) -> String {
    // Inline code and links keep their text.
    let plain: String = title.chars().filter(|c| *c != '`').collect();
    plain
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// The instructor guide's two schedules must add up to chapters.toml: the one-day schedule to
/// each chapter's core sections, the two-day schedule to all of them.
fn check_schedules(src: &Path, manifest: &Manifest) -> Result<Vec<String>> {
    let path = src.join("instructor-guide.md");
    let text = std::fs::read_to_string(&path).context("reading book/src/instructor-guide.md")?;
    let mut problems = Vec::new();
    for (heading, core_only) in [
        ("## One-day workshop", true),
        ("## Two-day workshop", false),
    ] {
        let Some(start) = text.find(heading) else {
            problems.push(format!("instructor-guide.md has no \"{heading}\" section"));
            continue;
        };
        let body = &text[start + heading.len()..];
        let body = &body[..body.find("\n## ").unwrap_or(body.len())];
        let mut minutes: BTreeMap<u32, u32> = BTreeMap::new();
        for row in body.lines().filter(|l| l.starts_with('|')) {
            let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
            let Some(last) = cells.last() else { continue };
            let Ok(m) = last.parse::<u32>() else { continue };
            for chapter in &manifest.chapters {
                if row.contains(&format!("Chapter {}", chapter.number)) {
                    *minutes.entry(chapter.number).or_insert(0) += m;
                }
            }
        }
        for chapter in &manifest.chapters {
            let (core, all) = chapter.minutes();
            let expected = if core_only { core } else { all };
            let found = minutes.get(&chapter.number).copied().unwrap_or(0);
            if found != expected {
                problems.push(format!(
                    "instructor-guide.md, {}: chapter {} has {found} minutes, but its {} in \
                     chapters.toml add up to {expected}",
                    heading.trim_start_matches("## "),
                    chapter.number,
                    if core_only {
                        "core sections"
                    } else {
                        "sections"
                    }
                ));
            }
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_ids_follow_mdbook() {
        let ids = heading_ids(
            "# 1.2 Stop accepting, drain\n## `serve` and you\n## Again\n## Again\n```\n# not a heading\n```\n",
        );
        assert!(ids.contains("12-stop-accepting-drain"), "{ids:?}");
        assert!(ids.contains("serve-and-you"), "{ids:?}");
        assert!(ids.contains("again") && ids.contains("again-1"), "{ids:?}");
        assert!(!ids.contains("not-a-heading"));
    }

    #[test]
    fn links_skip_code_blocks_and_spans() {
        let found =
            links("see [a](a.md#x) and `[b](b.md)`\n```\n[c](c.md)\n```\n[d](d.md \"title\")");
        let targets: Vec<_> = found.into_iter().map(|(_, t)| t).collect();
        assert_eq!(targets, ["a.md#x", "d.md"]);
    }

    #[test]
    fn includes_are_found_with_their_anchors() {
        assert_eq!(
            includes("{{#include ../../x.rs:run}} and {{#rustdoc_include y.rs}}"),
            ["../../x.rs:run", "y.rs"]
        );
    }
}
