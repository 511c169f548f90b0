//! `just doctor`: checks the machine for everything the workbook needs, and says how to fix what
//! is missing.

use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::Result;
use test_support::redis_server::find_on_path;

use crate::manifest::{Chapter, Manifest, Status};

struct Check {
    name: &'static str,
    required_for: String,
    /// Without it the workbook cannot be used (`just doctor` fails); the others are needed only
    /// for what `required_for` says.
    required: bool,
    found: Option<String>,
    fix: String,
}

fn version_of(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.lines().next().unwrap_or("").trim().to_owned())
}

/// A tool that `cargo install` puts on PATH under its crate's name, at the version the workbook
/// pins.
fn cargo_installed(name: &'static str, version: &str, required_for: &str) -> Check {
    Check {
        name,
        required_for: required_for.into(),
        required: false,
        found: version_of(name, &["--version"]),
        fix: format!("cargo install --locked {name}@{version}"),
    }
}

/// The platform, as the learner would name it, and what it does not support; `docker` names
/// the chapters that need Docker (`chapters 3 and 5`).
pub(crate) fn platform(docker: &str) -> (String, Option<String>) {
    let arch = std::env::consts::ARCH;
    match std::env::consts::OS {
        "linux" if is_wsl() => (format!("Linux on WSL 2 ({arch})"), None),
        "linux" => (format!("Linux ({arch})"), None),
        "macos" => (
            format!(
                "macOS ({})",
                if arch == "aarch64" {
                    "Apple Silicon"
                } else {
                    "Intel"
                }
            ),
            Some(format!(
                "{docker} need Docker Desktop or OrbStack running; /proc is Linux's, so 2.5's \
                 live /proc test is skipped (your parser is still tested)"
            )),
        ),
        other => (
            format!("{other} ({arch})"),
            Some("not supported: use Linux, macOS, or WSL 2 on Windows".into()),
        ),
    }
}

fn is_wsl() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .is_ok_and(|r| r.to_ascii_lowercase().contains("microsoft"))
}

/// `chapter 1`, `chapters 1 and 5`, `chapters 1, 3 and 5`: the chapters of the manifest (those
/// that are written) for which `wants` holds, as the doctor's lines name them.
fn chapters_where(manifest: &Manifest, wants: impl Fn(&Chapter) -> bool) -> String {
    let numbers: Vec<String> = manifest
        .chapters
        .iter()
        .filter(|c| c.status != Status::Planned && wants(c))
        .map(|c| c.number.to_string())
        .collect();
    match numbers.as_slice() {
        [] => "no chapter".into(),
        [one] => format!("chapter {one}"),
        [rest @ .., last] => format!("chapters {} and {last}", rest.join(", ")),
    }
}

pub(crate) async fn doctor(root: &std::path::Path) -> Result<ExitCode> {
    let manifest = Manifest::load(root)?;
    // What each tool is for, from chapters.toml's `redis` and `docker` keys and the compose
    // files the chapters' tests start.
    let redis_chapters = chapters_where(&manifest, |c| c.redis);
    let docker_chapters = chapters_where(&manifest, |c| c.docker);
    let compose_chapters = chapters_where(&manifest, |c| {
        c.docker && crate::prefetch::uses_compose(root, c)
    });
    let (platform, caveat) = platform(&docker_chapters);
    println!("Checking this machine for the workbook…\n");
    match caveat {
        Some(caveat) => println!("• {:<15} {platform}: {caveat}", "platform"),
        None => println!("✓ {:<15} {platform}", "platform"),
    }
    let redis_url = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty());
    let redis_found = match &redis_url {
        Some(url) => Some(format!("REDIS_URL={url}")),
        None => find_on_path("redis-server").map(|p| {
            version_of(p.to_str().unwrap_or("redis-server"), &["--version"])
                .unwrap_or_else(|| p.display().to_string())
        }),
    };
    let docker_engine = test_support::docker::engine()
        .ok()
        .map(|v| format!("engine {v}"));
    let compose = test_support::docker::compose()
        .ok()
        .map(|c| format!("{c} {}", c.version()));
    // The images the Docker chapters' Dockerfiles and compose files start from (chapters.toml's
    // `docker`); pulled ahead, the first build needs no network.
    let mut images: Vec<String> = manifest
        .chapters
        .iter()
        .filter(|c| c.docker && c.status != Status::Planned)
        .flat_map(|c| crate::prefetch::chapter_images(root, c))
        .collect();
    images.sort();
    images.dedup();
    let missing_images: Option<Vec<&String>> = docker_engine.as_ref().map(|_| {
        images
            .iter()
            .filter(|i| !test_support::docker::has_image(i))
            .collect()
    });
    let checks = vec![
        Check {
            name: "cargo",
            required_for: "everything".into(),
            required: true,
            found: version_of("cargo", &["--version"]),
            fix: "install Rust with rustup: https://rustup.rs".into(),
        },
        cargo_installed("just", crate::pins::JUST, "the recipes"),
        cargo_installed(
            "mdbook",
            crate::pins::MDBOOK,
            "reading the book (`just serve` installs it)",
        ),
        cargo_installed(
            "mdbook-quiz",
            crate::pins::MDBOOK_QUIZ,
            "the questions at the end of each section (`just serve` installs it)",
        ),
        Check {
            name: "redis",
            required_for: format!("the tests of {redis_chapters}"),
            // Required as soon as one chapter's tests need it.
            required: manifest.chapters.iter().any(|c| c.redis),
            found: redis_found,
            fix: "sudo apt install redis-server, or brew install redis, or `just redis` (Docker) \
                  and REDIS_URL=redis://127.0.0.1:6379"
                .into(),
        },
        Check {
            name: "git",
            required_for: "`just reset`".into(),
            required: false,
            found: version_of("git", &["--version"]),
            fix: "sudo apt install git, or brew install git".into(),
        },
        Check {
            name: "docker engine",
            required_for: format!("{docker_chapters}, and `just redis`"),
            required: false,
            found: docker_engine,
            fix: "install Docker and start it (Docker Desktop, or `sudo systemctl start docker`)".into(),
        },
        Check {
            name: "images",
            required_for: format!("{docker_chapters} to need no network on the day"),
            required: false,
            found: missing_images
                .as_ref()
                .filter(|m| m.is_empty())
                .map(|_| images.join(", ")),
            fix: missing_images
                .unwrap_or_else(|| images.iter().collect())
                .iter()
                .map(|i| format!("docker pull {i}"))
                .collect::<Vec<_>>()
                .join("; "),
        },
        Check {
            name: "docker compose",
            required_for: format!("the lab of {compose_chapters}"),
            required: false,
            found: compose,
            fix: "install the compose plugin (`sudo apt install docker-compose-plugin`) or docker-compose".into(),
        },
    ];
    let mut missing_required = 0;
    for check in &checks {
        match &check.found {
            Some(version) => println!("✓ {:<15} {version}", check.name),
            None => {
                println!(
                    "✗ {:<15} missing; needed for {}.\n    fix: {}",
                    check.name, check.required_for, check.fix
                );
                if check.required {
                    missing_required += 1;
                }
            }
        }
    }
    for port in &manifest.ports {
        port_line(port);
    }
    if let Some(url) = redis_url {
        let reachable = match redis::Client::open(url.as_str()) {
            Ok(client) => matches!(
                tokio::time::timeout(Duration::from_secs(2), crate::compose_redis::ping(&client))
                    .await,
                Ok(Ok(()))
            ),
            Err(_) => false,
        };
        if !reachable {
            println!(
                "✗ {:<15} REDIS_URL={url} does not answer: start it, or unset REDIS_URL",
                "redis"
            );
            missing_required += 1;
        }
    }
    crate::leftovers::doctor_line();
    offline_readiness(root);
    if missing_required == 0 {
        let first = manifest.chapters.first().map_or(1, |c| c.number);
        println!("\nReady: `just serve` for the book, then `just test chapter{first}` to begin.");
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "\n{missing_required} required thing(s) missing: fix them, then run `just doctor` again."
        );
        Ok(ExitCode::FAILURE)
    }
}

