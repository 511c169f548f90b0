//! `just serve`: the book, with `mdbook serve`, and beside it the panel of the learner's
//! verdicts ([`crate::panel`]). The panel's script and style are added to the pages through
//! mdBook's environment settings (`MDBOOK_OUTPUT__HTML__ADDITIONAL_JS` / `_CSS`), so that
//! `mdbook build` and a bare `mdbook serve` make exactly the book they always made.

use std::path::Path;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result};

use crate::manifest::Manifest;
use crate::panel;

/// The panel's files, relative to book/ (as book.toml's own `additional-*` entries are).
const PANEL_JS: &str = "theme/panel.js";
const PANEL_CSS: &str = "theme/panel.css";

pub(crate) async fn serve(root: &Path, manifest: Manifest) -> Result<ExitCode> {
    let listener = panel::bind(panel::PORT).await?;
    let (js, css) = additional(root)?;
    let server = tokio::spawn(panel::serve(
        listener,
        root.to_owned(),
        manifest,
        crate::stop::requested(),
    ));
    println!(
        "The book: http://localhost:{} (each section's page shows your last `just test` of it; \
         the panel's endpoint is {}, this machine only). Ctrl-C to stop.",
        panel::BOOK_PORT,
        panel::addr(panel::PORT)
    );
    let mut mdbook = Command::new("mdbook");
    mdbook
        .current_dir(root)
        .args(["serve", "book", "--port", &panel::BOOK_PORT.to_string()])
        .env("MDBOOK_OUTPUT__HTML__ADDITIONAL_JS", js)
        .env("MDBOOK_OUTPUT__HTML__ADDITIONAL_CSS", css);
    let status = tokio::task::spawn_blocking(move || crate::stop::status(&mut mdbook))
        .await
        .context("waiting for mdbook")??
        .context("starting mdbook (`just serve` installs it: run that)")?;
    server.abort();
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// book.toml's `additional-js` and `additional-css`, each with the panel's file added, as the
/// JSON arrays mdBook reads from its environment (which replace book.toml's, so they are kept).
fn additional(root: &Path) -> Result<(String, String)> {
    let path = root.join("book/book.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let book: toml::Table =
        toml::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
    let html = book
        .get("output")
        .and_then(|o| o.get("html"))
        .and_then(toml::Value::as_table);
    let list = |key: &str, extra: &str| -> String {
        let mut files: Vec<String> = html
            .and_then(|h| h.get(key))
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        files.push(extra.to_owned());
        serde_json::to_string(&files).expect("a list of strings is JSON")
    };
    Ok((
        list("additional-js", PANEL_JS),
        list("additional-css", PANEL_CSS),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_books_own_additions_are_kept_beside_the_panels() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let (js, css) = super::additional(&root).unwrap();
        assert_eq!(js, r#"["theme/panel.js"]"#);
        assert_eq!(css, r#"["src/workbook.css","theme/panel.css"]"#);
    }
}
