//! The tool versions the workbook pins, read at build time from `tools/pins.env`, the one file
//! that names them (the justfile and .ci/run read it too).

/// The file, as it was when the runner was built.
pub(crate) const FILE: &str = include_str!("../../pins.env");

/// The value of `KEY=value` in [`FILE`]. A `const fn`, so that a key missing from the file stops
/// the build instead of a command at run time.
const fn get(key: &str) -> &'static str {
    let text = FILE.as_bytes();
    let key = key.as_bytes();
    let mut line = 0;
    while line < text.len() {
        let mut end = line;
        while end < text.len() && text[end] != b'\n' {
            end += 1;
        }
        // `KEY=` at the start of this line?
        let mut i = 0;
        while i < key.len() && line + i < end && text[line + i] == key[i] {
            i += 1;
        }
        if i == key.len() && line + i < end && text[line + i] == b'=' {
            let (_, rest) = text.split_at(line + i + 1);
            let (value, _) = rest.split_at(end - (line + i + 1));
            return match std::str::from_utf8(value) {
                Ok(value) => value,
                Err(_) => panic!("tools/pins.env is not UTF-8"),
            };
        }
        line = end + 1;
    }
    panic!("tools/pins.env does not pin this tool")
}

/// `just`.
pub(crate) const JUST: &str = get("WORKBOOK_JUST");
/// `mdbook`, which builds and serves the book.
pub(crate) const MDBOOK: &str = get("WORKBOOK_MDBOOK");
/// `mdbook-quiz`, the preprocessor of the book's quizzes (`{{#quiz …}}`); without it the book
/// still builds, each quiz left as its line.
pub(crate) const MDBOOK_QUIZ: &str = get("WORKBOOK_MDBOOK_QUIZ");

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
