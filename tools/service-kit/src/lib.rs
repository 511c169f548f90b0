//! The plumbing every chapter's service shares, written once so the chapters can stay about
//! their topic: tracing set-up, a Redis connection with an error that says how to fix it, and
//! environment variables parsed with messages that name the variable.
//!
//! It is not an exercise: nothing here has a TODO. Its own tests run in `just verify`.

pub mod env;
pub mod redis;
pub mod telemetry;
