//! The tool versions the workbook pins, from `tools/pins.env`, the one file that names them (the
//! justfile and .ci/run read it too); build.rs passes its lines in at build time, so a pin missing
//! from the file stops the build.

/// `just`.
pub(crate) const JUST: &str = env!("WORKBOOK_JUST");
/// `mdbook`, which builds and serves the book.
pub(crate) const MDBOOK: &str = env!("WORKBOOK_MDBOOK");
/// `mdbook-quiz`, the preprocessor of the book's quizzes (`{{#quiz …}}`); without it the book
/// still builds, each quiz left as its line.
pub(crate) const MDBOOK_QUIZ: &str = env!("WORKBOOK_MDBOOK_QUIZ");

/// Every pinned tool, as `cargo install` names it, with its version.
pub(crate) const ALL: [(&str, &str); 3] = [
    ("just", JUST),
    ("mdbook", MDBOOK),
    ("mdbook-quiz", MDBOOK_QUIZ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pin_is_a_version() {
        for (tool, version) in ALL {
            let parts: Vec<&str> = version.split('.').collect();
            assert!(
                parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok()),
                "{tool}'s pin {version:?} is not major.minor.patch"
            );
        }
    }
}
