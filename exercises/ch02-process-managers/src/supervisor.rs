//! 2.1 and 2.3: one instance's life. Start it, restart it when it dies (with backoff, up to the
//! start limit), replace it without downtime on reload, and stop it gracefully.

use std::net::TcpListener;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{error, warn};

#[allow(unused_imports)] // You will need these in 2.1.
use crate::backoff::{Decision, Restarts};
use crate::config::AppConfig;
use crate::logs::LogLine;
#[allow(unused_imports)] // `process::signal` is for 2.3.
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

/// Runs one instance until it is told to stop.
pub async fn supervise(mut instance: Instance, mut control: mpsc::Receiver<Control>) {
    let name = instance.name();
    let mut worker = match instance.start() {
        Ok(worker) => worker,
        Err(err) => {
            error!(instance = %name, cause = %err, "cannot start");
            instance.set_phase(Phase::Errored);
            return wait_for_stop(control).await;
        }
    };
    loop {
        tokio::select! {
            exit = worker.child.wait() => {
                warn!(instance = %name, status = %describe(exit.ok()), "exited");
                // TODO(2.1): a process manager's first job: start it again. Ask a `Restarts`
                // (backoff.rs) what to do: wait its delay (a stop may arrive meanwhile), start a
                // new process and count the restart; or give up, mark the instance errored, and
                // log that you gave up.
                instance.set_phase(Phase::Stopped);
                return wait_for_stop(control).await;
            }
            Some(command) = control.recv() => match command {
                Control::Stop(done) => {
                    // TODO(2.3): SIGKILL cuts off every request in flight. Send SIGTERM
                    // (`process::signal`), wait up to `instance.app.kill_timeout()` for the exit,
                    // and only then SIGKILL.
                    let _ = worker.child.start_kill();
                    let _ = worker.child.wait().await;
                    instance.set_phase(Phase::Stopped);
                    let _ = done.send(());
                    return;
                }
                // ANCHOR: reload
                Control::Reload(app, reply) => {
                    // TODO(2.3): this stops the old process before the new one can serve, and never
                    // checks that the new one works. Start the replacement first, wait (at most
                    // `listen_timeout`) until `new.ready` turns true, and only then stop the old
                    // process gracefully; if the replacement is not ready in time, stop it, keep
                    // the old one, and answer with an error.
                    let _ = worker.child.start_kill();
                    let _ = worker.child.wait().await;
                    instance.app = app;
                    match instance.start() {
                        Ok(new) => {
                            worker = new;
                            let _ = reply.send(Ok(()));
                        }
                        Err(err) => {
                            instance.set_phase(Phase::Errored);
                            let _ = reply.send(Err(err.to_string()));
                            return wait_for_stop(control).await;
                        }
                    }
                }
                // ANCHOR_END: reload
            },
        }
    }
}

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
