//! What happened to each job and step, and the summary the runner prints. Given, not an
//! exercise.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

// ANCHOR: reports
/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobResult {
    Succeeded,
    /// With the reason (the failing step).
    Failed(String),
    /// With the reason (a failed need, or a false `if:`).
    Skipped(String),
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    Succeeded,
    Failed(String),
    Skipped(String),
}

/// One step's report.
#[derive(Debug, Clone)]
pub struct StepReport {
    pub label: String,
    pub outcome: StepOutcome,
    pub took: Duration,
}

/// One job's report.
#[derive(Debug, Clone)]
pub struct JobReport {
    pub job: String,
    pub result: JobResult,
    pub took: Duration,
    pub steps: Vec<StepReport>,
}

impl JobReport {
    /// A report for `job`, timed from `started` until now.
    pub fn new(job: &str, result: JobResult, started: Instant) -> JobReport {
        JobReport {
            job: job.to_owned(),
            result,
            took: started.elapsed(),
            steps: Vec::new(),
        }
    }
}
// ANCHOR_END: reports

/// The summary: one line per job, then its steps.
///
/// ```text
/// ✓ test     succeeded  2.31 s
///     ✓ cargo fmt --all --check      0.12 s
/// ✗ build    failed     0.40 s  (step `docker build` exited with code 1)
/// - deploy   skipped             (it needs build, which did not succeed)
/// ```
pub fn summary(reports: &[JobReport]) -> String {
    let width = reports.iter().map(|r| r.job.len()).max().unwrap_or(0);
    let mut out = String::new();
    for r in reports {
        let (mark, word, why) = match &r.result {
            JobResult::Succeeded => ("✓", "succeeded", String::new()),
            JobResult::Failed(why) => ("✗", "failed", format!("  ({why})")),
            JobResult::Skipped(why) => ("-", "skipped", format!("  ({why})")),
        };
        let _ = writeln!(
            out,
            "{mark} {:<width$}  {word:<9}  {:>6.2} s{why}",
            r.job,
            r.took.as_secs_f64()
        );
        for s in &r.steps {
            let (mark, note) = match &s.outcome {
                StepOutcome::Succeeded => ("✓", String::new()),
                StepOutcome::Failed(why) => ("✗", format!("  ({why})")),
                StepOutcome::Skipped(why) => ("-", format!("  ({why})")),
            };
            let _ = writeln!(
                out,
                "    {mark} {:<40} {:>6.2} s{note}",
                truncate(&s.label, 40),
                s.took.as_secs_f64()
            );
        }
    }
    let failed = reports
        .iter()
        .filter(|r| matches!(r.result, JobResult::Failed(_)))
        .count();
    let passed = reports
        .iter()
        .filter(|r| r.result == JobResult::Succeeded)
        .count();
    let skipped = reports.len() - failed - passed;
    let _ = writeln!(
        out,
        "pipeline: {passed} passed, {failed} failed, {skipped} skipped"
    );
    out
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}
