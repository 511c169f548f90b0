//! `just verify`: proves the workbook sound, for instructors and CI.
//!
//! A list of small named checks ([`CHECKS`]), run in order, each returning the problems it
//! found: chapters.toml matches the folders; the docs name the pinned versions; everything is
//! formatted and clippy-clean, the projects outside the workspace included, with the one lint
//! table; the workspace and every solution type-check for macOS; the tooling's own tests pass;
//! for every chapter that is written, every test fails on the untouched starter and passes on
//! the solution (laid over a scratch copy of the chapter); the book builds and its includes,
//! links, anchors and schedules resolve. `just verify --only NAME` runs one check (`--list`
//! names them); the last line, `verify: N passed, M failed`, is what CI reads.

use std::cell::RefCell;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::book;
use crate::cargo_test::{self, Docker, Show, Verdict};
use crate::manifest::{Chapter, Manifest, Status};
use crate::scratch::{Scratch, Version};

/// What every check is given: the workbook, and a place for a note on its line.
struct Ctx<'a> {
    root: &'a Path,
    manifest: &'a Manifest,
    /// Set by a check to say more on its line than pass or fail ("12 tests").
    note: RefCell<Option<String>>,
}

impl<'a> Ctx<'a> {
    fn note(&self, note: String) {
        *self.note.borrow_mut() = Some(note);
    }

    /// The chapters that are written (ready or draft).
    fn chapters(&self) -> impl Iterator<Item = &'a Chapter> + use<'a> {
        self.manifest
            .chapters
            .iter()
            .filter(|c| c.status != Status::Planned)
    }
}

/// A check's findings: one sentence (or paragraph) per problem; none means it passed.
type Problems = Vec<String>;
type Found<'a> = Pin<Box<dyn Future<Output = Result<Problems>> + 'a>>;

/// What a check looks at.
enum Scope {
    /// The workbook as a whole.
    Workbook(fn(&Ctx<'_>) -> Result<Problems>),
    /// One chapter: run once for each written chapter, named `chapterN/<name>`.
    Chapter(for<'a> fn(&'a Ctx<'a>, &'a Chapter) -> Found<'a>),
}

struct Check {
    /// What `--only` takes.
    name: &'static str,
    /// What its line says.
    about: &'static str,
    scope: Scope,
}

/// Every check, in the order they run.
const CHECKS: &[Check] = &[
    Check {
        name: "manifest",
        about: "chapters.toml matches the folders",
        scope: Scope::Workbook(check_manifest),
    },
    Check {
        name: "pins",
        about: "the docs name the pinned tool versions and the one MSRV",
        scope: Scope::Workbook(check_pins),
    },
    Check {
        name: "rustfmt",
        about: "rustfmt: starters, solutions and tools are formatted",
        scope: Scope::Workbook(check_rustfmt),
    },
    Check {
        name: "clippy",
        about: "clippy -D warnings: starters and tools",
        scope: Scope::Workbook(check_clippy),
    },
    Check {
        name: "outside-workspace",
        about: "clippy -D warnings (the workspace's lint table) and rustfmt on the projects \
                outside the workspace, starter and solution",
        scope: Scope::Workbook(check_outside_workspace),
    },
    Check {
        name: "macos",
        about: "macOS (Intel and Apple Silicon): the workspace and every solution type-check",
        scope: Scope::Workbook(check_macos),
    },
    Check {
        name: "tooling-tests",
        about: "the tooling's own tests (test-support, service-kit, proc-guard, workbook, loadgen)",
        scope: Scope::Workbook(check_tooling_tests),
    },
    Check {
        name: "starter-fails",
        about: "every test fails on the starter",
        scope: Scope::Chapter(check_starter_fails),
    },
    Check {
        name: "solution-clippy",
        about: "clippy -D warnings on the solution",
        scope: Scope::Chapter(check_solution_clippy),
    },
    Check {
        name: "solution-passes",
        about: "every test passes on the solution",
        scope: Scope::Chapter(check_solution_passes),
    },
    Check {
        name: "given-tests",
        about: "the given code's own tests pass",
        scope: Scope::Chapter(check_given_tests),
    },
    Check {
        name: "book",
        about: "the book builds; includes, links, anchors and schedules resolve",
        scope: Scope::Workbook(check_book),
    },
    Check {
        name: "book-quotes",
        about: crate::book_quotes::ABOUT,
        scope: Scope::Workbook(|ctx| crate::book_quotes::check(ctx.root)),
    },
    Check {
        name: "book-manifests",
        about: crate::book_manifests::ABOUT,
        scope: Scope::Workbook(|ctx| crate::book_manifests::check(ctx.root)),
    },
];

/// One check to run: a workbook check, or a chapter check for one chapter.
struct Planned<'a> {
    name: String,
    about: String,
    check: &'a Check,
    chapter: Option<&'a Chapter>,
}

/// The checks in order, with their full names (`chapter3/starter-fails`). A run of chapter
/// checks goes chapter by chapter, so each chapter's builds follow one another.
fn plan<'a>(ctx: &Ctx<'a>) -> Vec<Planned<'a>> {
    let mut planned = Vec::new();
    let mut checks = CHECKS.iter().peekable();
    while let Some(check) = checks.next() {
        if let Scope::Workbook(_) = check.scope {
            planned.push(Planned {
                name: check.name.to_owned(),
                about: check.about.to_owned(),
                check,
                chapter: None,
            });
            continue;
        }
        let mut run = vec![check];
        while let Some(next) = checks.next_if(|c| matches!(c.scope, Scope::Chapter(_))) {
            run.push(next);
        }
        for chapter in ctx.chapters() {
            for &check in &run {
                planned.push(Planned {
                    name: format!("chapter{}/{}", chapter.number, check.name),
                    about: format!("chapter {}: {}", chapter.number, check.about),
                    check,
                    chapter: Some(chapter),
                });
            }
        }
    }
    planned
}

