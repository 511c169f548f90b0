//! After a crash: the tests that never reported, run again one at a time.

use anyhow::Result;

use super::report::{Report, Verdict};
use super::{Show, Tests};
use crate::crash::{self, Crash};
use crate::manifest::Chapter;

/// After a crash (see [`crate::crash`]): every test of the program that never reported, and
/// every failure whose message was lost, is run again on its own, so that each gets a verdict
/// and a message, and the tests that crash the program are named.
pub(super) async fn recover(
    tests: &Tests<'_>,
    only: Option<&str>,
    show: Show,
    status: std::process::ExitStatus,
    report: &mut Report,
) -> Result<()> {
    let chapter: &Chapter = tests.chapter;
    let how = crash::how_it_ended(status);
    let mut overflowed = crash::overflowed(&report.stderr);
    let deadline = std::time::Instant::now() + chapter.time_limit();
    let mut list_args = vec!["--list", "--format", "terse"];
    list_args.extend(only);
    let listed = tests
        .run(false, chapter.time_limit(), &list_args)
        .await?
        .map(|listing| crash::listed(&listing.out))
        .unwrap_or_default();
    let unreported: Vec<String> = listed
        .into_iter()
        .filter(|t| !report.tests.contains_key(t))
        .collect();
    let lost: Vec<String> = report
        .tests
        .iter()
        .filter(|(name, v)| **v == Verdict::Failed && !report.messages.contains_key(*name))
        .map(|(name, _)| name.clone())
        .collect();
    let mut again: Vec<&String> = lost.iter().chain(&unreported).collect();
    again.sort_by_key(|name| (chapter.order_of(name), name.as_str()));
    if show != Show::Nothing && !again.is_empty() {
        eprintln!(
            "The test program crashed: {how}. Running the {} test(s) it did not finish, or whose \
             message it lost, again, one at a time, to find out which crashes it…",
            again.len()
        );
    }
    let mut found = Crash {
        how: how.clone(),
        unfinished: unreported.len(),
        ..Crash::default()
    };
    for name in again {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let alone = if left.is_zero() {
            None
        } else {
            tests.run(false, left, &["--exact", name]).await?
        };
        let Some(alone) = alone else {
            report.tests.insert(name.clone(), Verdict::Failed);
            report.messages.entry(name.clone()).or_insert_with(|| {
                format!(
                    "The test program crashed ({how}) before this test reported, and there was \
                     no time left to run it again on its own."
                )
            });
            found.unknown.push(name.clone());
            continue;
        };
        overflowed.extend(crash::overflowed(&alone.err));
        match alone.report.tests.get(name) {
            Some(Verdict::Passed) if lost.contains(name) => {
                report
                    .messages
                    .insert(name.clone(), crash::lost_message(&how));
            }
            Some(verdict) => {
                report.tests.insert(name.clone(), *verdict);
                for (from, to) in [
                    (&alone.report.messages, &mut report.messages),
                    (&alone.report.skip_reasons, &mut report.skip_reasons),
                ] {
                    if let Some(text) = from.get(name) {
                        to.insert(name.clone(), text.clone());
                    }
                }
            }
            None => {
                let how_alone = crash::how_it_ended(alone.status);
                report.tests.insert(name.clone(), Verdict::Failed);
                report.messages.insert(
                    name.clone(),
                    crash::crashed_message(name, &how_alone, overflowed.contains(name)),
                );
                found.tests.push(name.clone());
            }
        }
    }
    report.crash = Some(found);
    Ok(())
}
