//! Each written chapter's checks, over a scratch copy: every test fails on the starter and passes
//! on the solution, the solution is clippy-clean, the given code's own tests pass.

use super::{Ctx, Found, command};
use crate::cargo_test::{self, Docker, Show, Verdict};
use crate::manifest::Chapter;
use crate::scratch::{Scratch, Version};

/// The starter as the learner receives it (the committed one, in its scratch copy, whatever the
/// working tree holds): it must compile, and every test must fail.
pub(super) fn check_starter_fails<'a>(ctx: &'a Ctx<'a>, chapter: &'a Chapter) -> Found<'a> {
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
pub(super) fn check_solution_clippy<'a>(ctx: &'a Ctx<'a>, chapter: &'a Chapter) -> Found<'a> {
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
pub(super) fn check_solution_passes<'a>(ctx: &'a Ctx<'a>, chapter: &'a Chapter) -> Found<'a> {
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
pub(super) fn check_given_tests<'a>(ctx: &'a Ctx<'a>, chapter: &'a Chapter) -> Found<'a> {
    Box::pin(async move {
        let scratch = Scratch::prepare(ctx.root, chapter, Version::Solution)?;
        let mut args = vec!["test", "-p", chapter.package(), "--bins"];
        if chapter.exercise_dir(ctx.root).join("src/lib.rs").is_file() {
            args.push("--lib");
        }
        Ok(command(&scratch.root, "cargo", &args, &scratch.cargo_env()))
    })
}
