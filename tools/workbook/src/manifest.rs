//! `chapters.toml`: the chapters in order, their folders, aliases and sections; and each
//! chapter's `hints.toml`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The whole manifest.
#[derive(Debug, Deserialize)]
pub(crate) struct Manifest {
    /// Every chapter, in order.
    #[serde(rename = "chapter")]
    pub chapters: Vec<Chapter>,
    /// Every port the workbook binds on this machine (`just doctor` checks each is free).
    #[serde(default, rename = "port")]
    pub ports: Vec<Port>,
}

/// A port the workbook binds on 127.0.0.1, and what binds it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Port {
    pub port: u16,
    /// What binds it, as a learner would start it: "the book (`just serve`)".
    pub used_by: String,
}

/// One chapter.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Chapter {
    pub number: u32,
    pub folder: String,
    pub title: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub status: Status,
    /// The files a learner edits, relative to the chapter's folder; `solutions/` mirrors them.
    #[serde(default)]
    pub files: Vec<String>,
    /// What `just run` starts: a binary of the chapter and its arguments, run from the
    /// chapter's folder. Default: the binary named after the package.
    #[serde(default)]
    pub run: Vec<String>,
    /// Whether the chapter's service needs a Redis (`just run` provides one).
    #[serde(default)]
    pub redis: bool,
    /// Whether the chapter's tests drive the Docker engine (builds take minutes the first time).
    #[serde(default)]
    pub docker: bool,
    /// The backstop for a whole test run, in seconds (default 300): longer for a chapter whose
    /// tests build an image.
    pub time_limit: Option<u64>,
    /// What a scratch copy of the chapter needs from the repository's root besides the chapter
    /// itself (files or folders, relative to the root): chapter 4's given code reads `.github`,
    /// chapter 5's lab starts `docker-compose.yml` with `lab/`.
    #[serde(default)]
    pub scratch: Vec<String>,
    /// How many runs in a row the reference solution must pass in `just soak` (default 20).
    pub soak: Option<u32>,
    /// The chapter's measurements for `just bench`: the package of a crate of its own in the
    /// chapter's `bench/` folder (a workspace member), which the runner builds and runs.
    pub bench: Option<String>,
    #[serde(rename = "section", default)]
    pub sections: Vec<Section>,
}

/// Whether a chapter can be worked on yet.
#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Ready,
    /// Being written: its exercises are in the repository and `just verify` holds them to the
    /// same rules (every test fails on the starter, passes on the solution), but learners are
    /// told it is not ready, and its book pages may not exist yet. `WORKBOOK_DRAFTS=1` lets an
    /// author run it like a ready chapter.
    Draft,
    Planned,
}

/// One section of a chapter, numbered like the book and the `TODO(n.m)` comments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Section {
    pub id: String,
    pub title: String,
    pub page: Option<String>,
    /// The test module that checks it.
    pub tests: Option<String>,
    pub minutes: u32,
    pub core: bool,
}

impl Manifest {
    /// Reads `chapters.toml` at the workbook's root.
    pub(crate) fn load(root: &Path) -> Result<Manifest> {
        let path = root.join("chapters.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
    }

    /// Finds a chapter by any of the names a learner might type: `chapter3`, `ch3`, `ch03`, `3`,
    /// `03`, its folder, or one of its aliases. Errors list every chapter.
    ///
    /// `recipe` is the command that was typed (`test`, `hint`, …): the messages show it
    /// (`just hint chapter1`).
    pub(crate) fn find_for(&self, name: Option<&str>, recipe: &str) -> Result<&Chapter> {
        let Some(name) = name else {
            bail!(
                "which chapter? Name one, for example `just {recipe} chapter1`.\n\n{}",
                self.listing_for(recipe)
            );
        };
        let wanted = name.trim().to_ascii_lowercase();
        let number = wanted
            .strip_prefix("chapter")
            .or_else(|| wanted.strip_prefix("ch"))
            .unwrap_or(&wanted)
            .trim_start_matches(['-', '_', ' '])
            .parse::<u32>()
            .ok();
        self.chapters
            .iter()
            .find(|c| {
                Some(c.number) == number
                    || c.folder == wanted
                    || c.aliases.iter().any(|a| a.eq_ignore_ascii_case(&wanted))
            })
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "there is no chapter called {name:?}.\n\n{}",
                    self.listing_for(recipe)
                )
            })
    }

    /// The chapters as a list a learner can pick from.
    pub(crate) fn listing(&self) -> String {
        self.listing_for("test")
    }

    /// The chapters, each with the command `just <recipe> chapterN`.
    pub(crate) fn listing_for(&self, recipe: &str) -> String {
        let mut out = String::from("The chapters:\n");
        for c in &self.chapters {
            let planned = match c.status {
                Status::Ready => "",
                Status::Draft => "  (being written)",
                Status::Planned => "  (not written yet)",
            };
            let _ = writeln!(
                out,
                "  {}  {:<20} just {recipe} chapter{}   (also: ch{}, {}){planned}",
                c.number,
                c.title,
                c.number,
                c.number,
                c.aliases.join(", ")
            );
        }
        out
    }
}

