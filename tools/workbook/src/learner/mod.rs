//! The learner's loop: `test`, `watch`, `hint` and `progress`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::cargo_test::{self, Place, Report, Show};
use crate::manifest::{Chapter, Section};
use crate::scratch::{Scratch, Version};

mod hint;
mod last_run;
mod progress;
mod report;
mod watch;

pub(crate) use hint::hint;
pub(crate) use progress::progress;
pub(crate) use watch::watch;

use last_run::save_run;
use report::print_report;

/// Runs the chapter's tests (or one section's) against the learner's code (or the solution)
/// and prints them by section, the failures of the first failing section explained, and one
/// summary line.
pub(crate) async fn test(
    root: &Path,
    chapter: &Chapter,
    section: Option<&Section>,
    solution: bool,
    repeat: u32,
) -> Result<ExitCode> {
    chapter.ensure_ready()?;
    let mut all_green = true;
    for run in 1..=repeat.max(1) {
        if repeat > 1 {
            println!("── run {run} of {repeat}");
        }
        let report = run_tests(root, chapter, section, solution, Show::Build).await?;
        print_report(chapter, section, &report);
        if !solution {
            crate::room_link::send(root, chapter, section, &report).await;
        }
        if !report.green() {
            all_green = false;
            if repeat > 1 {
                println!("stopped at run {run} of {repeat}: it had a failure");
            }
            break;
        }
    }
    if repeat > 1 && all_green {
        println!("all {repeat} runs passed");
    }
    Ok(if all_green {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The section a learner named after the chapter (`just test chapter3 3.1`): its id (`3.1`)
/// or its tests' module (`s3_1_config`). An unknown one, or one without tests, is an error that
/// lists the chapter's sections with the command for each.
pub(crate) fn find_section<'c>(
    chapter: &'c Chapter,
    name: Option<&str>,
    recipe: &str,
) -> Result<Option<&'c Section>> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    let found = chapter
        .sections
        .iter()
        .find(|s| s.id == name.trim_start_matches(['s', 'S']) || s.tests.as_deref() == Some(name));
    match found {
        Some(section) if section.tests.is_some() => Ok(Some(section)),
        _ => {
            let mut list = String::new();
            for s in chapter.sections.iter().filter(|s| s.tests.is_some()) {
                list.push_str(&format!(
                    "\n  {:<5} {:<44} just {recipe} chapter{} {}",
                    s.id, s.title, chapter.number, s.id
                ));
            }
            let why = if found.is_some() {
                "has no tests (it is read, not tested)"
            } else {
                "is not one of its sections"
            };
            anyhow::bail!(
                "section {name:?} of chapter {} {why}. The sections with tests:{list}\n\nOr \
                 every section at once: `just {recipe} chapter{}`.",
                chapter.number,
                chapter.number
            )
        }
    }
}

/// The libtest filter that selects a section's tests: its module and `::`.
fn filter(section: Option<&Section>) -> Option<String> {
    section
        .and_then(|s| s.tests.as_ref())
        .map(|m| format!("{m}::"))
}

/// Runs the tests (all, or one section's) of the learner's code in place, or of the solution in
/// its scratch copy.
pub(crate) async fn run_tests(
    root: &Path,
    chapter: &Chapter,
    section: Option<&Section>,
    solution: bool,
    show: Show,
) -> Result<Report> {
    let only = filter(section);
    let docker = cargo_test::Docker::MaySkip;
    if solution {
        let scratch = Scratch::prepare(root, chapter, Version::Solution)?;
        cargo_test::run_only(&scratch.place(), chapter, show, docker, only.as_deref()).await
    } else {
        let place = Place::learner(root);
        let report = cargo_test::run_only(&place, chapter, show, docker, only.as_deref()).await?;
        save_run(root, chapter, section, &report);
        // For the book's panel (`just serve`): each section's verdict of this run.
        crate::share::record(root, chapter, section, &report);
        Ok(report)
    }
}

/// `just test chapter1 1.2`, to run only that section's tests.
fn section_command(chapter: &Chapter, section: &Section) -> String {
    format!("just test chapter{} {}", chapter.number, section.id)
}
