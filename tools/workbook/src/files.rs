//! The learner's files against the solution (`solution`) and against the starter (`reset`).

use std::io::{BufRead, IsTerminal, Write};

use anstyle::{AnsiColor, Style};
use std::path::Path;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use similar::{ChangeTag, TextDiff};

use crate::manifest::Chapter;

/// Prints a unified diff from each of the learner's files to the reference solution.
pub(crate) fn solution(root: &Path, chapter: &Chapter) -> Result<ExitCode> {
    chapter.ensure_ready()?;
    let mut same = 0;
    for file in &chapter.files {
        let mine_path = chapter.exercise_dir(root).join(file);
        let theirs_path = chapter.solution_dir(root).join(file);
        let mine = std::fs::read_to_string(&mine_path).unwrap_or_default();
        let theirs = std::fs::read_to_string(&theirs_path)
            .with_context(|| format!("reading {}", theirs_path.display()))?;
        if mine == theirs {
            same += 1;
            continue;
        }
        let diff = TextDiff::from_lines(&mine, &theirs);
        println!("--- yours:    exercises/{}/{file}", chapter.folder);
        println!("+++ solution: solutions/{}/{file}", chapter.folder);
        for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
            println!("{}", hunk.header());
            for change in hunk.iter_changes() {
                let (sign, style) = match change.tag() {
                    ChangeTag::Delete => ("-", AnsiColor::Red.on_default()),
                    ChangeTag::Insert => ("+", AnsiColor::Green.on_default()),
                    ChangeTag::Equal => (" ", Style::new()),
                };
                let line = change.to_string_lossy();
                let line = line.trim_end_matches('\n');
                // anstream's stdout drops the style when it is not a terminal, or NO_COLOR is set.
                anstream::println!("{style}{sign}{line}{style:#}");
            }
        }
        println!();
    }
    println!(
        "{same} of {} files match the solution exactly. A different answer can be just as \
         right: the tests are the judge (`just test chapter{}`).",
        chapter.files.len(),
        chapter.number
    );
    Ok(ExitCode::SUCCESS)
}

