//! What a test run produced: each test's verdict, the failures' messages, and how the run ended.

use std::collections::BTreeMap;

use crate::crash::Crash;

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Verdict {
    Passed,
    Failed,
    Ignored,
    /// The test returned without checking anything, because something it needs is missing (a
    /// Docker engine): libtest says "ok", the test recorded why it did not run.
    Skipped,
}

/// What a test run produced.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Report {
    /// Every test by full name (`s1_2_drain::…`), with its verdict.
    pub tests: BTreeMap<String, Verdict>,
    /// The panic message of each failed test.
    pub messages: BTreeMap<String, String>,
    /// True if the code did not compile (or cargo failed before running tests).
    pub build_failed: bool,
    /// The compiler's first error, when it did not compile.
    pub first_error: Option<String>,
    /// Why each skipped test did not run.
    pub skip_reasons: BTreeMap<String, String>,
    /// Set when the run was stopped at the time limit.
    pub timed_out: bool,
    /// cargo's stderr, kept when it is not shown live.
    pub stderr: String,
    /// Set when the test program crashed (or exited) before every test had reported, or failed
    /// with no failing test: never a pass, whatever the verdicts say.
    #[serde(default)]
    pub crash: Option<Crash>,
}

impl Report {
    pub(crate) fn count(&self, verdict: Verdict) -> usize {
        self.tests.values().filter(|v| **v == verdict).count()
    }

    /// Green: it built, nothing failed, hung or crashed, and every test ran (a skipped test
    /// proved nothing).
    pub(crate) fn green(&self) -> bool {
        !self.build_failed
            && !self.timed_out
            && self.crash.is_none()
            && self.count(Verdict::Failed) == 0
            && self.count(Verdict::Skipped) == 0
            && self.count(Verdict::Passed) > 0
    }

    /// Turns the "ok" of each test that recorded a skip into [`Verdict::Skipped`].
    pub(crate) fn mark_skipped(&mut self, skips: &BTreeMap<String, String>) {
        for (name, reason) in skips {
            if let Some(verdict) = self.tests.get_mut(name)
                && *verdict == Verdict::Passed
            {
                *verdict = Verdict::Skipped;
                self.skip_reasons.insert(name.clone(), reason.clone());
            }
        }
    }
}
