//! Compose: which one this machine has, a project of it (a compose file's folder, a project
//! name, profiles, variables), and a guard that takes the project down when dropped.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The compose command: the v2 plugin (`docker compose`) or the older standalone v1
/// (`docker-compose`), with its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compose {
    /// `["docker", "compose"]` or `["docker-compose"]`.
    words: &'static [&'static str],
    version: String,
}

const PLUGIN: &[&str] = &["docker", "compose"];
const STANDALONE: &[&str] = &["docker-compose"];

/// The compose this machine has, the plugin first: `docker compose` is the one Docker ships and
/// documents; `docker-compose` (v1, end of life) is still what some Linux packages install.
/// Asks only the commands, not the engine (see [`super::engine`]).
pub fn compose() -> Result<Compose, String> {
    detect(None)
}

/// [`compose`], looking for the commands in `path` instead of `PATH` (for its tests).
pub(super) fn detect(path: Option<&OsStr>) -> Result<Compose, String> {
    for words in [PLUGIN, STANDALONE] {
        let mut command = Command::new(words[0]);
        command
            .args(&words[1..])
            .args(["version", "--short"])
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        if let Some(path) = path {
            // On Unix a changed PATH is also where the program itself is looked up.
            command.env("PATH", path);
        }
        if let Ok(out) = command.output()
            && out.status.success()
        {
            let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            return Ok(Compose { words, version });
        }
    }
    Err(
        "neither `docker compose` nor `docker-compose` is installed: install the compose \
         plugin (`sudo apt install docker-compose-plugin`; Docker Desktop has it)"
            .to_owned(),
    )
}

impl Compose {
    /// The command with nothing after `compose` yet; stdin closed.
    pub fn command(&self) -> Command {
        let mut command = Command::new(self.words[0]);
        command.args(&self.words[1..]).stdin(Stdio::null());
        command
    }

    /// What `version --short` said: `2.29.7`, `1.29.2`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// True for the v2 plugin (`docker compose`).
    pub fn is_plugin(&self) -> bool {
        self.words == PLUGIN
    }
}

/// `docker compose` or `docker-compose`, as a learner would type it.
impl fmt::Display for Compose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.words.join(" "))
    }
}

/// One compose project: the folder of its `docker-compose.yml`, and optionally a project name
/// (`-p`, so that a test's stack never touches the learner's), profiles and variables.
#[derive(Debug, Clone)]
pub struct Project {
    compose: Compose,
    dir: PathBuf,
    name: Option<String>,
    profiles: Vec<String>,
    env: Vec<(String, String)>,
    labelled: bool,
}

/// What taking a project down means, for `just down` and for every guard: containers, networks,
/// anonymous volumes (the redis image declares one) and orphans, stopping each container with
/// 15 s of grace (longer than the lab's SHUTDOWN_DELAY + SHUTDOWN_TIMEOUT, like its
/// `stop_grace_period`).
const DOWN: &[&str] = &["down", "-v", "--remove-orphans", "--timeout", "15"];

impl Project {
    /// The project of the compose file in `dir`, under compose's default name (the folder's).
    pub fn new(compose: Compose, dir: impl Into<PathBuf>) -> Project {
        Project {
            compose,
            dir: dir.into(),
            name: None,
            profiles: Vec::new(),
            env: Vec::new(),
            labelled: true,
        }
    }

    /// Without the run's labels (see [`super::labels`]): for a stack the learner keeps (`just
    /// up`, `just redis`), which outlives the command that started it and is no leftover.
    pub fn unlabelled(mut self) -> Project {
        self.labelled = false;
        self
    }

    /// Under this project name (`-p`).
    pub fn named(mut self, name: impl Into<String>) -> Project {
        self.name = Some(name.into());
        self
    }

    /// With this profile enabled (`--profile`).
    pub fn profile(mut self, profile: impl Into<String>) -> Project {
        self.profiles.push(profile.into());
        self
    }

    /// With this variable set for compose (the file's `${NAME}`).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Project {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The compose command it runs.
    pub fn compose(&self) -> &Compose {
        &self.compose
    }