/// Restores the starter version of the learner's files, after backing theirs up.
pub(crate) fn reset(root: &Path, chapter: &Chapter, yes: bool) -> Result<ExitCode> {
    chapter.ensure_ready()?;
    let rev = starter_revision(root)?;
    let mut changed = Vec::new();
    for file in &chapter.files {
        let rel = format!("exercises/{}/{file}", chapter.folder);
        let starter = git_show(root, &rev, &rel)?;
        // Bytes, not text: a learner's file is backed up exactly, whatever it holds.
        let current = std::fs::read(root.join(&rel)).ok();
        if current.as_deref() != Some(starter.as_bytes()) {
            changed.push((rel, starter, current));
        }
    }
    if changed.is_empty() {
        println!(
            "Chapter {}'s files are already the starter version; nothing to do.",
            chapter.number
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("These files differ from the starter (as of {rev}):");
    for (rel, _, _) in &changed {
        println!("  {rel}");
    }
    if !go_ahead(
        yes,
        "reset",
        chapter,
        "Put the starter versions back? Yours will be kept in a backup.",
    )? {
        return Ok(ExitCode::SUCCESS);
    }
    // Outside target/, so that `cargo clean` cannot delete a learner's work.
    let backup = backups_dir(root).join(format!("{}-{}", chapter.folder, stamp()));
    for (rel, starter, current) in &changed {
        if let Some(current) = current {
            back_up(&backup, rel, current)?;
        }
        std::fs::write(root.join(rel), starter).with_context(|| format!("restoring {rel}"))?;
    }
    println!(
        "Put the starter back in {} file(s). Your versions are in {}\n`just restore chapter{}` brings them back.",
        changed.len(),
        backup.display(),
        chapter.number
    );
    Ok(ExitCode::SUCCESS)
}

/// True when the learner passed `--yes` or answers yes to `question` (see [`confirm`]); on a no,
/// says that nothing changed.
fn go_ahead(yes: bool, recipe: &str, chapter: &Chapter, question: &str) -> Result<bool> {
    let go = yes || confirm(recipe, chapter, question)?;
    if !go {
        println!("Nothing changed.");
    }
    Ok(go)
}

/// Saves `text`, the learner's version of `rel`, at the same path under the folder `backup`.
fn back_up(backup: &Path, rel: &str, text: &[u8]) -> Result<()> {
    let saved = backup.join(rel);
    std::fs::create_dir_all(saved.parent().expect("a file path has a parent"))?;
    std::fs::write(&saved, text).with_context(|| format!("backing up {rel}"))
}

/// Asks `question` [y/N] on the terminal; with no terminal to ask, says how to skip the
/// question (`just <recipe> chapterN --yes`) rather than guess.
fn confirm(recipe: &str, chapter: &Chapter, question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "{recipe} asks before it overwrites your files, and there is no terminal to ask; run `just {recipe} chapter{} --yes`",
            chapter.number
        );
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// A backup's name: the local date and time, so that a learner can tell backups apart at a
/// glance (`ch01-graceful-shutdown-2026-12-01_14-05-09`), and sorting by name sorts by age.
fn stamp() -> String {
    jiff::Zoned::now().strftime("%Y-%m-%d_%H-%M-%S").to_string()
}

fn backups_dir(root: &Path) -> std::path::PathBuf {
    root.join(".workbook/backups")
}

/// The chapter's newest backup folder, if `just reset` made any.
fn last_backup(root: &Path, chapter: &Chapter) -> Option<std::path::PathBuf> {
    let prefix = format!("{}-", chapter.folder);
    std::fs::read_dir(backups_dir(root))
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .max_by_key(|e| {
            // Newest by modification time: also orders the older, epoch-numbered backups.
            e.metadata().and_then(|m| m.modified()).ok()
        })
        .map(|e| e.path())
}

/// Brings back the learner's files from the chapter's last backup (made by `reset`), after
/// backing up what is there now, so that a restore can be undone too.
pub(crate) fn restore(root: &Path, chapter: &Chapter, yes: bool) -> Result<ExitCode> {
    chapter.ensure_ready()?;
    let Some(backup) = last_backup(root, chapter) else {
        println!(
            "There is no backup of chapter {}: `just reset chapter{}` makes one when it puts the \
             starter back.",
            chapter.number, chapter.number
        );
        return Ok(ExitCode::FAILURE);
    };
    let mut files = Vec::new();
    for file in &chapter.files {
        let rel = format!("exercises/{}/{file}", chapter.folder);
        if let Ok(saved) = std::fs::read(backup.join(&rel)) {
            files.push((rel, saved));
        }
    }
    println!("From {}:", backup.display());
    for (rel, _) in &files {
        println!("  {rel}");
    }
    if !go_ahead(
        yes,
        "restore",
        chapter,
        "Put these back over the files there now? Those will be kept in a backup.",
    )? {
        return Ok(ExitCode::SUCCESS);
    }
    let before = backups_dir(root).join(format!("{}-{}-before-restore", chapter.folder, stamp()));
    for (rel, saved) in &files {
        let current = root.join(rel);
        if let Ok(text) = std::fs::read(&current) {
            back_up(&before, rel, &text)?;
        }
        std::fs::write(&current, saved).with_context(|| format!("restoring {rel}"))?;
    }
    println!(
        "Restored {} file(s) from {}. What was there is in {}",
        files.len(),
        backup.display(),
        before.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The commit holding the pristine starter: the upstream branch if the clone has one (the
/// learner may have committed their own work since), else `HEAD`.
pub(crate) fn starter_revision(root: &Path) -> Result<String> {
    for candidate in ["origin/main", "origin/HEAD", "HEAD"] {
        let ok = Command::new("git")
            .current_dir(root)
            .args(["rev-parse", "--verify", "--quiet", candidate])
            .output()
            .context("reset needs git to find the starter files, and git is not installed")?
            .status
            .success();
        if ok {
            return Ok(candidate.to_owned());
        }
    }
    bail!(
        "reset needs the workbook's git history to find the starter files, and {} has none",
        root.display()
    )
}

pub(crate) fn git_show(root: &Path, rev: &str, rel: &str) -> Result<String> {
    let out = Command::new("git")
        .current_dir(root)
        .args(["show", &format!("{rev}:{rel}")])
        .output()
        .context("running git show")?;
    if !out.status.success() {
        bail!(
            "git has no {rel} at {rev}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}
