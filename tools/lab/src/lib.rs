//! The chapter 5 compose lab, driven through whichever compose the machine has (`docker compose`
//! or the older `docker-compose`): the `lab` profile of the workbook's `docker-compose.yml`
//! (`cache`, `app` scaled to N, `lb`: HAProxy, lab/haproxy.cfg). The justfile's `up`, `scale`, `chaos`, `rolling-deploy`
//! and `down` call these functions, and so does the lab's test.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use test_support::docker::{self as engine, Compose, Project, ProjectGuard};
use test_support::http::{HttpError, Request};

/// One compose project of the lab.
#[derive(Debug, Clone)]
pub struct Lab {
    /// `docker compose` or `docker-compose` (test_support's detection, plugin first).
    compose: Compose,
    /// The folder of `docker-compose.yml`.
    root: PathBuf,
    /// The compose project name (`-p`): tests use their own, so they never touch yours.
    pub project: Option<String>,
    /// The balancer's port on 127.0.0.1 (`LB_PORT`).
    pub port: u16,
    /// Progress lines go to stderr unless quiet.
    pub quiet: bool,
}

impl Lab {
    /// The lab of the compose file in `root`, balancer on `port`.
    pub fn new(root: &Path, port: u16) -> Result<Lab> {
        engine::engine().map_err(|why| {
            anyhow!(
                "the lab needs a running Docker engine, and `docker info` fails ({why}): start \
                 Docker (Docker Desktop, or `sudo systemctl start docker`); `just doctor` checks it"
            )
        })?;
        let compose = engine::compose().map_err(|why| anyhow!("Docker runs, but {why}"))?;
        if !root.join("docker-compose.yml").is_file() {
            bail!("no docker-compose.yml in {}", root.display());
        }
        Ok(Lab {
            compose,
            root: root.to_path_buf(),
            project: None,
            port,
            quiet: false,
        })
    }

    /// The lab's compose project: the `lab` profile, under `project` if set, `LB_PORT` = port.
    fn stack(&self) -> Project {
        let stack = Project::new(self.compose.clone(), &self.root)
            .profile("lab")
            .env("LB_PORT", self.port.to_string());
        match &self.project {
            Some(name) => stack.named(name),
            // Your own lab outlives the command that started it (`just down` ends it): no
            // run's leftover, so it carries no run's label.
            None => stack.unlabelled(),
        }
    }

    /// A guard that takes this lab down when dropped, whatever happened (tests and the bench
    /// take it before [`Lab::up`], so that a start that fails half-way is taken down too).
    pub fn guard(&self) -> ProjectGuard {
        self.stack().guard()
    }

    fn say(&self, text: &str) {
        if !self.quiet {
            eprintln!("lab: {text}");
        }
    }

    /// Runs compose with `args`; fails with its output.
    pub fn compose(&self, args: &[&str]) -> Result<String> {
        self.stack().run(args).map_err(anyhow::Error::msg)
    }

