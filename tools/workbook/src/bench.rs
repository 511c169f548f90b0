//! `just bench chapterN`: runs a chapter's measurements, which are a crate of their own
//! (`exercises/<folder>/bench/`, the package chapters.toml's `bench` key names, built on the
//! kit in tools/bench-kit). The runner prepares the chapter's two scratch copies, builds that
//! crate, and runs it with the copies in its environment ([`bench_kit::Handoff`]); the table is
//! the crate's. So the runner compiles no chapter's benchmarks: an error in one stops only
//! `just bench` of that chapter, with cargo's message.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::cargo_test::Place;
use crate::manifest::Chapter;
use crate::scratch::{Scratch, Version, cargo_build};

pub(crate) async fn bench(root: &Path, chapter: &Chapter) -> Result<ExitCode> {
    chapter.ensure_ready()?;
    let Some(package) = &chapter.bench else {
        bail!("chapter {} has no benchmarks yet", chapter.number);
    };
    let handoff = bench_kit::Handoff {
        root: root.to_path_buf(),
        chapter: bench_kit::Chapter {
            number: chapter.number,
            folder: chapter.folder.clone(),
            package: chapter.package().to_owned(),
        },
        starter: handed(Scratch::prepare(root, chapter, Version::Starter)?),
        solution: handed(Scratch::prepare(root, chapter, Version::Solution)?),
    };
    eprintln!(
        "Building chapter {}'s benchmarks ({package})…",
        chapter.number
    );
    if !cargo_build(&Place::learner(root), package, true)? {
        bail!(
            "chapter {}'s benchmarks ({package}, chapters.toml's `bench`) do not build: cargo's \
             errors are above",
            chapter.number
        );
    }
    let binary = crate::cargo_dirs::of(root)?
        .target
        .join("debug")
        .join(package);
    let mut command = tokio::process::Command::new(&binary);
    command
        .current_dir(root)
        .env(bench_kit::HANDOFF, serde_json::to_string(&handoff)?);
    // Guarded as the tests' servers are; the terminal's Ctrl-C reaches the runner alone, which
    // passes it on once to the bench's group (the bench ends its children and drops its guards).
    let status = crate::stop::run_guarded(command, &binary.display().to_string()).await?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

/// The runner's scratch copy, as the bench kit is handed it.
fn handed(scratch: Scratch) -> bench_kit::Scratch {
    bench_kit::Scratch {
        root: scratch.root,
        target: scratch.target,
        build_dir: scratch.build_dir,
    }
}
