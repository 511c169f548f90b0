//! The report of the learner's last run, kept for `just hint` while no file has changed.

use std::path::Path;

use crate::cargo_test::Report;
use crate::manifest::{Chapter, Section};

/// The report of the learner's last run of this chapter (of the same section, or of every
/// one), if no file of the chapter (nor the manifest) has changed since.
pub(super) fn last_run(
    root: &Path,
    chapter: &Chapter,
    section: Option<&Section>,
) -> Option<Report> {
    let text = std::fs::read_to_string(last_run_path(root, chapter)).ok()?;
    let saved: SavedRun = toml::from_str(&text).ok()?;
    (saved.fingerprint == fingerprint(root, chapter)
        && saved.section.as_deref() == section.map(|s| s.id.as_str()))
    .then_some(saved.report)
}

/// Keeps the report of a run of the learner's code for `just hint`.
pub(super) fn save_run(root: &Path, chapter: &Chapter, section: Option<&Section>, report: &Report) {
    let saved = SavedRun {
        fingerprint: fingerprint(root, chapter),
        section: section.map(|s| s.id.clone()),
        report: report.clone(),
    };
    let path = last_run_path(root, chapter);
    if let (Some(parent), Ok(text)) = (path.parent(), toml::to_string(&saved)) {
        let _ = std::fs::create_dir_all(parent);
        let _ = std::fs::write(path, text);
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SavedRun {
    fingerprint: String,
    /// The section the run was limited to, if any.
    #[serde(default)]
    section: Option<String>,
    report: Report,
}

fn last_run_path(root: &Path, chapter: &Chapter) -> std::path::PathBuf {
    root.join("target/workbook/last-run")
        .join(format!("{}.toml", chapter.folder))
}

/// Names, sizes and modification times of every file of the chapter (not its build output)
/// and of the manifest, hashed: any edit changes it.
fn fingerprint(root: &Path, chapter: &Chapter) -> String {
    use std::hash::{Hash, Hasher};
    fn walk(dir: &Path, hasher: &mut std::collections::hash_map::DefaultHasher) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            if entry.file_name() == "target" {
                continue;
            }
            if path.is_dir() {
                walk(&path, hasher);
            } else if let Ok(meta) = entry.metadata() {
                path.hash(hasher);
                meta.len().hash(hasher);
                meta.modified().ok().hash(hasher);
            }
        }
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    walk(&chapter.exercise_dir(root), &mut hasher);
    std::fs::metadata(root.join("chapters.toml"))
        .and_then(|m| m.modified())
        .ok()
        .hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}
