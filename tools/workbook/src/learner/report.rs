//! Printing a run: the tests by section, the failures of the first failing section explained,
//! the summary line; and which section a failure is about.

use anstream::println;
use anstyle::{AnsiColor, Reset, Style};

use super::section_command;
use crate::cargo_test::{Report, Verdict};
use crate::manifest::{Chapter, Section};

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
                // The compiler's, or cargo's own where the compiler said nothing (a build script).
                println!("The first error (fix it first; the rest often follow):\n");
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
    // anstream's stdout drops the styles when it is not a terminal, or NO_COLOR is set.
    let green = AnsiColor::Green.on_default();
    let red = AnsiColor::Red.on_default();
    let yellow = AnsiColor::Yellow.on_default();
    let dim = Style::new().dimmed();
    let reset = Reset;
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
                // Several tests that share one failed step (chapter 3's image build) fail with
                // one message: it is shown once.
                if let Some(same) = failures[..i]
                    .iter()
                    .find(|earlier| report.messages.get(**earlier).is_some_and(|m| m == message))
                {
                    println!("  The same message as {same}, above.");
                    continue;
                }
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
pub(super) fn redis_unreachable(report: &Report) -> Option<&str> {
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
pub(super) fn named_sections(message: &str) -> Vec<String> {
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
pub(super) fn first_failure<'r>(chapter: &Chapter, report: &'r Report) -> Option<&'r str> {
    failures_to_explain(chapter, report).first().copied()
}

/// Every failing test of the first failing section, in the book's order: the first failure,
/// then the others of its section, so that two mistakes in one section take one run to see.
pub(super) fn failures_to_explain<'r>(chapter: &Chapter, report: &'r Report) -> Vec<&'r str> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;
    use std::path::Path;

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
}
