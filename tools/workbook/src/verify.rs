//! `just verify`: proves the workbook sound, for instructors and CI.
//!
//! For every chapter that is written: every test passes on the solution (laid over a scratch copy
//! of the chapter), every test fails on the untouched starter, both are clippy-clean and
//! formatted. Then: chapters.toml matches the folders, the tooling's own tests pass, the book
//! builds, its includes, links and anchors resolve, and the instructor guide's schedules add up.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::book;
use crate::cargo_test::{self, Place, Show, Verdict};
use crate::manifest::{Chapter, Manifest, Status};
use crate::scratch::{Scratch, Version};

/// Collects the outcome of each check and prints it as it goes.
#[derive(Debug, Default)]
struct Checks {
    passed: usize,
    failed: Vec<String>,
}

impl Checks {
    fn record(&mut self, name: &str, problems: Vec<String>, started: Instant) {
        let secs = started.elapsed().as_secs_f64();
        if problems.is_empty() {
            println!("✓ {name}  ({secs:.1} s)");
            self.passed += 1;
        } else {
            println!("✗ {name}  ({secs:.1} s)");
            for p in &problems {
                for (i, line) in p.lines().enumerate() {
                    println!("    {}{line}", if i == 0 { "- " } else { "  " });
                }
            }
            self.failed.push(name.to_owned());
        }
    }
}

