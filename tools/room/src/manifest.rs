//! The sections the room shows, read from the workbook's chapters.toml: those with tests, in the
//! book's order (the order decides which failure is a learner's first).

use std::path::Path;

use anyhow::{Context, Result};

/// A section of the book that has tests.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Section {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) chapter: u32,
}

#[derive(serde::Deserialize)]
struct Manifest {
    #[serde(default)]
    chapter: Vec<Chapter>,
}

#[derive(serde::Deserialize)]
struct Chapter {
    number: u32,
    #[serde(default)]
    section: Vec<RawSection>,
}

#[derive(serde::Deserialize)]
struct RawSection {
    id: String,
    title: String,
    tests: Option<String>,
}

pub(crate) fn sections(path: &Path) -> Result<Vec<Section>> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading {} (run the room from the workbook's folder: `just room`)",
            path.display()
        )
    })?;
    let manifest: Manifest =
        toml::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
    Ok(manifest
        .chapter
        .into_iter()
        .flat_map(|c| {
            c.section
                .into_iter()
                .filter(|s| s.tests.is_some())
                .map(move |s| Section {
                    id: s.id,
                    title: s.title,
                    chapter: c.number,
                })
        })
        .collect())
}
