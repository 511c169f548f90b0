//! No code: this crate's dependencies are feature requests, so that the runner's build and each
//! chapter's test build compile every dependency they share once, not twice.
//!
//! A learner's first `just test chapter1` builds the runner (`cargo build -p workbook`), then the
//! chapter's tests (`cargo test -p ch01-graceful-shutdown`). Cargo chooses a dependency's
//! features for the packages each command builds, not for the whole workspace: a crate that the
//! runner's crates ask for with one set of features and the chapter's with another is compiled
//! again, and so is every crate that depends on it (smallvec differing by one feature rebuilt
//! parking_lot, tokio and all above them; before this crate, chapter 1's first test build
//! compiled 39 crates where 14 are its own).
//!
//! Where a crate of ours asks for more than it uses, the fix is in its manifest (the root
//! Cargo.toml's `[workspace.dependencies]`). What is left is asked deep in the graph by a crate
//! that only one side has (notify, terminal_size, parse-dockerfile in the runner; sysinfo in
//! chapter 2): test-support, which both sides build, depends on this crate, which asks for the
//! same features for both. `cargo test -p workbook --test shared_build` compares the two builds
//! for every chapter (this machine and both macOS targets) and names any crate whose features
//! differ.
