//! 4.2: running the jobs: each `run:` step as a real process, with the job's environment; a job
//! stops at its first failing step, and the jobs that need a failed job are skipped.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use crate::condition::{self, Upstream};
use crate::report::{JobReport, JobResult, StepOutcome, StepReport};
use crate::workflow::{Context, Workflow};

// ANCHOR: run
/// Runs the jobs of `workflow` in `order`, from `workdir`, and reports on each.
pub async fn run(
    workflow: &Workflow,
    order: &[String],
    ctx: &Context,
    workdir: &Path,
) -> Vec<JobReport> {
    let mut reports: Vec<JobReport> = Vec::new();
    for name in order {
        let job = &workflow.jobs[name];
        let started = Instant::now();
        // How the needed jobs ended decides `success()` for this one.
        let failed_needs: Vec<String> = job
            .needs
            .list()
            .into_iter()
            .filter(|need| {
                !reports
                    .iter()
                    .any(|r| &r.job == need && r.result == JobResult::Succeeded)
            })
            .collect();
        let upstream = if failed_needs.is_empty() {
            Upstream::Succeeded
        } else {
            Upstream::Failed
        };
        let runs = match condition::evaluate(job.condition.as_deref(), ctx, upstream) {
            Ok(runs) => runs,
            Err(err) => {
                reports.push(JobReport::new(
                    name,
                    JobResult::Failed(format!("bad condition: {err}")),
                    started,
                ));
                continue;
            }
        };
        if !runs {
            let why = if failed_needs.is_empty() {
                format!(
                    "if: {} is false",
                    job.condition.as_deref().unwrap_or("success()")
                )
            } else {
                format!(
                    "it needs {}, which did not succeed",
                    failed_needs.join(", ")
                )
            };
            reports.push(JobReport::new(name, JobResult::Skipped(why), started));
            continue;
        }

        // The environment: the workflow's, then the job's, then the step's, later ones winning.
        let mut job_env: BTreeMap<String, String> = BTreeMap::new();
        job_env.insert("CI".into(), "true".into());
        job_env.insert("GITHUB_SHA".into(), ctx.lookup("github.sha"));
        job_env.insert("GITHUB_REF".into(), ctx.lookup("github.ref"));
        for (k, v) in workflow.env.iter().chain(&job.env) {
            job_env.insert(k.clone(), ctx.substitute(&v.as_text()));
        }

        let mut steps = Vec::new();
        let mut failure: Option<String> = None;
        for step in &job.steps {
            let step_started = Instant::now();
            let status = if failure.is_some() {
                Upstream::Failed
            } else {
                Upstream::Succeeded
            };
            let outcome = match condition::evaluate(step.condition.as_deref(), ctx, status) {
                Err(err) => StepOutcome::Failed(format!("bad condition: {err}")),
                Ok(false) => {
                    StepOutcome::Skipped("an earlier step failed, or its if: is false".into())
                }
                Ok(true) => match (&step.uses, &step.run) {
                    (Some(action), _) => {
                        StepOutcome::Skipped(format!("{action}: actions run only on GitHub"))
                    }
                    (None, Some(script)) => {
                        let mut env = job_env.clone();
                        for (k, v) in &step.env {
                            env.insert(k.clone(), ctx.substitute(&v.as_text()));
                        }
                        let dir = match &step.working_directory {
                            Some(d) => workdir.join(d),
                            None => workdir.to_path_buf(),
                        };
                        run_script(&ctx.substitute(script), &env, &dir).await
                    }
                    (None, None) => StepOutcome::Skipped("nothing to run".into()),
                },
            };
            if let StepOutcome::Failed(why) = &outcome {
                failure.get_or_insert_with(|| format!("step `{}` {why}", step.label()));
            }
            steps.push(StepReport {
                label: step.label(),
                outcome,
                took: step_started.elapsed(),
            });
        }
        let result = match failure {
            None => JobResult::Succeeded,
            Some(why) => JobResult::Failed(why),
        };
        let mut report = JobReport::new(name, result, started);
        report.steps = steps;
        reports.push(report);
    }
    reports
}
// ANCHOR_END: run

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
