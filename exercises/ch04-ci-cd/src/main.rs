//! `pipeline`: runs a GitHub Actions workflow on this machine, the way GitHub would run it on a
//! push: `pipeline [--branch B] [--sha S] [--secret NAME=VALUE]… [--workdir D] workflow.yml`.
//! Run it with `just pipeline` (the chapter's own workflow). Given, not an exercise.
#![allow(clippy::print_stdout)] // A command-line tool: the summary is its output.

use std::path::PathBuf;
use std::process::ExitCode;

use ch04_ci_cd::report::{JobResult, summary};
use ch04_ci_cd::workflow::{Context, Workflow};
use ch04_ci_cd::{execute, plan};

const USAGE: &str =
    "usage: pipeline [--branch B] [--sha S] [--secret NAME=VALUE]... [--workdir D] <workflow.yml>";

fn git(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut branch = None;
    let mut sha = None;
    let mut secrets = Vec::new();
    let mut workdir = None;
    let mut file = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--branch" => branch = args.next(),
            "--sha" => sha = args.next(),
            "--workdir" => workdir = args.next().map(PathBuf::from),
            "--secret" => match args
                .next()
                .and_then(|s| s.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            {
                Some(pair) => secrets.push(pair),
                None => {
                    eprintln!("--secret takes NAME=VALUE\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            _ if file.is_none() && !arg.starts_with("--") => file = Some(PathBuf::from(arg)),
            _ => {
                eprintln!("unexpected {arg:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(file) = file else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let workflow = match Workflow::load(&file) {
        Ok(w) => w,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let order = match plan::plan(&workflow) {
        Ok(order) => order,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let branch = branch
        .or_else(|| git(&["rev-parse", "--abbrev-ref", "HEAD"]))
        .unwrap_or_else(|| "main".into());
    let sha = sha
        .or_else(|| git(&["rev-parse", "HEAD"]))
        .unwrap_or_else(|| "0000000".into());
    let mut ctx = Context::push(&branch, &sha);
    ctx.secrets.extend(secrets);
    let workdir = workdir.unwrap_or_else(|| PathBuf::from("."));
    println!(
        "pipeline: {} on a push to {branch} ({sha:.7}), jobs in order: {}",
        file.display(),
        order.join(" → ")
    );
    let reports = execute::run(&workflow, &order, &ctx, &workdir).await;
    print!("\n{}", summary(&reports));
    if reports
        .iter()
        .any(|r| matches!(r.result, JobResult::Failed(_)))
    {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