/// Whether `--only NAME` selects the check named `full`: its whole name, a chapter's checks
/// (`chapter3`), or one chapter check in every chapter (`starter-fails`).
fn selected(full: &str, only: &[String]) -> bool {
    only.is_empty()
        || only.iter().any(|o| {
            full == o
                || full
                    .split_once('/')
                    .is_some_and(|(chapter, check)| chapter == o || check == o)
        })
}

pub(crate) async fn verify(
    root: &Path,
    manifest: &Manifest,
    only: &[String],
    list: bool,
) -> Result<ExitCode> {
    let ctx = Ctx {
        root,
        manifest,
        note: RefCell::new(None),
    };
    let planned = plan(&ctx);
    if list {
        for p in &planned {
            println!("{:<28} {}", p.name, p.about);
        }
        return Ok(ExitCode::SUCCESS);
    }
    for o in only {
        if !planned
            .iter()
            .any(|p| selected(&p.name, std::slice::from_ref(o)))
        {
            bail!(
                "verify has no check named {o:?}; `just verify --list` names them:\n{}",
                planned
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
    let started = Instant::now();
    let mut passed = 0;
    let mut failed = Vec::new();
    for p in planned.iter().filter(|p| selected(&p.name, only)) {
        let t = Instant::now();
        let found = match (&p.check.scope, p.chapter) {
            (Scope::Workbook(run), _) => run(&ctx),
            (Scope::Chapter(run), Some(chapter)) => run(&ctx, chapter).await,
            (Scope::Chapter(_), None) => unreachable!("a chapter check is planned per chapter"),
        };
        // A check the run's stop (Ctrl-C, SIGTERM) cut short has not failed, and the checks
        // after it do not run.
        crate::stop::check()?;
        // A check that could not run has failed; the others still run.
        let problems = found.unwrap_or_else(|err| vec![format!("could not check: {err:#}")]);
        let secs = t.elapsed().as_secs_f64();
        let note = ctx
            .note
            .take()
            .map(|n| format!("{n}, "))
            .unwrap_or_default();
        if problems.is_empty() {
            println!("✓ {}  ({note}{secs:.1} s)", p.about);
            passed += 1;
        } else {
            println!("✗ {}  ({note}{secs:.1} s)", p.about);
            for problem in &problems {
                for (i, line) in problem.lines().enumerate() {
                    println!("    {}{line}", if i == 0 { "- " } else { "  " });
                }
            }
            failed.push(p.name.clone());
        }
    }
    println!("\nverify took {:.0} s", started.elapsed().as_secs_f64());
    if !failed.is_empty() {
        println!(
            "failed: {} (run one again: `just verify --only NAME`)",
            failed.join("; ")
        );
    }
    println!("verify: {passed} passed, {} failed", failed.len());
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs a command; no problems if it succeeded, else the tail of its output as the problem.
fn command(dir: &Path, program: &str, args: &[&str], env: &[(&'static str, PathBuf)]) -> Problems {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    // Stopped with the run; the loop in `verify` then ends the run without counting the check.
    let Ok(output) = crate::stop::output(&mut cmd) else {
        return Vec::new();
    };
    match output {
        Ok(out) if out.status.success() => Vec::new(),
        Ok(out) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            vec![format!(
                "`{program} {}` in {} failed:\n{}",
                args.join(" "),
                dir.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )]
        }
        Err(err) => vec![format!("could not run {program}: {err}")],
    }
}

// ---- the workbook's checks ----

fn check_rustfmt(ctx: &Ctx<'_>) -> Result<Problems> {
    let root = ctx.root;
    let mut problems = command(root, "cargo", &["fmt", "--all", "--check"], &[]);
    for chapter in ctx.chapters() {
        // The solution files are not in the workspace: rustfmt each (the projects outside the
        // workspace are formatted by `outside-workspace`, starter and solution).
        // Nor is the chapter's bench.rs, which the runner compiles in through generated code
        // (tools/workbook/build.rs), where `cargo fmt` does not follow.
        let files: Vec<String> = chapter
            .files
            .iter()
            .filter(|f| f.ends_with(".rs"))
            .map(|f| chapter.solution_dir(root).join(f))
            .chain(
                chapter
                    .bench
                    .iter()
                    .map(|b| chapter.exercise_dir(root).join(b)),
            )
            .map(|path| path.display().to_string())
            .collect();
        if files.is_empty() {
            continue;
        }
        let mut args = vec!["--check", "--edition", "2024"];
        args.extend(files.iter().map(String::as_str));
        problems.extend(command(root, "rustfmt", &args, &[]));
    }
    Ok(problems)
}

fn check_clippy(ctx: &Ctx<'_>) -> Result<Problems> {
    Ok(command(
        ctx.root,
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
    ))
}

fn check_tooling_tests(ctx: &Ctx<'_>) -> Result<Problems> {
    Ok(command(
        ctx.root,
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
    ))
}

fn check_book(ctx: &Ctx<'_>) -> Result<Problems> {
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

// ---- each chapter's checks ----

/// The starter as the learner receives it (the committed one, in its scratch copy, whatever the
/// working tree holds): it must compile, and every test must fail.
fn check_starter_fails<'a>(ctx: &'a Ctx<'a>, chapter: &'a Chapter) -> Found<'a> {
    Box::pin(async move {
        let scratch = Scratch::prepare(ctx.root, chapter, Version::Starter)?;
        let place = scratch.place();
        let report =
            cargo_test::run_with_docker(&place, chapter, Show::Nothing, Docker::Required).await?;
        ctx.note(format!("{} tests", report.tests.len()));
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
                    "these tests pass before the learner has done anything, so they teach \
                     nothing:\n{}",
                    passing.join("\n")
                ));
            }
            // A test the crash left without a verdict has not been seen to fail.
            if let Some(crash) = report.crash.as_ref().filter(|c| !c.unknown.is_empty()) {
                problems.push(format!("on the starter, {}", crash.sentence()));
            }
            if report.tests.is_empty() {
                problems.push("no tests ran".to_owned());
            }
        }
        Ok(problems)
    })
}