/// Whether the machine could run the workshop with no network: what `just prefetch` recorded,
/// and whether the chapters' tests are built now.
fn offline_readiness(root: &std::path::Path) {
    let record = std::fs::read_to_string(crate::prefetch::record_path(root))
        .ok()
        .and_then(|t| toml::from_str::<crate::prefetch::Prefetched>(&t).ok());
    match record {
        Some(done) if done.problems.is_empty() => {
            let when = jiff::Timestamp::from_second(done.at as i64)
                .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            let missing: Vec<&String> = done
                .images
                .iter()
                .filter(|i| !test_support::docker::has_image(i))
                .collect();
            if missing.is_empty() {
                println!(
                    "✓ {:<15} ready to work offline (`just prefetch` ran {when}{})",
                    "offline",
                    done.commit.map(|c| format!(" on {c}")).unwrap_or_default()
                );
            } else {
                println!(
                    "! {:<15} prefetched {when}, but these images are gone: {}; run `just prefetch` again",
                    "offline",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        Some(done) => println!(
            "! {:<15} `just prefetch` ran with problems: {}",
            "offline",
            done.problems.join("; ")
        ),
        None => println!(
            "• {:<15} not prepared: `just prefetch` fetches crates, builds every chapter and \
             gets the images, for a day with poor network",
            "offline"
        ),
    }
}

/// Whether a port the workbook binds (chapters.toml's `[[port]]`) is free on 127.0.0.1, and if
/// not, which process holds it.
fn port_line(port: &crate::manifest::Port) {
    let label = format!("port {}", port.port);
    if std::net::TcpListener::bind(("127.0.0.1", port.port)).is_ok() {
        println!("✓ {label:<15} free, for {}", port.used_by);
        return;
    }
    let holder = listener_of(port.port)
        .map(|(pid, name)| format!("by {name} (pid {pid})"))
        .unwrap_or_else(|| "by another program (lsof would name it)".to_owned());
    println!(
        "! {label:<15} in use {holder}; needed for {}: stop that, or give ours another port \
         (PORT=…, LB_PORT=…)",
        port.used_by
    );
}

/// The process listening on TCP `port`, as lsof names it (macOS has it, most Linux too).
fn listener_of(port: u16) -> Option<(u32, String)> {
    let out = Command::new("lsof")
        .args(["-nP", &format!("-iTCP:{port}"), "-sTCP:LISTEN", "-Fpc"])
        .output()
        .ok()?;
    // `p<pid>` then `c<command>`, one field a line.
    let text = String::from_utf8_lossy(&out.stdout);
    let pid = text
        .lines()
        .find_map(|l| l.strip_prefix('p'))?
        .parse()
        .ok()?;
    let name = text.lines().find_map(|l| l.strip_prefix('c'))?.to_owned();
    Some((pid, name))
}
