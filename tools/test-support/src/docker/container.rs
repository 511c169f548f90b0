//! A container a test started, removed when the test ends, failed or not.

use std::process::Command;

/// Removes its container (`docker rm -f -v`: stopped if it runs, its anonymous volumes too) when
/// dropped, panics included.
#[derive(Debug)]
#[must_use = "the container is removed when the guard is dropped"]
pub struct Container {
    name: String,
}

impl Container {
    /// `docker run -d --name <name> <the run's labels> args…` (options, the image, its
    /// command). If the run fails, whatever it created is removed before the error returns (a
    /// container can exist and fail to start).
    pub fn run(name: &str, args: &[&str]) -> Result<Container, String> {
        let container = Container::named(name);
        let labels = super::labels::args();
        let mut all = vec!["run", "-d", "--name", name];
        all.extend(labels.iter().map(String::as_str));
        all.extend_from_slice(args);
        super::docker(&all)?;
        Ok(container)
    }

    /// A guard for the container called `name`, however it was started.
    pub fn named(name: &str) -> Container {
        Container {
            name: name.to_owned(),
        }
    }

    /// The container's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `docker inspect --format <format>` of this container.
    pub fn inspect(&self, format: &str) -> Result<String, String> {
        super::docker(&["inspect", "--format", format, &self.name])
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let mut command = Command::new("docker");
        command.args(["rm", "-f", "-v", &self.name]);
        super::quietly(command);
    }
}
