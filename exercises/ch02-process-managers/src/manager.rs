//! minipm's main loop: start every instance of every app, reload on SIGHUP, stop on SIGTERM or
//! SIGINT, and serve the status. Given, not an exercise.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::cluster;
use crate::config::Config;
use crate::logs;
use crate::status::{self, InstanceStatus, Registry};
use crate::supervisor::{self, Control, Instance};

struct Running {
    app: String,
    index: usize,
    control: mpsc::Sender<Control>,
    task: tokio::task::JoinHandle<()>,
}

/// Runs the apps in `config` until SIGTERM or SIGINT.
pub async fn run(path: &Path, config: Config) -> anyhow::Result<()> {
    // Installed first: from here on a SIGTERM is ours to handle (chapter 1).
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;

    let (log_tx, log_rx) = mpsc::channel(4096);
    let writer = tokio::spawn(logs::write_merged(log_rx, config.log_file.clone()));

    let registry: Registry = Arc::new(Mutex::new(Vec::new()));
    let stop_status = CancellationToken::new();
    let status_listener = tokio::net::TcpListener::bind(&config.metrics_addr)
        .await
        .with_context(|| format!("binding the status endpoint on {}", config.metrics_addr))?;
    info!(addr = %status_listener.local_addr()?, "status and metrics on /status and /metrics");
    let status_server = tokio::spawn(status::serve(
        status_listener,
        registry.clone(),
        stop_status.clone(),
    ));
    let sampler = tokio::spawn(status::sample(registry.clone(), stop_status.clone()));

    let mut running = Vec::new();
    for app in &config.apps {
        let app = Arc::new(app.clone());
        let listener = cluster::listener(&app)?.map(Arc::new);
        if let Some(l) = &listener {
            info!(app = %app.name, addr = %l.local_addr()?, "listening");
        } else if let Some(port) = app.port {
            warn!(app = %app.name, port, "no listener of minipm's own: each instance must bind the port itself");
        }
        let count = cluster::instance_count(app.instances());
        info!(app = %app.name, instances = count, "starting");
        for index in 0..count {
            let status = Arc::new(Mutex::new(InstanceStatus::new(&app.name, index)));
            registry.lock().expect("not poisoned").push(status.clone());
            let (control, rx) = mpsc::channel(4);
            let instance = Instance {
                app: app.clone(),
                index,
                listener: listener.clone(),
                logs: log_tx.clone(),
                status,
            };
            let task = tokio::spawn(supervisor::supervise(instance, rx));
            running.push(Running {
                app: app.name.clone(),
                index,
                control,
                task,
            });
        }
    }
    drop(log_tx);

    loop {
        tokio::select! {
            _ = hup.recv() => reload(path, &running).await,
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }

    info!("stopping every instance");
    let mut stopping = Vec::new();
    for r in &running {
        let (done, wait) = oneshot::channel();
        if r.control.send(Control::Stop(done)).await.is_ok() {
            stopping.push(wait);
        }
    }
    for wait in stopping {
        let _ = wait.await;
    }
    for r in running {
        let _ = r.task.await;
    }
    stop_status.cancel();
    let _ = status_server.await;
    let _ = sampler.await;
    // Every sender is gone once the supervisors have ended: the writer prints what is left.
    match writer.await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => error!(cause = %err, "the log writer failed"),
        Err(err) => error!(cause = %err, "the log writer panicked"),
    }
    info!("minipm stopped");
    Ok(())
}

/// SIGHUP: reads the configuration again and replaces the instances one at a time, each only
/// once its replacement is ready (zero-downtime reload, 2.3).
async fn reload(path: &Path, running: &[Running]) {
    info!("reload requested (SIGHUP)");
    let config = match Config::load(path) {
        Ok(config) => config,
        Err(err) => {
            error!("reload aborted, keeping every instance as it is: {err}");
            return;
        }
    };
    for r in running {
        let Some(app) = config.apps.iter().find(|a| a.name == r.app) else {
            warn!(app = %r.app, "no longer in the configuration; reload leaves it as it is");
            continue;
        };
        let (reply, answer) = oneshot::channel();
        if r.control
            .send(Control::Reload(Arc::new(app.clone()), reply))
            .await
            .is_err()
        {
            continue;
        }
        match answer.await {
            Ok(Ok(())) => info!(instance = %format!("{}-{}", r.app, r.index), "reloaded"),
            Ok(Err(why)) => {
                // Stop here: if one replacement is not healthy, the next would not be either.
                error!(instance = %format!("{}-{}", r.app, r.index), "reload failed: {why}; the remaining instances keep running as they are");
                return;
            }
            Err(_) => {}
        }
    }
    info!("reload finished");
}
