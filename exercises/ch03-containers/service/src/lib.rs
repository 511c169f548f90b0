//! The chapter 3 service: a small HTTP service that is configured entirely from its environment,
//! checks its own health, and stops cleanly as PID 1 in a container.
//!
//! You work in `config.rs` (3.1), `healthcheck.rs` (3.3), `shutdown.rs` (3.4), and in this
//! folder's `Dockerfile` and `.dockerignore` (3.2). `app.rs` and `main.rs` are given.

pub mod app;
pub mod config;
pub mod healthcheck;
pub mod shutdown;
