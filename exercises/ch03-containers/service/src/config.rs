//! 3.1 Configuration from the environment: one typed `Config`, read once at start-up from
//! environment variables, with every problem reported at once and no secret ever printed.
//!
//! This starter is the configuration most services begin with: it works on your machine. Read
//! the chapter's 3.1 and make it fit for a container: `just test chapter3` says what is missing.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

/// The environment, as name → value. `std::env::vars()` collects into it; tests build one by hand.
pub type Vars = HashMap<String, String>;

/// A value that must never be printed. Read it with `expose`.
// TODO(3.1): `{:?}` and `{}` print the secret itself. Write `Debug` and `Display` by hand so they
// show `[redacted]` instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that needs it (comparing an API key).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Redis URL. Its password, if any, is a secret.
// TODO(3.1): `Debug` and `Display` should show `redis://:[redacted]@host:6379`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    /// The full URL, password included, for the client library.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with the password replaced, safe to log.
    pub fn redacted(&self) -> String {
        self.0.clone()
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// How much the service logs: `LOG_LEVEL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// The level's name, as `LOG_LEVEL` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// Where the service runs: `APP_ENV`. Only `development` reads a `.env` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// Everything the service reads from its environment, checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// `HOST`.
    pub host: IpAddr,
    /// `PORT`, default 8080.
    pub port: u16,
    /// `LOG_LEVEL`, default `info`.
    pub log_level: LogLevel,
    /// `SHUTDOWN_TIMEOUT` in seconds, default 10 (chapter 1's deadline).
    pub shutdown_timeout: Duration,
    /// `REDIS_URL`, optional: checked here so a typo stops the start, not the first request.
    pub redis_url: Option<RedisUrl>,
    /// `API_KEY`, required, at least 16 characters: the key `/admin/config` asks for.
    pub api_key: Secret,
    /// `APP_ENV`, default `production`.
    pub app_env: AppEnv,
}

/// Every problem found in the environment, one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Each problem, as `NAME=value: what is wrong` (or `NAME: …` for a secret or a missing one).
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "the configuration has {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// The shortest API key accepted.
pub const MIN_API_KEY_LEN: usize = 16;

impl Config {
    /// Reads the settings from `vars`.
    // TODO(3.1): this never fails: a typo in PORT silently becomes 8080, a missing API_KEY
    // becomes a key everybody knows, and 127.0.0.1 cannot be reached from outside a container.
    // Collect every problem into a `ConfigError` (the tests name the messages they expect).
    pub fn from_vars(vars: &Vars) -> Result<Config, ConfigError> {
        let get = |name: &str| vars.get(name).cloned().unwrap_or_default();
        Ok(Config {
            host: get("HOST").parse().unwrap_or(IpAddr::from([127, 0, 0, 1])),
            port: get("PORT").parse().unwrap_or(8080),
            log_level: LogLevel::Info,
            shutdown_timeout: Duration::from_secs(get("SHUTDOWN_TIMEOUT").parse().unwrap_or(10)),
            redis_url: vars.get("REDIS_URL").map(|url| RedisUrl(url.clone())),
            api_key: Secret::new(
                vars.get("API_KEY")
                    .cloned()
                    .unwrap_or_else(|| "dev-key-1234567890".to_string()),
            ),
            app_env: if get("APP_ENV") == "development" {
                AppEnv::Development
            } else {
                AppEnv::Production
            },
        })
    }
}

/// The variables the service starts with: `env`, plus the `.env` file at `dotenv`.
// TODO(3.1): read the file only when `APP_ENV=development`, and never let it override a variable
// that is set in the real environment.
pub fn with_dotenv(mut env: Vars, dotenv: &Path) -> Result<Vars, ConfigError> {
    let Ok(text) = std::fs::read_to_string(dotenv) else {
        return Ok(env);
    };
    let (vars, problems) = parse_dotenv(&text);
    if !problems.is_empty() {
        return Err(ConfigError { problems });
    }
    env.extend(vars);
    Ok(env)
}

/// Parses `.env` text: `NAME=value` lines, `#` comments, blank lines, an optional `export `
/// prefix and optional matching quotes around the value. Returns the variables and a problem per
/// line that is none of those (without quoting the line, which may hold a secret).
pub fn parse_dotenv(text: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut vars = Vec::new();
    let mut problems = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            problems.push(format!("line {}: expected NAME=value", number + 1));
            continue;
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            problems.push(format!("line {}: not a variable name", number + 1));
            continue;
        }
        let value = value.trim();
        let value = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
            .unwrap_or(value);
        vars.push((name.to_string(), value.to_string()));
    }
    (vars, problems)
}

/// The process's configuration: its environment, with `./.env` in development.
pub fn from_env() -> Result<Config, ConfigError> {
    let env = with_dotenv(std::env::vars().collect(), Path::new(".env"))?;
    Config::from_vars(&env)
}
