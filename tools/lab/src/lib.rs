//! The chapter 5 compose lab, driven through whichever compose the machine has (`docker compose`
//! or the older `docker-compose`): the `lab` profile of the workbook's `docker-compose.yml`
//! (`cache`, `app` scaled to N, `lb`). The justfile's `up`, `scale`, `chaos`, `rolling-deploy`
//! and `down` call these functions, and so does the lab's test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// One compose project of the lab.
#[derive(Debug, Clone)]
pub struct Lab {
    /// `docker compose` or `docker-compose`.
    compose: Vec<String>,
    /// The folder of `docker-compose.yml`.
    root: PathBuf,
    /// The compose project name (`-p`): tests use their own, so they never touch yours.
    pub project: Option<String>,
    /// The balancer's port on 127.0.0.1 (`LB_PORT`).
    pub port: u16,
    /// Progress lines go to stderr unless quiet.
    pub quiet: bool,
}

fn works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Lab {
    /// The lab of the compose file in `root`, balancer on `port`.
    pub fn new(root: &Path, port: u16) -> Result<Lab> {
        if !works("docker", &["info"]) {
            bail!(
                "the lab needs a running Docker engine, and `docker info` fails: start Docker \
                 (Docker Desktop, or `sudo systemctl start docker`); `just doctor` checks it"
            );
        }
        let compose = if works("docker", &["compose", "version"]) {
            vec!["docker".to_string(), "compose".to_string()]
        } else if works("docker-compose", &["version"]) {
            vec!["docker-compose".to_string()]
        } else {
            bail!(
                "Docker runs, but neither `docker compose` nor `docker-compose` is installed: \
                 `sudo apt install docker-compose-plugin`"
            );
        };
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

    fn say(&self, text: &str) {
        if !self.quiet {
            eprintln!("lab: {text}");
        }
    }

    fn compose_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.compose[0]);
        command.args(&self.compose[1..]);
        if let Some(project) = &self.project {
            command.args(["-p", project]);
        }
        command
            .args(["--profile", "lab"])
            .args(args)
            .current_dir(&self.root)
            .env("LB_PORT", self.port.to_string())
            .stdin(Stdio::null());
        command
    }

    /// Runs compose with `args`; fails with its output.
    pub fn compose(&self, args: &[&str]) -> Result<String> {
        let out = self
            .compose_command(args)
            .output()
            .with_context(|| format!("running {}", self.compose.join(" ")))?;
        if !out.status.success() {
            bail!(
                "`{} {}` failed:\n{}",
                self.compose.join(" "),
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).to_string())
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

    /// Builds the image and starts the stack with `n` replicas; returns once all are healthy
    /// and the balancer answers.
    pub fn up(&self, n: usize) -> Result<()> {
        self.say("building the app's image (the first build takes a few minutes)…");
        self.compose(&["build", "app"])?;
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
    fn scale_app(&self, n: usize) -> Result<()> {
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

    /// Replaces every replica, one at a time: build the new image, start as many new replicas
    /// as there are old ones, wait until they are healthy, then stop the old ones one by one
    /// (SIGTERM: readiness fails, nginx stops sending, in-flight requests drain) and remove
    /// them. If a new replica never becomes healthy, the new ones are removed and the old ones
    /// keep serving.
    pub fn rolling_deploy(&self) -> Result<()> {
        let old = self.replicas()?;
        if old.is_empty() {
            bail!("no replica is running: `just up` first");
        }
        let n = old.len();
        self.say("building the new image…");
        self.compose(&["build", "app"])?;
        self.say(&format!(
            "starting {n} new replicas next to the {n} old ones…"
        ));
        self.scale_app(2 * n)?;
        let new: Vec<String> = self
            .replicas()?
            .into_iter()
            .filter(|id| !old.contains(id))
            .collect();
        if let Err(err) = self.wait_healthy(&new, Duration::from_secs(90)) {
            self.say("a new replica never became healthy: removing the new ones, keeping the old");
            for id in &new {
                let _ = docker(&["rm", "-f", id]);
            }
            return Err(err.context("rolling deploy aborted; the old replicas still serve"));
        }
        for id in &old {
            let started = Instant::now();
            docker(&["stop", "--time", "15", id])?;
            docker(&["rm", id])?;
            self.say(&format!(
                "replaced {id} (stopped and drained in {:.1} s)",
                started.elapsed().as_secs_f64()
            ));
        }
        self.say(&format!("rolling deploy done: {n} new replicas"));
        Ok(())
    }

    /// Stops and removes the lab's containers and network.
    pub fn down(&self) -> Result<()> {
        self.compose(&["down", "--remove-orphans", "--timeout", "15"])?;
        Ok(())
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
                    self.compose.join(" ")
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// `docker args…`, trimmed stdout; fails with docker's message.
pub fn docker(args: &[&str]) -> Result<String> {
    let out = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running docker")?;
    if !out.status.success() {
        bail!(
            "`docker {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn get_status(port: u16, path: &str) -> std::io::Result<u16> {
    use std::io::{Read, Write};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    String::from_utf8_lossy(&head[9..12])
        .parse()
        .map_err(|_| std::io::Error::other("not HTTP"))
}
