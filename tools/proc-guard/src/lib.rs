//! No child outlives a killed parent.
//!
//! A parent that is killed with SIGKILL runs no destructor, so `kill_on_drop` and process-group
//! guards never fire, and its children would run on as orphans (a test server holding a port, a
//! minipm worker serving with no manager). [`die_with_parent`] arranges, between fork and exec,
//! for the child to be killed when the parent process ends, whatever ended it:
//!
//! - **Linux**: `prctl(PR_SET_PDEATHSIG, SIGKILL)`: the kernel itself sends the signal.
//! - **Elsewhere (macOS, the BSDs)**: there is no such call. The parent holds the write end of a
//!   pipe that nothing ever writes to; a tiny watchdog, forked from the child just before exec,
//!   waits on the read end. When the parent dies, the kernel closes its end, the watchdog's
//!   `poll` sees the hang-up, and it kills the child (its whole group, when the child leads
//!   one). The watchdog ends by itself as soon as the child does (its parent changes).
//!
//! The watchdog is plain POSIX, so it is tested on Linux too ([`Mode::Watchdog`]).
//!
//! Used by test-support (every server a test starts) and by chapter 2's minipm (its workers).

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::OnceLock;

/// How a child learns that its parent died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `prctl(PR_SET_PDEATHSIG)` (Linux only).
    Pdeathsig,
    /// A watchdog process waiting on a pipe the parent holds (any Unix).
    Watchdog,
}

impl Mode {
    /// The best mode for this platform.
    pub fn native() -> Mode {
        if cfg!(target_os = "linux") {
            Mode::Pdeathsig
        } else {
            Mode::Watchdog
        }
    }
}

/// Arranges for the child that `command` starts to be SIGKILLed when this process ends. Call it
/// after `process_group(0)` if the child should take its whole group with it.
pub fn die_with_parent(command: &mut Command) {
    die_with_parent_by(command, Mode::native());
}

