//! Part of `pins`: every container image the workbook names, and the two tools its images and
//! CI install (cargo-chef, playwright), is pinned once, in tools/pins.env (`WORKBOOK_IMAGE_*`,
//! `WORKBOOK_CARGO_CHEF`, `WORKBOOK_PLAYWRIGHT`), and every place that names one names that
//! version:
//!
//! - every `FROM` of every Dockerfile (read with parse-dockerfile) is a pinned image, exactly,
//!   or an earlier stage: a base image pinned nowhere is a problem too;
//! - every other mention of a pinned image's repository (`redis:…` in a compose file, a
//!   Kubernetes manifest, a workflow, a page of the book, a hint, a script) carries its tag, or
//!   the tag's version without its variant (the builder's version without `-trixie`);
//! - every `cargo-chef` install and every `playwright==` names the pinned version;
//! - the builder image's Rust is the one rust-toolchain.toml pins.
//!
//! The Dockerfiles, the compose files and the book cannot read pins.env (a learner's Dockerfile
//! is an exercise, and a page is prose), so they write the versions out and this finds them;
//! the scripts (.ci/run) read the file.

use std::path::Path;

use anyhow::{Context, Result};

/// The pins file, relative to the root.
const PINS: &str = "tools/pins.env";

/// A pinned image: `repository:tag`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Image {
    key: String,
    repository: String,
    tag: String,
}

impl Image {
    fn name(&self) -> String {
        format!("{}:{}", self.repository, self.tag)
    }

    /// True if `tag` claims a version of this image: for a pin that starts with a number
    /// (`7`, `1.95-trixie`), a tag that does too; `rust:slim`, named in prose as another
    /// choice, claims none.
    fn is_version(&self, tag: &str) -> bool {
        let numbered = |t: &str| t.starts_with(|c: char| c.is_ascii_digit());
        !numbered(&self.tag) || numbered(tag)
    }

    /// True if `tag` names this image: its tag, or its tag's version without the variant.
    fn agrees(&self, tag: &str) -> bool {
        tag == self.tag
            || self
                .tag
                .split_once('-')
                .is_some_and(|(version, _)| tag == version)
    }
}

/// Every place that names a pinned image or tool with another version, and every Dockerfile
/// base image pinned nowhere.
pub(crate) fn problems(root: &Path) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(root.join(PINS)).with_context(|| format!("reading {PINS}"))?;
    let pins: Vec<(String, String)> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let pin = |key: &str| pins.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let mut problems = Vec::new();
    let mut images = Vec::new();
    for (key, value) in pins
        .iter()
        .filter(|(k, _)| k.starts_with("WORKBOOK_IMAGE_"))
    {
        // The tag's colon is the last one after the last slash (a registry may have a port).
        match value.rsplit_once(':').filter(|(_, tag)| !tag.contains('/')) {
            Some((repository, tag)) => images.push(Image {
                key: key.clone(),
                repository: repository.to_owned(),
                tag: tag.to_owned(),
            }),
            None => problems.push(format!(
                "{PINS}: {key}={value} has no tag: pin `repository:tag`"
            )),
        }
    }
    problems.extend(builder_matches_toolchain(root, &images)?);
    let tools: Vec<(&str, String, &str)> = [
        ("cargo-chef", "WORKBOOK_CARGO_CHEF"),
        ("playwright", "WORKBOOK_PLAYWRIGHT"),
    ]
    .into_iter()
    .filter_map(|(tool, key)| pin(key).map(|v| (tool, v, key)))
    .collect();

    let Some(files) = crate::git_files::tracked(root, &["."])? else {
        problems.push("not a git repository: the files that name images were not found".into());
        return Ok(problems);
    };
    for rel in files {
        let shown = rel.display().to_string();
        if shown == PINS || shown.ends_with("Cargo.lock") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root.join(&rel)) else {
            continue; // not text
        };
        let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name == "Dockerfile" || name.ends_with(".Dockerfile") {
            problems.extend(dockerfile_bases(&shown, &text, &images));
        }
        for (line, mention) in mentions(&text, &images) {
            let image = &images[mention.image];
            if image.is_version(&mention.tag) && !image.agrees(&mention.tag) {
                problems.push(format!(
                    "{shown}:{line} names {}:{}, but {PINS} pins {} ({})",
                    image.repository,
                    mention.tag,
                    image.name(),
                    image.key
                ));
            }
        }
        for (tool, pinned, key) in &tools {
            for (line, version) in tool_versions(&text, tool) {
                if &version != pinned {
                    problems.push(format!(
                        "{shown}:{line} installs {tool} {version}, but {PINS} pins {pinned} \
                         ({key})"
                    ));
                }
            }
        }
    }
    Ok(problems)
}

/// The builder image (`rust:…`) is the Rust of rust-toolchain.toml (its major.minor).
fn builder_matches_toolchain(root: &Path, images: &[Image]) -> Result<Vec<String>> {
    let Some(builder) = images.iter().find(|i| i.repository == "rust") else {
        return Ok(Vec::new());
    };
    let channel = super::pins::toolchain_channel(root)?;
    let minor: String = channel.split('.').take(2).collect::<Vec<_>>().join(".");
    let version = builder.tag.split('-').next().unwrap_or_default();
    Ok(if version == minor || version == channel {
        Vec::new()
    } else {
        vec![format!(
            "{PINS}: {}={} builds with Rust {version}, but rust-toolchain.toml pins {channel}",
            builder.key,
            builder.name()
        )]
    })
}

