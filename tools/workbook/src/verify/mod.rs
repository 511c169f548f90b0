//! `just verify`: proves the workbook sound, for instructors and CI.
//!
//! A list of small named checks ([`CHECKS`]), run in lanes (below), each returning the problems it
//! found: chapters.toml matches the folders; the docs name the pinned versions; everything is
//! formatted and clippy-clean, the projects outside the workspace included, with the one lint
//! table; the workspace and every solution type-check for macOS; the tooling's own tests pass;
//! for every chapter that is written, every test fails on the untouched starter and passes on
//! the solution (laid over a scratch copy of the chapter); the book builds and its includes,
//! links, anchors and schedules resolve. `just verify --only NAME` runs one check (`--list`
//! names them); the last line, `verify: N passed, M failed`, is what CI reads.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Command, ExitCode};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Result, bail};

use crate::manifest::{Chapter, Manifest, Status};
use crate::scratch::Version;

mod book;
mod chapter;
mod chapters_toml;
mod editor;
mod images;
mod intro_table;
mod macos;
mod outside;
mod pins;
mod versions;
mod workspace;

use book::check_book;
use chapter::{
    check_given_tests, check_solution_clippy, check_solution_passes, check_starter_fails,
};
use chapters_toml::check_manifest;
use macos::check_macos;
use outside::{check_outside_workspace, has_outside_projects};
use pins::check_pins;
use workspace::{check_clippy, check_rustfmt, check_tooling_tests};

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
    /// The workbook as a whole, in the workbook's lane.
    Workbook(fn(&Ctx<'_>) -> Result<Problems>),
    /// The workbook as a whole, in a lane of its own: long, and sharing no scratch copy.
    Apart(fn(&Ctx<'_>) -> Result<Problems>),
    /// One chapter: run once for each written chapter that `applies`, named `chapterN/<name>`,
    /// in the lane of the chapter's scratch copy it uses (`copy`; a check that uses both comes
    /// last in the solution's lane, long after the starter's checks).
    Chapter {
        run: for<'a> fn(&'a Ctx<'a>, &'a Chapter) -> Found<'a>,
        applies: fn(&Ctx<'_>, &Chapter) -> bool,
        copy: Version,
    },
}

/// Every written chapter.
fn every(_: &Ctx<'_>, _: &Chapter) -> bool {
    true
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
        about: "the docs name the pinned tool versions and the one MSRV; every image is pinned once",
        scope: Scope::Workbook(check_pins),
    },
    Check {
        name: "chapter-table",
        about: "the introduction's table of chapters is chapters.toml's",
        scope: Scope::Workbook(|ctx| intro_table::problems(ctx.root, ctx.manifest)),
    },
    Check {
        name: "editor",
        about: editor::ABOUT,
        scope: Scope::Workbook(|ctx| editor::check(ctx.root, ctx.manifest)),
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
        name: "macos",
        about: "macOS (Intel and Apple Silicon): the workspace and every solution type-check",
        scope: Scope::Apart(check_macos),
    },
    Check {
        name: "tooling-tests",
        about: "the tooling's own tests: every package under tools/, its test programs at once",
        scope: Scope::Apart(check_tooling_tests),
    },
    Check {
        name: "starter-fails",
        about: "every test fails on the starter",
        scope: Scope::Chapter {
            run: check_starter_fails,
            applies: every,
            copy: Version::Starter,
        },
    },
    Check {
        name: "solution-clippy",
        about: "clippy -D warnings on the solution",
        scope: Scope::Chapter {
            run: check_solution_clippy,
            applies: every,
            copy: Version::Solution,
        },
    },
    Check {
        name: "solution-passes",
        about: "every test passes on the solution",
        scope: Scope::Chapter {
            run: check_solution_passes,
            applies: every,
            copy: Version::Solution,
        },
    },
    Check {
        name: "given-tests",
        about: "the given code's own tests pass",
        scope: Scope::Chapter {
            run: check_given_tests,
            applies: every,
            copy: Version::Solution,
        },
    },
    Check {
        name: "outside-workspace",
        about: "clippy -D warnings (the workspace's lint table) and rustfmt on the projects \
                outside the workspace, starter and solution",
        scope: Scope::Chapter {
            run: check_outside_workspace,
            applies: has_outside_projects,
            copy: Version::Solution,
        },
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
        if let Scope::Workbook(_) | Scope::Apart(_) = check.scope {
            planned.push(Planned {
                name: check.name.to_owned(),
                about: check.about.to_owned(),
                check,
                chapter: None,
            });
            continue;
        }
        let mut run = vec![check];
        while let Some(next) = checks.next_if(|c| matches!(c.scope, Scope::Chapter { .. })) {
            run.push(next);
        }
        for chapter in ctx.chapters() {
            for &check in &run {
                if let Scope::Chapter { applies, .. } = check.scope
                    && !applies(ctx, chapter)
                {
                    continue;
                }
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
    jobs: Option<usize>,
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
    let chosen: Vec<&Planned<'_>> = planned.iter().filter(|p| selected(&p.name, only)).collect();
    let lanes = lanes(&chosen);
    let jobs = jobs.unwrap_or(lanes.len()).clamp(1, lanes.len().max(1));
    println!(
        "verify: {} checks in {} lanes (the workbook's, one each for its long checks, and two \
         per chapter: its starter's and its solution's), {jobs} at a time; \
         each line comes when its check ends",
        chosen.len(),
        lanes.len()
    );
    let started = Instant::now();
    let queue = Mutex::new(lanes.into_iter().collect::<VecDeque<_>>());
    let failed = Mutex::new(Vec::new());
    let passed = AtomicUsize::new(0);
    let handle = tokio::runtime::Handle::current();
    // The lanes run on threads of their own, a chapter check's future on the runtime (whose
    // other threads drive its processes and timers); this thread only waits.
    tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(|| {
                    loop {
                        // Its own statement: the queue's lock is let go before the lane runs.
                        let next = queue.lock().expect("no lane panics").pop_front();
                        let Some(lane) = next else { break };
                        for p in lane {
                            let Some(outcome) = run_one(root, manifest, p, &handle) else {
                                // Stopped (Ctrl-C, SIGTERM): not a failure; nothing more runs.
                                return;
                            };
                            if outcome.print() {
                                passed.fetch_add(1, Ordering::SeqCst);
                            } else {
                                failed.lock().expect("no lane panics").push(p.name.clone());
                            }
                        }
                    }
                });
            }
        });
    });
    // A check the run's stop cut short has not failed, and the checks after it did not run.
    crate::stop::check()?;
    let passed = passed.into_inner();
    let failed = failed.into_inner().expect("no lane panics");
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

/// Which lane a check runs in.
#[derive(PartialEq)]
enum Lane {
    Workbook,
    Apart(&'static str),
    /// A chapter's checks on one of its scratch copies: two copies, two lanes, so that chapter
    /// 5's lab test on the solution does not wait for the starter's run.
    Chapter(u32, Version),
}

/// The checks of one lane, in order: the workbook's own checks, one long workbook check, or one
/// chapter's on one of its copies. Lanes run at once; a lane's checks one after the other, since
/// a chapter's checks share its scratch copies and its builds.
fn lanes<'p, 'a>(chosen: &[&'p Planned<'a>]) -> Vec<Vec<&'p Planned<'a>>> {
    let mut lanes: Vec<(Lane, Vec<&Planned<'_>>)> = Vec::new();
    for &p in chosen {
        let key = match (&p.check.scope, p.chapter) {
            (Scope::Apart(_), _) => Lane::Apart(p.check.name),
            (Scope::Chapter { copy, .. }, Some(chapter)) => Lane::Chapter(chapter.number, *copy),
            _ => Lane::Workbook,
        };
        match lanes.iter_mut().find(|(k, _)| *k == key) {
            Some((_, lane)) => lane.push(p),
            None => lanes.push((key, vec![p])),
        }
    }
    lanes.into_iter().map(|(_, lane)| lane).collect()
}

/// What one check found.
struct Outcome {
    about: String,
    problems: Problems,
    note: Option<String>,
    secs: f64,
}

impl Outcome {
    /// Prints its line (and its problems) in one piece; true if it passed.
    fn print(&self) -> bool {
        let note = self
            .note
            .as_ref()
            .map(|n| format!("{n}, "))
            .unwrap_or_default();
        let mark = if self.problems.is_empty() {
            '✓'
        } else {
            '✗'
        };
        let mut text = format!("{mark} {}  ({note}{:.1} s)\n", self.about, self.secs);
        for problem in &self.problems {
            for (i, line) in problem.lines().enumerate() {
                text.push_str(&format!("    {}{line}\n", if i == 0 { "- " } else { "  " }));
            }
        }
        print!("{text}");
        self.problems.is_empty()
    }
}

/// Runs one check; `None` if the run's stop cut it short.
fn run_one(
    root: &Path,
    manifest: &Manifest,
    p: &Planned<'_>,
    handle: &tokio::runtime::Handle,
) -> Option<Outcome> {
    crate::stop::check().ok()?;
    let ctx = Ctx {
        root,
        manifest,
        note: RefCell::new(None),
    };
    let t = Instant::now();
    let found = match (&p.check.scope, p.chapter) {
        (Scope::Workbook(run) | Scope::Apart(run), _) => run(&ctx),
        (Scope::Chapter { run, .. }, Some(chapter)) => handle.block_on(run(&ctx, chapter)),
        (Scope::Chapter { .. }, None) => unreachable!("a chapter check is planned per chapter"),
    };
    crate::stop::check().ok()?;
    Some(Outcome {
        about: p.about.clone(),
        // A check that could not run has failed; the others still run.
        problems: found.unwrap_or_else(|err| vec![format!("could not check: {err:#}")]),
        note: ctx.note.take(),
        secs: t.elapsed().as_secs_f64(),
    })
}

/// Runs a command; no problems if it succeeded, else the tail of its output as the problem.
fn command(dir: &Path, program: &str, args: &[&str], env: &[(&'static str, PathBuf)]) -> Problems {
    command_within(dir, program, args, env, None)
}

/// [`command`] with a time limit, if any: past it the command is stopped, and its problem says
/// it hung.
fn command_within(
    dir: &Path,
    program: &str,
    args: &[&str],
    env: &[(&'static str, PathBuf)],
    limit: Option<std::time::Duration>,
) -> Problems {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    // Stopped with the run; the loop in `verify` then ends the run without counting the check.
    let Ok(output) = crate::stop::output_within(&mut cmd, limit) else {
        return Vec::new();
    };
    match output {
        Ok((out, false)) if out.status.success() => Vec::new(),
        Ok((out, false)) => vec![failed(dir, program, args, &out)],
        Ok((out, true)) => vec![format!(
            "still running after {} s, a hang, so it was stopped: {}",
            limit.unwrap_or_default().as_secs(),
            failed(dir, program, args, &out)
        )],
        Err(err) => vec![format!("could not run {program}: {err}")],
    }
}

/// The problem a failed command is: what ran, where, how it ended (an exit code, or the signal
/// that killed it), and the last 40 lines it printed.
fn failed(dir: &Path, program: &str, args: &[&str], out: &std::process::Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let tail: Vec<&str> = text.lines().rev().take(40).collect();
    let ran: Vec<&str> = std::iter::once(program)
        .chain(args.iter().copied())
        .collect();
    format!(
        "`{}` in {} failed ({}):\n{}",
        ran.join(" "),
        dir.display(),
        out.status,
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    )
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_long_checks_have_lanes_of_their_own_and_a_chapters_lint_is_in_its_lane() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let manifest = Manifest::load(&root).unwrap();
        let ctx = Ctx {
            root: &root,
            manifest: &manifest,
            note: RefCell::new(None),
        };
        let planned = plan(&ctx);
        let chosen: Vec<&Planned<'_>> = planned.iter().collect();
        let names = |lane: &Vec<&Planned<'_>>| -> Vec<String> {
            lane.iter().map(|p| p.name.clone()).collect()
        };
        let lanes: Vec<Vec<String>> = lanes(&chosen).iter().map(names).collect();
        assert!(
            lanes.contains(&vec!["tooling-tests".to_owned()]),
            "{lanes:?}"
        );
        assert!(lanes.contains(&vec!["macos".to_owned()]), "{lanes:?}");
        // The projects outside the workspace are linted in their chapters' lanes (3, 4, 5),
        // and not planned where a chapter has none.
        for lane in &lanes {
            let chapter = lane[0].split_once('/').map(|(c, _)| c.to_owned());
            let lints = lane.iter().any(|n| n.ends_with("/outside-workspace"));
            let solution = lane.iter().any(|n| n.ends_with("/solution-passes"));
            match chapter.as_deref() {
                Some("chapter3" | "chapter4" | "chapter5") if solution => {
                    assert!(lints, "{lane:?}");
                    // Last: it also takes the starter's copy, long free by then.
                    assert!(
                        lane.last().unwrap().ends_with("/outside-workspace"),
                        "{lane:?}"
                    );
                }
                _ => assert!(!lints, "{lane:?}"),
            }
            // A chapter's starter and solution copies are two lanes.
            if chapter.is_some() {
                let starter = lane.iter().any(|n| n.ends_with("/starter-fails"));
                assert!(starter != solution, "{lane:?}");
            }
            assert!(
                lane.iter()
                    .all(|n| n.split_once('/').map(|(c, _)| c.to_owned()) == chapter)
            );
        }
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
