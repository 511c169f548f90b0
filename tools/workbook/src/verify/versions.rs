//! Reading versions out of prose and commands: `tool@1.2.3`, `tool v1.2.3`, "1.89 or newer".

/// Every `major.minor.patch` version named right after `tool` in `text`, as `tool@1.2.3`,
/// `tool 1.2.3` or `tool v1.2.3` (so `mdbook-quiz@…` is not a mention of `mdbook`), by line.
pub(super) fn versions_named(text: &str, tool: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices(tool) {
            let before = line[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                continue;
            }
            let rest = &line[at + tool.len()..];
            let Some(rest) = rest
                .strip_prefix('@')
                .or_else(|| rest.strip_prefix(" v"))
                .or_else(|| rest.strip_prefix(' '))
            else {
                continue;
            };
            let version: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let version = version.trim_end_matches('.');
            if version.split('.').count() == 3 && version.split('.').all(|p| !p.is_empty()) {
                found.push((n + 1, version.to_owned()));
            }
        }
    }
    found
}

/// `X.Y` in "X.Y or newer", by line: how the README and the book state the oldest Rust.
pub(super) fn msrv_named(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices(" or newer") {
            let version: String = line[..at]
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if version.contains('.') {
                found.push((n + 1, version));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_named_in_prose_and_commands_are_found() {
        let text = "cargo install --locked just@1.59.0 mdbook-quiz@0.5.0\n\
                    ✓ mdbook          mdbook v0.5.4\n\
                    installs mdbook 0.5.4 the first time; mdBook 0.5 has admonitions\n\
                    rejust@9.9.9 is another tool";
        assert_eq!(versions_named(text, "just"), [(1, "1.59.0".to_owned())]);
        assert_eq!(
            versions_named(text, "mdbook"),
            [(2, "0.5.4".to_owned()), (3, "0.5.4".to_owned())]
        );
        assert_eq!(
            versions_named(text, "mdbook-quiz"),
            [(1, "0.5.0".to_owned())]
        );
    }

    #[test]
    fn the_msrv_is_read_from_or_newer() {
        assert_eq!(
            msrv_named("a Rust toolchain (1.89 or newer; Docker too)\nRust 1.90 or newer"),
            [(1, "1.89".to_owned()), (2, "1.90".to_owned())]
        );
    }
}
