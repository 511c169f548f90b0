//! `just up`, `just scale N`, `just load`, `just chaos`, `just rolling-deploy`, `just down`: the
//! chapter 5 compose lab (tools/lab), and the load generator (tools/loadgen) pointed at it.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

const USAGE: &str = "the lab's commands: just up [N], just scale N, just load [--duration 10s] \\
     [--concurrency 16], just chaos, just rolling-deploy, just down";

/// The balancer's port: `LB_PORT`, default 8080.
fn port() -> Result<u16> {
    match std::env::var("LB_PORT") {
        Ok(p) if !p.is_empty() => p
            .parse()
            .with_context(|| format!("LB_PORT={p}: not a port")),
        _ => Ok(8080),
    }
}

pub async fn lab(root: &Path, args: &[String]) -> Result<ExitCode> {
    let Some((action, rest)) = args.split_first() else {
        bail!("{USAGE}");
    };
    let count = |default: usize| -> Result<usize> {
        match rest.first() {
            None => Ok(default),
            Some(n) => match n.parse::<usize>() {
                Ok(n) if (1..=20).contains(&n) => Ok(n),
                _ => bail!("{n:?}: give a number of replicas from 1 to 20"),
            },
        }
    };
    let lab = || lab::Lab::new(root, port()?);
    match action.as_str() {
        "up" => lab()?.up(count(3)?)?,
        "scale" => {
            if rest.is_empty() {
                bail!("how many replicas? `just scale 5`");
            }
            lab()?.scale(count(3)?)?;
        }
        "chaos" => {
            lab()?.chaos()?;
        }
        "rolling-deploy" => lab()?.rolling_deploy()?,
        "down" => lab()?.down()?,
        "load" => return load(root, rest).await,
        other => bail!("unknown lab command {other:?}; {USAGE}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `just load`: loadgen against the balancer, with the timeline in target/lab/load.svg.
async fn load(root: &Path, rest: &[String]) -> Result<ExitCode> {
    let mut options = loadgen::Options::for_url(&format!("http://127.0.0.1:{}/", port()?)).await?;
    let mut rest = rest.iter();
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--duration" => options.duration = loadgen::parse_duration(value)?,
            "--concurrency" => {
                options.concurrency = value
                    .parse()
                    .with_context(|| format!("--concurrency {value}: not a number"))?;
            }
            // keep-alive (the default: a pool of persistent connections, as wrk and browsers)
            // or per-request (a new connection for each request).
            "--mode" => options.mode = value.parse()?,
            other => bail!(
                "unknown option {other}; `just load --duration 30s --concurrency 16 --mode keep-alive`"
            ),
        }
    }
    eprintln!(
        "load: GET http://127.0.0.1:{}/ for {:.0} s, {} at once, {} (Ctrl-C stops early)…",
        options.addr.port(),
        options.duration.as_secs_f64(),
        options.concurrency,
        options.mode
    );
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let report = loadgen::run(&options, stop).await?;
    if report
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
