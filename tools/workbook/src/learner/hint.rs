//! `just hint`: the next hint of the section of the first failing test.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use super::last_run::last_run;
use super::report::{blamed_section, first_failure, redis_unreachable};
use super::{run_tests, section_command};
use crate::cargo_test::Show;
use crate::manifest::{Chapter, Section};

/// Shows the next hint of the section of the first failing test (of `section`'s tests, when
/// one was named).
pub(crate) async fn hint(
    root: &Path,
    chapter: &Chapter,
    only: Option<&Section>,
) -> Result<ExitCode> {
    chapter.ensure_ready()?;
    let n = chapter.number;
    let report = match last_run(root, chapter, only) {
        Some(report) => {
            println!(
                "Using the result of your last `just test chapter{n}{}` (no file has changed since).",
                only.map(|s| format!(" {}", s.id)).unwrap_or_default()
            );
            report
        }
        None => {
            match only {
                Some(section) => println!(
                    "Running section {}'s tests to find the first failure…",
                    section.id
                ),
                None => println!("Running chapter {n}'s tests to find the first failure…"),
            }
            run_tests(root, chapter, only, false, Show::Note).await?
        }
    };
    if report.build_failed {
        println!("The chapter does not compile yet; `just test chapter{n}` shows the errors.");
        return Ok(ExitCode::FAILURE);
    }
    if report.timed_out {
        println!(
            "The tests hung until the time limit; `TEST_LOG=1 just test chapter{n}` shows what \
             the service was doing."
        );
        return Ok(ExitCode::FAILURE);
    }
    let Some(first) = first_failure(chapter, &report) else {
        if let Some(crash) = &report.crash {
            println!(
                "{}\n`just test chapter{n}` shows the run.",
                crash.sentence()
            );
            return Ok(ExitCode::FAILURE);
        }
        match only {
            Some(s) => println!("Every test of section {} passes: no hint needed.", s.id),
            None => println!("Every test of chapter {n} passes: no hint needed."),
        }
        return Ok(ExitCode::SUCCESS);
    };
    let message = report.messages.get(first).map_or("", String::as_str);
    if redis_unreachable(&report).is_some() {
        println!(
            "The tests could not reach a Redis, which is about the machine, not your code: \
             `just doctor` says how to get one."
        );
        return Ok(ExitCode::FAILURE);
    }
    let Some(section) = blamed_section(chapter, first, message) else {
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
            let named = only.map(|s| format!(" {}", s.id)).unwrap_or_default();
            println!("\nRun `just hint chapter{n}{named}` again for a more detailed one.");
        }
    }
    if let Some(parent) = state_path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&state_path, toml::to_string(&shown)?)?;
    println!("\nRead {}", section.where_to_read());
    println!("Only its tests: `{}`.", section_command(chapter, section));
    Ok(ExitCode::SUCCESS)
}
