//! chapters.toml against the disk: numbering, folders, learner files, pages, hints and tests.

use std::path::Path;

use anyhow::{Context, Result};

use super::{Ctx, Problems};
use crate::manifest::{Chapter, Status};

/// chapters.toml against the disk.
pub(super) fn check_manifest(ctx: &Ctx<'_>) -> Result<Problems> {
    let (root, manifest) = (ctx.root, ctx.manifest);
    let mut problems = Vec::new();
    for (i, chapter) in manifest.chapters.iter().enumerate() {
        if chapter.number as usize != i + 1 {
            problems.push(format!(
                "chapter {} is listed in position {}",
                chapter.number,
                i + 1
            ));
        }
        let prefix = format!("ch{:02}-", chapter.number);
        if !chapter.folder.starts_with(&prefix) {
            problems.push(format!(
                "chapter {}'s folder {} should start with {prefix}",
                chapter.number, chapter.folder
            ));
        }
        for section in &chapter.sections {
            if !section.id.starts_with(&format!("{}.", chapter.number)) {
                problems.push(format!(
                    "chapter {}: section {} is numbered for another chapter",
                    chapter.number, section.id
                ));
            }
        }
        let exercise = chapter.exercise_dir(root);
        match chapter.status {
            Status::Planned => {
                if exercise.exists() {
                    problems.push(format!(
                        "{} exists but chapter {} is marked planned: mark it ready",
                        exercise.display(),
                        chapter.number
                    ));
                }
            }
            Status::Ready | Status::Draft => {
                problems.extend(ready_chapter_problems(root, chapter)?);
            }
        }
    }
    for entry in std::fs::read_dir(root.join("exercises")).context("reading exercises/")? {
        let name = entry?.file_name().to_string_lossy().to_string();
        if !manifest.chapters.iter().any(|c| c.folder == name) {
            problems.push(format!("exercises/{name} is not in chapters.toml"));
        }
    }
    Ok(problems)
}

pub(super) fn ready_chapter_problems(root: &Path, chapter: &Chapter) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let exercise = chapter.exercise_dir(root);
    let cargo_toml = std::fs::read_to_string(exercise.join("Cargo.toml")).unwrap_or_default();
    if !cargo_toml.contains(&format!("name = \"{}\"", chapter.folder)) {
        problems.push(format!(
            "exercises/{0}/Cargo.toml should name the package {0}",
            chapter.folder
        ));
    }
    // A draft's pages are written as it lands.
    if chapter.status == Status::Ready && !root.join("book/src").join(&chapter.folder).is_dir() {
        problems.push(format!("book/src/{} is missing", chapter.folder));
    }
    if chapter.files.is_empty() {
        problems.push(format!("chapter {} lists no learner files", chapter.number));
    }
    for file in &chapter.files {
        for dir in [&exercise, &chapter.solution_dir(root)] {
            if !dir.join(file).is_file() {
                problems.push(format!("{} is missing", dir.join(file).display()));
            }
        }
        let text = std::fs::read_to_string(exercise.join(file)).unwrap_or_default();
        if !text.contains("TODO(") {
            problems.push(format!(
                "exercises/{}/{file} has no TODO(n.m) marking where the learner works",
                chapter.folder
            ));
        }
    }
    for section in &chapter.sections {
        if let Some(page) = &section.page
            && !root.join("book/src").join(page).is_file()
        {
            problems.push(format!(
                "section {}: book/src/{page} is missing",
                section.id
            ));
        }
    }
    let hints = chapter.hints(root)?;
    let tested: Vec<_> = chapter
        .sections
        .iter()
        .filter(|s| s.tests.is_some())
        .collect();
    for section in &tested {
        if hints.get(&section.id).is_none_or(Vec::is_empty) {
            problems.push(format!(
                "hints.toml has no hints for section {}",
                section.id
            ));
        }
        let module = section.tests.as_deref().unwrap_or_default();
        let file = exercise.join(format!("tests/chapter{}/{module}.rs", chapter.number));
        if !file.is_file() {
            problems.push(format!(
                "section {}: its tests {} are missing",
                section.id,
                file.display()
            ));
        }
    }
    for id in hints.keys() {
        if !tested.iter().any(|s| &s.id == id) {
            problems.push(format!(
                "hints.toml has hints for {id}, which is not a tested section"
            ));
        }
    }
    let tests_dir = exercise.join(format!("tests/chapter{}", chapter.number));
    if let Ok(entries) = std::fs::read_dir(&tests_dir) {
        for entry in entries {
            let name = entry?
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned();
            if name == "main" || name == "support" {
                continue;
            }
            if !chapter
                .sections
                .iter()
                .any(|s| s.tests.as_deref() == Some(name.as_str()))
            {
                problems.push(format!(
                    "tests/chapter{}/{name}.rs belongs to no section in chapters.toml",
                    chapter.number
                ));
            }
        }
    } else {
        problems.push(format!("{} is missing", tests_dir.display()));
    }
    Ok(problems)
}
