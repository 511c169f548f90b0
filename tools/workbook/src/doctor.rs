//! `just doctor`: checks the machine for everything the workbook needs, and says how to fix what
//! is missing.

use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::Result;
use test_support::redis_server::find_on_path;

struct Check {
    name: &'static str,
    required_for: &'static str,
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
fn cargo_installed(name: &'static str, version: &str, required_for: &'static str) -> Check {
    Check {
        name,
        required_for,
        found: version_of(name, &["--version"]),
        fix: format!("cargo install --locked {name}@{version}"),
    }
}

/// The platform, as the learner would name it, and what it does not support.
pub(crate) fn platform() -> (String, Option<&'static str>) {
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
            Some(
                "chapters 3 and 5 need Docker Desktop or OrbStack running; /proc is Linux's, so \
                 2.5's live /proc test is skipped (your parser is still tested)",
            ),
        ),
        other => (
            format!("{other} ({arch})"),
            Some("not supported: use Linux, macOS, or WSL 2 on Windows"),
        ),
    }
}

fn is_wsl() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .is_ok_and(|r| r.to_ascii_lowercase().contains("microsoft"))
}

pub(crate) async fn doctor(root: &std::path::Path) -> Result<ExitCode> {
    let (platform, caveat) = platform();
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
    let manifest = crate::manifest::Manifest::load(root)?;
    let mut images: Vec<String> = manifest
        .chapters
        .iter()
        .filter(|c| c.docker && c.status != crate::manifest::Status::Planned)
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
            required_for: "everything",
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
            required_for: "the tests of chapters 1 and 5",
            found: redis_found,
            fix: "sudo apt install redis-server, or brew install redis, or `just redis` (Docker) \
                  and REDIS_URL=redis://127.0.0.1:6379"
                .into(),
        },
        Check {
            name: "git",
            required_for: "`just reset`",
            found: version_of("git", &["--version"]),
            fix: "sudo apt install git, or brew install git".into(),
        },
        Check {
            name: "docker engine",
            required_for: "chapters 3 and 5, and `just redis`",
            found: docker_engine,
            fix: "install Docker and start it (Docker Desktop, or `sudo systemctl start docker`)".into(),
        },
        Check {
            name: "images",
            required_for: "the Docker chapters to need no network on the day",
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
            required_for: "the chapter 5 lab",
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
                if matches!(check.name, "cargo" | "redis") {
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
        println!("\nReady: `just serve` for the book, then `just test chapter1` to begin.");
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
