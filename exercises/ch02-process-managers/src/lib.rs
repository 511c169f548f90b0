//! Chapter 2: minipm, a small process manager in the spirit of PM2 and systemd.
//!
//! The files you edit, in the order of the book's sections:
//! - `src/backoff.rs` and `src/supervisor.rs`: 2.1, restart a crashed process with backoff, and
//!   give up after too many restarts;
//! - `src/cluster.rs`: 2.2, many instances serving one port;
//! - `src/supervisor.rs`: 2.3, zero-downtime reload and graceful stop;
//! - `src/logs.rs`: 2.4, one log stream;
//! - `src/metrics.rs`: 2.5, memory and CPU from /proc, and Prometheus metrics.
//!
//! The rest is given: the configuration (`config.rs`), starting a process (`process.rs`), the
//! main loop (`manager.rs`), the status endpoint (`status.rs`) and the worker it runs
//! (`bin/worker.rs`). Check your work with `just test chapter2`.

pub mod backoff;
pub mod cluster;
pub mod config;
pub mod logs;
pub mod manager;
pub mod metrics;
pub mod process;
pub mod status;
pub mod supervisor;
