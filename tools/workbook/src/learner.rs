//! The learner's loop: `test`, `watch`, `hint` and `progress`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::cargo_test::{self, Report, Verdict};
use crate::manifest::{Chapter, Manifest, Status};
use crate::scratch::{Scratch, Version};

/// Runs the chapter's tests against the learner's code (or the solution) and prints them by
/// section, the first failure's explanation, and one summary line.
pub async fn test(root: &Path, chapter: &Chapter, solution: bool, repeat: u32) -> Result<ExitCode> {
    chapter.ensure_ready()?;
    let mut all_green = true;
    for run in 1..=repeat.max(1) {
        if repeat > 1 {
            println!("── run {run} of {repeat}");
        }
        let report = run_tests(root, chapter, solution, true).await?;
        print_report(chapter, &report);
        if !passed(&report) {
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

fn passed(report: &Report) -> bool {
    !report.build_failed
        && !report.timed_out
        && report.count(Verdict::Failed) == 0
        && report.count(Verdict::Passed) > 0
}

/// Runs the tests of the learner's code in place, or of the solution in its scratch copy.
pub async fn run_tests(
    root: &Path,
    chapter: &Chapter,
    solution: bool,
    show_build: bool,
) -> Result<Report> {
    if solution {
        let scratch = Scratch::prepare(root, chapter, Version::Solution)?;
        cargo_test::run(&scratch.root, chapter, Some(&scratch.target), show_build).await
    } else {
        cargo_test::run(root, chapter, None, show_build).await
    }
}

/// Prints the tests grouped by section, the first failure, and the summary line.
pub fn print_report(chapter: &Chapter, report: &Report) {
    let n = chapter.number;
    if report.timed_out {
        println!(
            "\nThe tests were still running after {} s, so they were stopped (and every process \
             they started with them). Some code is waiting for something that never happens: \
             run `TEST_LOG=1 just test chapter{n}` to watch the service's output.",
            chapter.time_limit().as_secs()
        );
        println!("chapter {n}: 0 passed, 1 failed");
        return;
    }
    if report.build_failed {
        if !report.stderr.is_empty() {
            eprintln!("{}", report.stderr);
        }
        println!(
            "\nThe chapter does not compile yet (cargo's errors are above). Fix the first error, \
             then run `just test chapter{n}` again."
        );
        println!("chapter {n}: 0 passed, 1 failed");
        return;
    }
    let color = std::io::stdout().is_terminal();
    let (green, red, dim, reset) = if color {
        ("\x1b[32m", "\x1b[31m", "\x1b[2m", "\x1b[0m")
    } else {
        ("", "", "", "")
    };
    println!();
    for section in chapter.sections.iter().filter(|s| s.tests.is_some()) {
        let tests: Vec<_> = report
            .tests
            .iter()
            .filter(|(name, _)| chapter.section_of(name).is_some_and(|s| s.id == section.id))
            .collect();
        let ok = tests.iter().filter(|(_, v)| **v == Verdict::Passed).count();
        let mark = if ok == tests.len() && !tests.is_empty() {
            format!("{green}✓{reset}")
        } else {
            format!("{red}✗{reset}")
        };
        println!(
            "{mark} {} {}  {dim}{ok}/{}{reset}",
            section.id,
            section.title,
            tests.len()
        );
        for (name, verdict) in tests {
            let short = name.split("::").last().unwrap_or(name).replace('_', " ");
            match verdict {
                Verdict::Passed => println!("    {green}✓{reset} {short}"),
                Verdict::Failed => println!("    {red}✗{reset} {short}"),
                Verdict::Ignored => println!("    {dim}- {short} (ignored){reset}"),
            }
        }
    }
    let unmapped: Vec<_> = report
        .tests
        .keys()
        .filter(|t| chapter.section_of(t).is_none())
        .collect();
    if !unmapped.is_empty() {
        println!("other tests:");
        for name in unmapped {
            println!(
                "    {} {name}",
                if report.tests[name] == Verdict::Passed {
                    "✓"
                } else {
                    "✗"
                }
            );
        }
    }

    if let Some(first) = first_failure(chapter, report) {
        let section = chapter.section_of(first);
        println!("\n{red}First failing test{reset}: {first}");
        let message = report
            .messages
            .get(first)
            .map_or("(no message)", String::as_str);
        for line in message.lines() {
            println!("  {line}");
        }
        if let Some(section) = section {
            println!("\nRead {}", section.where_to_read());
        }
        println!(
            "Stuck? `just hint chapter{n}` gives a hint; `TEST_LOG=1 just test chapter{n}` shows the service's output."
        );
    } else if report.count(Verdict::Passed) > 0 {
        println!(
            "\n{green}Every test passes.{reset} Compare with the reference: `just solution chapter{n}`."
        );
    } else {
        println!("\nNo tests ran: is the chapter's tests/ folder there?");
    }
    println!(
        "chapter {n}: {} passed, {} failed",
        report.count(Verdict::Passed),
        report.count(Verdict::Failed)
    );
}

/// The failing test that comes first in the book's order.
fn first_failure<'r>(chapter: &Chapter, report: &'r Report) -> Option<&'r str> {
    report
        .tests
        .iter()
        .filter(|(_, v)| **v == Verdict::Failed)
        .map(|(name, _)| name.as_str())
        .min_by_key(|name| (chapter.order_of(name), *name))
}

/// Re-runs the tests whenever a file under the chapter's folder changes.
pub async fn watch(root: &Path, chapter: &Chapter) -> Result<ExitCode> {
    use notify::{RecursiveMode, Watcher};
    chapter.ensure_ready()?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && (event.kind.is_modify() || event.kind.is_create() || event.kind.is_remove())
        {
            let _ = tx.send(());
        }
    })
    .context("starting the file watcher")?;
    let dir = chapter.exercise_dir(root);
    for sub in ["src", "tests"] {
        watcher
            .watch(&dir.join(sub), RecursiveMode::Recursive)
            .with_context(|| format!("watching {}", dir.join(sub).display()))?;
    }
    loop {
        print!("\x1b[2J\x1b[H");
        let report = run_tests(root, chapter, false, true).await?;
        print_report(chapter, &report);
        println!("\nWatching {} for changes. Ctrl-C to stop.", dir.display());
        tokio::select! {
            got = rx.recv() => if got.is_none() { return Ok(ExitCode::SUCCESS) },
            () = cargo_test::stop_requested() => return Ok(ExitCode::SUCCESS),
        }
        // Editors write a file in several steps; wait for them to settle, then drain the queue.
        tokio::time::sleep(Duration::from_millis(300)).await;
        while rx.try_recv().is_ok() {}
    }
}

