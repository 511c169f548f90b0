//! The workbook runner: every `just` recipe is one line that calls it.
//!
//! ```text
//! just test chapter1       cargo test for the chapter, read back as sections and one summary line
//! just test chapter1 1.2   the same for one section's tests
//! just hint chapter1       the next hint for the first failing test
//! just progress            every chapter: passed / total
//! just verify              solutions pass, starters fail, lint, the book, the schedules
//! ```
//!
//! Its logic lives here rather than in the justfile so that it can be tested and so that errors
//! are sentences, not shell noise.
#![allow(clippy::print_stdout)] // A command-line tool: stdout is its interface.

mod bench;
mod book;
mod book_manifests;
mod book_quotes;
mod book_starters;
mod cargo_dirs;
mod cargo_test;
mod compose_redis;
mod crash;
mod doctor;
mod files;
mod git_files;
mod lab_cmd;
mod learner;
mod leftovers;
mod manifest;
mod panel;
mod pins;
mod prefetch;
mod room_link;
mod run;
mod scratch;
mod serve;
mod share;
mod soak;
mod stop;
mod verify;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

/// The workbook's runner. Use it through `just` (run `just` to list the recipes).
#[derive(Debug, Parser)]
#[command(name = "workbook", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a chapter's tests (or one section's) and say what to read for the first failure.
    Test {
        /// chapter1, ch1, ch01, 1, or its topic (shutdown).
        chapter: Option<String>,
        /// Only this section's tests: 1.2 (or its tests' module, s1_2_drain).
        section: Option<String>,
        /// Run them against the reference solution instead of your code.
        #[arg(long)]
        solution: bool,
        /// Run them this many times in a row, stopping at the first run with a failure.
        #[arg(long, default_value_t = 1)]
        repeat: u32,
    },
    /// Re-run a chapter's tests (or one section's) every time you save a file.
    Watch {
        chapter: Option<String>,
        /// Only this section's tests: 1.2.
        section: Option<String>,
    },
    /// Show the next hint for the first failing test (of one section's tests, if named).
    Hint {
        chapter: Option<String>,
        /// Only this section's tests: 1.2.
        section: Option<String>,
    },
    /// Every chapter: tests passing out of total.
    Progress,
    /// Show the difference between your files and the solution.
    Solution { chapter: Option<String> },
    /// Put the starter files back, keeping a backup of yours.
    Reset {
        chapter: Option<String>,
        /// Do not ask.
        #[arg(long)]
        yes: bool,
    },
    /// Bring back your files from the last `just reset` of a chapter.
    Restore {
        chapter: Option<String>,
        /// Do not ask.
        #[arg(long)]
        yes: bool,
    },
    /// Prepare this machine to work offline: crates, builds, mdbook, container images.
    Prefetch {
        /// Also write every image to this file (`docker save`), to hand out.
        #[arg(long, value_name = "FILE")]
        save: Option<std::path::PathBuf>,
        /// Load the images from a file made by `--save` (`docker load`), and do nothing else.
        #[arg(long, value_name = "FILE", conflicts_with = "save")]
        load: Option<std::path::PathBuf>,
    },
    /// Check this machine for everything the workbook needs.
    Doctor,
    /// Remove what earlier runs of this checkout that died left on the Docker engine.
    Clean,
    /// Run a chapter's service (with a Redis if none is running).
    Run {
        chapter: Option<String>,
        /// Run the reference solution instead of your code.
        #[arg(long)]
        solution: bool,
        /// More arguments for the chapter's program (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Prove the workbook sound: solutions pass, starters fail, lint, book, schedules.
    Verify {
        /// Run only this check (a name from `--list`; a chapter's checks: `chapter3`; one check
        /// in every chapter: `starter-fails`). Repeat it for several.
        #[arg(long, value_name = "CHECK")]
        only: Vec<String>,
        /// List the checks by name, and run none.
        #[arg(long)]
        list: bool,
        /// How many lanes (the workbook's checks, each chapter's) run at once; all by default.
        /// `--jobs 1` runs every check alone, for its time on its own.
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
    },
    /// Measure a chapter's timing goals, side by side in one run.
    Bench { chapter: Option<String> },
    /// Run every ready chapter's solution as many times in a row as chapters.toml's `soak` says,
    /// stopping at the first failure.
    Soak {
        /// Only these chapters (default: every ready one).
        chapters: Vec<String>,
        /// This many runs each, instead of the chapter's `soak`.
        #[arg(long)]
        repeat: Option<u32>,
    },
    /// Start (or stop) a Redis in Docker on 127.0.0.1:6379.
    Redis {
        #[arg(long)]
        stop: bool,
    },
    /// The chapter 5 compose lab: up [N], scale N, load [--duration --concurrency --mode],
    /// chaos, rolling-deploy, down.
    Lab {
        #[command(subcommand)]
        command: lab_cmd::LabCommand,
    },
    /// Serve the book on http://localhost:4000, with the panel of your verdicts beside it.
    Serve,
    /// The workshop room: start it (no arguments), `join URL CODE`, or `leave`.
    Room {
        #[command(subcommand)]
        command: Option<room_link::RoomCommand>,
        /// Mark a learner stuck after this many minutes on the same first failure (default 10).
        #[arg(long, value_name = "MINUTES")]
        stuck_after: Option<f64>,
    },
    /// List the chapters.
    List,
}

