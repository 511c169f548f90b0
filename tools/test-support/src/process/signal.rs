//! Signals as a test sends and reads them: the few it sends ([`Sig`]), exit statuses in words
//! ([`describe`]), `kill(2)` on a process or a whole group, and whether a pid is still
//! [`alive`] afterwards.

use std::process::ExitStatus;

/// The signals a test sends. Real ones, delivered by the kernel with `kill(2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sig {
    /// What Docker, Kubernetes and systemd send to ask for a stop.
    Term,
    /// Ctrl-C in a terminal; also what PM2 sends.
    Int,
    /// Cannot be caught: the end of every deadline.
    Kill,
    /// "Reload your configuration", by convention.
    Hup,
}

impl Sig {
    pub(super) fn raw(self) -> libc::c_int {
        match self {
            Sig::Term => libc::SIGTERM,
            Sig::Int => libc::SIGINT,
            Sig::Kill => libc::SIGKILL,
            Sig::Hup => libc::SIGHUP,
        }
    }

    /// `SIGTERM`, `SIGINT`, … for messages.
    pub fn name(self) -> &'static str {
        match self {
            Sig::Term => "SIGTERM",
            Sig::Int => "SIGINT",
            Sig::Kill => "SIGKILL",
            Sig::Hup => "SIGHUP",
        }
    }
}

/// Describes an exit status the way a learner reads it: `exited with code 0`, or
/// `was killed by signal 15 (SIGTERM)`.
pub fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal} ({})", signal_name(signal)),
        (None, None) => format!("ended with status {status}"),
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGHUP => "SIGHUP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        _ => "another signal",
    }
}

/// `kill(2)`: a positive pid names a process, a negative one a process group.
#[allow(unsafe_code)]
pub(super) fn send_signal(pid: libc::pid_t, signal: libc::c_int) -> std::io::Result<()> {
    // SAFETY: kill(2) only reads its two integer arguments.
    if unsafe { libc::kill(pid, signal) } == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// SIGKILLs a whole process group (its leader's pid), for tools that started one.
pub fn kill_group(leader: u32) -> std::io::Result<()> {
    send_signal(-(leader as libc::pid_t), libc::SIGKILL)
}

/// Sends `sig` to a whole process group (its leader's pid): the workbook's runner passes the
/// terminal's Ctrl-C on to `just run`'s service this way.
pub fn signal_group(leader: u32, sig: Sig) -> std::io::Result<()> {
    send_signal(-(leader as libc::pid_t), sig.raw())
}

/// True while a process with this pid exists and is not a zombie: /proc on Linux, `ps`
/// elsewhere (macOS has no /proc).
///
/// A zombie counts as gone: it has exited and only waits for its parent to collect the status,
/// which for an orphan in a container whose PID 1 never reaps may be forever.
pub fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        alive_in_proc(pid)
    } else {
        alive_by_ps(pid)
    }
}

fn alive_in_proc(pid: u32) -> bool {
    // `pid (comm) S …`: the command may itself contain `) `, so split at the last one.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            !stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z'))
        })
        .unwrap_or(false)
}

fn alive_by_ps(pid: u32) -> bool {
    // Empty for a pid that does not exist; `Z…` for a zombie.
    std::process::Command::new("ps")
        .args(["-o", "stat=", "-p", &pid.to_string()])
        .output()
        .map(|out| {
            let state = String::from_utf8_lossy(&out.stdout);
            let state = state.trim();
            !state.is_empty() && !state.starts_with('Z')
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    //! `alive` asked both ways where both exist (`ps` everywhere, /proc on Linux), so that the
    //! macOS path is tested on Linux too.

    use super::*;

    fn answers(pid: u32) -> Vec<bool> {
        let mut answers = vec![alive(pid), alive_by_ps(pid)];
        if cfg!(target_os = "linux") {
            answers.push(alive_in_proc(pid));
        }
        answers
    }

    #[test]
    fn the_running_test_is_alive() {
        assert!(answers(std::process::id()).iter().all(|&a| a));
    }

    #[test]
    fn a_reaped_child_is_not_alive() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        assert!(answers(child.id()).iter().all(|&a| !a));
    }

    #[test]
    fn a_zombie_is_not_alive() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        wait_without_reaping(child.id());
        // It is there, as a zombie: the kernel keeps its entry until the status is collected.
        if cfg!(target_os = "linux") {
            let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap();
            assert!(stat.contains(") Z"), "not a zombie: {stat}");
        }
        assert!(answers(child.id()).iter().all(|&a| !a));
        child.wait().unwrap();
    }

    /// Blocks until `pid` has exited, leaving it a zombie (`WNOWAIT`).
    #[allow(unsafe_code)]
    fn wait_without_reaping(pid: u32) {
        // SAFETY: `info` is a plain C struct that waitid(2) fills in; all zeroes is a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid(2) writes only to `info`, which lives across the call.
        let done = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        assert_eq!(done, 0, "waitid: {}", std::io::Error::last_os_error());
    }
}
