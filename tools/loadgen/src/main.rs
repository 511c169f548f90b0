//! `loadgen URL`: load a service for a while and report what happened. `just load` runs it
//! against the compose lab's balancer.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

/// Sends GET requests to URL for a while, on keep-alive connections (or one connection each with
/// `--mode per-request`), and reports status codes,
/// latency percentiles and which instance answered (the `x-instance` header, or the word after
/// "from" in the body).
#[derive(Debug, Parser)]
#[command(name = "loadgen")]
struct Args {
    /// http://host:port/path
    url: String,
    #[command(flatten)]
    load: loadgen::LoadArgs,
    /// Also draw the timeline into this SVG file.
    #[arg(long)]
    svg: Option<std::path::PathBuf>,
    /// A title for the SVG.
    #[arg(long, default_value = "loadgen")]
    title: String,
    /// An extra header for every request, as `Name: value` (repeatable).
    #[arg(long = "header")]
    headers: Vec<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match go(Args::parse()).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("loadgen: {err:#}");
            ExitCode::from(2)
        }
    }
}

async fn go(args: Args) -> Result<ExitCode> {
    let mut options = loadgen::Options::for_url(&args.url).await?;
    args.load.apply(&mut options);
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .with_context(|| format!("--header {header:?}: expected `Name: value`"))?;
        options
            .headers
            .push((name.trim().into(), value.trim().into()));
    }
    let report = loadgen::run_until_ctrl_c(&options, &format!("loadgen: {}", args.url)).await?;
    // The report is the program's output.
    #[allow(clippy::print_stdout)]
    {
        print!("{}", report.text());
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, loadgen::svg::render(&report, &args.title, &[]))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("loadgen: timeline written to {}", path.display());
    }
    Ok(if report.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
