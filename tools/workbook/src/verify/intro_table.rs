//! `chapter-table`: the introduction's table of chapters (book/src/introduction.md) says what
//! chapters.toml says: one row per chapter, in its order, with its number, its title, and a link
//! to its first page; and the sentence under it counts the chapters that are ready. The table
//! is prose around the manifest's facts (the "you build" column is the book's own), so it is
//! written by hand and checked here rather than generated.

use std::path::Path;

use anyhow::{Context, Result};

use crate::manifest::{Manifest, Status};

/// The page that holds the table, relative to the root.
pub(crate) const PAGE: &str = "book/src/introduction.md";

/// Every way the introduction's table (and its count) disagrees with the manifest.
pub(crate) fn problems(root: &Path, manifest: &Manifest) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(root.join(PAGE)).with_context(|| format!("reading {PAGE}"))?;
    let rows = table_rows(&text);
    let mut problems = Vec::new();
    if rows.is_empty() {
        problems.push(format!(
            "{PAGE} has no table of chapters (a `| # | chapter | … |` table, one row per chapter \
             of chapters.toml)"
        ));
        return Ok(problems);
    }
    for (i, chapter) in manifest.chapters.iter().enumerate() {
        let first_page = chapter
            .sections
            .iter()
            .find_map(|s| s.page.clone())
            .unwrap_or_else(|| format!("{}/index.md", chapter.folder));
        let expected = format!("[{}]({first_page})", chapter.title);
        let Some(row) = rows.get(i) else {
            problems.push(format!(
                "{PAGE}: the table has no row for chapter {}, {:?} (`| {} | {expected} | … |`)",
                chapter.number, chapter.title, chapter.number
            ));
            continue;
        };
        if row.number != chapter.number.to_string() || row.chapter != expected {
            problems.push(format!(
                "{PAGE}:{}: the row `| {} | {} |` should be `| {} | {expected} |` (chapter {} \
                 of chapters.toml)",
                row.line, row.number, row.chapter, chapter.number, chapter.number
            ));
        }
    }
    for row in rows.iter().skip(manifest.chapters.len()) {
        problems.push(format!(
            "{PAGE}:{}: the row `| {} | {} |` names a chapter that chapters.toml does not have",
            row.line, row.number, row.chapter
        ));
    }
    let ready = manifest
        .chapters
        .iter()
        .filter(|c| c.status == Status::Ready)
        .count();
    if let Some((line, said)) = ready_count(&text)
        && said != ready
    {
        problems.push(format!(
            "{PAGE}:{line} says {said} chapters are ready; chapters.toml has {ready} with \
             status = \"ready\""
        ));
    }
    Ok(problems)
}

/// One row of the table: its line, its first two cells.
#[derive(Debug, PartialEq, Eq)]
struct Row {
    line: usize,
    number: String,
    chapter: String,
}

/// The rows of the first table whose heading begins `| # | chapter |`, below its rule.
fn table_rows(text: &str) -> Vec<Row> {
    let cells = |line: &str| -> Vec<String> {
        line.trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_owned())
            .collect()
    };
    let mut lines = text.lines().enumerate();
    let heading = lines.by_ref().find(|(_, line)| {
        let c = cells(line);
        line.trim_start().starts_with('|') && c.len() >= 2 && c[0] == "#" && c[1] == "chapter"
    });
    if heading.is_none() {
        return Vec::new();
    }
    lines
        .skip(1) // the |---|---| rule
        .take_while(|(_, line)| line.trim_start().starts_with('|'))
        .map(|(n, line)| {
            let mut c = cells(line).into_iter();
            Row {
                line: n + 1,
                number: c.next().unwrap_or_default(),
                chapter: c.next().unwrap_or_default(),
            }
        })
        .collect()
}

/// "All five chapters are ready" (or "3 chapters are ready"): its line and the number.
fn ready_count(text: &str) -> Option<(usize, usize)> {
    const WORDS: [&str; 13] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    text.lines().enumerate().find_map(|(n, line)| {
        let at = line.find(" chapters are ready")?;
        let said = line[..at].split_whitespace().last()?.to_ascii_lowercase();
        let number = said
            .parse()
            .ok()
            .or_else(|| WORDS.iter().position(|w| *w == said))?;
        Some((n + 1, number))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE_TEXT: &str = "# Introduction\n\n| # | chapter | you build |\n|---|---|---|\n\
        | 1 | [Alpha](ch01-alpha/index.md) | a sum |\n\
        | 2 | [Beta](ch02-beta/index.md) | a double |\n\nAll two chapters are ready.\n";

    #[test]
    fn the_rows_and_the_count_are_read() {
        assert_eq!(
            table_rows(PAGE_TEXT),
            [
                Row {
                    line: 5,
                    number: "1".into(),
                    chapter: "[Alpha](ch01-alpha/index.md)".into()
                },
                Row {
                    line: 6,
                    number: "2".into(),
                    chapter: "[Beta](ch02-beta/index.md)".into()
                },
            ]
        );
        assert_eq!(ready_count(PAGE_TEXT), Some((8, 2)));
        assert_eq!(
            ready_count("Only 3 chapters are ready so far."),
            Some((1, 3))
        );
    }
}