impl Chapter {
    /// The backstop for one run of the chapter's tests.
    pub(crate) fn time_limit(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.time_limit.unwrap_or(300))
    }

    /// How many runs in a row `just soak` asks of the reference solution.
    pub(crate) fn soak(&self) -> u32 {
        self.soak.unwrap_or(20)
    }

    /// `ch01-graceful-shutdown` is both the folder and the package name.
    pub(crate) fn package(&self) -> &str {
        &self.folder
    }

    /// The chapter's test target, `tests/chapterN/`.
    pub(crate) fn test_target(&self) -> String {
        format!("chapter{}", self.number)
    }

    /// `exercises/<folder>`.
    pub(crate) fn exercise_dir(&self, root: &Path) -> PathBuf {
        root.join("exercises").join(&self.folder)
    }

    /// `solutions/<folder>`.
    pub(crate) fn solution_dir(&self, root: &Path) -> PathBuf {
        root.join("solutions").join(&self.folder)
    }

    /// Fails with a plain message for a chapter that is listed but not written yet.
    pub(crate) fn ensure_ready(&self) -> Result<()> {
        if self.status == Status::Draft && std::env::var_os("WORKBOOK_DRAFTS").is_none() {
            bail!(
                "chapter {} ({}) is being written: its exercises are not finished yet.\n\
                 Chapters you can work on now: see `just progress`. (Authors: \
                 WORKBOOK_DRAFTS=1 runs it anyway.)",
                self.number,
                self.title
            );
        }
        if self.status == Status::Planned {
            bail!(
                "chapter {} ({}) is planned but not written yet: it has no exercises to run.\n\
                 Chapters you can work on now: see `just progress`.",
                self.number,
                self.title
            );
        }
        Ok(())
    }

    /// The section whose tests contain `test` (`s1_2_drain::…`), if any.
    pub(crate) fn section_of(&self, test: &str) -> Option<&Section> {
        let module = test.split("::").next()?;
        self.sections
            .iter()
            .find(|s| s.tests.as_deref() == Some(module))
    }

    /// Position of a test in the book's order (by section), for "the first failing test".
    pub(crate) fn order_of(&self, test: &str) -> usize {
        self.section_of(test)
            .and_then(|s| self.sections.iter().position(|x| x.id == s.id))
            .unwrap_or(usize::MAX)
    }

    /// Minutes of the core sections (one-day schedule) and of all sections (two-day).
    pub(crate) fn minutes(&self) -> (u32, u32) {
        let core = self
            .sections
            .iter()
            .filter(|s| s.core)
            .map(|s| s.minutes)
            .sum();
        let all = self.sections.iter().map(|s| s.minutes).sum();
        (core, all)
    }

    /// The hints of each section, from the chapter's `hints.toml`.
    pub(crate) fn hints(&self, root: &Path) -> Result<BTreeMap<String, Vec<String>>> {
        #[derive(Deserialize)]
        struct File {
            hints: BTreeMap<String, Vec<String>>,
        }
        let path = self.exercise_dir(root).join("hints.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let file: File =
            toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
        Ok(file.hints)
    }
}

impl Section {
    /// Where to read about it, as a path under book/src and as the page `just serve` shows.
    pub(crate) fn where_to_read(&self) -> String {
        match &self.page {
            Some(page) => format!(
                "section {} \"{}\": http://localhost:4000/{} (book/src/{page})",
                self.id,
                self.title,
                page.replace(".md", ".html")
            ),
            None => format!("section {} \"{}\"", self.id, self.title),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Manifest::load(&root).unwrap()
    }

    #[test]
    fn every_spelling_of_a_chapter_finds_it() {
        let m = manifest();
        for name in [
            "chapter1",
            "ch1",
            "ch01",
            "1",
            "01",
            "shutdown",
            "Chapter1",
            "ch01-graceful-shutdown",
        ] {
            assert_eq!(m.find_for(Some(name), "test").unwrap().number, 1, "{name}");
        }
        assert_eq!(m.find_for(Some("containers"), "test").unwrap().number, 3);
    }

    #[test]
    fn a_missing_chapter_is_asked_for_with_the_command_that_was_typed() {
        let m = manifest();
        let err = m.find_for(None, "hint").unwrap_err().to_string();
        assert!(err.contains("just hint chapter1"), "{err}");
        assert!(!err.contains("just test"), "{err}");
    }

    #[test]
    fn an_unknown_or_missing_chapter_lists_the_chapters() {
        let m = manifest();
        for name in [Some("chapter9"), Some("banana"), None] {
            let err = m.find_for(name, "test").unwrap_err().to_string();
            assert!(err.contains("just test chapter1"), "{err}");
            assert!(err.contains("Horizontal scaling"), "{err}");
        }
    }
}
