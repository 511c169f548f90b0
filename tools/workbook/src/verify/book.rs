//! The book builds, its includes, links, anchors and schedules resolve, and its quizzes are
//! there and used.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use super::{Ctx, Problems, collect_files, command};
use crate::book;

pub(super) fn check_book(ctx: &Ctx<'_>) -> Result<Problems> {
    let mut problems = match which_mdbook() {
        Some(mdbook) => command(ctx.root, &mdbook, &["build", "book"], &[]),
        None => vec![format!(
            "mdbook is not installed: `cargo install --locked mdbook@{}`",
            crate::pins::MDBOOK
        )],
    };
    problems.extend(book::check(ctx.root, ctx.manifest)?);
    problems.extend(quiz_problems(ctx.root));
    Ok(problems)
}

/// The quizzes: mdbook-quiz must be there for `mdbook build` to validate them (it fails the build
/// on a quiz that does not parse); every `{{#quiz path}}` must name a file, and every quiz file
/// must be used by a page.
pub(super) fn quiz_problems(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    if Command::new("mdbook-quiz")
        .arg("--version")
        .output()
        .is_err()
    {
        problems.push(format!(
            "mdbook-quiz is not installed, so the quizzes were not validated: `cargo install \
             --locked mdbook-quiz@{}`",
            crate::pins::MDBOOK_QUIZ
        ));
    }
    let src = root.join("book/src");
    let mut used = std::collections::BTreeSet::new();
    let mut pages = Vec::new();
    collect_files(&src, "md", &mut pages);
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap_or_default();
        for (at, _) in text.match_indices("{{#quiz ") {
            let rest = &text[at + "{{#quiz ".len()..];
            let Some(end) = rest.find("}}") else { continue };
            let quiz = page.parent().unwrap_or(&src).join(rest[..end].trim());
            if !quiz.is_file() {
                problems.push(format!(
                    "{} includes a quiz that does not exist: {}",
                    page.display(),
                    quiz.display()
                ));
            }
            used.insert(quiz);
        }
    }
    let mut quizzes = Vec::new();
    collect_files(&src, "toml", &mut quizzes);
    for quiz in quizzes
        .into_iter()
        .filter(|q| q.parent().is_some_and(|d| d.ends_with("quizzes")))
    {
        if !used.contains(&quiz) {
            problems.push(format!("{} is used by no page", quiz.display()));
        }
    }
    problems
}

pub(super) fn which_mdbook() -> Option<String> {
    Command::new("mdbook")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| "mdbook".to_owned())
}