    /// The ids of the running `app` replicas.
    pub fn replicas(&self) -> Result<Vec<String>> {
        Ok(self
            .compose(&["ps", "-q", "app"])?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|id| id.chars().take(12).collect())
            .filter(|id: &String| {
                docker(&["inspect", "-f", "{{.State.Running}}", id]).is_ok_and(|r| r == "true")
            })
            .collect())
    }

    /// The app's image, as compose names it: `<project>_app` (`-app` for the v2 plugin), the
    /// project being the lab's name or, for your own lab, the folder's (lowercased, letters,
    /// digits, `-` and `_` only).
    fn image(&self) -> String {
        let project = self.project.clone().unwrap_or_else(|| {
            let folder = self
                .root
                .canonicalize()
                .unwrap_or_else(|_| self.root.clone());
            folder
                .file_name()
                .map(|n| n.to_string_lossy().to_lowercase())
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect()
        });
        let sep = if self.compose.is_plugin() { '-' } else { '_' };
        format!("{project}{sep}app")
    }

    /// Builds the app's image, its progress shown as it goes (a cold build is minutes), and
    /// returns the id of the image it replaced under its tag, if another.
    fn build(&self) -> Result<Option<String>> {
        let image = self.image();
        let before = docker(&["image", "inspect", "--format", "{{.Id}}", &image]).ok();
        let dir = self.root.join("target/lab");
        std::fs::create_dir_all(&dir)?;
        engine::build(
            self.stack().command(&["build", "app"]),
            "lab: build",
            &dir.join("build.log"),
            Duration::from_secs(20 * 60),
        )
        .map_err(|why| anyhow!("building the app's image: {why}"))?;
        let after = docker(&["image", "inspect", "--format", "{{.Id}}", &image])?;
        Ok(before.filter(|old| *old != after))
    }

    /// Removes an image a build replaced: untagged, and used by no replica any more (a
    /// container that still uses it keeps it; `just clean` finds it later).
    fn remove_replaced(replaced: Option<String>) {
        if let Some(old) = replaced {
            let _ = docker(&["rmi", &old]);
        }
    }

    /// Builds the image and starts the stack with `n` replicas; returns once all are healthy
    /// and the balancer answers.
    pub fn up(&self, n: usize) -> Result<()> {
        self.say("building the app's image (the first build takes a few minutes)…");
        Self::remove_replaced(self.build()?);
        self.say(&format!("starting cache, {n} replicas of app, and lb…"));
        let scale = format!("app={n}");
        self.compose(&["up", "-d", "--scale", &scale, "cache", "app", "lb"])?;
        self.wait_healthy(&self.replicas()?, Duration::from_secs(90))?;
        self.wait_balancer(Duration::from_secs(30))?;
        self.say(&format!(
            "up: http://127.0.0.1:{}/ balances over {n} replicas",
            self.port
        ));
        Ok(())
    }

    /// Changes the number of replicas to `n`.
    pub fn scale(&self, n: usize) -> Result<()> {
        self.scale_app(n)?;
        self.wait_healthy(&self.replicas()?, Duration::from_secs(90))?;
        self.say(&format!("{n} replicas running"));
        Ok(())
    }

    /// Runs `n` replicas of app, leaving the running ones as they are.
    /// A replica that crashed (`just chaos`) stays, exited, and compose counts stopped
    /// containers among the N of `--scale` and starts them again (docker/compose#7756): a
    /// rolling deploy would take the killed replica, on its old image, for a new one. So stopped
    /// replicas are removed first (`rm` removes only stopped service containers), and every
    /// replica `--scale` adds is a fresh container of the current image.
    fn scale_app(&self, n: usize) -> Result<()> {
        self.compose(&["rm", "-f", "app"])?;
        let scale = format!("app={n}");
        self.compose(&[
            "up",
            "-d",
            "--no-deps",
            "--no-recreate",
            "--scale",
            &scale,
            "app",
        ])?;
        Ok(())
    }

    /// Kills one replica with SIGKILL (no shutdown at all: a crash, an OOM kill, a lost
    /// machine). Returns its id.
    pub fn chaos(&self) -> Result<String> {
        let replicas = self.replicas()?;
        let Some(victim) = replicas.first() else {
            bail!("no replica is running: `just up` first");
        };
        docker(&["kill", "--signal", "KILL", victim])?;
        self.say(&format!(
            "killed replica {victim} with SIGKILL; {} left",
            replicas.len() - 1
        ));
        Ok(victim.clone())
    }

    /// Replaces every replica with one of a fresh build, `surge` at a time (Kubernetes'
    /// `maxSurge`, with `maxUnavailable: 0`): build the new image; then, until no old replica is
    /// left, start `surge` new ones next to the old, wait until they are healthy (their
    /// readiness passes), and stop as many old ones (SIGTERM: readiness fails, HAProxy's checks
    /// take them out, in-flight requests drain) and remove them. Surge 1 keeps the capacity at
    /// N or N + 1 replicas throughout and takes N rounds; surge N starts N new at once (twice
    /// the replicas for a while: memory, CPU) and takes one round. If a new replica never
    /// becomes healthy, the new ones of that round are removed, and the replicas still running
    /// (old, and new from earlier rounds) keep serving.
    pub fn rolling_deploy(&self, surge: usize) -> Result<()> {
        let old = self.replicas()?;
        if old.is_empty() {
            bail!("no replica is running: `just up` first");
        }
        let (n, surge) = (old.len(), surge.clamp(1, old.len()));
        let started = Instant::now();
        self.say("building the new image…");
        let replaced = self.build()?;
        self.say(&format!(
            "replacing {n} replicas, {surge} at a time (at most {} running at once)…",
            n + surge
        ));
        let mut running = old.clone();
        for batch in old.chunks(surge) {
            self.scale_app(running.len() + batch.len())?;
            let new: Vec<String> = self
                .replicas()?
                .into_iter()
                .filter(|id| !running.contains(id))
                .collect();
            if let Err(err) = self.wait_healthy(&new, Duration::from_secs(90)) {
                self.say("a new replica never became healthy: removing this round's new ones");
                for id in &new {
                    let _ = docker(&["rm", "-f", id]);
                }
                return Err(err.context("rolling deploy aborted; the replicas still running serve"));
            }
            let stopping = Instant::now();
            // `docker stop` stops the ones it is given in parallel, each with its 15 s of grace.
            let mut stop = vec!["stop", "-t", "15"];
            stop.extend(batch.iter().map(String::as_str));
            docker(&stop)?;
            let mut rm = vec!["rm"];
            rm.extend(batch.iter().map(String::as_str));
            docker(&rm)?;
            running.retain(|id| !batch.contains(id));
            running.extend(new.iter().cloned());
            self.say(&format!(
                "replaced {} with {} (stopped and drained in {:.1} s)",
                batch.join(" "),
                new.join(" "),
                stopping.elapsed().as_secs_f64()
            ));
        }
        Self::remove_replaced(replaced);
        self.say(&format!(
            "rolling deploy done: {n} new replicas in {:.0} s",
            started.elapsed().as_secs_f64()
        ));
        Ok(())
    }

    /// Stops and removes the lab's containers, network and anonymous volumes, and the images it
    /// built (`--rmi local`: the app's, which has no tag of its own; not redis's or haproxy's).
    pub fn down(&self) -> Result<()> {
        self.stack().down().map_err(anyhow::Error::msg)?;
        self.compose(&["down", "--rmi", "local"]).map(drop)
    }

    /// Waits until every container in `ids` reports `healthy`.
    pub fn wait_healthy(&self, ids: &[String], limit: Duration) -> Result<()> {
        let started = Instant::now();
        for id in ids {
            loop {
                let status = docker(&[
                    "inspect",
                    "-f",
                    "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}",
                    id,
                ])?;
                match status.as_str() {
                    "healthy" => break,
                    "unhealthy" => bail!(
                        "replica {id} is unhealthy; its logs:\n{}",
                        docker(&["logs", "--tail", "20", id]).unwrap_or_default()
                    ),
                    _ if started.elapsed() > limit => bail!(
                        "replica {id} is still {status} after {} s; its logs:\n{}",
                        limit.as_secs(),
                        docker(&["logs", "--tail", "20", id]).unwrap_or_default()
                    ),
                    _ => std::thread::sleep(Duration::from_millis(250)),
                }
            }
        }
        Ok(())
    }

    /// Waits until `GET /` through the balancer answers 200 `n` times in a row: after a crash,
    /// until the balancer has taken the dead replica out (the lab's HAProxy retries nothing,
    /// so until then a request sent to it fails).
    pub fn wait_steady(&self, n: usize, limit: Duration) -> Result<()> {
        let started = Instant::now();
        let mut in_a_row = 0;
        while in_a_row < n {
            if get_status(self.port, "/").is_ok_and(|s| s == 200) {
                in_a_row += 1;
            } else {
                in_a_row = 0;
                std::thread::sleep(Duration::from_millis(50));
            }
            if started.elapsed() > limit {
                bail!(
                    "the balancer on 127.0.0.1:{} did not answer 200 {n} times in a row within \
                     {} s; `{} logs lb` says why",
                    self.port,
                    limit.as_secs(),
                    self.compose
                );
            }
        }
        Ok(())
    }

    /// Waits until `GET /` through the balancer answers 200.
    pub fn wait_balancer(&self, limit: Duration) -> Result<()> {
        let started = Instant::now();
        loop {
            if get_status(self.port, "/").is_ok_and(|s| s == 200) {
                return Ok(());
            }
            if started.elapsed() > limit {
                bail!(
                    "the balancer on 127.0.0.1:{} does not answer 200 after {} s; `{} logs lb` \
                     says why",
                    self.port,
                    limit.as_secs(),
                    self.compose
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// `docker args…`, trimmed stdout; fails with docker's message.
pub fn docker(args: &[&str]) -> Result<String> {
    engine::docker(args).map_err(anyhow::Error::msg)
}

fn get_status(port: u16, path: &str) -> Result<u16, HttpError> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    Request::get(path)
        .header("Host", "lab")
        .timeout(Duration::from_secs(3))
        .send_blocking(addr)
        .map(|answer| answer.status)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lab of the compose file in `root`, or `None` (after a loud skip, or a failure in CI)
    /// where no engine or no compose is installed.
    fn lab_or_skip(root: &Path, port: u16) -> Option<Result<Lab>> {
        if !engine::engine_or_skip() {
            return None;
        }
        if let Err(why) = engine::compose() {
            assert!(!engine::engine_required(), "{why}");
            test_support::skip(&why);
            return None;
        }
        Some(Lab::new(root, port))
    }

    #[test]
    fn a_folder_without_a_compose_file_is_refused() {
        let Some(lab) = lab_or_skip(Path::new(env!("CARGO_MANIFEST_DIR")), 8088) else {
            return;
        };
        let err = lab.unwrap_err();
        assert!(err.to_string().contains("no docker-compose.yml"), "{err:#}");
    }

    #[test]
    fn the_guard_takes_down_the_labs_own_project_with_its_profile_and_port() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let Some(lab) = lab_or_skip(&root, 8123) else {
            return;
        };
        let mut lab = lab.unwrap();
        lab.project = Some(format!("labunit{}", std::process::id()));
        let guard = lab.guard();
        let command = guard.project().command(&["down"]);
        let args: Vec<String> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let name = lab.project.clone().unwrap();
        assert!(
            args.windows(2).any(|w| w == ["-p", name.as_str()])
                && args.windows(2).any(|w| w == ["--profile", "lab"]),
            "{args:?}"
        );
        assert!(
            command
                .get_envs()
                .any(|(k, v)| k == "LB_PORT" && v == Some("8123".as_ref())),
            "the guard's compose does not see LB_PORT=8123"
        );
        // Dropping it takes down a project that never came up: nothing to do, and no error.
        drop(guard);
    }
}
