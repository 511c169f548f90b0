//! `just run chapterN [--solution]`: builds and runs a chapter's service in the foreground, with a
//! Redis: `REDIS_URL` if set, one already on 127.0.0.1:6379, or a redis-server started for the
//! occasion and stopped afterwards.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use test_support::Server;
use test_support::process::describe;
use test_support::redis_server::PrivateRedisError;

use crate::cargo_test::Show;
use crate::manifest::Chapter;
use crate::scratch::{Scratch, Version};

pub(crate) async fn run(
    root: &Path,
    chapter: &Chapter,
    solution: bool,
    extra: &[String],
) -> Result<ExitCode> {
    chapter.ensure_ready()?;
    let mut scratch = if solution {
        Some(Scratch::prepare(root, chapter, Version::Solution)?)
    } else {
        None
    };
    let (place, target) = match &scratch {
        Some(scratch) => (scratch.place(), scratch.target.clone()),
        None => (
            crate::cargo_test::Place::learner(root),
            crate::cargo_dirs::of(root)?.target.clone(),
        ),
    };
    let dir = place.dir.to_path_buf();
    // Built the way `just test` builds it (the chapter's test target, which also builds its
    // binaries), so that `just run` after `just test` compiles nothing again: a plain
    // `cargo build` would unify features without the dev-dependencies and rebuild tokio & co.
    let built = crate::cargo_test::build(&place, chapter, Show::Build).await?;
    if !built {
        bail!(
            "the chapter does not build; `just test chapter{}` explains the errors",
            chapter.number
        );
    }
    // Built: the service runs from its binary, as long as the learner likes; others (a `just
    // test --solution` in another terminal) may have the copy meanwhile.
    if let Some(scratch) = scratch.as_mut() {
        scratch.release();
    }
    let (redis_url, redis) = if chapter.redis {
        let (url, server) = redis_for_run().await?;
        (Some(url), server)
    } else {
        (None, None)
    };
    let bin_dir = target.join("debug");
    let (program, args) = match chapter.run.split_first() {
        Some((program, args)) => (program.clone(), args.to_vec()),
        None => (chapter.package().to_owned(), Vec::new()),
    };
    let binary: PathBuf = bin_dir.join(&program);
    let which = if solution {
        "the reference solution"
    } else {
        "your version"
    };
    let with_redis = redis_url
        .as_ref()
        .map(|u| format!(", with REDIS_URL={u}"))
        .unwrap_or_default();
    eprintln!(
        "Running {which} of chapter {}{with_redis}. Ctrl-C stops it.",
        chapter.number
    );
    let mut command = tokio::process::Command::new(&binary);
    // From the chapter's folder (its files, such as minipm.toml, are found there), with the
    // chapter's other binaries first on PATH.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin_dir.clone()];
    paths.extend(std::env::split_paths(&path));
    // Options go before the program's own arguments (`pipeline --branch main workflow/ci.yml`).
    command
        .args(extra)
        .args(&args)
        .current_dir(dir.join("exercises").join(&chapter.folder))
        .env("PATH", std::env::join_paths(paths)?);
    if let Some(url) = &redis_url {
        command.env("REDIS_URL", url);
    }
    // On this machine, not the network: a service meant for a container binds 0.0.0.0 by
    // default (chapter 5's does), which on a laptop would answer the whole café's Wi-Fi.
    if std::env::var_os("HOST").is_none() {
        command.env("HOST", "127.0.0.1");
    }
    // The book is served on 4000, so the services' 3000 (chapter 3's 8080) is free while it is
    // open, and every `curl localhost:3000/…` in the book works as printed.
    //
    // Guarded as the tests' servers are, and passed exactly one signal per Ctrl-C (stop.rs).
    let status = crate::stop::run_guarded(command, &binary.display().to_string()).await?;
    eprintln!("{program} {}.", describe(status));
    if let Some(redis) = redis {
        redis.stop().await;
    }
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

/// A Redis URL for the service, and the guard of the redis-server started for it, if any.
async fn redis_for_run() -> Result<(String, Option<Server>)> {
    if let Some(url) = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()) {
        return Ok((url, None));
    }
    if tokio::net::TcpStream::connect("127.0.0.1:6379")
        .await
        .is_ok()
    {
        return Ok(("redis://127.0.0.1:6379".into(), None));
    }
    let (server, port) = match test_support::redis_server::spawn_private().await {
        Ok(started) => started,
        Err(PrivateRedisError::NotInstalled) => bail!(
            "no Redis is running on 127.0.0.1:6379 and redis-server is not installed.\n\
             Start one with `just redis` (Docker), install it (`sudo apt install redis-server` or \
             `brew install redis`), or set REDIS_URL."
        ),
        Err(err) => bail!("{err}"),
    };
    eprintln!("Started redis-server on port {port} for this run; it stops when the service does.");
    Ok((format!("redis://127.0.0.1:{port}"), Some(server)))
}
