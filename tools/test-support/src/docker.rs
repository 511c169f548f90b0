//! The Docker engine, asked the same way by the tests, the runner's `doctor`, `prefetch` and
//! `bench`: is there an engine, and is an image present.

use std::process::{Command, Stdio};

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

/// True if the engine has `image` (a tag such as `redis:7`) locally.
pub fn has_image(image: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", image])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
