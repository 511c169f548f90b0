//! The runner started in the background on a fixture copy, for the tests that act while it runs
//! (a signal, a lock held): its stderr read as it comes, so a test can wait for a line, and a
//! pid file the fixture's code writes, so a test can wait for a child to be running and check
//! afterwards that it is gone. Every wait is bounded.
#![allow(dead_code)] // Each test binary uses a part of it.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A runner running in a process group of its own (so that a signal sent to the group reaches
/// it alone: cargo and the steps' children lead groups of their own).
pub(crate) struct Background {
    child: Child,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Background {
    pub(crate) fn start(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Background {
        let mut command = Command::new(env!("CARGO_BIN_EXE_workbook"));
        crate::common::runner_env(&mut command, root);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("starting the runner");
        let stderr = Arc::new(Mutex::new(String::new()));
        let stdout = Arc::new(Mutex::new(String::new()));
        let readers = vec![
            collect(child.stderr.take().unwrap(), stderr.clone()),
            collect(child.stdout.take().unwrap(), stdout.clone()),
        ];
        Background {
            child,
            stderr,
            stdout,
            readers,
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `sig` to the runner (its group, which it alone is in).
    pub(crate) fn signal(&self, sig: test_support::process::Sig) {
        test_support::process::signal_group(self.pid(), sig).expect("signalling the runner");
    }

    /// Waits (at most `limit`) until stderr holds `needle`.
    pub(crate) fn wait_for_stderr(&self, needle: &str, limit: Duration) {
        let started = Instant::now();
        while !self.stderr.lock().unwrap().contains(needle) {
            assert!(
                started.elapsed() < limit,
                "the runner did not print {needle:?} within {limit:?}; stderr:\n{}",
                self.stderr.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (at most `limit`) for the runner to end: (exit code, stdout, stderr).
    pub(crate) fn finish(mut self, limit: Duration) -> (Option<i32>, String, String) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > limit {
                let _ = test_support::process::kill_group(self.pid());
                let _ = self.child.wait();
                panic!(
                    "the runner was still running {limit:?} on, and was killed; stderr:\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The output is whole once every writer has closed it; a child left behind may hold it
        // open forever (which the test then reports), so the wait for it is bounded.
        let started = Instant::now();
        while self.readers.iter().any(|r| !r.is_finished()) && started.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = self.stdout.lock().unwrap().clone();
        let err = self.stderr.lock().unwrap().clone();
        (status.code(), out, err)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = test_support::process::kill_group(self.pid());
        let _ = self.child.wait();
    }
}

fn collect(
    from: impl Read + Send + 'static,
    into: Arc<Mutex<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut lines = BufReader::new(from);
        let mut line = String::new();
        while lines.read_line(&mut line).is_ok_and(|n| n > 0) {
            into.lock().unwrap().push_str(&line);
            line.clear();
        }
    })
}

/// The pids written, one a line, to `file` (a child's own record that it is running), waiting
/// at most `limit` for the first.
pub(crate) fn wait_for_pids(file: &Path, limit: Duration) -> Vec<u32> {
    let started = Instant::now();
    loop {
        let pids: Vec<u32> = std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect();
        if !pids.is_empty() {
            return pids;
        }
        assert!(
            started.elapsed() < limit,
            "nothing wrote its pid to {} within {limit:?}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Fails unless every pid is gone within `limit` (a SIGKILLed process needs a moment).
pub(crate) fn assert_gone(pids: &[u32], limit: Duration) {
    let started = Instant::now();
    while let Some(pid) = pids.iter().find(|p| test_support::process::alive(**p)) {
        if started.elapsed() > limit {
            // Not left for the next test to find.
            for pid in pids {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
            panic!("process {pid} is still running after the runner ended: it was left behind");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh file name in the copy, for pids.
pub(crate) fn pid_file(root: &Path, name: &str) -> PathBuf {
    root.join(format!("{name}.pids"))
}
