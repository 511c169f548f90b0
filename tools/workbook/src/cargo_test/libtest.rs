//! Reading what libtest printed: the verdicts and failure messages of its human output, the panic
//! messages of uncaptured tests. (The compiler's diagnostics: [`super::diagnostics`].)

use super::report::{Report, Verdict};

/// Parses libtest's human output.
pub(crate) fn parse(out: &str) -> Report {
    let mut report = Report::default();
    let mut current: Option<(String, String)> = None;
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("test ")
            && let Some((name, verdict)) = rest.rsplit_once(" ... ")
        {
            let verdict = match verdict.trim() {
                "ok" => Some(Verdict::Passed),
                "FAILED" => Some(Verdict::Failed),
                v if v.starts_with("ignored") => Some(Verdict::Ignored),
                _ => None,
            };
            if let Some(v) = verdict {
                report.tests.insert(name.trim().to_owned(), v);
                continue;
            }
        }
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" stdout ----"))
        {
            if let Some((n, m)) = current.take() {
                report.messages.insert(n, clean(&m));
            }
            current = Some((name.to_owned(), String::new()));
            continue;
        }
        if line == "failures:" || line.starts_with("test result:") {
            if let Some((n, m)) = current.take() {
                report.messages.insert(n, clean(&m));
            }
            continue;
        }
        if let Some((_, m)) = current.as_mut() {
            m.push_str(line);
            m.push('\n');
        }
    }
    if let Some((n, m)) = current.take() {
        report.messages.insert(n, clean(&m));
    }
    report
}

/// The panic messages a test binary printed to stderr (`thread 'name' (id) panicked at …:` and
/// the lines after it), as they appear when output is not captured.
pub(super) fn panic_messages(stderr: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in stderr.lines() {
        if let Some(rest) = line.strip_prefix("thread '")
            && line.contains("panicked at")
            && let Some((name, _)) = rest.split_once('\'')
        {
            if let Some((n, lines)) = current.take() {
                found.push((n, lines.join("\n").trim().to_owned()));
            }
            current = Some((name.to_owned(), Vec::new()));
            continue;
        }
        if let Some((_, lines)) = current.as_mut() {
            // The message ends at the backtrace note, or at the next line of someone else's.
            if line.starts_with("note: run with `RUST_BACKTRACE") || line.starts_with('[') {
                let (n, lines) = current.take().expect("just matched");
                found.push((n, lines.join("\n").trim().to_owned()));
                continue;
            }
            lines.push(line);
        }
    }
    if let Some((n, lines)) = current {
        found.push((n, lines.join("\n").trim().to_owned()));
    }
    found
}

/// Keeps the panic message, dropping libtest's `thread … panicked at …` preamble and the note
/// about backtraces.
pub(super) fn clean(block: &str) -> String {
    let mut out = Vec::new();
    for line in block.lines() {
        if line.starts_with("thread '") && line.contains("panicked at") {
            continue;
        }
        if line.starts_with("note: run with `RUST_BACKTRACE") {
            continue;
        }
        out.push(line);
    }
    out.join("\n").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
running 3 tests
test s1_1_signals::sigint_exits_zero ... ok
test s1_2_drain::in_flight_completes ... FAILED
test s1_3_deadline::slow ... ignored, too slow

failures:

---- s1_2_drain::in_flight_completes stdout ----

thread 's1_2_drain::in_flight_completes' (123) panicked at tests/x.rs:1:1:
A request in flight failed. See 1.2.
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    s1_2_drain::in_flight_completes

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.1s
";

    #[test]
    fn without_capture_the_messages_are_read_from_stderr() {
        let stderr = "[service] listening addr=127.0.0.1:1\n\
                      thread 's1_2_drain::x' (77) panicked at tests/a.rs:1:1:\n\
                      A request failed. See 1.2.\n\
                      note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\
                      [service] shutdown started\n";
        let found = panic_messages(stderr);
        assert_eq!(
            found,
            vec![(
                "s1_2_drain::x".to_owned(),
                "A request failed. See 1.2.".to_owned()
            )]
        );
    }

    #[test]
    fn verdicts_and_messages_are_read_from_libtest_output() {
        let report = parse(SAMPLE);
        assert_eq!(report.count(Verdict::Passed), 1);
        assert_eq!(report.count(Verdict::Failed), 1);
        assert_eq!(report.count(Verdict::Ignored), 1);
        assert_eq!(
            report.messages["s1_2_drain::in_flight_completes"],
            "A request in flight failed. See 1.2."
        );
    }
}
