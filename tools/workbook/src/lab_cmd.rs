//! `just up`, `just scale N`, `just load`, `just chaos`, `just rolling-deploy`, `just down`: the
//! chapter 5 compose lab (tools/lab), and the load generator (tools/loadgen) pointed at it.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

/// The lab's commands (`just up`, `just scale N`, …: the justfile passes them on).
#[derive(Debug, clap::Subcommand)]
pub(crate) enum LabCommand {
    /// Build the service and start Redis, N replicas and HAProxy.
    Up {
        /// How many replicas of the service, 1 to 20.
        #[arg(default_value_t = 3, value_parser = replicas)]
        replicas: usize,
    },
    /// Change the number of replicas.
    Scale {
        /// How many replicas of the service, 1 to 20.
        #[arg(value_parser = replicas)]
        replicas: usize,
    },
    /// Load the balancer and report distribution, status codes and latency, with the timeline
    /// in target/lab/load.svg.
    Load(loadgen::LoadArgs),
    /// Kill one replica with SIGKILL.
    Chaos,
    /// Replace every replica with a fresh build, `--surge` at a time (1 by default).
    RollingDeploy {
        /// How many new replicas start before as many old ones stop, like Kubernetes'
        /// `maxSurge`: 1 keeps N or N + 1 replicas running and takes N rounds; N doubles the
        /// replicas for one round.
        #[arg(long, default_value_t = 1, value_parser = replicas)]
        surge: usize,
    },
    /// Stop and remove the lab, and the image it built.
    Down,
}

/// A number of replicas, from 1 to 20.
fn replicas(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=20).contains(&n) => Ok(n),
        _ => Err(format!("{text:?}: give a number of replicas from 1 to 20")),
    }
}

/// The balancer's port: `LB_PORT`, default 8088 (chapter 3's service has 8080).
fn port() -> Result<u16> {
    match std::env::var("LB_PORT") {
        Ok(p) if !p.is_empty() => p
            .parse()
            .with_context(|| format!("LB_PORT={p}: not a port")),
        _ => Ok(8088),
    }
}

pub(crate) async fn lab(root: &Path, command: LabCommand) -> Result<ExitCode> {
    let lab = || lab::Lab::new(root, port()?);
    match command {
        LabCommand::Up { replicas } => lab()?.up(replicas)?,
        LabCommand::Scale { replicas } => lab()?.scale(replicas)?,
        LabCommand::Chaos => {
            lab()?.chaos()?;
        }
        LabCommand::RollingDeploy { surge } => lab()?.rolling_deploy(surge)?,
        LabCommand::Down => {
            lab()?.down()?;
            // compose says nothing on success when its output is not a terminal.
            eprintln!("lab: down (its containers, network and the image it built are removed)");
        }
        LabCommand::Load(args) => return load(root, &args).await,
    }
    Ok(ExitCode::SUCCESS)
}

/// `just load`: loadgen against the balancer, with the timeline in target/lab/load.svg.
async fn load(root: &Path, args: &loadgen::LoadArgs) -> Result<ExitCode> {
    let mut options = loadgen::Options::for_url(&format!("http://127.0.0.1:{}/", port()?)).await?;
    args.apply(&mut options);
    let what = format!("load: GET http://127.0.0.1:{}/", options.addr.port());
    let report = loadgen::run_until_ctrl_c(&options, &what).await?;
    // Every request refused (and there were some): nothing listens. A stop before the first
    // request is no verdict on the lab.
    if !report.samples.is_empty()
        && report
            .samples
            .iter()
            .all(|s| s.outcome == loadgen::Outcome::Refused)
    {
        bail!(
            "nothing answers on 127.0.0.1:{}: start the lab first with `just up`",
            options.addr.port()
        );
    }
    let dir = root.join("target/lab");
    std::fs::create_dir_all(&dir)?;
    let svg = dir.join("load.svg");
    std::fs::write(&svg, loadgen::svg::render(&report, "just load", &[]))?;
    #[allow(clippy::print_stdout)]
    {
        print!("{}", report.text());
        println!("\ntimeline: {}", svg.display());
    }
    Ok(if report.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
