//! `just redis`: a Redis in Docker, through whichever compose the machine has (`docker compose`
//! or the older `docker-compose`), waited on until it answers.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The compose command available here: `docker compose` (v2 plugin) or `docker-compose` (v1).
pub fn compose() -> Result<Vec<&'static str>> {
    let works = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !works("docker", &["info", "--format", "{{.ServerVersion}}"]) {
        bail!(
            "the Docker engine is not running (or not installed). Start Docker Desktop or \
             `sudo systemctl start docker`, then try again; `just doctor` checks the rest. \
             Without Docker, install redis-server instead (`sudo apt install redis-server` or \
             `brew install redis`): the tests start it themselves."
        );
    }
    if works("docker", &["compose", "version"]) {
        Ok(vec!["docker", "compose"])
    } else if works("docker-compose", &["version"]) {
        Ok(vec!["docker-compose"])
    } else {
        bail!(
            "Docker runs, but neither `docker compose` nor `docker-compose` is installed: `sudo apt install docker-compose-plugin`"
        )
    }
}

pub async fn redis(root: &Path, stop: bool) -> Result<ExitCode> {
    let compose = compose()?;
    let args: &[&str] = if stop {
        &["stop", "redis"]
    } else {
        &["up", "-d", "redis"]
    };
    let status = Command::new(compose[0])
        .args(&compose[1..])
        .args(args)
        .current_dir(root)
        .status()
        .with_context(|| format!("running {}", compose.join(" ")))?;
    if !status.success() {
        bail!(
            "`{} {}` failed (its message is above). If the image could not be pulled, this \
             machine may be offline: install redis-server instead.",
            compose.join(" "),
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
         (last error: {last_error}); `{} logs redis` says more",
        compose.join(" ")
    )
}

/// Connects and sends PING: the check that a Redis really answers.
pub async fn ping(client: &redis::Client) -> redis::RedisResult<()> {
    let mut conn = client.get_multiplexed_async_connection().await?;
    redis::cmd("PING").query_async::<String>(&mut conn).await?;
    Ok(())
}
