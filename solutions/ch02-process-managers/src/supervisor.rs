//! 2.1 and 2.3: one instance's life. Start it, restart it when it dies (with backoff, up to the
//! start limit), replace it without downtime on reload, and stop it gracefully.

use std::net::TcpListener;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::backoff::{Decision, Restarts};
use crate::config::AppConfig;
use crate::logs::LogLine;
use crate::process::{self, Worker};
use crate::status::{InstanceStatus, Phase};

// ANCHOR: instance
/// What the manager can ask of an instance.
#[derive(Debug)]
pub enum Control {
    /// Replace the running process with a new one started from `app`, without downtime; the
    /// answer says whether the replacement took over.
    Reload(Arc<AppConfig>, oneshot::Sender<Result<(), String>>),
    /// Stop the process gracefully; answered once it has exited.
    Stop(oneshot::Sender<()>),
}

/// Everything an instance needs.
#[derive(Debug)]
pub struct Instance {
    pub app: Arc<AppConfig>,
    pub index: usize,
    pub listener: Option<Arc<TcpListener>>,
    pub logs: mpsc::Sender<LogLine>,
    pub status: Arc<Mutex<InstanceStatus>>,
}

impl Instance {
    fn name(&self) -> String {
        format!("{}-{}", self.app.name, self.index)
    }

    fn start(&self) -> std::io::Result<Worker> {
        let worker = process::spawn(&self.app, self.index, self.listener.as_deref(), &self.logs)?;
        self.record_start(&worker);
        Ok(worker)
    }

    /// Shows `worker` as this instance's running process.
    fn record_start(&self, worker: &Worker) {
        let mut s = self.status.lock().expect("not poisoned");
        s.phase = Phase::Online;
        s.pid = Some(worker.pid);
        s.started_at = Some(Instant::now());
        s.cpu_seconds = 0.0;
    }

    fn set_phase(&self, phase: Phase) {
        let mut s = self.status.lock().expect("not poisoned");
        s.phase = phase;
        if matches!(phase, Phase::Waiting | Phase::Errored | Phase::Stopped) {
            s.pid = None;
        }
    }
}
// ANCHOR_END: instance

// ANCHOR: supervise
/// Runs one instance until it is told to stop.
pub async fn supervise(mut instance: Instance, mut control: mpsc::Receiver<Control>) {
    let name = instance.name();
    let mut restarts = Restarts::new(instance.app.restart.clone());
    let mut worker = match instance.start() {
        Ok(worker) => worker,
        Err(err) => {
            error!(instance = %name, cause = %err, "cannot start");
            instance.set_phase(Phase::Errored);
            return wait_for_stop(control).await;
        }
    };
    let mut started = Instant::now();
    loop {
        tokio::select! {
            // ANCHOR: exit-branch
            exit = worker.child.wait() => {
                let exited = Instant::now();
                warn!(instance = %name, status = %describe(exit.ok()), "exited");
                match restarts.on_exit(started, exited) {
                    Decision::RestartAfter(delay) => {
                        instance.set_phase(Phase::Waiting);
                        let delay_ms = delay.as_millis() as u64;
                        info!(instance = %name, delay_ms, "restarting after backoff");
                        // The wait can be interrupted by a stop, but not by a reload.
                        let sleep = tokio::time::sleep(delay);
                        tokio::pin!(sleep);
                        loop {
                            tokio::select! {
                                () = &mut sleep => break,
                                Some(command) = control.recv() => match command {
                                    Control::Stop(done) => {
                                        instance.set_phase(Phase::Stopped);
                                        let _ = done.send(());
                                        return;
                                    }
                                    Control::Reload(app, reply) => {
                                        instance.app = app;
                                        let _ = reply.send(Err(format!(
                                            "{name} is restarting after a crash; \
                                             it will start with the new configuration"
                                        )));
                                    }
                                },
                            }
                        }
                        match instance.start() {
                            Ok(new) => {
                                worker = new;
                                started = Instant::now();
                                instance.status.lock().expect("not poisoned").restarts += 1;
                            }
                            Err(err) => {
                                error!(instance = %name, cause = %err, "cannot restart");
                                instance.set_phase(Phase::Errored);
                                return wait_for_stop(control).await;
                            }
                        }
                    }
                    Decision::GiveUp => {
                        // The status first, then the announcement: whoever reads the log line
                        // and then asks for the status must see it errored.
                        instance.set_phase(Phase::Errored);
                        error!(instance = %name, "crashed too often; giving up (status: errored)");
                        return wait_for_stop(control).await;
                    }
                }
            }
            // ANCHOR_END: exit-branch
            Some(command) = control.recv() => match command {
                Control::Stop(done) => {
                    stop_gracefully(&name, &mut worker, instance.app.kill_timeout()).await;
                    instance.set_phase(Phase::Stopped);
                    let _ = done.send(());
                    return;
                }
                // ANCHOR: reload-branch
                Control::Reload(app, reply) => {
                    let previous = std::mem::replace(&mut instance.app, app);
                    match start_when_ready(&instance).await {
                        Ok(new) => {
                            let mut old = std::mem::replace(&mut worker, new);
                            started = Instant::now();
                            stop_gracefully(&name, &mut old, previous.kill_timeout()).await;
                            info!(instance = %name, pid = worker.pid, "replaced");
                            let _ = reply.send(Ok(()));
                        }
                        Err(why) => {
                            // The old process never stopped serving (and its status never
                            // changed): only its settings go back.
                            instance.app = previous;
                            warn!(instance = %name, "{why}; keeping the running process");
                            let _ = reply.send(Err(why));
                        }
                    }
                }
                // ANCHOR_END: reload-branch
            },
        }
    }
}
// ANCHOR_END: supervise

