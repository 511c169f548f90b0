//! The workbook's measurements of this chapter for `just bench chapter4`: what the pipeline
//! runner (the solution) costs a step and a job, against the same commands run directly.
//!
//! Not an exercise: a crate of its own beside the chapter's (chapters.toml's `bench` names it),
//! built and run by the workbook's runner, on the measuring kit in tools/bench-kit.
#![allow(clippy::print_stdout)] // The table and its notes are what `just bench` prints.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use bench_kit::{BenchContext, Version, ms, time_command, verdict};

fn main() -> ExitCode {
    bench_kit::main(bench)
}

async fn bench(ctx: &BenchContext) -> Result<ExitCode> {
    println!("Building the solution of chapter 4…");
    let pipeline = ctx.build_bins(Version::Solution, &["pipeline"])?.remove(0);
    let dir = ctx.root.join("target/workbook/bench-ch04");
    std::fs::create_dir_all(&dir)?;
    let n = 50;
    // The same 50 commands: as 50 steps of one job, and as 50 jobs of one step each.
    let steps: String = (0..n)
        .map(|i| format!("      - run: \"true\"\n        name: step {i}\n"))
        .collect();
    let one_job = dir.join("steps.yml");
    std::fs::write(
        &one_job,
        format!("on: push\njobs:\n  one:\n    steps:\n{steps}"),
    )?;
    let jobs: String = (0..n)
        .map(|i| format!("  job{i}:\n    steps:\n      - run: \"true\"\n"))
        .collect();
    let many_jobs = dir.join("jobs.yml");
    std::fs::write(&many_jobs, format!("on: push\njobs:\n{jobs}"))?;

    let args = |file: &Path| {
        vec![
            "--branch".to_owned(),
            "main".into(),
            "--sha".into(),
            "abc".into(),
            file.display().to_string(),
        ]
    };
    let a = args(&one_job);
    let b = args(&many_jobs);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let b: Vec<&str> = b.iter().map(String::as_str).collect();
    // Directly: the same shell, the same command, n times, from one process (a shell loop).
    let direct_script = format!("i=0; while [ $i -lt {n} ]; do sh -e -c true; i=$((i+1)); done");
    let direct = time_command(Path::new("sh"), &["-c", &direct_script], 5)?;
    let via_steps = time_command(&pipeline, &a, 5)?;
    let via_jobs = time_command(&pipeline, &b, 5)?;
    let per = |total: Duration| (total.saturating_sub(direct)).as_secs_f64() * 1000.0 / n as f64;
    let rows = vec![
        [
            format!("{n} commands as {n} steps of one job (median of 5)"),
            format!("directly: {}", ms(direct)),
            format!("{} → {:.2} ms a step", ms(via_steps), per(via_steps)),
            format!("≤ 10 ms a step: {}", verdict(per(via_steps) <= 10.0)),
        ],
        [
            format!("{n} commands as {n} jobs of one step (median of 5)"),
            format!("directly: {}", ms(direct)),
            format!("{} → {:.2} ms a job", ms(via_jobs), per(via_jobs)),
            "measured, no goal".into(),
        ],
    ];
    ctx.print_table(
        &["measure", "baseline", "the runner (solution)", "goal"],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}
