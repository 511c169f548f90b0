//! Chapter 4's tests, one module per section of the book. Run them with `just test chapter4`.
//!
//! 4.1 checks your `workflow/ci.yml` against the practices of `src/rules.rs`, one test each; 4.2
//! runs the real `pipeline` binary on small workflows whose steps are real processes.

mod s4_1_workflow;
mod s4_2_runner;
