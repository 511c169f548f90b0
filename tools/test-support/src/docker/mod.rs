//! The Docker engine, asked and driven the same way by the chapters' tests, the lab (tools/lab)
//! and the runner's `doctor`, `prefetch`, `redis` and `bench`: is there an engine (and, in a
//! test, skip or fail without one), which compose this machine has, is an image present, an
//! image build that shows its progress ([`build`]), the labels that tie everything a run
//! creates to that run ([`labels`]), and guards that remove what a test started, panics
//! included: a [`Container`] and a compose [`Project`] ([`ProjectGuard`]).
//!
//! Its own tests: `cargo test -p test-support` (tests/docker.rs needs an engine, and skips
//! loudly without one outside CI).

mod build;
mod compose;
mod container;
pub mod labels;

use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub use build::{build, progress};
pub use compose::{Compose, Project, ProjectGuard, compose};
pub use container::Container;

/// The engine's version if one answers `docker info`, else why not.
pub fn engine() -> Result<String, String> {
    match Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => {
            let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if version.is_empty() {
                Err("`docker info` names no engine version".to_owned())
            } else {
                Ok(version)
            }
        }
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).trim().to_owned()),
        Err(err) => Err(format!("the `docker` command is not available: {err}")),
    }
}

/// True where a test must not skip for want of an engine: in CI (`CI` set) and under
/// `just verify` (which sets `WORKBOOK_REQUIRE_DOCKER`).
pub fn engine_required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var_os("WORKBOOK_REQUIRE_DOCKER").is_some()
}

/// Whether a Docker engine answers `docker info`, asked once per test binary. Without one, the
/// tests that need it fail where they must run ([`engine_required`]), and elsewhere print a
/// loud SKIPPED notice ([`crate::skip`]) and return false.
pub fn engine_or_skip() -> bool {
    static ENGINE: OnceLock<Result<String, String>> = OnceLock::new();
    let Err(why) = ENGINE.get_or_init(engine) else {
        return true;
    };
    assert!(
        !engine_required(),
        "this test needs a Docker engine, and none answers: {why}\n\
         Start Docker (`sudo systemctl start docker`, or open Docker Desktop) and check with \
         `docker info`. Container tests are never skipped in CI or under `just verify`."
    );
    crate::skip(&format!("no Docker engine: {why}"));
    false
}

/// True if the engine has `image` (a tag such as `redis:7`) locally. Never pulls.
pub fn has_image(image: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", image])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `docker args…`: its stdout, trimmed, or docker's own message when it fails.
pub fn docker(args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("cannot run `docker {}`: {err}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "`docker {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Runs `command` with every stream closed: the guards' clean-up, which has nobody to tell when
/// it fails (what it removes may be gone already).
fn quietly(mut command: Command) {
    let _ = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