// ANCHOR: start-when-ready
/// Starts a replacement and waits for its ready line, for at most `listen_timeout`. A
/// replacement that is not ready in time is stopped, and the error says so.
async fn start_when_ready(instance: &Instance) -> Result<Worker, String> {
    let name = instance.name();
    let mut new = process::spawn(
        &instance.app,
        instance.index,
        instance.listener.as_deref(),
        &instance.logs,
    )
    .map_err(|err| format!("cannot start a replacement for {name}: {err}"))?;
    let limit = instance.app.listen_timeout();
    let ready = tokio::time::timeout(limit, async {
        tokio::select! {
            result = new.ready.wait_for(|ready| *ready) => result.is_ok(),
            _ = new.child.wait() => false,
        }
    })
    .await;
    if ready == Ok(true) {
        instance.record_start(&new);
        return Ok(new);
    }
    let _ = new.child.start_kill();
    let _ = new.child.wait().await;
    Err(format!(
        "the replacement for {name} was not ready within {} ms",
        limit.as_millis()
    ))
}
// ANCHOR_END: start-when-ready

// ANCHOR: stop-gracefully
/// SIGTERM, then SIGKILL if it is still running after `kill_timeout`.
async fn stop_gracefully(name: &str, worker: &mut Worker, kill_timeout: Duration) {
    process::signal(worker.pid, libc::SIGTERM);
    match tokio::time::timeout(kill_timeout, worker.child.wait()).await {
        Ok(exit) => info!(instance = %name, status = %describe(exit.ok()), "stopped"),
        Err(_) => {
            let timeout_ms = kill_timeout.as_millis() as u64;
            warn!(instance = %name, timeout_ms, "did not stop in time; SIGKILL");
            let _ = worker.child.start_kill();
            let _ = worker.child.wait().await;
        }
    }
}
// ANCHOR_END: stop-gracefully

async fn wait_for_stop(mut control: mpsc::Receiver<Control>) {
    while let Some(command) = control.recv().await {
        match command {
            Control::Stop(done) => {
                let _ = done.send(());
                return;
            }
            Control::Reload(_, reply) => {
                let _ = reply.send(Err("the instance is not running".into()));
            }
        }
    }
}

fn describe(status: Option<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            _ => s.to_string(),
        },
        None => "unknown".into(),
    }
}
