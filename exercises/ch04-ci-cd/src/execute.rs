//! 4.2: running the jobs: each `run:` step as a real process, with the job's environment; a job
//! stops at its first failing step, and the jobs that need a failed job are skipped.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

#[allow(unused_imports)] // You will need these in 4.2.
use crate::condition::{self, Upstream};
use crate::report::{JobReport, JobResult, StepOutcome, StepReport};
use crate::workflow::{Context, Workflow};

/// Runs the jobs of `workflow` in `order`, from `workdir`, and reports on each.
pub async fn run(
    workflow: &Workflow,
    order: &[String],
    ctx: &Context,
    workdir: &Path,
) -> Vec<JobReport> {
    // TODO(4.2): as it is, every step of every job runs, whatever happened before, with none of
    // the workflow's environment. Make it run like GitHub does:
    // - a job whose `if:` is false, or which needs a job that did not succeed, is skipped
    //   (`condition::evaluate` decides, given how the needed jobs ended);
    // - each `run:` step gets the workflow's, the job's and the step's `env:` (later ones win,
    //   `${{ … }}` substituted with `ctx.substitute`), in its `working-directory`;
    // - a job stops at its first failing step (later steps are skipped, unless their `if:` says
    //   otherwise) and is reported failed;
    // - `uses:` steps are skipped: actions run only on GitHub.
    let _ = ctx;
    let mut reports = Vec::new();
    for name in order {
        let job = &workflow.jobs[name];
        let started = Instant::now();
        let mut steps = Vec::new();
        for step in &job.steps {
            let step_started = Instant::now();
            let outcome = match &step.run {
                Some(script) => run_script(script, &BTreeMap::new(), workdir).await,
                None => StepOutcome::Skipped("not a run: step".into()),
            };
            steps.push(StepReport {
                label: step.label(),
                outcome,
                took: step_started.elapsed(),
            });
        }
        let mut report = JobReport::new(name, JobResult::Succeeded, started);
        report.steps = steps;
        reports.push(report);
    }
    reports
}

/// Runs one `run:` script with `sh -e`, as Actions does (`bash -e` there), so that its first
/// failing command fails the step.
async fn run_script(script: &str, env: &BTreeMap<String, String>, dir: &Path) -> StepOutcome {
    let status = tokio::process::Command::new("sh")
        .args(["-e", "-c", script])
        .envs(env)
        .current_dir(dir)
        .kill_on_drop(true)
        .status()
        .await;
    match status {
        Ok(s) if s.success() => StepOutcome::Succeeded,
        Ok(s) => StepOutcome::Failed(match s.code() {
            Some(code) => format!("exited with code {code}"),
            None => "was killed by a signal".into(),
        }),
        Err(err) => StepOutcome::Failed(format!("could not start: {err}")),
    }
}
