//! `just redis` and `just redis-stop`: the compose file's `redis` service, a Redis on
//! 127.0.0.1:6379 for learners without redis-server, through whichever compose the machine has
//! (test_support's detection: `docker compose`, else `docker-compose`), waited on until it
//! answers.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use test_support::docker;

/// The compose project of the workbook's own `docker-compose.yml`, once the engine answers.
fn project(root: &Path) -> Result<docker::Project> {
    docker::engine().map_err(|why| {
        anyhow!(
            "the Docker engine is not running (or not installed): {why}. Start Docker Desktop \
             or `sudo systemctl start docker`, then try again; `just doctor` checks the rest. \
             Without Docker, install redis-server instead (`sudo apt install redis-server` or \
             `brew install redis`): the tests start it themselves."
        )
    })?;
    let compose = docker::compose().map_err(|why| anyhow!("Docker runs, but {why}"))?;
    Ok(docker::Project::new(compose, root))
}

pub(crate) async fn redis(root: &Path, stop: bool) -> Result<ExitCode> {
    let project = project(root)?;
    let compose = project.compose();
    let args: &[&str] = if stop {
        &["stop", "redis"]
    } else {
        &["up", "-d", "redis"]
    };
    let status = project
        .command(args)
        .status()
        .with_context(|| format!("running {compose}"))?;
    if !status.success() {
        bail!(
            "`{compose} {}` failed (its message is above). If the image could not be pulled, \
             this machine may be offline: install redis-server instead.",
            args.join(" ")
        );
    }
    if stop {
        println!("Redis stopped.");
        return Ok(ExitCode::SUCCESS);
    }
    let started = Instant::now();
    let client = redis::Client::open("redis://127.0.0.1:6379")?;
    let mut last_error = String::from("no answer");
    while started.elapsed() < Duration::from_secs(30) {
        match tokio::time::timeout(Duration::from_secs(1), ping(&client)).await {
            Ok(Ok(())) => {
                println!(
                    "Redis is up on 127.0.0.1:6379. Use it with:\n  export REDIS_URL=redis://127.0.0.1:6379\nStop it with `just redis-stop`."
                );
                return Ok(ExitCode::SUCCESS);
            }
            Ok(Err(err)) => last_error = err.to_string(),
            Err(_) => last_error = "no answer within 1 s".into(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!(
        "the Redis container started but did not answer PING on 127.0.0.1:6379 within 30 s \
         (last error: {last_error}); `{compose} logs redis` says more"
    )
}

/// Connects and sends PING: the check that a Redis really answers.
pub(crate) async fn ping(client: &redis::Client) -> redis::RedisResult<()> {
    let mut conn = client.get_multiplexed_async_connection().await?;
    redis::cmd("PING").query_async::<String>(&mut conn).await?;
    Ok(())
}
