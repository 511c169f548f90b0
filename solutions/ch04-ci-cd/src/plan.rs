//! 4.2: in which order to run the jobs.
//!
//! A job runs after every job it `needs`. Among the jobs that are ready, the one written first
//! in the file goes first, so a plan is predictable. A `needs` that names no job, or needs that
//! go round in a circle, can never be satisfied: those are errors, found before anything runs.

use crate::workflow::Workflow;

/// Why the jobs cannot be ordered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("job `{job}` needs `{need}`, and there is no job called `{need}`")]
    UnknownNeed { job: String, need: String },
    #[error("these jobs need each other in a circle, so none of them can start: {}", .jobs.join(", "))]
    Cycle { jobs: Vec<String> },
}

// ANCHOR: plan
/// The jobs in the order they will run.
pub fn plan(workflow: &Workflow) -> Result<Vec<String>, PlanError> {
    for (job, spec) in &workflow.jobs {
        for need in spec.needs.list() {
            if !workflow.jobs.contains_key(&need) {
                return Err(PlanError::UnknownNeed {
                    job: job.clone(),
                    need,
                });
            }
        }
    }
    let mut order: Vec<String> = Vec::new();
    // Kahn's algorithm, taking the first ready job in file order each time.
    while order.len() < workflow.jobs.len() {
        let next = workflow.jobs.iter().find(|(job, spec)| {
            !order.contains(job) && spec.needs.list().iter().all(|n| order.contains(n))
        });
        match next {
            Some((job, _)) => order.push(job.clone()),
            None => {
                let jobs = workflow
                    .jobs
                    .keys()
                    .filter(|j| !order.contains(j))
                    .cloned()
                    .collect();
                return Err(PlanError::Cycle { jobs });
            }
        }
    }
    Ok(order)
}
// ANCHOR_END: plan
