//! `just verify --only book-quotes`: a page that shows a file (a configuration, a manifest, a
//! unit, a Dockerfile) includes it with `{{#include}}` instead of pasting a copy, so that what
//! the reader sees is the file that the tests, `book-manifests` and the tools read, and cannot
//! drift from it.
//!
//! A fenced block in one of the languages such files are written in may hold only include
//! lines (and `---`, which joins YAML documents). Rust is left out on purpose: a page may
//! sketch a few lines of it, and rustdoc-style includes are the house rule there already.

use std::path::Path;

use anyhow::{Context, Result};

/// What its line in `just verify` says.
pub(crate) const ABOUT: &str =
    "a page that shows a config, a manifest or a unit includes the file instead of pasting it";

/// The fence languages of files, as the pages write them.
const FILE_LANGUAGES: &[&str] = &[
    "yaml",
    "yml",
    "toml",
    "ini",
    "systemd",
    "dockerfile",
    "json",
    "nginx",
    "conf",
    "hcl",
];

/// Every pasted block, as `page:line: …`.
pub(crate) fn check(root: &Path) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for page in crate::book::markdown_files(&root.join("book/src"))? {
        let text = std::fs::read_to_string(&page)
            .with_context(|| format!("reading {}", page.display()))?;
        let rel = page
            .strip_prefix(root)
            .unwrap_or(&page)
            .display()
            .to_string();
        problems.extend(pasted(&text).into_iter().map(|(line, lang)| {
            format!(
                "{rel}:{line}: a ```{lang} block with its text pasted in: put the file in the \
                 repository (beside the code it configures, or beside the page) and \
                 `{{{{#include …}}}}` it"
            )
        }));
    }
    Ok(problems)
}

/// The first line and language of each file-language block that holds anything but includes.
fn pasted(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, String, bool)> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(info) = trimmed.strip_prefix("```") {
            match open.take() {
                Some((start, lang, true)) => out.push((start, lang)),
                Some(_) => {}
                None => {
                    let lang = info.split([',', ' ']).next().unwrap_or("").to_lowercase();
                    if FILE_LANGUAGES.contains(&lang.as_str()) {
                        open = Some((n + 1, lang, false));
                    } else {
                        // Any other block: skip to its end.
                        open = Some((n + 1, String::new(), false));
                    }
                }
            }
            continue;
        }
        if let Some((_, lang, pasted)) = open.as_mut()
            && !lang.is_empty()
            && !trimmed.is_empty()
            && trimmed != "---"
            && !(trimmed.starts_with("{{#include ") && trimmed.ends_with("}}"))
        {
            *pasted = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::pasted;

    #[test]
    fn an_included_file_passes_and_a_pasted_one_is_named() {
        let page = "text\n```yaml\n{{#include a.yaml:one}}\n---\n{{#include a.yaml:two}}\n```\n\
                    ```sh\njust up\n```\n```toml\nport = 3000\n```\n";
        assert_eq!(pasted(page), vec![(10, "toml".to_owned())]);
    }
}