/// The solution, over a scratch copy, is clippy-clean.
fn check_solution_clippy<'a>(ctx: &'a Ctx<'a>, chapter: &'a Chapter) -> Found<'a> {
    Box::pin(async move {
        let scratch = Scratch::prepare(ctx.root, chapter, Version::Solution)?;
        Ok(command(
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
            &scratch.cargo_env(),
        ))
    })
}

/// Every test passes on the solution, over a scratch copy.
fn check_solution_passes<'a>(ctx: &'a Ctx<'a>, chapter: &'a Chapter) -> Found<'a> {
    Box::pin(async move {
        let scratch = Scratch::prepare(ctx.root, chapter, Version::Solution)?;
        let report =
            cargo_test::run_with_docker(&scratch.place(), chapter, Show::Nothing, Docker::Required)
                .await?;
        ctx.note(format!("{} tests", report.tests.len()));
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
            if let Some(crash) = &report.crash {
                problems.push(format!("on the solution, {}", crash.sentence()));
            }
            if report.tests.is_empty() {
                problems.push("no tests ran".to_owned());
            }
        }
        Ok(problems)
    })
}

/// The given code's own unit tests, on the solution's scratch copy: not exercises (they pass
/// before the learner starts). A chapter whose code is all in a path dependency (chapter 3's
/// service/) has no library.
fn check_given_tests<'a>(ctx: &'a Ctx<'a>, chapter: &'a Chapter) -> Found<'a> {
    Box::pin(async move {
        let scratch = Scratch::prepare(ctx.root, chapter, Version::Solution)?;
        let mut args = vec!["test", "-p", chapter.package(), "--bins"];
        if chapter.exercise_dir(ctx.root).join("src/lib.rs").is_file() {
            args.push("--lib");
        }
        Ok(command(&scratch.root, "cargo", &args, &scratch.cargo_env()))
    })
}

