//! A test program that crashed: what ended it, and in which test, in the learner's words.
//!
//! libtest prints a test's verdict when the test ends, and the failures' messages only once every
//! test has ended. So a test program that dies in the middle (a stack overflow aborts it, and so
//! do `std::process::abort`, a segfault, or a `std::process::exit` in the learner's code) leaves
//! tests that never reported and failures whose message was never printed. cargo_test then lists
//! the program's tests (`--list`), and runs each test that did not report, and each failure whose
//! message was lost, once more on its own: a test that crashes the program alone is named, with
//! what killed it; the others get the verdict and message they have alone. These functions read
//! what those runs printed.

/// How a run's test program crashed.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Crash {
    /// How the program ended, as a clause: "it was killed by SIGABRT (process abort signal)".
    pub how: String,
    /// How many tests had not reported when it crashed.
    pub unfinished: usize,
    /// The tests that crash the program when run alone.
    pub tests: Vec<String>,
    /// The tests that never reported and could not be run again (no time was left): their
    /// verdict is unknown, and they are counted as failed.
    pub unknown: Vec<String>,
}

impl Crash {
    /// One sentence for the report, after the tests.
    pub(crate) fn sentence(&self) -> String {
        let mut s = format!("The test program crashed: {}.", self.how);
        match self.tests.as_slice() {
            [] if self.unfinished == 0 => s.push_str(
                " Every test had reported by then, so no test is to blame, but a program that \
                 crashes is not a pass.",
            ),
            [] => s.push_str(
                " Every test that did not report was run again on its own, and none crashed \
                 alone: the crash needs several tests at once (something shared between them).",
            ),
            [one] => s.push_str(&format!(" The test that crashes it is {one}.")),
            many => s.push_str(&format!(
                " The tests that crash it are {}.",
                many.join(", ")
            )),
        }
        if !self.unknown.is_empty() {
            s.push_str(&format!(
                " {} test(s) never reported and were not run again (no time was left), so they \
                 count as failed: {}.",
                self.unknown.len(),
                self.unknown.join(", ")
            ));
        }
        s
    }
}

/// How the test program ended, as a clause. The signal is named as the standard library names
/// it (`signal: 6 (SIGABRT)`), with what it usually means for a test program.
pub(crate) fn how_it_ended(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(number) = status.signal() {
        let shown = status.to_string();
        let name = shown
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .map_or_else(|| format!("signal {number}"), |(name, _)| name.to_owned());
        let meaning = match number {
            libc::SIGABRT => {
                " (process abort signal: a panic that could not unwind, a failed \
                              assertion in C code, a double panic)"
            }
            libc::SIGSEGV | libc::SIGBUS => " (invalid memory reference)",
            libc::SIGKILL => " (killed: out of memory, or by hand)",
            _ => "",
        };
        return format!("it was killed by {name}{meaning}");
    }
    match status.code() {
        Some(0) => "it exited with status 0 before every test had reported (something called \
                    `std::process::exit(0)` inside a test)"
            .to_owned(),
        Some(code) => format!(
            "it exited with status {code} before every test had reported (something called \
             `std::process::exit`, or a panic could not be caught)"
        ),
        None => "it ended before every test had reported".to_owned(),
    }
}

/// The threads whose stack overflowed: libtest names each test's thread after the test, and
/// Rust prints `thread 'name' (id) has overflowed its stack` before it aborts.
pub(crate) fn overflowed(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains("has overflowed its stack"))
        .filter_map(|l| l.split_once("thread '")?.1.split_once('\'').map(|(n, _)| n))
        .map(str::to_owned)
        .collect()
}

/// The tests `--list --format terse` printed (`name: test` lines).
pub(crate) fn listed(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_owned)
        .collect()
}

/// The explanation of a test that crashes the program when run alone.
pub(crate) fn crashed_message(test: &str, how: &str, stack_overflow: bool) -> String {
    let what = if stack_overflow {
        format!(
            "stack overflow in `{test}`: the code it runs called itself (or something that \
             calls it) again and again until the thread's stack ran out, so a recursion never \
             reached its stop condition, and Rust aborted the whole program: {how}"
        )
    } else {
        format!("the test program crashed while this test ran: {how}")
    };
    format!(
        "{what}.\nA crash ends every test still running, so each test that had not reported was \
         run again on its own: this one crashes the program alone too."
    )
}

/// The message of a failure whose own message was lost in the crash, and which passed when run
/// again alone.
pub(crate) fn lost_message(how: &str) -> String {
    format!(
        "It failed in the run where the test program crashed ({how}), so libtest never printed \
         why; run again on its own it passed. It may depend on another test running at the same \
         time."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signal_or_the_status_is_said() {
        use std::os::unix::process::ExitStatusExt;
        let status = std::process::ExitStatus::from_raw;
        assert!(
            how_it_ended(status(libc::SIGABRT))
                .starts_with("it was killed by SIGABRT (process abort"),
            "{}",
            how_it_ended(status(libc::SIGABRT))
        );
        assert!(how_it_ended(status(libc::SIGSEGV)).starts_with("it was killed by SIGSEGV"));
        assert!(how_it_ended(status(3 << 8)).starts_with("it exited with status 3"));
        assert!(how_it_ended(status(0)).contains("status 0"));
    }

    #[test]
    fn a_stack_overflow_names_the_test_whose_thread_it_was() {
        let stderr = "\nthread 's4_2_cycles::names_the_circle' (4242) has overflowed its stack\n\
                      fatal runtime error: stack overflow, aborting\n";
        assert_eq!(overflowed(stderr), vec!["s4_2_cycles::names_the_circle"]);
        assert!(overflowed("thread 'x' (1) panicked at a.rs:1:1:\nboom\n").is_empty());
    }

    #[test]
    fn the_listing_names_every_test() {
        let out = "s1_1_add::adds_small_numbers: test\ns1_2_greet::greets_by_name: test\n\n\
                   2 tests, 0 benchmarks\n";
        assert_eq!(
            listed(out),
            vec!["s1_1_add::adds_small_numbers", "s1_2_greet::greets_by_name"]
        );
    }
}