/// [`die_with_parent`] with an explicit [`Mode`] (the tests use the watchdog on Linux).
pub fn die_with_parent_by(command: &mut Command, mode: Mode) {
    match mode {
        #[cfg(target_os = "linux")]
        Mode::Pdeathsig => pdeathsig(command),
        #[cfg(not(target_os = "linux"))]
        Mode::Pdeathsig => watchdog(command),
        Mode::Watchdog => watchdog(command),
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn pdeathsig(command: &mut Command) {
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent; it is all this
    // closure does between fork and exec.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The pipe the watchdogs wait on: `(read end, write end)`, both close-on-exec, held open by
/// this process for its whole life. Made once.
/// Made once; an error is kept as its OS error number, so that it is `Copy` into `pre_exec`.
fn lifeline() -> Result<(libc::c_int, libc::c_int), i32> {
    static PIPE: OnceLock<Result<(libc::c_int, libc::c_int), i32>> = OnceLock::new();
    *PIPE.get_or_init(make_pipe)
}

#[allow(unsafe_code)]
fn make_pipe() -> Result<(libc::c_int, libc::c_int), i32> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe writes two integers into the array we own; fcntl only sets flags on them.
    unsafe {
        if libc::pipe(fds.as_mut_ptr()) == -1 {
            return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
        }
        // Close-on-exec, so that no program this process starts keeps the pipe open (which would
        // hide the parent's death). macOS has no pipe2, hence two steps.
        for fd in fds {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
    Ok((fds[0], fds[1]))
}

#[allow(unsafe_code)]
fn watchdog(command: &mut Command) {
    let pipe = lifeline();
    // SAFETY: between fork and exec only async-signal-safe calls on integers (fork, getpid,
    // getpgrp, close, poll, getppid, kill, _exit); nothing allocates, locks or touches memory
    // shared with the parent.
    unsafe {
        command.pre_exec(move || {
            let (read_end, write_end) = pipe.map_err(std::io::Error::from_raw_os_error)?;
            let child = libc::getpid();
            // Kill the group if the child leads one (`process_group(0)`), else the child alone.
            let target = if libc::getpgrp() == child {
                -child
            } else {
                child
            };
            match libc::fork() {
                -1 => Err(std::io::Error::last_os_error()),
                0 => watch(read_end, write_end, child, target),
                _ => Ok(()),
            }
        });
    }
}

/// The watchdog's whole life. It holds no descriptor but the pipe's read end (so it keeps no
/// port, pipe or file of the child's open), and ends when the parent dies (after killing
/// `target`) or when the child does.
#[allow(unsafe_code)]
fn watch(
    read_end: libc::c_int,
    write_end: libc::c_int,
    child: libc::pid_t,
    target: libc::pid_t,
) -> ! {
    // SAFETY: see `watchdog`: async-signal-safe calls on integers only, then _exit.
    unsafe {
        libc::close(write_end);
        let mut limit = std::mem::zeroed::<libc::rlimit>();
        let max = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur.min(65_536) as libc::c_int
        } else {
            4096
        };
        for fd in 0..max {
            if fd != read_end {
                libc::close(fd);
            }
        }
        let mut poll = libc::pollfd {
            fd: read_end,
            events: libc::POLLIN,
            revents: 0,
        };
        loop {
            // Nothing is ever written to the pipe: readable (EOF) or hung up means the parent
            // is gone. The time-out only bounds how long a watchdog outlives its child.
            let ready = libc::poll(&mut poll, 1, 100);
            if ready > 0 {
                libc::kill(target, libc::SIGKILL);
                libc::_exit(0);
            }
            if libc::getppid() != child {
                libc::_exit(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The promise, tested with real processes: this test binary re-runs itself as a "parent"
    //! that starts a long `sleep` with [`die_with_parent_by`], prints the sleep's pid, and is
    //! then SIGKILLed. The sleep must be gone soon after.
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    const ROLE: &str = "PROC_GUARD_TEST_PARENT";

    // A copy of `test_support::process::alive`: test-support depends on proc-guard, not back.
    fn alive(pid: i32) -> bool {
        // `ps` exists on Linux and macOS; a zombie (state Z) counts as gone.
        let out = Command::new("ps")
            .args(["-o", "stat=", "-p", &pid.to_string()])
            .output()
            .expect("ps runs");
        let state = String::from_utf8_lossy(&out.stdout);
        let state = state.trim();
        !state.is_empty() && !state.starts_with('Z')
    }

    /// The re-run test binary's job when it is the parent: start the child, say its pid, wait.
    fn act_as_parent(mode: &str) {
        let mode = if mode == "watchdog" {
            Mode::Watchdog
        } else {
            Mode::native()
        };
        let mut sleep = Command::new("sleep");
        sleep.arg("600").process_group(0);
        die_with_parent_by(&mut sleep, mode);
        // Never waited for: this process is SIGKILLed while the child runs, which is the point.
        #[allow(clippy::zombie_processes)]
        let child = sleep.spawn().expect("sleep starts");
        let mut out = std::io::stdout();
        std::io::Write::write_all(&mut out, format!("child-pid={}\n", child.id()).as_bytes())
            .unwrap();
        std::thread::sleep(Duration::from_secs(600));
    }

    fn child_dies_with_its_parent(mode: &str) {
        let mut parent = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "tests::parent_role",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ROLE, mode)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut out = BufReader::new(parent.stdout.take().unwrap());
        // libtest prints "running 1 test" and "test tests::parent_role ... " around it.
        let pid: i32 = loop {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "the parent said no pid"
            );
            if let Some(pid) = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("child-pid=")?.parse().ok())
            {
                break pid;
            }
        };
        assert!(
            alive(pid),
            "the child {pid} should be running while its parent is"
        );
        parent.kill().unwrap(); // SIGKILL: the parent runs no code at all
        parent.wait().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(pid) {
            if Instant::now() > deadline {
                // Do not leave it behind for the next test run.
                unsafe_kill(pid);
                panic!(
                    "the child {pid} ({mode}) was still running 5 s after its parent was killed"
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[allow(unsafe_code)]
    fn unsafe_kill(pid: i32) {
        // SAFETY: kill only reads its integer arguments.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }

    #[test]
    #[ignore = "the re-run parent's entry point, not a test of its own"]
    fn parent_role() {
        if let Ok(mode) = std::env::var(ROLE) {
            act_as_parent(&mode);
        }
    }

    #[test]
    fn a_child_dies_when_its_parent_is_killed_natively() {
        child_dies_with_its_parent("native");
    }

    #[test]
    fn a_child_dies_when_its_parent_is_killed_watchdog() {
        child_dies_with_its_parent("watchdog");
    }

    #[test]
    fn the_watchdog_ends_with_its_child() {
        let mut sleep = Command::new("sleep");
        sleep.arg("0.1").process_group(0);
        die_with_parent_by(&mut sleep, Mode::Watchdog);
        let mut child = sleep.spawn().unwrap();
        let pid = child.id() as i32;
        // The watchdog is the only other process in the child's group: kill(-group, 0) finds
        // it until it has gone.
        #[allow(unsafe_code)]
        let group_members = || {
            // SAFETY: kill with signal 0 only checks that the group exists.
            unsafe { libc::kill(-pid, 0) == 0 }
        };
        child.wait().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while group_members() {
            assert!(
                Instant::now() < deadline,
                "a watchdog outlived its child by 5 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