// ---- the projects outside the workspace ----

/// A project inside a chapter's folder that is not a workspace member (a `[workspace]` of its
/// own, so that its folder alone is a Docker build context): the root Cargo.toml's `exclude`.
#[derive(Debug)]
struct Outside<'a> {
    chapter: &'a Chapter,
    /// Its folder inside the chapter's, e.g. `service`.
    dir: String,
}

fn root_manifest(root: &Path) -> Result<toml::Table> {
    let path = root.join("Cargo.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))
}

fn outside_projects<'a>(ctx: &Ctx<'a>, manifest: &toml::Table) -> Result<Vec<Outside<'a>>> {
    let exclude = manifest
        .get("workspace")
        .and_then(|w| w.get("exclude"))
        .and_then(|e| e.as_array())
        .cloned()
        .unwrap_or_default();
    let mut found = Vec::new();
    for entry in exclude {
        let Some(path) = entry.as_str() else {
            bail!("Cargo.toml: [workspace] exclude holds {entry}, not a path");
        };
        let Some(rest) = path.strip_prefix("exercises/") else {
            continue;
        };
        let Some((folder, dir)) = rest.split_once('/') else {
            bail!("Cargo.toml excludes {path}, a whole chapter");
        };
        let Some(chapter) = ctx.manifest.chapters.iter().find(|c| c.folder == folder) else {
            bail!("Cargo.toml excludes {path}, in no chapter of chapters.toml");
        };
        if chapter.status != Status::Planned {
            found.push(Outside {
                chapter,
                dir: dir.trim_end_matches('/').to_owned(),
            });
        }
    }
    Ok(found)
}