impl Command {
    fn without_empty_chapter(mut self) -> Self {
        match &mut self {
            Command::Test { chapter, .. }
            | Command::Watch { chapter, .. }
            | Command::Hint { chapter, .. }
            | Command::Solution { chapter }
            | Command::Reset { chapter, .. }
            | Command::Restore { chapter, .. }
            | Command::Run { chapter, .. }
            | Command::Bench { chapter } => {
                if chapter.as_deref().is_some_and(|c| c.trim().is_empty()) {
                    *chapter = None;
                }
            }
            Command::Progress
            | Command::Prefetch { .. }
            | Command::Doctor
            | Command::Clean
            | Command::Soak { .. }
            | Command::Verify { .. }
            | Command::Redis { .. }
            | Command::Lab { .. }
            | Command::Serve
            | Command::Room { .. }
            | Command::List => {}
        }
        self
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime can always be built here");
    // Before anything starts: from here on the first Ctrl-C or SIGTERM stops the whole run.
    if let Err(err) = runtime.block_on(async { stop::install() }) {
        eprintln!("error: installing the Ctrl-C handler: {err}");
        return ExitCode::from(2);
    }
    let result = runtime.block_on(dispatch(cli.command));
    // A command that ends well after a stop (`just run`'s service exiting 0 on Ctrl-C, `just
    // watch`, `just load`'s report) keeps its success; anything else after a stop, failure or
    // error, was the stop's doing, and says so.
    match result {
        Ok(code) if !stop::is_requested() || code == ExitCode::SUCCESS => code,
        Err(err) if !stop::is_requested() && err.downcast_ref::<stop::Stopped>().is_none() => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
        _ => {
            eprintln!("\n{}", stop::Stopped);
            ExitCode::from(stop::exit_code())
        }
    }
}

async fn dispatch(command: Command) -> Result<ExitCode> {
    let root = workbook_root()?;
    // This run, and the checkout it runs, as the labels of what it creates on the Docker engine
    // name them (tools/workbook/src/leftovers.rs), set before anything asks.
    test_support::docker::labels::start_run();
    test_support::docker::labels::set_checkout(&root);
    // `just test` passes an empty string when no chapter is given.
    let command = command.without_empty_chapter();
    let manifest = manifest::Manifest::load(&root)?;
    match command {
        Command::Test {
            chapter,
            section,
            solution,
            repeat,
        } => {
            let chapter = manifest.find_for(chapter.as_deref(), "test")?;
            let section = learner::find_section(chapter, section.as_deref(), "test")?;
            learner::test(&root, chapter, section, solution, repeat).await
        }
        Command::Watch { chapter, section } => {
            let chapter = manifest.find_for(chapter.as_deref(), "watch")?;
            let section = learner::find_section(chapter, section.as_deref(), "watch")?;
            learner::watch(&root, chapter, section).await
        }
        Command::Hint { chapter, section } => {
            let chapter = manifest.find_for(chapter.as_deref(), "hint")?;
            let section = learner::find_section(chapter, section.as_deref(), "hint")?;
            learner::hint(&root, chapter, section).await
        }
        Command::Progress => learner::progress(&root, &manifest).await,
        Command::Solution { chapter } => {
            files::solution(&root, manifest.find_for(chapter.as_deref(), "solution")?)
        }
        Command::Reset { chapter, yes } => {
            files::reset(&root, manifest.find_for(chapter.as_deref(), "reset")?, yes)
        }
        Command::Restore { chapter, yes } => files::restore(
            &root,
            manifest.find_for(chapter.as_deref(), "restore")?,
            yes,
        ),
        Command::Prefetch { save, load } => {
            prefetch::prefetch(&root, &manifest, save.as_deref(), load.as_deref()).await
        }
        Command::Doctor => doctor::doctor(&root).await,
        Command::Clean => leftovers::clean(),
        Command::Run {
            chapter,
            solution,
            args,
        } => {
            run::run(
                &root,
                manifest.find_for(chapter.as_deref(), "run")?,
                solution,
                &args,
            )
            .await
        }
        Command::Verify { only, list, jobs } => {
            verify::verify(&root, &manifest, &only, list, jobs).await
        }
        Command::Soak { chapters, repeat } => {
            // `just soak` passes an empty string when no chapter is given.
            let chapters: Vec<String> = chapters
                .into_iter()
                .filter(|c| !c.trim().is_empty())
                .collect();
            soak::soak(&root, &manifest, &chapters, repeat).await
        }
        Command::Bench { chapter } => {
            bench::bench(&root, manifest.find_for(chapter.as_deref(), "bench")?).await
        }
        Command::Redis { stop } => compose_redis::redis(&root, stop).await,
        Command::Lab { command } => lab_cmd::lab(&root, command).await,
        Command::Serve => serve::serve(&root, manifest).await,
        Command::Room {
            command,
            stuck_after,
        } => room_link::room(&root, command, stuck_after).await,
        Command::List => {
            print!("{}", manifest.listing());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The folder holding `chapters.toml`: `WORKBOOK_ROOT` if set, else the nearest one above the
/// current directory.
fn workbook_root() -> Result<PathBuf> {
    if let Some(root) = std::env::var_os("WORKBOOK_ROOT") {
        return Ok(PathBuf::from(root));
    }
    let cwd = std::env::current_dir().context("reading the current directory")?;
    cwd.ancestors()
        .find(|dir| dir.join("chapters.toml").is_file())
        .map(Path::to_path_buf)
        .with_context(|| {
            format!(
                "{} is not inside the workbook (no chapters.toml above it): run `just` from the \
                 repository's folder",
                cwd.display()
            )
        })
}
