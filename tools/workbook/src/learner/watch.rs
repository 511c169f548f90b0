//! `just watch`: the tests again whenever a file of the chapter changes.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};

use super::report::print_report;
use super::run_tests;
use crate::cargo_test::Show;
use crate::manifest::{Chapter, Section};

/// Re-runs the tests whenever a file under the chapter's folder changes.
pub(crate) async fn watch(
    root: &Path,
    chapter: &Chapter,
    section: Option<&Section>,
) -> Result<ExitCode> {
    use notify::{RecursiveMode, Watcher};
    chapter.ensure_ready()?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && (event.kind.is_modify() || event.kind.is_create() || event.kind.is_remove())
            // The chapter's whole folder (src/, service/, workflow/, k8s/, tests/, …), minus
            // what builds write.
            && event
                .paths
                .iter()
                .any(|p| !p.components().any(|c| c.as_os_str() == "target"))
        {
            let _ = tx.send(());
        }
    })
    .context("starting the file watcher")?;
    let dir = chapter.exercise_dir(root);
    watcher
        .watch(&dir, RecursiveMode::Recursive)
        .with_context(|| format!("watching {}", dir.display()))?;
    loop {
        print!("\x1b[2J\x1b[H");
        let report = run_tests(root, chapter, section, false, Show::Build).await?;
        print_report(chapter, section, &report);
        crate::room_link::send(root, chapter, section, &report).await;
        println!("\nWatching {} for changes. Ctrl-C to stop.", dir.display());
        tokio::select! {
            got = rx.recv() => if got.is_none() { return Ok(ExitCode::SUCCESS) },
            () = crate::stop::requested() => return Ok(ExitCode::SUCCESS),
        }
        // Editors write a file in several steps; wait for them to settle, then drain the queue.
        tokio::time::sleep(Duration::from_millis(300)).await;
        while rx.try_recv().is_ok() {}
    }
}
