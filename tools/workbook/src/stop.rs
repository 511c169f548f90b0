//! One stop for the whole run: the first Ctrl-C (SIGINT) or SIGTERM the runner gets stops every
//! step and every child, and the run ends saying which signal, with 130 or 143 (128 + the
//! signal's number, as a shell reports a process the signal killed).
//!
//! Why one source and not a listener per step: tokio keeps a signal's handler for the whole
//! process once anything listened for it, so after the first listener a Ctrl-C no longer ends the
//! runner. A step that made no listener of its own (a clippy, mdbook or `docker pull` step) then
//! saw only its child die, marked the step failed, and the run went on. Here the handlers are
//! installed once, at start-up ([`install`]); the steps ask [`requested`] (async) or run their
//! children through [`status`] / [`output`], which put each child in a process group of its own
//! and kill that group on the stop, and return [`Stopped`] rather than the killed child's status,
//! so that nothing is ever marked failed for being stopped. A second signal ends the runner at
//! once.

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Output};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, OnceLock};

use tokio_util::sync::CancellationToken;

/// The run was stopped by a signal; see [`signal`] for which.
#[derive(Debug, thiserror::Error)]
#[error("{}", message())]
pub(crate) struct Stopped;

#[derive(Debug)]
struct State {
    token: CancellationToken,
    /// Every signal so far: how many, and the last one's number (for [`forward_signals`]).
    signals: tokio::sync::watch::Sender<(u32, i32)>,
    /// Set by [`forward_signals`]: a second signal is passed on, not the end of the runner.
    forwarding: std::sync::atomic::AtomicBool,
    /// The first signal's number, 0 until one came.
    signal: AtomicI32,
    /// The process groups of the children started by [`status`] and [`output`] that are still
    /// running. Held while a child is spawned, so that a stop cannot fall between a spawn and
    /// its registration.
    groups: Mutex<Vec<u32>>,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| State {
        token: CancellationToken::new(),
        signals: tokio::sync::watch::Sender::new((0, 0)),
        forwarding: Default::default(),
        signal: AtomicI32::new(0),
        groups: Mutex::default(),
    })
}

/// Installs the handlers for SIGINT and SIGTERM; call it once, at start-up, inside the runtime.
pub(crate) fn install() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        let mut first = true;
        loop {
            let number = tokio::select! {
                _ = int.recv() => libc::SIGINT,
                _ = term.recv() => libc::SIGTERM,
            };
            stop(number);
            let state = state();
            state.signals.send_modify(|(count, last)| {
                *count += 1;
                *last = number;
            });
            if !first && !state.forwarding.load(Ordering::SeqCst) {
                // Everything was already asked to stop once; whatever still runs is stuck.
                eprintln!("\nsecond signal: leaving now");
                std::process::exit(exit_code().into());
            }
            first = false;
        }
    });
    Ok(())
}

/// Records the stop (the first signal wins) and kills the children's groups.
fn stop(number: i32) {
    let state = state();
    let _ = state
        .signal
        .compare_exchange(0, number, Ordering::SeqCst, Ordering::SeqCst);
    let groups = state.groups.lock().unwrap_or_else(|e| e.into_inner());
    state.token.cancel();
    for group in groups.iter() {
        let _ = test_support::process::kill_group(*group);
    }
}

/// Completes when a stop was asked for (at once if one already was).
pub(crate) async fn requested() {
    state().token.cancelled().await
}

/// True once a stop was asked for.
pub(crate) fn is_requested() -> bool {
    state().token.is_cancelled()
}

/// The signal that stopped the run, if one did.
pub(crate) fn signal() -> Option<i32> {
    match state().signal.load(Ordering::SeqCst) {
        0 => None,
        n => Some(n),
    }
}

/// 130 after SIGINT, 143 after SIGTERM.
pub(crate) fn exit_code() -> u8 {
    128 + signal().unwrap_or(libc::SIGINT) as u8
}

fn message() -> String {
    let which = match signal() {
        Some(libc::SIGTERM) => "SIGTERM",
        _ => "Ctrl-C (SIGINT)",
    };
    format!(
        "stopped by {which}: every step and every process it started were stopped, and no step \
         was counted as failed"
    )
}

/// Every signal from now on, for a command whose child decides what a signal means (`just
/// run`'s service: the first Ctrl-C starts its graceful shutdown, the second forces its exit,
/// as chapter 1 teaches). A second signal then no longer ends the runner.
pub(crate) fn forward_signals() -> tokio::sync::watch::Receiver<(u32, i32)> {
    let state = state();
    state.forwarding.store(true, Ordering::SeqCst);
    state.signals.subscribe()
}

/// `Err(Stopped)` if a stop was asked for: for a step to call between its parts.
pub(crate) fn check() -> Result<(), Stopped> {
    if is_requested() { Err(Stopped) } else { Ok(()) }
}