/// The `FROM`s of a Dockerfile that are neither a pinned image nor an earlier stage.
fn dockerfile_bases(shown: &str, text: &str, images: &[Image]) -> Vec<String> {
    let dockerfile = match parse_dockerfile::parse(text) {
        Ok(d) => d,
        Err(err) => {
            return vec![format!(
                "{shown} is not a Dockerfile parse-dockerfile reads: {err}"
            )];
        }
    };
    let mut stages: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    for stage in dockerfile.stages() {
        let base = stage.from.image.value.to_string();
        let pinned = images.iter().any(|i| i.name() == base);
        if !pinned && base != "scratch" && !stages.iter().any(|s| s.eq_ignore_ascii_case(&base)) {
            let line = text[..stage.from.image.span.start].lines().count().max(1);
            problems.push(format!(
                "{shown}:{line}: FROM {base}, which {PINS} does not pin (it pins {})",
                images
                    .iter()
                    .map(Image::name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some((_, name)) = &stage.from.as_ {
            stages.push(name.value.to_string());
        }
    }
    problems
}

/// A mention of a pinned image's repository with a tag.
#[derive(Debug, PartialEq, Eq)]
struct Mention {
    image: usize,
    tag: String,
}

/// Every `repository:tag` of a pinned repository in `text`, with its line. Not a mention: a
/// repository name inside a longer word or path (`myredis:1`, `x/redis:1`), a URL's host
/// (`redis://redis:6379`), and a host and port (`redis:6379`: a tag of four digits or more).
fn mentions(text: &str, images: &[Image]) -> Vec<(usize, Mention)> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || "._-/".contains(c);
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for (i, image) in images.iter().enumerate() {
            let needle = format!("{}:", image.repository);
            for (at, _) in line.match_indices(&needle) {
                let before = &line[..at];
                if before.ends_with(is_name) || before.ends_with("//") {
                    continue;
                }
                let tag: String = line[at + needle.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
                    .collect();
                let tag = tag.trim_end_matches(['.', '-']).to_owned();
                let port = tag.len() >= 4 && tag.chars().all(|c| c.is_ascii_digit());
                if !tag.is_empty() && !port {
                    found.push((n + 1, Mention { image: i, tag }));
                }
            }
        }
    }
    found
}

/// The versions of `tool` that `text` installs, with their lines: `tool@1.2.3`, `tool==1.2.3`,
/// and `cargo install tool … --version 1.2.3`.
fn tool_versions(text: &str, tool: &str) -> Vec<(usize, String)> {
    let version = |rest: &str| -> String {
        rest.chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect::<String>()
            .trim_end_matches('.')
            .to_owned()
    };
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices(tool) {
            let rest = &line[at + tool.len()..];
            let named = if let Some(v) = rest.strip_prefix('@').or(rest.strip_prefix("==")) {
                version(v)
            } else if let Some((_, v)) = rest.split_once("--version ") {
                version(v.trim_start())
            } else {
                String::new()
            };
            if !named.is_empty() {
                found.push((n + 1, named));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(repository: &str, tag: &str) -> Image {
        Image {
            key: "WORKBOOK_IMAGE_X".into(),
            repository: repository.into(),
            tag: tag.into(),
        }
    }

    #[test]
    fn a_mention_agrees_by_its_tag_or_its_version() {
        let rust = image("rust", "1.95-trixie");
        assert!(rust.agrees("1.95-trixie"));
        assert!(rust.agrees("1.95"));
        assert!(!rust.agrees("1.94"));
        assert!(!rust.agrees("1.95-bookworm"));
        assert!(!image("redis", "7").agrees("7-alpine"));
        assert!(!rust.is_version("slim"));
        assert!(rust.is_version("1.94"));
        assert!(image("gcr.io/distroless/cc-debian13", "nonroot").is_version("latest"));
    }

    #[test]
    fn mentions_skip_urls_ports_and_longer_names() {
        let images = [image("redis", "7")];
        // Written with format!, so that this file names no version that differs from a pin.
        let text = format!(
            "image: redis:{}\nREDIS_URL=redis://redis:6379\nADDR: \"redis:6379\"\n\
             myredis:{} and ghcr.io/x/redis:{}\n`docker pull redis:{}`.",
            7, 1, 2, 6
        );
        let tags: Vec<(usize, String)> = mentions(&text, &images)
            .into_iter()
            .map(|(line, m)| (line, m.tag))
            .collect();
        assert_eq!(tags, [(1, "7".to_owned()), (5, "6".to_owned())]);
    }

    #[test]
    fn tool_versions_are_read_from_each_form() {
        let text = format!(
            "RUN cargo install cargo-chef --locked --version {}\n\
             cargo install --locked cargo-chef@{}\npip install playwright=={}\n\
             cargo-chef prepare --recipe-path recipe.json",
            "9.9.1", "9.9.2", "9.9.3"
        );
        assert_eq!(
            tool_versions(&text, "cargo-chef"),
            [(1, "9.9.1".to_owned()), (2, "9.9.2".to_owned())]
        );
        assert_eq!(
            tool_versions(&text, "playwright"),
            [(3, "9.9.3".to_owned())]
        );
    }

    #[test]
    fn a_base_image_pinned_nowhere_is_named_and_stages_are_not() {
        let images = [image("rust", "1.95-trixie")];
        let text = format!(
            "FROM rust:{} AS chef\nFROM chef AS builder\n\
             FROM gcr.io/distroless/cc-debian12\nFROM scratch\n",
            "1.95-trixie"
        );
        let problems = dockerfile_bases("Dockerfile", &text, &images);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("Dockerfile:3: FROM gcr.io/distroless/cc-debian12"),
            "{problems:?}"
        );
    }
}