/// Runs a command; `Ok(())` if it succeeded, else its output as the problem.
fn command(
    dir: &Path,
    program: &str,
    args: &[&str],
    env: &[(&'static str, std::path::PathBuf)],
) -> Vec<String> {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    match cmd.output() {
        Ok(out) if out.status.success() => Vec::new(),
        Ok(out) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            vec![format!(
                "`{program} {}` failed:\n{}",
                args.join(" "),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )]
        }
        Err(err) => vec![format!("could not run {program}: {err}")],
    }
}

pub async fn verify(root: &Path, manifest: &Manifest) -> Result<ExitCode> {
    cargo_test::REQUIRE_DOCKER.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut checks = Checks::default();
    let started = Instant::now();

    let t = Instant::now();
    checks.record(
        "chapters.toml matches the folders",
        manifest_problems(root, manifest)?,
        t,
    );

    let t = Instant::now();
    let mut fmt = command(root, "cargo", &["fmt", "--all", "--check"], &[]);
    for chapter in manifest
        .chapters
        .iter()
        .filter(|c| c.status != Status::Planned)
    {
        let files: Vec<String> = chapter
            .files
            .iter()
            .filter(|f| f.ends_with(".rs"))
            .map(|f| chapter.solution_dir(root).join(f).display().to_string())
            .collect();
        // A chapter's own sample project (chapter 4's app/) is outside the workspace.
        let app = chapter.exercise_dir(root).join("app/Cargo.toml");
        if app.is_file() {
            let app = app.display().to_string();
            fmt.extend(command(
                root,
                "cargo",
                &["fmt", "--check", "--manifest-path", &app],
                &[],
            ));
        }
        let mut args = vec!["--check", "--edition", "2024"];
        args.extend(files.iter().map(String::as_str));
        fmt.extend(command(root, "rustfmt", &args, &[]));
    }
    checks.record(
        "rustfmt: starters, solutions and tools are formatted",
        fmt,
        t,
    );

    let t = Instant::now();
    checks.record(
        "clippy -D warnings: starters and tools",
        command(
            root,
            "cargo",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
            &[],
        ),
        t,
    );

    let t = Instant::now();
    checks.record(
        &format!(
            "macOS ({}): the workspace and every solution type-check",
            MACOS_TARGETS.join(", ")
        ),
        macos_problems(root, manifest)?,
        t,
    );

    let t = Instant::now();
    checks.record(
        "the tooling's own tests (test-support, service-kit, proc-guard, workbook, loadgen)",
        command(
            root,
            "cargo",
            &[
                "test",
                "--locked",
                "-p",
                "test-support",
                "-p",
                "service-kit",
                "-p",
                "proc-guard",
                "-p",
                "workbook",
                "-p",
                "loadgen",
            ],
            &[],
        ),
        t,
    );

    for chapter in manifest
        .chapters
        .iter()
        .filter(|c| c.status != Status::Planned)
    {
        verify_chapter(root, chapter, &mut checks).await?;
    }

    let t = Instant::now();
    let mut book_problems = match which_mdbook() {
        Some(mdbook) => command(root, &mdbook, &["build", "book"], &[]),
        None => vec![format!(
            "mdbook is not installed: `cargo install --locked mdbook@{}`",
            crate::doctor::MDBOOK_VERSION
        )],
    };
    book_problems.extend(book::check(root, manifest)?);
    book_problems.extend(quiz_problems(root));
    checks.record(
        "the book builds; includes, links, anchors and schedules resolve",
        book_problems,
        t,
    );

    println!("\nverify took {:.0} s", started.elapsed().as_secs_f64());
    if !checks.failed.is_empty() {
        println!("failed: {}", checks.failed.join("; "));
    }
    println!(
        "verify: {} passed, {} failed",
        checks.passed,
        checks.failed.len()
    );
    Ok(if checks.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The quizzes: mdbook-quiz must be there for `mdbook build` to validate them (it fails the build
/// on a quiz that does not parse); every `{{#quiz path}}` must name a file, and every quiz file
/// must be used by a page.
fn quiz_problems(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    if Command::new("mdbook-quiz")
        .arg("--version")
        .output()
        .is_err()
    {
        problems.push(format!(
            "mdbook-quiz is not installed, so the quizzes were not validated: `cargo install \
             --locked mdbook-quiz@{}`",
            crate::doctor::MDBOOK_QUIZ_VERSION
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

fn collect_files(dir: &Path, ext: &str, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

fn which_mdbook() -> Option<String> {
    Command::new("mdbook")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| "mdbook".to_owned())
}

async fn verify_chapter(root: &Path, chapter: &Chapter, checks: &mut Checks) -> Result<()> {
    let n = chapter.number;

    // The starter as the learner receives it: it must compile, and every test must fail.
    let t = Instant::now();
    let report = cargo_test::run(&Place::learner(root), chapter, Show::Nothing).await?;
    let mut problems = Vec::new();
    if report.timed_out {
        problems.push("the starter's tests hung past the time limit".to_owned());
    } else if report.build_failed {
        problems.push(format!("the starter does not compile:\n{}", report.stderr));
    } else {
        let passing: Vec<_> = report
            .tests
            .iter()
            .filter(|(_, v)| **v == Verdict::Passed)
            .map(|(k, _)| k.clone())
            .collect();
        if !passing.is_empty() {
            problems.push(format!(
                "these tests pass before the learner has done anything, so they teach nothing:\n{}",
                passing.join("\n")
            ));
        }
        if report.tests.is_empty() {
            problems.push("no tests ran".to_owned());
        }
    }
    checks.record(
        &format!(
            "chapter {n}: all {} tests fail on the starter",
            report.tests.len()
        ),
        problems,
        t,
    );

    // The solution, over a scratch copy: clippy-clean, and every test passes.
    let t = Instant::now();
    let scratch = Scratch::prepare(root, chapter, Version::Solution)?;
    let env = scratch.cargo_env();
    checks.record(
        &format!("chapter {n}: clippy -D warnings on the solution"),
        command(
            &scratch.root,
            "cargo",
            &[
                "clippy",
                "-p",
                chapter.package(),
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
            &env,
        ),
        t,
    );
    let t = Instant::now();
    let report = cargo_test::run(&scratch.place(), chapter, Show::Nothing).await?;
    let mut problems = Vec::new();
    if report.timed_out {
        problems.push("the solution's tests hung past the time limit".to_owned());
    } else if report.build_failed {
        problems.push(format!("the solution does not compile:\n{}", report.stderr));
    } else {
        for (name, verdict) in &report.tests {
            if *verdict != Verdict::Passed {
                let message = report.messages.get(name).cloned().unwrap_or_default();
                problems.push(format!("{name} {verdict:?}: {message}"));
            }
        }
        if report.tests.is_empty() {
            problems.push("no tests ran".to_owned());
        }
    }
    checks.record(
        &format!(
            "chapter {n}: all {} tests pass on the solution",
            report.tests.len()
        ),
        problems,
        t,
    );

    // The given code's own unit tests: not exercises (they pass before the learner starts).
    // A chapter whose code is all in a path dependency (chapter 3's service/) has no library.
    let t = Instant::now();
    let mut args = vec!["test", "-p", chapter.package(), "--bins"];
    if chapter.exercise_dir(root).join("src/lib.rs").is_file() {
        args.push("--lib");
    }
    checks.record(
        &format!("chapter {n}: the given code's own tests pass"),
        command(&scratch.root, "cargo", &args, &env),
        t,
    );
    Ok(())
}

/// chapters.toml against the disk.
fn manifest_problems(root: &Path, manifest: &Manifest) -> Result<Vec<String>> {
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

fn ready_chapter_problems(root: &Path, chapter: &Chapter) -> Result<Vec<String>> {
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

/// The macOS targets every learner's code must build for (Intel and Apple Silicon).
pub const MACOS_TARGETS: [&str; 2] = ["x86_64-apple-darwin", "aarch64-apple-darwin"];

/// `cargo check --target …` for both macOS targets: the workspace (starters, tools, the services
/// the chapters build), and each chapter's solution over its scratch copy. A type-check needs only
/// the target's standard library (`rustup target add`), no Apple linker.
fn macos_problems(root: &Path, manifest: &Manifest) -> Result<Vec<String>> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let mut problems = Vec::new();
    for target in MACOS_TARGETS {
        if !installed.lines().any(|l| l.trim() == target) {
            problems.push(format!(
                "the {target} standard library is not installed, so macOS cannot be checked \
                 here: `rustup target add {target}` (.ci/run does it)"
            ));
            continue;
        }
        problems.extend(command(
            root,
            "cargo",
            &[
                "check",
                "--locked",
                "--workspace",
                "--all-targets",
                "--target",
                target,
            ],
            &[],
        ));
        for chapter in manifest
            .chapters
            .iter()
            .filter(|c| c.status != Status::Planned)
        {
            let scratch = Scratch::prepare(root, chapter, Version::Solution)?;
            let env = scratch.cargo_env();
            problems.extend(command(
                &scratch.root,
                "cargo",
                &[
                    "check",
                    "-p",
                    chapter.package(),
                    "--all-targets",
                    "--target",
                    target,
                ],
                &env,
            ));
        }
    }
    Ok(problems)
}