/// The root Cargo.toml's `[workspace.lints]` as rustc/clippy flags (`-W unreachable_pub`,
/// `-D clippy::let_underscore_future`), lowest priority first so that a lint overrides the
/// group it belongs to, as cargo orders them. A project outside the workspace cannot inherit
/// the table (`[lints] workspace = true` needs a workspace that has one), so verify passes it.
fn lint_flags(manifest: &toml::Table) -> Result<Vec<String>> {
    let Some(lints) = manifest
        .get("workspace")
        .and_then(|w| w.get("lints"))
        .and_then(|l| l.as_table())
    else {
        bail!("the root Cargo.toml has no [workspace.lints] table");
    };
    let mut flags: Vec<(i64, String)> = Vec::new();
    for (tool, table) in lints {
        let Some(table) = table.as_table() else {
            bail!("[workspace.lints.{tool}] is not a table");
        };
        for (lint, spec) in table {
            let (level, priority) = match spec {
                toml::Value::String(level) => (level.as_str(), 0),
                toml::Value::Table(t) => (
                    t.get("level").and_then(|l| l.as_str()).unwrap_or(""),
                    t.get("priority").and_then(|p| p.as_integer()).unwrap_or(0),
                ),
                _ => bail!("[workspace.lints.{tool}] {lint}: not a level"),
            };
            let flag = match level {
                "allow" => "-A",
                "warn" => "-W",
                "deny" => "-D",
                "forbid" => "-F",
                _ => bail!("[workspace.lints.{tool}] {lint}: unknown level {level:?}"),
            };
            let name = if tool == "rust" {
                lint.clone()
            } else {
                format!("{tool}::{lint}")
            };
            flags.push((priority, format!("{flag}{name}")));
        }
    }
    // Stable: same-priority lints keep the table's order.
    flags.sort_by_key(|(priority, _)| *priority);
    Ok(flags.into_iter().map(|(_, flag)| flag).collect())
}

/// Clippy with the workspace's lint table, and rustfmt, on every project outside the workspace:
/// on the starter (as committed: a scratch copy with the learner's files from git) and on the
/// solution (the solution's scratch copy), each with a target folder of its own. A copy and
/// the learner's tree would hash their packages alike (cargo hashes a package by its path
/// relative to its workspace, here the project's own folder), so no folder is shared.
fn check_outside_workspace(ctx: &Ctx<'_>) -> Result<Problems> {
    let manifest = root_manifest(ctx.root)?;
    let flags = lint_flags(&manifest)?;
    let mut problems = Vec::new();
    let mut linted = 0;
    for project in outside_projects(ctx, &manifest)? {
        let chapter = project.chapter;
        let prefix = format!("{}/", project.dir);
        // A project no solution file touches (chapter 4's sample app) is the same in both
        // versions: its starter's lint covers it.
        let solution_touches = chapter.files.iter().any(|f| f.starts_with(&prefix));
        for version in [Version::Starter, Version::Solution] {
            if version == Version::Solution && !solution_touches {
                continue;
            }
            let scratch = Scratch::prepare(ctx.root, chapter, version)?;
            let dir = scratch
                .root
                .join("exercises")
                .join(&chapter.folder)
                .join(&project.dir);
            let suffix = match version {
                Version::Starter => "starter",
                Version::Solution => "solution",
            };
            let target = ctx
                .root
                .join("target/workbook/lint")
                .join(format!("{}-{}-{suffix}", chapter.folder, project.dir));
            let env = [
                ("CARGO_TARGET_DIR", target.clone()),
                ("CARGO_BUILD_BUILD_DIR", target),
            ];
            let mut args = vec!["clippy", "--all-targets"];
            // A project with no dependencies (chapter 4's app) commits no lock file.
            if dir.join("Cargo.lock").is_file() {
                args.push("--locked");
            }
            args.push("--");
            args.extend(flags.iter().map(String::as_str));
            args.extend(["-D", "warnings"]);
            problems.extend(command(&dir, "cargo", &args, &env));
            problems.extend(command(&dir, "cargo", &["fmt", "--check"], &env));
            linted += 1;
        }
    }
    ctx.note(format!("{linted} copies"));
    Ok(problems)
}

// ---- pins ----

/// The files that tell a reader which version to install.
fn pin_documents(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![
        root.join("README.md"),
        root.join("justfile"),
        root.join(".ci/run"),
        root.join("book/book.toml"),
    ];
    collect_files(&root.join("book/src"), "md", &mut files);
    collect_files(&root.join(".github/workflows"), "yml", &mut files);
    for entry in std::fs::read_dir(root.join("exercises"))
        .into_iter()
        .flatten()
        .flatten()
    {
        files.push(entry.path().join("README.md"));
    }
    files.retain(|f| f.is_file());
    files
}

