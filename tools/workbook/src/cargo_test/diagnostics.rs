//! The compiler's diagnostics as cargo reports them with `--message-format=json…`: one JSON
//! record a line on stdout, beside libtest's own lines, each diagnostic with the text the
//! compiler would have printed (`rendered`, in colour with `json-diagnostic-rendered-ansi`).
//! The first error is the first record whose level is an error, never a warning read off the
//! terminal's text; where the compiler said nothing (a build script failed, cargo could not read
//! the manifest or the lock file) it is cargo's own `error:` on stderr.
//!
//! Two serde types rather than the `cargo_metadata` crate: its `Message` brings four more crates
//! (camino, cargo-platform, semver, itself; 2.2 s of a cold build) and types every field of
//! every artifact record, of which the runner reads two fields of one kind.

/// One line of cargo's stdout, as far as the runner cares.
pub(crate) enum Line {
    /// A compiler diagnostic: an error, a warning, a note that follows one.
    Diagnostic(Diagnostic),
    /// A test program built (or found fresh): its target's name, where it is, and its package's
    /// manifest (cargo runs a test program in that manifest's folder).
    TestProgram {
        name: String,
        path: std::path::PathBuf,
        manifest: std::path::PathBuf,
    },
    /// Another of cargo's records (a library built, a build script run, the build finished).
    Record,
    /// Not cargo's: the test program's own output (libtest's report).
    Text,
}

/// What the runner reads of a diagnostic.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Diagnostic {
    /// `error`, `warning`, `note`, `help`, `failure-note`, or `error: internal compiler error`.
    pub level: String,
    /// The diagnostic as the compiler prints it, with its location and source lines.
    pub rendered: Option<String>,
}

impl Diagnostic {
    pub(super) fn is_error(&self) -> bool {
        self.level == "error" || self.level.starts_with("error:")
    }
}

/// cargo's JSON record, told apart by its `reason`.
#[derive(serde::Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
enum Record {
    CompilerMessage {
        message: Diagnostic,
    },
    CompilerArtifact {
        target: Target,
        /// Set for a program (a test target's, a binary's); null for a library.
        executable: Option<std::path::PathBuf>,
        /// Built as a test (`cargo test`'s harness), not as a plain binary.
        profile: Profile,
        manifest_path: std::path::PathBuf,
    },
    #[serde(other)]
    Other,
}

#[derive(serde::Deserialize)]
struct Target {
    name: String,
}

#[derive(serde::Deserialize)]
struct Profile {
    test: bool,
}

/// Which kind of line `line` is.
pub(crate) fn read(line: &str) -> Line {
    if !line.starts_with('{') {
        return Line::Text;
    }
    match serde_json::from_str::<Record>(line) {
        Ok(Record::CompilerMessage { message }) => Line::Diagnostic(message),
        Ok(Record::CompilerArtifact {
            target,
            executable: Some(path),
            profile: Profile { test: true },
            manifest_path,
        }) => Line::TestProgram {
            name: target.name,
            path,
            manifest: manifest_path,
        },
        Ok(Record::CompilerArtifact { .. }) => Line::Record,
        Ok(Record::Other) => Line::Record,
        // A test that prints JSON of its own.
        Err(_) => Line::Text,
    }
}

/// cargo's own first error on its stderr, with the lines that explain it (`Caused by:`, a build
/// script's output), up to the next message: for a failure the compiler reported nothing about.
pub(super) fn cargo_error(stderr: &str) -> Option<String> {
    let plain: Vec<String> = stderr
        .lines()
        .map(test_support::process::strip_ansi)
        .collect();
    let start = plain.iter().position(|l| l.starts_with("error"))?;
    let mut block = vec![plain[start].as_str()];
    for line in &plain[start + 1..] {
        if line.starts_with("error") || line.starts_with("warning") || block.len() >= 25 {
            break;
        }
        block.push(line);
    }
    while block.last().is_some_and(|l| l.trim().is_empty()) {
        block.pop();
    }
    Some(block.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compiler_message_is_told_from_cargos_other_records_and_from_text() {
        // Shortened from real cargo output.
        let error = r#"{"reason":"compiler-message","package_id":"p","message":{"rendered":"error[E0425]: cannot find value `c` in this scope\n --> src/add.rs:3:9\n","code":{"code":"E0425"},"level":"error","spans":[]}}"#;
        let Line::Diagnostic(diagnostic) = read(error) else {
            panic!("not read as a diagnostic")
        };
        assert!(diagnostic.is_error());
        assert!(diagnostic.rendered.unwrap().contains("src/add.rs:3:9"));
        assert!(matches!(
            read(r#"{"reason":"build-finished","success":false}"#),
            Line::Record
        ));
        assert!(matches!(read("test s1_1::a ... ok"), Line::Text));
        assert!(matches!(read(r#"{"level":"INFO"}"#), Line::Text));
    }
}
