//! The learner's loop: `test`, `watch`, `hint` and `progress`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::cargo_test::{self, Place, Report, Show, Verdict};
use crate::manifest::{Chapter, Manifest, Section, Status};
use crate::scratch::{Scratch, Version};

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
        Ok(report)
    }
}

/// `just test chapter1 1.2`, to run only that section's tests.
fn section_command(chapter: &Chapter, section: &Section) -> String {
    format!("just test chapter{} {}", chapter.number, section.id)
}

/// Prints the tests grouped by section (only `section`'s, when one was named), every failure
/// of the first failing section (the first first), and the summary line.
pub(crate) fn print_report(chapter: &Chapter, section: Option<&Section>, report: &Report) {
    let n = chapter.number;
    if report.timed_out {
        println!(
            "\nThe tests were still running {} s after they started (the build had finished \
             before the clock started), so they were stopped, and every process they started \
             with them. Some code is waiting for something that never happens: run \
             `TEST_LOG=1 just test chapter{n}` to watch the output of the programs the tests start.",
            chapter.time_limit().as_secs()
        );
        println!("chapter {n}: 0 passed, 1 failed (stopped at the time limit)");
        return;
    }
    if report.build_failed {
        println!("\nChapter {n} does not compile yet, so no test could run.");
        if section.is_some() {
            // The trial's learner met this: a 5.2 slip stopped `just test chapter5 5.1`.
            println!(
                "(Every section's tests are one program, built from the whole chapter: code \
                 another section is still missing must compile too, `todo!()` is fine.)"
            );
        }
        match &report.first_error {
            Some(error) => {
                println!("The compiler's first error (fix it first; the rest often follow):\n");
                for line in error.lines() {
                    println!("  {line}");
                }
            }
            None if !report.stderr.is_empty() => eprintln!("{}", report.stderr),
            None => {}
        }
        println!("\nThen run `just test chapter{n}` again.");
        println!("chapter {n}: does not compile");
        return;
    }
    let color = std::io::stdout().is_terminal();
    let (green, red, yellow, dim, reset) = if color {
        ("\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[2m", "\x1b[0m")
    } else {
        ("", "", "", "", "")
    };
    println!();
    let shown = chapter
        .sections
        .iter()
        .filter(|s| s.tests.is_some())
        .filter(|s| section.is_none_or(|only| only.id == s.id));
    for section in shown {
        let tests: Vec<_> = report
            .tests
            .iter()
            .filter(|(name, _)| chapter.section_of(name).is_some_and(|s| s.id == section.id))
            .collect();
        let ok = tests.iter().filter(|(_, v)| **v == Verdict::Passed).count();
        let skipped = tests
            .iter()
            .filter(|(_, v)| **v == Verdict::Skipped)
            .count();
        let mark = if ok == tests.len() && !tests.is_empty() {
            format!("{green}✓{reset}")
        } else if skipped > 0 && ok + skipped == tests.len() {
            format!("{yellow}-{reset}")
        } else {
            format!("{red}✗{reset}")
        };
        let skipped_note = if skipped > 0 {
            format!(", {skipped} skipped")
        } else {
            String::new()
        };
        println!(
            "{mark} {} {}  {dim}{ok}/{}{skipped_note}{reset}",
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
                Verdict::Skipped => println!("    {yellow}- {short} (skipped: did not run){reset}"),
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
                match report.tests[name] {
                    Verdict::Passed => "✓",
                    Verdict::Failed => "✗",
                    Verdict::Ignored | Verdict::Skipped => "-",
                }
            );
        }
    }

    if let Some(crash) = &report.crash {
        println!("\n{red}{}{reset}", crash.sentence());
    }
    let failures = failures_to_explain(chapter, report);
    if let Some(first) = failures.first().copied() {
        let message = report
            .messages
            .get(first)
            .map_or("(no message)", String::as_str);
        if let Some(why) = redis_unreachable(report) {
            println!(
                "\n{red}Redis is not reachable{reset}, so the tests that need it could not run. This is about the machine, not your code:"
            );
            for line in why.lines() {
                println!("  {line}");
            }
        } else {
            println!("\n{red}First failing test{reset}: {first}");
            for line in message.lines() {
                println!("  {line}");
            }
            let total = failures.len();
            let id = chapter.section_of(first).map_or("", |s| s.id.as_str());
            for (i, name) in failures.iter().enumerate().skip(1) {
                println!(
                    "\n{red}Also failing in {id}{reset} ({} of its {total} failures): {name}",
                    i + 1
                );
                let message = report
                    .messages
                    .get(*name)
                    .map_or("(no message)", String::as_str);
                for line in message.lines() {
                    println!("  {line}");
                }
            }
            if let Some(blamed) = blamed_section(chapter, first, message) {
                println!("\nRead {}", blamed.where_to_read());
                println!("Only its tests: `{}`.", section_command(chapter, blamed));
            }
            let named = section.map(|s| format!(" {}", s.id)).unwrap_or_default();
            println!(
                "Stuck? `just hint chapter{n}{named}` gives a hint; `TEST_LOG=1 just test chapter{n}{named}` shows the output of the programs the tests start."
            );
        }
    } else if report.crash.is_some() {
        // Said above; nothing passes when the program crashed.
    } else if report.count(Verdict::Passed) > 0 && report.count(Verdict::Skipped) == 0 {
        match section {
            // One section passing is not the chapter passing: say which, and what is next.
            Some(only) => println!(
                "\n{green}Every test of section {} passes.{reset} The whole chapter: `just test chapter{n}`.",
                only.id
            ),
            None => println!(
                "\n{green}Every test passes.{reset} Compare with the reference: `just solution chapter{n}`."
            ),
        }
    } else if report.count(Verdict::Skipped) > 0 {
        println!(
            "\n{yellow}Every test that ran passes, but {} did not run.{reset}",
            report.count(Verdict::Skipped)
        );
    } else {
        println!("\nNo tests ran: is the chapter's tests/ folder there?");
    }
    let mut summary = summary_line(n, report);
    if let Some(section) = section {
        summary = summary.replacen(':', &format!(", section {}:", section.id), 1);
    }
    println!("{summary}");
}