/// Every `major.minor.patch` version named right after `tool` in `text`, as `tool@1.2.3`,
/// `tool 1.2.3` or `tool v1.2.3` (so `mdbook-quiz@…` is not a mention of `mdbook`), by line.
fn versions_named(text: &str, tool: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices(tool) {
            let before = line[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                continue;
            }
            let rest = &line[at + tool.len()..];
            let Some(rest) = rest
                .strip_prefix('@')
                .or_else(|| rest.strip_prefix(" v"))
                .or_else(|| rest.strip_prefix(' '))
            else {
                continue;
            };
            let version: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let version = version.trim_end_matches('.');
            if version.split('.').count() == 3 && version.split('.').all(|p| !p.is_empty()) {
                found.push((n + 1, version.to_owned()));
            }
        }
    }
    found
}

/// `X.Y` in "X.Y or newer", by line: how the README and the book state the oldest Rust.
fn msrv_named(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices(" or newer") {
            let version: String = line[..at]
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if version.contains('.') {
                found.push((n + 1, version));
            }
        }
    }
    found
}

/// The docs name the versions pinned in tools/pins.env (they cannot read it); the MSRV is the
/// root Cargo.toml's `rust-version` everywhere it is stated; the workflow installs the Rust of
/// rust-toolchain.toml; no project outside the workspace keeps a lint table of its own.
fn check_pins(ctx: &Ctx<'_>) -> Result<Problems> {
    let root = ctx.root;
    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    let mut problems = Vec::new();
    for file in pin_documents(root) {
        let text = std::fs::read_to_string(&file)?;
        for (tool, pinned) in crate::pins::ALL {
            for (line, version) in versions_named(&text, tool) {
                if version != pinned {
                    problems.push(format!(
                        "{}:{line} names {tool} {version}, but tools/pins.env pins {pinned}",
                        rel(&file)
                    ));
                }
            }
        }
    }
    let readme = std::fs::read_to_string(root.join("README.md")).context("reading README.md")?;
    if !readme.contains(&format!("just@{}", crate::pins::JUST)) {
        problems.push(format!(
            "README.md does not say how to install the pinned just (`cargo install --locked \
             just@{}`)",
            crate::pins::JUST
        ));
    }

    let manifest = root_manifest(root)?;
    let msrv = manifest
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("rust-version"))
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let Some(msrv) = msrv else {
        problems.push("the root Cargo.toml has no [workspace.package] rust-version".to_owned());
        return Ok(problems);
    };
    for doc in ["README.md", "book/src/introduction.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap_or_default();
        let named = msrv_named(&text);
        if named.is_empty() {
            problems.push(format!(
                "{doc} does not say which Rust it needs ({msrv} or newer)"
            ));
        }
        for (line, version) in named {
            if version != msrv {
                problems.push(format!(
                    "{doc}:{line} says Rust {version} or newer, but Cargo.toml's rust-version \
                     is {msrv}"
                ));
            }
        }
    }
    for project in outside_projects(ctx, &manifest)? {
        let path = project
            .chapter
            .exercise_dir(root)
            .join(&project.dir)
            .join("Cargo.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let table: toml::Table =
            toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
        let package = table.get("package");
        let theirs = package
            .and_then(|p| p.get("rust-version"))
            .and_then(|v| v.as_str());
        if theirs != Some(msrv.as_str()) {
            problems.push(format!(
                "{}: rust-version is {theirs:?}, the workspace's is {msrv:?}",
                rel(&path)
            ));
        }
        if table.contains_key("lints") {
            problems.push(format!(
                "{} has a [lints] table of its own: the one table is the root Cargo.toml's \
                 [workspace.lints], which `just verify --only outside-workspace` applies to it",
                rel(&path)
            ));
        }
    }

    // The workflow's toolchain action cannot read rust-toolchain.toml: it must name the same.
    let toolchain = std::fs::read_to_string(root.join("rust-toolchain.toml"))
        .context("reading rust-toolchain.toml")?;
    let toolchain: toml::Table =
        toml::from_str(&toolchain).context("rust-toolchain.toml is not valid")?;
    let channel = toolchain
        .get("toolchain")
        .and_then(|t| t.get("channel"))
        .and_then(|c| c.as_str())
        .unwrap_or_default()
        .to_owned();
    let mut workflows = Vec::new();
    collect_files(&root.join(".github/workflows"), "yml", &mut workflows);
    for workflow in workflows {
        let text = std::fs::read_to_string(&workflow)?;
        for (n, line) in text.lines().enumerate() {
            if let Some((_, version)) = line.split_once("dtolnay/rust-toolchain@")
                && version.trim() != channel
            {
                problems.push(format!(
                    "{}:{} installs Rust {}, but rust-toolchain.toml pins {channel}",
                    rel(&workflow),
                    n + 1,
                    version.trim()
                ));
            }
        }
    }
    Ok(problems)
}