/// Shows the next hint of the section of the first failing test.
pub async fn hint(root: &Path, chapter: &Chapter) -> Result<ExitCode> {
    chapter.ensure_ready()?;
    let n = chapter.number;
    println!("Running chapter {n}'s tests to find the first failure…");
    let report = run_tests(root, chapter, false, false).await?;
    if report.build_failed {
        println!("The chapter does not compile yet; `just test chapter{n}` shows the errors.");
        return Ok(ExitCode::FAILURE);
    }
    let Some(first) = first_failure(chapter, &report) else {
        println!("Every test of chapter {n} passes: no hint needed.");
        return Ok(ExitCode::SUCCESS);
    };
    let Some(section) = chapter.section_of(first) else {
        println!(
            "The first failing test, {first}, belongs to no section; read its message with `just test chapter{n}`."
        );
        return Ok(ExitCode::FAILURE);
    };
    let hints = chapter.hints(root)?;
    let list = hints
        .get(&section.id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let state_path = root.join("target/workbook/hints-shown.toml");
    let mut shown: BTreeMap<String, usize> = std::fs::read_to_string(&state_path)
        .ok()
        .and_then(|t| toml::from_str(&t).ok())
        .unwrap_or_default();
    let count = shown.entry(section.id.clone()).or_insert(0);
    println!(
        "\nFirst failing test: {first}\nSection {} \"{}\"",
        section.id, section.title
    );
    if list.is_empty() {
        println!("There are no hints for this section; its test's message is the best guide.");
    } else if *count >= list.len() {
        println!(
            "\nYou have seen all {} hints for {}. The last one again:\n\n  {}",
            list.len(),
            section.id,
            list[list.len() - 1]
        );
        println!(
            "\nStill stuck? `just solution chapter{n}` shows the reference version of your files."
        );
    } else {
        println!(
            "\nHint {} of {}:\n\n  {}",
            *count + 1,
            list.len(),
            list[*count]
        );
        *count += 1;
        if *count < list.len() {
            println!("\nRun `just hint chapter{n}` again for a more detailed one.");
        }
    }
    if let Some(parent) = state_path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&state_path, toml::to_string(&shown)?)?;
    println!("\nRead {}", section.where_to_read());
    Ok(ExitCode::SUCCESS)
}

/// Every chapter, with a bar of tests passing out of total.
pub async fn progress(root: &Path, manifest: &Manifest) -> Result<ExitCode> {
    println!("Running each chapter's tests (this builds them the first time)…\n");
    let mut rows = Vec::new();
    for chapter in &manifest.chapters {
        if chapter.status != Status::Ready {
            rows.push((chapter, None));
            continue;
        }
        let started = Instant::now();
        let report = run_tests(root, chapter, false, false).await?;
        rows.push((chapter, Some((report, started.elapsed()))));
    }
    for (chapter, result) in rows {
        let label = format!("{} {}", chapter.number, chapter.title);
        match result {
            None => println!("{label:<24} {:<20}  not written yet", ""),
            Some((report, _)) if report.build_failed => {
                println!(
                    "{label:<24} {:<20}  does not compile: `just test chapter{}`",
                    "", chapter.number
                )
            }
            Some((report, _)) => {
                let passed = report.count(Verdict::Passed);
                let total = report.tests.len();
                println!("{label:<24} {}  {passed}/{total}", bar(passed, total, 20));
            }
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
