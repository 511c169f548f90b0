//! The runner end to end: the real `workbook` binary on the fixture workbook (tests/fixture/),
//! through the harness in tests/common/. Run with `cargo test -p workbook --test runner`.
//!
//! One module per promise the runner makes to a learner. Each test says which promise it holds;
//! each fails when the runner breaks it. A new concern is a new module here (or a test file of
//! its own with `#[path = "../common/mod.rs"] mod common;`), written with `common::Workbook`.

#[path = "../common/mod.rs"]
mod common;

mod build;
mod colour;
mod crash;
mod files;
mod sections;
mod verdicts;
mod verify;
