//! Signals as a test sends and reads them: the few it sends ([`Sig`]), exit statuses in words
//! ([`describe`]), and `kill(2)` on a process or a whole group.

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
