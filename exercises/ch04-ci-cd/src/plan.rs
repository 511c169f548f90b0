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
    // TODO(4.2): run each job after the jobs it `needs` (the first ready job in the file goes
    // first), and report a need that names no job, or jobs that need each other in a circle.
    // As it is, jobs simply run in the order of the file.
    Ok(workflow.jobs.keys().cloned().collect())
}
// ANCHOR_END: plan
