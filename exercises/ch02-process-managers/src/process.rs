//! Starting one instance of an app: its command in a process group of its own, dying with
//! minipm, handed the cluster's listening socket as fd 3, its output read line by line.
//! Given, not an exercise.

use std::io;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::process::Stdio;

use tokio::process::{Child, Command};
use tokio::sync::{mpsc, watch};

use crate::config::AppConfig;
use crate::logs::LogLine;

// ANCHOR: worker
/// A started instance: the child, and a flag that turns true when it prints its ready line.
#[derive(Debug)]
pub struct Worker {
    pub child: Child,
    pub pid: u32,
    pub ready: watch::Receiver<bool>,
}
// ANCHOR_END: worker

/// Starts instance `index` of `app`. With `listener`, the instance gets it as fd 3 and
/// `LISTEN_FDS=1`, the protocol of systemd's socket activation, which the worker (and crates
/// such as listenfd) understands. Each line the instance prints goes to `logs`.
pub fn spawn(
    app: &AppConfig,
    index: usize,
    listener: Option<&TcpListener>,
    logs: &mpsc::Sender<LogLine>,
) -> io::Result<Worker> {
    let mut command = Command::new(&app.command);
    command
        .args(&app.args)
        .envs(&app.env)
        .env("MINIPM_APP", &app.name)
        .env("MINIPM_INSTANCE", index.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: a Ctrl-C in minipm's terminal reaches minipm only, which then
        // stops each instance itself, with SIGTERM and a kill timeout.
        .process_group(0)
        .kill_on_drop(true);
    let fd = listener.map(AsRawFd::as_raw_fd);
    if fd.is_some() {
        command.env("LISTEN_FDS", "1");
    } else if let Some(port) = app.port {
        // No shared listener: each instance binds the port itself (and the second one fails).
        command.env("PORT", port.to_string());
    }
    before_exec(&mut command, fd);
    let mut child = command.spawn().map_err(|err| {
        io::Error::new(
            err.kind(),
            format!(
                "cannot start {} ({}): {err}",
                app.name,
                app.command.display()
            ),
        )
    })?;
    let pid = child.id().expect("a child that was just spawned has a pid");
    let source = format!("{}-{index}", app.name);
    let (ready_tx, ready) = watch::channel(app.ready_line.is_none());
    let ready_tx = std::sync::Arc::new(ready_tx);
    if let Some(out) = child.stdout.take() {
        tokio::spawn(crate::logs::read_lines(
            out,
            source.clone(),
            logs.clone(),
            app.ready_line.clone(),
            ready_tx.clone(),
        ));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(crate::logs::read_lines(
            err,
            source,
            logs.clone(),
            app.ready_line.clone(),
            ready_tx,
        ));
    }
    Ok(Worker { child, pid, ready })
}

// ANCHOR: before-exec
/// What happens in the child between fork and exec.
#[allow(unsafe_code)]
fn before_exec(command: &mut Command, listener: Option<i32>) {
    // Die with minipm, even if it is killed with SIGKILL and runs no code at all. Linux has a
    // call for it (prctl PR_SET_PDEATHSIG); macOS has none, so there a watchdog waits on a pipe
    // minipm holds (tools/proc-guard explains both). On Linux the "parent" is the thread that
    // spawns the worker: minipm spawns from its tokio worker threads, which live as long as it.
    proc_guard::die_with_parent(command.as_std_mut());
    // SAFETY: only async-signal-safe calls (dup2, fcntl), on integers; no allocation.
    unsafe {
        command.pre_exec(move || {
            if let Some(fd) = listener {
                if fd != 3 && libc::dup2(fd, 3) == -1 {
                    return Err(io::Error::last_os_error());
                }
                // dup2 clears close-on-exec on the copy, but not when fd was already 3.
                if libc::fcntl(3, libc::F_SETFD, 0) == -1 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}
// ANCHOR_END: before-exec

// ANCHOR: signal
/// Sends `signal` to one process.
#[allow(unsafe_code)]
pub fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) only reads its two integer arguments. An error (the process is already
    // gone) needs no handling: the caller waits for the exit either way.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}
// ANCHOR_END: signal