/// `chapter 3: 0 passed, 13 failed, 7 skipped (no Docker engine: start it, then run again)`.
pub(crate) fn summary_line(n: u32, report: &Report) -> String {
    let mut line = format!(
        "chapter {n}: {} passed, {} failed",
        report.count(Verdict::Passed),
        report.count(Verdict::Failed)
    );
    let skipped = report.count(Verdict::Skipped);
    if skipped > 0 {
        let reasons: std::collections::BTreeSet<&str> = report
            .skip_reasons
            .values()
            .map(|r| r.split(':').next().unwrap_or(r).trim())
            .collect();
        let reasons: Vec<&str> = reasons.into_iter().collect();
        line.push_str(&format!(
            ", {skipped} skipped ({}: start it, then run again)",
            reasons.join(", ")
        ));
    }
    if report.crash.is_some() {
        line.push_str(" (the test program crashed)");
    }
    line
}

/// The message of a failure that says Redis could not be reached, if any test failed that way.
fn redis_unreachable(report: &Report) -> Option<&str> {
    report
        .tests
        .iter()
        .filter(|(_, v)| **v == Verdict::Failed)
        .filter_map(|(name, _)| report.messages.get(name))
        .find_map(|m| {
            m.find(test_support::redis_server::REDIS_UNREACHABLE)
                .map(|at| &m[at + test_support::redis_server::REDIS_UNREACHABLE.len()..])
        })
}

/// The section a failure is about: the one its message names ("See 1.5"), which a test chooses
/// from what the service did, else the section the test belongs to.
pub(crate) fn blamed_section<'c>(
    chapter: &'c Chapter,
    test: &str,
    message: &str,
) -> Option<&'c Section> {
    named_sections(message)
        .into_iter()
        .find_map(|id| chapter.sections.iter().find(|s| s.id == id))
        .or_else(|| chapter.section_of(test))
}

