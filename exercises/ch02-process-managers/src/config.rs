//! `minipm.toml`: what to run, like PM2's ecosystem file. Given, not an exercise.
//!
//! ```toml
//! [[app]]
//! name = "web"
//! command = "target/debug/worker"
//! instances = 2            # or "max": one per core (the default when `port` is set)
//! port = 3000              # cluster mode: minipm listens, every instance serves from it
//! env = { RUST_LOG = "info" }
//! ready_line = "ready"     # printed by an instance when it can take traffic (reload waits for it)
//!
//! [app.restart]            # PM2's exp_backoff_restart_delay, and systemd's start limit
//! base_delay_ms = 100
//! factor = 1.5
//! max_delay_ms = 15000
//! reset_after_ms = 30000
//! limit_burst = 5
//! limit_interval_ms = 10000
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Every app to run.
    #[serde(rename = "app", default)]
    pub apps: Vec<AppConfig>,
    /// Where the merged log stream is also written (besides minipm's stdout).
    pub log_file: Option<PathBuf>,
    /// Address of the status and metrics endpoint (`/status`, `/metrics`); port 0 picks one.
    #[serde(default = "default_metrics_addr")]
    pub metrics_addr: String,
}

fn default_metrics_addr() -> String {
    "127.0.0.1:9615".to_owned()
}

/// One app: a command run as one or more instances.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    pub name: String,
    pub command: PathBuf,
    #[serde(default)]
    pub args: Vec<String>,
    /// How many instances; unset, see [`AppConfig::instances`].
    pub instances: Option<Instances>,
    /// Cluster mode: minipm binds 127.0.0.1:port once and every instance serves from it.
    pub port: Option<u16>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A line an instance prints once it can take traffic (like PM2's `wait_ready`).
    pub ready_line: Option<String>,
    /// How long a new instance has to print `ready_line` (PM2's `listen_timeout`: 3,000 ms).
    #[serde(default = "default_listen_timeout")]
    pub listen_timeout_ms: u64,
    /// How long a stopping instance has between SIGTERM and SIGKILL (PM2's `kill_timeout`).
    #[serde(default = "default_kill_timeout")]
    pub kill_timeout_ms: u64,
    #[serde(default)]
    pub restart: RestartConfig,
}

fn default_listen_timeout() -> u64 {
    3000
}

fn default_kill_timeout() -> u64 {
    1600
}

/// How many instances: a number, or `"max"` for one per core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instances {
    Count(u32),
    Max,
}

impl<'de> Deserialize<'de> for Instances {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Count(u32),
            Word(String),
        }
        match Raw::deserialize(d)? {
            Raw::Count(n) => Ok(Instances::Count(n)),
            Raw::Word(w) if w == "max" => Ok(Instances::Max),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                "instances = {w:?}: expected a number or \"max\""
            ))),
        }
    }
}

/// The restart policy's numbers (see `backoff.rs`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RestartConfig {
    pub base_delay_ms: u64,
    pub factor: f64,
    pub max_delay_ms: u64,
    pub reset_after_ms: u64,
    pub limit_burst: u32,
    pub limit_interval_ms: u64,
}

impl Default for RestartConfig {
    /// PM2's exponential backoff (100 ms, ×1.5, capped at 15 s, reset after 30 s of uptime) and
    /// systemd's numbers for the limit (5 within 10 s, counted as restarts where systemd counts
    /// starts).
    fn default() -> Self {
        RestartConfig {
            base_delay_ms: 100,
            factor: 1.5,
            max_delay_ms: 15_000,
            reset_after_ms: 30_000,
            limit_burst: 5,
            limit_interval_ms: 10_000,
        }
    }
}

impl AppConfig {
    /// The instances asked for or, when unset, one in fork mode and one per core in cluster mode
    /// (the app has a `port`), like `pm2 start -i max`.
    pub fn instances(&self) -> Instances {
        self.instances.unwrap_or(if self.port.is_some() {
            Instances::Max
        } else {
            Instances::Count(1)
        })
    }

    pub fn listen_timeout(&self) -> Duration {
        Duration::from_millis(self.listen_timeout_ms)
    }

    pub fn kill_timeout(&self) -> Duration {
        Duration::from_millis(self.kill_timeout_ms)
    }
}

/// The file could not be used; the message names the file, the app and the field.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Reads and checks a `minipm.toml`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses and checks the text of a `minipm.toml`, with every problem in one message.
    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut problems = Vec::new();
        if config.apps.is_empty() {
            problems.push("no [[app]] to run".to_owned());
        }
        for (i, app) in config.apps.iter().enumerate() {
            let name = &app.name;
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                problems.push(format!(
                    "app {}: name {name:?} must be letters, digits, - or _",
                    i + 1
                ));
            }
            if config.apps[..i].iter().any(|a| &a.name == name) {
                problems.push(format!("app {name:?} is defined twice"));
            }
            if app.command.as_os_str().is_empty() {
                problems.push(format!("app {name:?}: command is empty"));
            }
            if app.instances == Some(Instances::Count(0)) {
                problems.push(format!(
                    "app {name:?}: instances = 0; at least 1, or \"max\""
                ));
            }
            let r = &app.restart;
            if !(r.factor >= 1.0 && r.factor.is_finite()) {
                problems.push(format!(
                    "app {name:?}: restart.factor = {}; at least 1.0",
                    r.factor
                ));
            }
            if r.max_delay_ms < r.base_delay_ms {
                problems.push(format!(
                    "app {name:?}: restart.max_delay_ms is below base_delay_ms"
                ));
            }
            if r.limit_burst == 0 {
                problems.push(format!("app {name:?}: restart.limit_burst = 0; at least 1"));
            }
        }
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_app_gets_pm2_and_systemd_defaults() {
        let config = Config::parse("[[app]]\nname = \"web\"\ncommand = \"./worker\"\n").unwrap();
        let app = &config.apps[0];
        assert_eq!(
            app.instances(),
            Instances::Count(1),
            "fork mode: one instance"
        );
        let cluster =
            Config::parse("[[app]]\nname = \"web\"\ncommand = \"w\"\nport = 3000\n").unwrap();
        assert_eq!(
            cluster.apps[0].instances(),
            Instances::Max,
            "cluster mode: one per core"
        );
        assert_eq!(app.listen_timeout_ms, 3000);
        assert_eq!(app.kill_timeout_ms, 1600);
        assert_eq!(app.restart.base_delay_ms, 100);
        assert_eq!(app.restart.factor, 1.5);
        assert_eq!(app.restart.max_delay_ms, 15_000);
    }

    #[test]
    fn max_instances_and_bad_entries_are_reported() {
        let ok = Config::parse("[[app]]\nname = \"web\"\ncommand = \"w\"\ninstances = \"max\"\n")
            .unwrap();
        assert_eq!(ok.apps[0].instances(), Instances::Max);
        let err = Config::parse(
            "[[app]]\nname = \"web\"\ncommand = \"w\"\ninstances = 0\n[[app]]\nname = \"web\"\ncommand = \"\"\n",
        )
        .unwrap_err();
        assert!(err.contains("instances = 0"), "{err}");
        assert!(err.contains("defined twice"), "{err}");
        assert!(err.contains("command is empty"), "{err}");
        let err = Config::parse("[[app]]\nname = \"web\"\ncommand = \"w\"\ninstances = \"many\"\n")
            .unwrap_err();
        assert!(err.contains("expected a number or \"max\""), "{err}");
        let err = Config::parse("[[app]]\nname = \"web\"\ncomand = \"w\"\n").unwrap_err();
        assert!(err.contains("comand"), "{err}");
    }
}
