//! `just progress`: every chapter, with a bar of its tests passing.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use super::run_tests;
use crate::cargo_test::{Show, Verdict};
use crate::manifest::{Manifest, Status};

/// Every chapter, with a bar of tests passing out of total; a row is printed as soon as its
/// chapter has run.
pub(crate) async fn progress(root: &Path, manifest: &Manifest) -> Result<ExitCode> {
    println!(
        "Running each chapter's tests against your code, one chapter at a time (the first time, \
         each chapter is built first: minutes, not seconds)…\n"
    );
    for chapter in &manifest.chapters {
        let label = format!("{} {}", chapter.number, chapter.title);
        if chapter.status != Status::Ready {
            println!("{label:<24} {:<20}  not written yet", "");
            continue;
        }
        // A line as each chapter starts, and its time at the end of its row: a chapter whose
        // tests build images runs for minutes, and a silent terminal looks hung.
        println!(
            "chapter {}: running its tests{}…",
            chapter.number,
            if chapter.docker {
                " (they build images on the Docker engine: minutes the first time)"
            } else {
                ""
            }
        );
        let started = std::time::Instant::now();
        let report = run_tests(root, chapter, None, false, Show::Note).await?;
        let took = format!("  ({:.0} s)", started.elapsed().as_secs_f64());
        if report.build_failed {
            println!(
                "{label:<24} {:<20}  does not compile: `just test chapter{}`{took}",
                "", chapter.number
            );
        } else if report.timed_out {
            println!(
                "{label:<24} {:<20}  hung until the time limit: `just test chapter{}`{took}",
                "", chapter.number
            );
        } else {
            let passed = report.count(Verdict::Passed);
            let skipped = report.count(Verdict::Skipped) + report.count(Verdict::Ignored);
            // Skipped tests are not part of the bar, nor of its total: they neither passed nor
            // failed, as the note beside it says.
            let total = report.tests.len() - skipped;
            let skipped_note = if report.crash.is_some() {
                format!(
                    "  (the test program crashed: `just test chapter{}`)",
                    chapter.number
                )
            } else if skipped > 0 {
                format!("  ({skipped} skipped: did not run)")
            } else {
                String::new()
            };
            println!(
                "{label:<24} {}  {passed}/{total}{skipped_note}{took}",
                bar(passed, total, 20)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `██████░░░░` for `done` of `total`.
fn bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width).checked_div(total).unwrap_or(0);
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_in_proportion() {
        assert_eq!(bar(0, 14, 10), "░░░░░░░░░░");
        assert_eq!(bar(7, 14, 10), "█████░░░░░");
        assert_eq!(bar(14, 14, 10), "██████████");
        assert_eq!(bar(0, 0, 4), "░░░░");
    }
}