/// The section ids a message points to with "See N.M", in order.
fn named_sections(message: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = message;
    while let Some(at) = rest.find("See ") {
        rest = &rest[at + 4..];
        let id: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let id = id.trim_end_matches('.');
        if id.contains('.') {
            ids.push(id.to_owned());
        }
    }
    ids
}

/// The failing test that comes first in the book's order.
fn first_failure<'r>(chapter: &Chapter, report: &'r Report) -> Option<&'r str> {
    failures_to_explain(chapter, report).first().copied()
}

/// Every failing test of the first failing section, in the book's order: the first failure,
/// then the others of its section, so that two mistakes in one section take one run to see.
fn failures_to_explain<'r>(chapter: &Chapter, report: &'r Report) -> Vec<&'r str> {
    let mut failed: Vec<&str> = report
        .tests
        .iter()
        .filter(|(_, v)| **v == Verdict::Failed)
        .map(|(name, _)| name.as_str())
        .collect();
    failed.sort_by_key(|name| (chapter.order_of(name), *name));
    let Some(first) = failed.first().copied() else {
        return failed;
    };
    let module = |name: &str| name.split("::").next().map(str::to_owned);
    failed.retain(|name| module(name) == module(first));
    failed
}

/// Re-runs the tests whenever a file under the chapter's folder changes.
pub(crate) async fn watch(
    root: &Path,
    chapter: &Chapter,
    section: Option<&Section>,
) -> Result<ExitCode> {
    use notify::{RecursiveMode, Watcher};
    chapter.ensure_ready()?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && (event.kind.is_modify() || event.kind.is_create() || event.kind.is_remove())
            // The chapter's whole folder (src/, service/, workflow/, k8s/, tests/, …), minus
            // what builds write.
            && event
                .paths
                .iter()
                .any(|p| !p.components().any(|c| c.as_os_str() == "target"))
        {
            let _ = tx.send(());
        }
    })
    .context("starting the file watcher")?;
    let dir = chapter.exercise_dir(root);
    watcher
        .watch(&dir, RecursiveMode::Recursive)
        .with_context(|| format!("watching {}", dir.display()))?;
    loop {
        print!("\x1b[2J\x1b[H");
        let report = run_tests(root, chapter, section, false, Show::Build).await?;
        print_report(chapter, section, &report);
        println!("\nWatching {} for changes. Ctrl-C to stop.", dir.display());
        tokio::select! {
            got = rx.recv() => if got.is_none() { return Ok(ExitCode::SUCCESS) },
            () = crate::stop::requested() => return Ok(ExitCode::SUCCESS),
        }
        // Editors write a file in several steps; wait for them to settle, then drain the queue.
        tokio::time::sleep(Duration::from_millis(300)).await;
        while rx.try_recv().is_ok() {}
    }
}

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
        let report = run_tests(root, chapter, None, false, Show::Note).await?;
        if report.build_failed {
            println!(
                "{label:<24} {:<20}  does not compile: `just test chapter{}`",
                "", chapter.number
            );
        } else if report.timed_out {
            println!(
                "{label:<24} {:<20}  hung until the time limit: `just test chapter{}`",
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
                "{label:<24} {}  {passed}/{total}{skipped_note}",
                bar(passed, total, 20)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The report of the learner's last run of this chapter (of the same section, or of every
/// one), if no file of the chapter (nor the manifest) has changed since.
fn last_run(root: &Path, chapter: &Chapter, section: Option<&Section>) -> Option<Report> {
    let text = std::fs::read_to_string(last_run_path(root, chapter)).ok()?;
    let saved: SavedRun = toml::from_str(&text).ok()?;
    (saved.fingerprint == fingerprint(root, chapter)
        && saved.section.as_deref() == section.map(|s| s.id.as_str()))
    .then_some(saved.report)
}

/// Keeps the report of a run of the learner's code for `just hint`.
fn save_run(root: &Path, chapter: &Chapter, section: Option<&Section>, report: &Report) {
    let saved = SavedRun {
        fingerprint: fingerprint(root, chapter),
        section: section.map(|s| s.id.clone()),
        report: report.clone(),
    };
    let path = last_run_path(root, chapter);
    if let (Some(parent), Ok(text)) = (path.parent(), toml::to_string(&saved)) {
        let _ = std::fs::create_dir_all(parent);
        let _ = std::fs::write(path, text);
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SavedRun {
    fingerprint: String,
    /// The section the run was limited to, if any.
    #[serde(default)]
    section: Option<String>,
    report: Report,
}

fn last_run_path(root: &Path, chapter: &Chapter) -> std::path::PathBuf {
    root.join("target/workbook/last-run")
        .join(format!("{}.toml", chapter.folder))
}

/// Names, sizes and modification times of every file of the chapter (not its build output)
/// and of the manifest, hashed: any edit changes it.
fn fingerprint(root: &Path, chapter: &Chapter) -> String {
    use std::hash::{Hash, Hasher};
    fn walk(dir: &Path, hasher: &mut std::collections::hash_map::DefaultHasher) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            if entry.file_name() == "target" {
                continue;
            }
            if path.is_dir() {
                walk(&path, hasher);
            } else if let Ok(meta) = entry.metadata() {
                path.hash(hasher);
                meta.len().hash(hasher);
                meta.modified().ok().hash(hasher);
            }
        }
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    walk(&chapter.exercise_dir(root), &mut hasher);
    std::fs::metadata(root.join("chapters.toml"))
        .and_then(|m| m.modified())
        .ok()
        .hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// `██████░░░░` for `done` of `total`.
fn bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width).checked_div(total).unwrap_or(0);
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chapter1() -> Chapter {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let manifest = Manifest::load(&root).unwrap();
        manifest
            .chapters
            .into_iter()
            .find(|c| c.number == 1)
            .unwrap()
    }

    #[test]
    fn a_failure_is_blamed_on_the_section_its_message_names() {
        let chapter = chapter1();
        // The 1.1 test noticed, but the service got the signal and hung after the drain.
        let message = "After SIGTERM the service did not exit.\nWhat it did: … See 1.5.";
        let section =
            blamed_section(&chapter, "s1_1_signals::sigterm_exits_zero", message).unwrap();
        assert_eq!(section.id, "1.5");
        // With no section named, the test's own module decides.
        let section = blamed_section(&chapter, "s1_2_drain::x", "no pointer here").unwrap();
        assert_eq!(section.id, "1.2");
    }

    #[test]
    fn skips_are_counted_apart_in_the_summary() {
        let mut report = Report::default();
        report.tests.insert("s3_1::a".into(), Verdict::Failed);
        report.tests.insert("s3_2::b".into(), Verdict::Skipped);
        report.tests.insert("s3_2::c".into(), Verdict::Skipped);
        report
            .skip_reasons
            .insert("s3_2::b".into(), "no Docker engine: refused".into());
        report
            .skip_reasons
            .insert("s3_2::c".into(), "no Docker engine: refused".into());
        assert_eq!(
            summary_line(3, &report),
            "chapter 3: 0 passed, 1 failed, 2 skipped (no Docker engine: start it, then run again)"
        );
        assert!(!report.green());
    }

    #[test]
    fn a_missing_redis_is_told_apart_from_a_fault_in_the_code() {
        let mut report = Report::default();
        report.tests.insert("s1_1::a".into(), Verdict::Failed);
        report.messages.insert(
            "s1_1::a".into(),
            format!(
                "{}redis-server is not installed",
                test_support::redis_server::REDIS_UNREACHABLE
            ),
        );
        assert_eq!(
            redis_unreachable(&report),
            Some("redis-server is not installed")
        );
        report
            .messages
            .insert("s1_1::a".into(), "exit code 1, expected 0. See 1.1.".into());
        assert_eq!(redis_unreachable(&report), None);
    }

    #[test]
    fn bars_fill_in_proportion() {
        assert_eq!(bar(0, 14, 10), "░░░░░░░░░░");
        assert_eq!(bar(7, 14, 10), "█████░░░░░");
        assert_eq!(bar(14, 14, 10), "██████████");
        assert_eq!(bar(0, 0, 4), "░░░░");
    }
}
