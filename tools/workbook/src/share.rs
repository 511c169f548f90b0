//! What a run leaves for the book's panel and the room: each section's tests passed out of total,
//! and its first failure's sentence with the hint command, in `.workbook/verdicts.json`.
//!
//! Written after every run of the learner's code (`just test`, `just watch`, `just hint`,
//! `just progress`), never of the solution. The book's panel (`just serve`, [`crate::panel`])
//! reads it; the room (`just room join`, [`crate::room_link`]) gets the run's own sections.
//! A section that did not run this time keeps its last verdict.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::cargo_test::{Report, Verdict};
use crate::manifest::{Chapter, Section};

/// The longest failure sentence kept: the panel and the room show one line.
const MAX_SENTENCE: usize = 300;

/// Every section's last verdict, and a counter that moves on every write (the panel waits for it).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Verdicts {
    pub(crate) seq: u64,
    pub(crate) sections: BTreeMap<String, SectionVerdict>,
}

/// One section's tests in the last run that ran them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct SectionVerdict {
    pub(crate) passed: u32,
    /// Tests that ran (a skipped one neither passed nor failed, as in `just progress`).
    pub(crate) total: u32,
    /// Why the section is not green: the first failure's first line, or why nothing ran.
    pub(crate) failure: Option<String>,
    /// The command that helps next (`just hint chapter1 1.2`).
    pub(crate) hint: Option<String>,
}

impl SectionVerdict {
    pub(crate) fn green(&self) -> bool {
        self.failure.is_none() && self.total > 0 && self.passed == self.total
    }
}

pub(crate) fn path(root: &Path) -> PathBuf {
    root.join(".workbook/verdicts.json")
}

/// Reads the file; a missing or unreadable one is an empty record.
pub(crate) fn read(root: &Path) -> Verdicts {
    std::fs::read(path(root))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// The verdict of each section this run covered (`only`, or every section with tests).
pub(crate) fn of_run(
    chapter: &Chapter,
    only: Option<&Section>,
    report: &Report,
) -> Vec<(String, SectionVerdict)> {
    let n = chapter.number;
    let whole = if report.build_failed {
        Some(format!(
            "Chapter {n} does not compile yet, so no test could run."
        ))
    } else if report.timed_out {
        Some(format!(
            "The tests were still running {} s after they started, so they were stopped.",
            chapter.time_limit().as_secs()
        ))
    } else {
        report.crash.as_ref().map(|c| c.sentence())
    };
    chapter
        .sections
        .iter()
        .filter(|s| s.tests.is_some())
        .filter(|s| only.is_none_or(|o| o.id == s.id))
        .map(|section| {
            let mut tests: Vec<(&String, &Verdict)> = report
                .tests
                .iter()
                .filter(|(name, _)| chapter.section_of(name).is_some_and(|s| s.id == section.id))
                .collect();
            tests.sort_by_key(|(name, _)| (chapter.order_of(name), name.as_str()));
            let passed = tests.iter().filter(|(_, v)| **v == Verdict::Passed).count();
            let total = tests
                .iter()
                .filter(|(_, v)| matches!(v, Verdict::Passed | Verdict::Failed))
                .count();
            let first_failure =
                tests
                    .iter()
                    .find(|(_, v)| **v == Verdict::Failed)
                    .map(|(name, _)| {
                        report
                            .messages
                            .get(*name)
                            .and_then(|m| m.lines().map(str::trim).find(|l| !l.is_empty()))
                            .unwrap_or("(no message)")
                            .to_owned()
                    });
            let failure = whole.clone().or(first_failure);
            let hint = failure
                .as_ref()
                .map(|_| format!("just hint chapter{n} {}", section.id));
            let verdict = SectionVerdict {
                passed: u32::try_from(passed).unwrap_or(u32::MAX),
                total: u32::try_from(total).unwrap_or(u32::MAX),
                failure: failure.map(|f| bounded(&f)),
                hint,
            };
            (section.id.clone(), verdict)
        })
        .collect()
}

fn bounded(sentence: &str) -> String {
    if sentence.chars().count() <= MAX_SENTENCE {
        return sentence.to_owned();
    }
    let mut cut: String = sentence.chars().take(MAX_SENTENCE - 1).collect();
    cut.push('…');
    cut
}

/// Records the run's sections in `.workbook/verdicts.json` (written whole, then renamed, so the
/// panel never reads half a file) and returns them. Failing to write is not the learner's
/// problem: the run's verdict is on their screen either way.
pub(crate) fn record(
    root: &Path,
    chapter: &Chapter,
    only: Option<&Section>,
    report: &Report,
) -> Vec<(String, SectionVerdict)> {
    let run = of_run(chapter, only, report);
    let mut all = read(root);
    all.seq += 1;
    for (id, verdict) in &run {
        all.sections.insert(id.clone(), verdict.clone());
    }
    let file = path(root);
    if let (Some(dir), Ok(bytes)) = (file.parent(), serde_json::to_vec_pretty(&all)) {
        let temporary = dir.join(format!(".verdicts.{}.json", std::process::id()));
        let _ = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&temporary, bytes))
            .and_then(|()| std::fs::rename(&temporary, &file));
    }
    run
}