// ---- helpers and the remaining checks ----

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

/// chapters.toml against the disk.
fn check_manifest(ctx: &Ctx<'_>) -> Result<Problems> {
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
pub(crate) const MACOS_TARGETS: [&str; 2] = ["x86_64-apple-darwin", "aarch64-apple-darwin"];

/// `cargo check --target …` for both macOS targets: the workspace (starters, tools, the services
/// the chapters build), and each chapter's solution over its scratch copy. A type-check needs only
/// the target's standard library (`rustup target add`), no Apple linker.
fn check_macos(ctx: &Ctx<'_>) -> Result<Problems> {
    let (root, manifest) = (ctx.root, ctx.manifest);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lint_table_becomes_flags_groups_first() {
        let manifest: toml::Table = toml::from_str(
            r#"
            [workspace.lints.rust]
            unsafe_code = "deny"
            rust_2018_idioms = { level = "warn", priority = -1 }
            [workspace.lints.clippy]
            todo = "allow"
            "#,
        )
        .unwrap();
        assert_eq!(
            lint_flags(&manifest).unwrap(),
            ["-Wrust_2018_idioms", "-Aclippy::todo", "-Dunsafe_code"]
        );
    }

    #[test]
    fn a_level_that_is_not_one_is_an_error() {
        let manifest: toml::Table =
            toml::from_str("[workspace.lints.rust]\nunsafe_code = \"loud\"\n").unwrap();
        assert!(lint_flags(&manifest).is_err());
    }

    #[test]
    fn versions_named_in_prose_and_commands_are_found() {
        let text = "cargo install --locked just@1.59.0 mdbook-quiz@0.5.0\n\
                    ✓ mdbook          mdbook v0.5.4\n\
                    installs mdbook 0.5.4 the first time; mdBook 0.5 has admonitions\n\
                    rejust@9.9.9 is another tool";
        assert_eq!(versions_named(text, "just"), [(1, "1.59.0".to_owned())]);
        assert_eq!(
            versions_named(text, "mdbook"),
            [(2, "0.5.4".to_owned()), (3, "0.5.4".to_owned())]
        );
        assert_eq!(
            versions_named(text, "mdbook-quiz"),
            [(1, "0.5.0".to_owned())]
        );
    }

    #[test]
    fn the_msrv_is_read_from_or_newer() {
        assert_eq!(
            msrv_named("a Rust toolchain (1.89 or newer; Docker too)\nRust 1.90 or newer"),
            [(1, "1.89".to_owned()), (2, "1.90".to_owned())]
        );
    }

    #[test]
    fn only_selects_a_check_a_chapter_or_one_check_everywhere() {
        let only = |o: &str| vec![o.to_owned()];
        assert!(selected("clippy", &[]));
        assert!(selected("clippy", &only("clippy")));
        assert!(!selected("clippy", &only("rustfmt")));
        assert!(selected("chapter3/starter-fails", &only("chapter3")));
        assert!(selected("chapter3/starter-fails", &only("starter-fails")));
        assert!(selected(
            "chapter3/starter-fails",
            &only("chapter3/starter-fails")
        ));
        assert!(!selected("chapter3/starter-fails", &only("chapter4")));
    }

    #[test]
    fn every_check_has_a_name_of_its_own() {
        let mut names: Vec<&str> = CHECKS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CHECKS.len());
        assert!(names.iter().all(|n| !n.contains('/')));
    }
}