/// [`Command::status`], stopped with the run: the child runs in a process group of its own,
/// which the stop kills. `Err(Stopped)` if the run was stopped before or while it ran; else what
/// `status` gives.
pub(crate) fn status(command: &mut Command) -> Result<std::io::Result<ExitStatus>, Stopped> {
    let mut child = match spawn(command)? {
        Ok(child) => child,
        Err(err) => return Ok(Err(err)),
    };
    let status = child.wait();
    finish(child.id())?;
    Ok(status)
}

/// [`Command::output`], stopped with the run, as [`status`] is.
pub(crate) fn output(command: &mut Command) -> Result<std::io::Result<Output>, Stopped> {
    output_within(command, None).map(|ran| ran.map(|(output, _)| output))
}

/// [`output`] with a time limit, if any: past it the child's group is killed (SIGKILL), and
/// the output comes with `true` (stopped at the limit).
pub(crate) fn output_within(
    command: &mut Command,
    limit: Option<std::time::Duration>,
) -> Result<std::io::Result<(Output, bool)>, Stopped> {
    use std::process::Stdio;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = match spawn(command)? {
        Ok(child) => child,
        Err(err) => return Ok(Err(err)),
    };
    let pid = child.id();
    let Some(limit) = limit else {
        let output = child.wait_with_output();
        finish(pid)?;
        return Ok(output.map(|output| (output, false)));
    };
    // The wait reads the pipes to their end: in a thread, so that this one can keep the time.
    let (done, ended) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = done.send(());
        output
    });
    let timed_out = ended.recv_timeout(limit).is_err();
    if timed_out {
        let _ = test_support::process::kill_group(pid);
    }
    let output = waiter.join().expect("waiting for a child does not panic");
    finish(pid)?;
    Ok(output.map(|output| (output, timed_out)))
}

fn spawn(command: &mut Command) -> Result<std::io::Result<std::process::Child>, Stopped> {
    let state = state();
    let mut groups = state.groups.lock().unwrap_or_else(|e| e.into_inner());
    check()?;
    // A group of its own: the stop kills what the child started too (cargo's rustc, clippy's
    // driver), and the terminal's Ctrl-C reaches the runner, which decides.
    let child = command.process_group(0).spawn();
    if let Ok(child) = &child {
        groups.push(child.id());
    }
    Ok(child)
}

fn finish(pid: u32) -> Result<(), Stopped> {
    let mut groups = state().groups.lock().unwrap_or_else(|e| e.into_inner());
    groups.retain(|g| *g != pid);
    drop(groups);
    check()
}

/// Runs `command` guarded as the tests' servers are, and returns how it ended: a process group
/// of its own, killed if the runner is dropped (a panic) and, through proc-guard, if the runner
/// dies any other way (SIGKILL). The group also means that the terminal's Ctrl-C reaches the
/// runner alone, which passes on exactly one signal per signal it gets: a service that saw the
/// terminal's Ctrl-C and a forwarded one would take the second as "exit now" (1.6) and never
/// show its graceful shutdown; a bench ends its blocking children and drops its guards. No child
/// reads its input, and a background group reading the terminal would be stopped (SIGTTIN).
/// `what` names the child in an error.
pub(crate) async fn run_guarded(
    mut command: tokio::process::Command,
    what: &str,
) -> anyhow::Result<ExitStatus> {
    use anyhow::Context;
    command
        .stdin(std::process::Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
    // On Linux the child dies when the *thread* that spawns it ends (proc-guard's docs): this
    // runs on the runner's tokio runtime, whose threads live as long as the runner.
    proc_guard::die_with_parent(command.as_std_mut());
    let mut signals = forward_signals();
    check()?;
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let pid = child.id().context("a child has a pid while it runs")?;
    // The runner only passes signals on and waits, so that it can report how the child ended.
    loop {
        tokio::select! {
            status = child.wait() => return Ok(status?),
            Ok(()) = signals.changed() => {
                let sig = match signals.borrow_and_update().1 {
                    libc::SIGTERM => test_support::process::Sig::Term,
                    _ => test_support::process::Sig::Int,
                };
                let _ = test_support::process::signal_group(pid, sig);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_child_past_its_time_limit_is_killed_with_its_group_and_its_output_kept() {
        let started = Instant::now();
        // The shell's `sleep` holds the pipes open: the wait ends only if the group is killed.
        let mut command = Command::new("sh");
        command.args(["-c", "echo before; sleep 300 & wait"]);
        let (output, timed_out) = output_within(&mut command, Some(Duration::from_millis(300)))
            .unwrap()
            .unwrap();
        assert!(timed_out);
        assert_eq!(String::from_utf8_lossy(&output.stdout), "before\n");
        assert!(started.elapsed() < Duration::from_secs(60));
    }

    #[test]
    fn a_child_within_its_time_limit_ends_as_it_would() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo done"]);
        let (output, timed_out) = output_within(&mut command, Some(Duration::from_secs(60)))
            .unwrap()
            .unwrap();
        assert!(!timed_out && output.status.success());
        assert_eq!(String::from_utf8_lossy(&output.stdout), "done\n");
    }
}
