//! A child process under test: started in its own process group, its output captured line by
//! line, waited on with deadlines, and killed (with its whole group) when the guard is dropped,
//! which happens on a panic too, so a failing test never leaves a server behind.
//!
//! Split by concern: `signal.rs` (signals and exit statuses), `output.rs` (capturing what the
//! child prints) and `server.rs` (the [`Server`] guard and its [`ServerBuilder`]).

mod output;
mod server;
mod signal;

pub use output::strip_ansi;
pub use server::{Server, ServerBuilder};
pub use signal::{Sig, alive, describe, kill_group, signal_group};
