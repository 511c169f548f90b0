//! Chapter 1: graceful shutdown.
//!
//! A small axum service that, when asked to stop (SIGTERM from Docker, Kubernetes or systemd;
//! SIGINT from Ctrl-C or PM2), stops accepting connections, lets the requests it already has
//! finish, writes out what its background worker still holds to Redis, and exits 0, all within
//! a deadline after which it exits anyway.
//!
//! The files you edit, in the order of the book's sections:
//! - `src/signal.rs`: 1.1, a future that completes when a stop signal arrives;
//! - `src/lifecycle.rs`: 1.2 drain, 1.3 deadline, 1.4 the readiness window, 1.5 background work,
//!   1.6 the second signal;
//! - `src/deadline.rs`: 1.3, bounding the drain;
//! - `src/health.rs`: 1.4, readiness and liveness;
//! - `src/flusher.rs`: 1.5, a background loop with a way out.
//!
//! The rest (`app.rs`, `config.rs`, `main.rs`) is given. Check your work with
//! `just test chapter1`; run the service with `just run chapter1`.

pub mod app;
pub mod config;
pub mod deadline;
pub mod flusher;
pub mod health;
pub mod lifecycle;
pub mod signal;

pub use app::{AppState, app};
pub use config::Config;
pub use lifecycle::Outcome;