    /// The folder of its compose file.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its `-p` name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// `compose [-p name] [--profile …] args…` in the project's folder, with its variables and
    /// the run's labels for the compose file's `${WORKBOOK_RUN}` and `${WORKBOOK_CHECKOUT}`
    /// (empty when [`Project::unlabelled`], whatever the environment says).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = self.compose.command();
        if let Some(name) = &self.name {
            command.args(["-p", name]);
        }
        for profile in &self.profiles {
            command.args(["--profile", profile]);
        }
        let labels = super::labels::env().map(|(key, value)| {
            let value = if self.labelled { value } else { String::new() };
            (key, value)
        });
        command
            .args(args)
            .current_dir(&self.dir)
            .envs(labels)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs compose with `args`: its stdout, or its stderr when it fails.
    pub fn run(&self, args: &[&str]) -> Result<String, String> {
        let shown = format!("{} {}", self.compose, args.join(" "));
        let out = self
            .command(args)
            .output()
            .map_err(|err| format!("cannot run `{shown}`: {err}"))?;
        if !out.status.success() {
            return Err(format!(
                "`{shown}` failed:\n{}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Stops and removes the project's containers, networks and anonymous volumes.
    pub fn down(&self) -> Result<(), String> {
        self.run(DOWN).map(drop)
    }

    /// A guard that takes the project down when dropped (panics included). Take it before the
    /// project comes up, so that a start that fails half-way is taken down too.
    pub fn guard(&self) -> ProjectGuard {
        ProjectGuard {
            project: self.clone(),
        }
    }

    /// `up -d args…` under a guard: on failure the guard has already taken down whatever
    /// started.
    pub fn up(&self, args: &[&str]) -> Result<ProjectGuard, String> {
        let guard = self.guard();
        let mut all = vec!["up", "-d"];
        all.extend_from_slice(args);
        self.run(&all)?;
        Ok(guard)
    }
}

/// Takes its compose project down when dropped, whatever happened (see [`Project::guard`]).
#[derive(Debug)]
#[must_use = "the project is taken down when the guard is dropped"]
pub struct ProjectGuard {
    project: Project,
}

impl ProjectGuard {
    /// The project it guards.
    pub fn project(&self) -> &Project {
        &self.project
    }
}

impl Drop for ProjectGuard {
    fn drop(&mut self) {
        super::quietly(self.project.command(DOWN));
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A folder on a PATH of its own, holding fake `docker` and `docker-compose` scripts that
    /// answer `version --short` (or fail) as told.
    fn fake_path(test: &str, plugin: Option<&str>, standalone: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::TempDir::with_prefix(format!("test-support-compose-{test}-")).unwrap();
        let script = |name: &str, answer: Option<&str>, expect: &str| {
            let body = match answer {
                Some(version) => format!(
                    "#!/bin/sh\n[ \"$*\" = \"{expect}\" ] && {{ echo {version}; exit 0; }}\nexit 3\n"
                ),
                None => "#!/bin/sh\necho \"unknown command: $1\" >&2\nexit 1\n".to_owned(),
            };
            let path = dir.path().join(name);
            std::fs::write(&path, body).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        script("docker", plugin, "compose version --short");
        script("docker-compose", standalone, "version --short");
        dir
    }

    /// What `detect` finds on a PATH of the fakes [`fake_path`] makes: the command, its version,
    /// and whether it is the plugin.
    fn detected(
        test: &str,
        plugin: Option<&str>,
        standalone: Option<&str>,
    ) -> (String, String, bool) {
        let dir = fake_path(test, plugin, standalone);
        let compose = detect(Some(dir.path().as_os_str())).unwrap();
        (
            compose.to_string(),
            compose.version().to_owned(),
            compose.is_plugin(),
        )
    }

    #[test]
    fn the_plugin_is_preferred_when_both_are_installed() {
        assert_eq!(
            detected("both", Some("2.29.7"), Some("1.29.2")),
            ("docker compose".to_owned(), "2.29.7".to_owned(), true)
        );
    }

    #[test]
    fn the_standalone_compose_is_used_without_the_plugin() {
        assert_eq!(
            detected("standalone", None, Some("1.29.2")),
            ("docker-compose".to_owned(), "1.29.2".to_owned(), false)
        );
    }

    #[test]
    fn without_either_the_error_says_what_to_install() {
        let dir = fake_path("neither", None, None);
        let err = detect(Some(dir.path().as_os_str())).unwrap_err();
        assert!(
            err.contains("docker compose")
                && err.contains("docker-compose")
                && err.contains("docker-compose-plugin"),
            "{err}"
        );
    }

    #[test]
    fn a_project_command_names_the_project_profiles_and_variables() {
        let compose = Compose {
            words: PLUGIN,
            version: "2.29.7".into(),
        };
        let project = Project::new(compose, "/somewhere")
            .named("t1")
            .profile("lab")
            .env("LB_PORT", "8123");
        let command = project.command(&["ps", "-q"]);
        let args: Vec<&OsStr> = command.get_args().collect();
        assert_eq!(command.get_program(), "docker");
        assert_eq!(
            args,
            ["compose", "-p", "t1", "--profile", "lab", "ps", "-q"]
        );
        assert_eq!(command.get_current_dir(), Some(Path::new("/somewhere")));
        assert!(
            command
                .get_envs()
                .any(|(k, v)| k == "LB_PORT" && v == Some(OsStr::new("8123")))
        );
    }

    #[test]
    fn a_project_hands_compose_the_runs_labels_unless_it_is_one_the_learner_keeps() {
        let compose = Compose {
            words: PLUGIN,
            version: "2.29.7".into(),
        };
        let env_of = |project: &Project| -> Vec<(String, String)> {
            let command = project.command(&["up"]);
            let mut env: Vec<(String, String)> = command
                .get_envs()
                .filter(|(k, _)| k.to_string_lossy().starts_with("WORKBOOK_"))
                .map(|(k, v)| {
                    let v = v
                        .map(|v| v.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    (k.to_string_lossy().into_owned(), v)
                })
                .collect();
            env.sort();
            env
        };
        let labelled = Project::new(compose.clone(), "/somewhere").named("t1");
        assert_eq!(
            env_of(&labelled),
            [
                (
                    "WORKBOOK_CHECKOUT".to_owned(),
                    super::super::labels::checkout().to_owned()
                ),
                (
                    "WORKBOOK_RUN".to_owned(),
                    super::super::labels::run_id().to_owned()
                ),
            ]
        );
        let kept = Project::new(compose, "/somewhere").unlabelled();
        assert_eq!(
            env_of(&kept),
            [
                ("WORKBOOK_CHECKOUT".to_owned(), String::new()),
                ("WORKBOOK_RUN".to_owned(), String::new()),
            ]
        );
    }
}
