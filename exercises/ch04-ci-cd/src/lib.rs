//! Chapter 4: CI/CD. A pipeline for a service, and a small runner that executes it, so that the
//! model (jobs, `needs`, conditions, fail-fast) is understood rather than memorised.
//!
//! What you edit, in the order of the book's sections:
//! - `workflow/ci.yml`: 4.1, the pipeline for the sample app in `app/`;
//! - `src/plan.rs`: 4.2, the order of the jobs;
//! - `src/execute.rs`: 4.2, running them.
//!
//! The rest is given: the workflow model (`workflow.rs`), `if:` conditions (`condition.rs`), the
//! rules your workflow is checked against (`rules.rs`), the summary (`report.rs`) and the
//! `pipeline` command (`main.rs`). Check your work with `just test chapter4`.

pub mod condition;
pub mod execute;
pub mod plan;
pub mod report;
pub mod rules;
pub mod workflow;
