//! No child outlives a killed parent.
//!
//! A parent that is killed with SIGKILL runs no destructor, so `kill_on_drop` and process-group
//! guards never fire, and its children would run on as orphans (a test server holding a port, a
//! minipm worker serving with no manager). [`die_with_parent`] arranges, between fork and exec,
//! for the child to be killed when the parent process ends, whatever ended it:
//!
//! - **Linux**: `prctl(PR_SET_PDEATHSIG, SIGKILL)`: the kernel itself sends the signal. Two
//!   things it does not say on its face ([prctl(2)]): the "parent" is the *thread* that forked
//!   the child, so the signal comes when that thread ends, even while the rest of the parent
//!   runs on: spawn from a thread that lives as long as the children should (a tokio worker or
//!   the main thread, never a `spawn_blocking` thread, which tokio ends after 10 s idle). And
//!   the call only arms the signal: a parent that died between the fork and the call is not
//!   noticed, so the child checks `getppid()` right after it and exits if its parent has gone.
//! - **Elsewhere (macOS, the BSDs)**: there is no such call. The parent holds the write end of a
//!   pipe that nothing ever writes to; a tiny watchdog, forked from the child just before exec,
//!   waits on the read end. When the parent dies, the kernel closes its end, the watchdog's
//!   `poll` sees the hang-up, and it kills the child (its whole group, when the child leads
//!   one). The watchdog ends by itself as soon as the child does (its parent changes).
//!
//! The watchdog is plain POSIX, so it is tested on Linux too ([`Mode::Watchdog`]).
//!
//! Used by test-support (every server a test starts), by chapter 2's minipm (its workers) and
//! by the runner (`just run`'s service, `just bench`'s measurements).
//!
//! [prctl(2)]: https://man7.org/linux/man-pages/man2/prctl.2.html

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
/// after `process_group(0)` if the child should take its whole group with it. On Linux, call
/// `spawn` from a thread that outlives the child (see the crate's documentation): the kernel
/// kills the child when the thread that forked it ends.
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
    // The process that forks (this one): the child's parent until it dies.
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: prctl and getppid are async-signal-safe and touch no memory of the parent; they
    // are all this closure does between fork and exec.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            // The signal is armed from here on; a parent that died before this point was never
            // seen, and the child, adopted by another process, would run on. Then it does not
            // start (spawn reports the error to a parent that is no longer there).
            if libc::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
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
        let mut parent = start_parent(mode);
        let pid = child_pid(&mut parent);
        assert!(
            alive(pid),
            "the child {pid} should be running while its parent is"
        );
        parent.kill().unwrap(); // SIGKILL: the parent runs no code at all
        parent.wait().unwrap();
        assert_gone_soon(pid, mode);
    }

    /// The test binary, re-run as a parent in `mode`.
    fn start_parent(mode: &str) -> std::process::Child {
        Command::new(std::env::current_exe().unwrap())
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
            .unwrap()
    }

    /// The pid the parent printed (`child-pid=N`).
    fn child_pid(parent: &mut std::process::Child) -> i32 {
        let mut line = String::new();
        let mut out = BufReader::new(parent.stdout.take().unwrap());
        // libtest prints "running 1 test" and "test tests::parent_role ... " around it.
        loop {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "the parent said no pid"
            );
            if let Some(pid) = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("child-pid=")?.parse().ok())
            {
                return pid;
            }
        }
    }

    /// Fails unless `pid` is gone within 5 s (and kills it then, so that no run leaves it).
    fn assert_gone_soon(pid: i32, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(pid) {
            if Instant::now() > deadline {
                // Do not leave it behind for the next test run.
                unsafe_kill(pid);
                panic!(
                    "the child {pid} ({what}) was still running 5 s after its parent was killed"
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The parent's job in the race that the `getppid()` check closes: a first hook, between
    /// fork and exec, prints the child's pid and holds the child there until this parent is
    /// gone (the test kills it on reading the pid); only then does proc-guard's hook run.
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    fn act_as_parent_that_dies_before_the_call() {
        let parent = std::process::id() as libc::pid_t;
        let mut sleep = Command::new("sleep");
        sleep.arg("600").process_group(0);
        // SAFETY: getpid, write, getppid and usleep are async-signal-safe; the line is written
        // from a buffer on the stack.
        unsafe {
            sleep.pre_exec(move || {
                let mut line = *b"child-pid=0000000000\n";
                let mut pid = libc::getpid() as u32;
                for at in (10..20).rev() {
                    line[at] = b'0' + (pid % 10) as u8;
                    pid /= 10;
                }
                libc::write(1, line.as_ptr().cast(), line.len());
                // At most 10 s: the test kills this parent as soon as it reads the pid.
                for _ in 0..1000 {
                    if libc::getppid() != parent {
                        break;
                    }
                    libc::usleep(10_000);
                }
                Ok(())
            });
        }
        die_with_parent_by(&mut sleep, Mode::Pdeathsig);
        // Returns only once the child has exec'd or failed to, by when this parent is gone.
        #[allow(clippy::zombie_processes)]
        let _child = sleep.spawn();
        std::thread::sleep(Duration::from_secs(600));
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
        match std::env::var(ROLE).as_deref() {
            #[cfg(target_os = "linux")]
            Ok("dies-before-the-call") => act_as_parent_that_dies_before_the_call(),
            Ok(mode) => act_as_parent(mode),
            Err(_) => {}
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
    #[cfg(target_os = "linux")]
    fn a_child_whose_parent_died_before_prctl_does_not_run_on() {
        let mut parent = start_parent("dies-before-the-call");
        let pid = child_pid(&mut parent);
        parent.kill().unwrap();
        parent.wait().unwrap();
        assert_gone_soon(pid, "its parent died before PR_SET_PDEATHSIG");
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
