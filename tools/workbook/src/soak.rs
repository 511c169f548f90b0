//! `just soak`: the determinism check CI runs. Every ready chapter's reference solution passes
//! its tests as many runs in a row as chapters.toml's `soak` says (`just test chapterN
//! --solution --repeat N`), stopping at the first run with a failure.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;

use crate::manifest::{Chapter, Manifest, Status};

/// Soaks the named chapters (all ready ones when none is named), each `repeat` times if given,
/// else its own `soak` count.
pub(crate) async fn soak(
    root: &Path,
    manifest: &Manifest,
    names: &[String],
    repeat: Option<u32>,
) -> Result<ExitCode> {
    let chapters: Vec<&Chapter> = if names.is_empty() {
        manifest
            .chapters
            .iter()
            .filter(|c| c.status == Status::Ready)
            .collect()
    } else {
        names
            .iter()
            .map(|name| manifest.find_for(Some(name), "soak"))
            .collect::<Result<_>>()?
    };
    let started = Instant::now();
    let mut passed = Vec::new();
    for chapter in &chapters {
        let runs = repeat.unwrap_or_else(|| chapter.soak());
        println!(
            "\n═══ soak: chapter {} ({}), the solution {runs} run(s) in a row",
            chapter.number, chapter.title
        );
        let chapter_started = Instant::now();
        let code = crate::learner::test(root, chapter, None, true, runs).await?;
        if code != ExitCode::SUCCESS {
            println!(
                "\nsoak FAILED: chapter {} failed within {runs} run(s) of its solution (above); \
                 {} chapter(s) passed before it{}. Again: `just test chapter{} --solution \
                 --repeat {runs}`",
                chapter.number,
                passed.len(),
                if passed.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", summary(&passed))
                },
                chapter.number
            );
            return Ok(ExitCode::FAILURE);
        }
        passed.push((chapter.number, runs, chapter_started.elapsed().as_secs()));
    }
    println!(
        "\nsoak: {} chapter(s) passed every run in a row: {} ({} s in all)",
        passed.len(),
        summary(&passed),
        started.elapsed().as_secs()
    );
    Ok(ExitCode::SUCCESS)
}

/// `chapter 1: 20 runs (312 s), chapter 2: …`
fn summary(passed: &[(u32, u32, u64)]) -> String {
    passed
        .iter()
        .map(|(n, runs, secs)| {
            let plural = if *runs == 1 { "" } else { "s" };
            format!("chapter {n}: {runs} run{plural} ({secs} s)")
        })
        .collect::<Vec<_>>()
        .join(", ")
}
