//! 3.1 Configuration from the environment: one typed `Config`, read once at start-up from
//! environment variables, with every problem reported at once and no secret ever printed.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

/// The environment, as name → value. `std::env::vars()` collects into it; tests build one by hand.
pub type Vars = HashMap<String, String>;

// ANCHOR: secret
/// A value that must never be printed: `Debug` and `Display` show `[redacted]`, so a secret cannot
/// leak through `{:?}` in a log line, a panic message or an error. Read it with `expose`.
#[derive(Clone, PartialEq, Eq)]
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

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
// ANCHOR_END: secret

/// A Redis URL. Its password, if any, is a secret: `Debug` and `Display` show
/// `redis://:[redacted]@host:6379`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    /// The full URL, password included, for the client library.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with the password replaced, safe to log.
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// `scheme://user:password@host` → `scheme://user:[redacted]@host`; anything else unchanged.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
    format!("{scheme}://{user}:[redacted]@{host}")
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
    /// `HOST`, default `0.0.0.0`: in a container, 127.0.0.1 would refuse every connection that
    /// comes from outside it (through `-p`, or from another container).
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

// ANCHOR: from_vars
impl Config {
    /// Checks `vars`, collecting every problem instead of stopping at the first: a deploy that
    /// fails should say everything that is wrong with it, once.
    pub fn from_vars(vars: &Vars) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let mut check = |name: &str, what: &str, ok: bool, value: &str| {
            if !ok {
                problems.push(format!("{name}={value}: {what}"));
            }
        };
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());

        let host = get("HOST").unwrap_or("0.0.0.0");
        let parsed_host = host.parse::<IpAddr>();
        check(
            "HOST",
            "not an IP address (use 0.0.0.0 in a container)",
            parsed_host.is_ok(),
            host,
        );

        let port = get("PORT").unwrap_or("8080");
        let parsed_port = port.parse::<u16>();
        check(
            "PORT",
            "not a port number (0 to 65535)",
            parsed_port.is_ok(),
            port,
        );

        let level = get("LOG_LEVEL").unwrap_or("info");
        let log_level = match level.to_ascii_lowercase().as_str() {
            "trace" => Some(LogLevel::Trace),
            "debug" => Some(LogLevel::Debug),
            "info" => Some(LogLevel::Info),
            "warn" => Some(LogLevel::Warn),
            "error" => Some(LogLevel::Error),
            _ => None,
        };
        check(
            "LOG_LEVEL",
            "not a log level (trace, debug, info, warn or error)",
            log_level.is_some(),
            level,
        );

        let timeout = get("SHUTDOWN_TIMEOUT").unwrap_or("10");
        let seconds = timeout.parse::<u64>();
        check(
            "SHUTDOWN_TIMEOUT",
            "not a whole number of seconds",
            seconds.is_ok(),
            timeout,
        );

        let app_env = match get("APP_ENV").unwrap_or("production") {
            "development" => Some(AppEnv::Development),
            "production" => Some(AppEnv::Production),
            _ => None,
        };
        check(
            "APP_ENV",
            "not an environment (development or production)",
            app_env.is_some(),
            get("APP_ENV").unwrap_or(""),
        );

        // The two secrets: their problems never quote the value.
        let redis_url = get("REDIS_URL").map(|url| RedisUrl(url.to_string()));
        if let Some(url) = &redis_url
            && !(url.0.starts_with("redis://") || url.0.starts_with("rediss://"))
        {
            problems.push(format!(
                "REDIS_URL={url}: not a Redis URL (redis://host:6379 or rediss://…)"
            ));
        }
        let api_key = match get("API_KEY") {
            None => {
                problems.push(
                    "API_KEY: required and not set (pass it at run time: `docker run -e API_KEY`, \
                     or your platform's secret store; never in the image)"
                        .to_string(),
                );
                None
            }
            Some(key) if key.chars().count() < MIN_API_KEY_LEN => {
                problems.push(format!(
                    "API_KEY: too short ({} characters; at least {MIN_API_KEY_LEN})",
                    key.chars().count()
                ));
                None
            }
            Some(key) => Some(Secret::new(key)),
        };

        match (
            parsed_host,
            parsed_port,
            log_level,
            seconds,
            app_env,
            api_key,
        ) {
            (Ok(host), Ok(port), Some(log_level), Ok(seconds), Some(app_env), Some(api_key))
                if problems.is_empty() =>
            {
                Ok(Config {
                    host,
                    port,
                    log_level,
                    shutdown_timeout: Duration::from_secs(seconds),
                    redis_url,
                    api_key,
                    app_env,
                })
            }
            _ => Err(ConfigError { problems }),
        }
    }
}
// ANCHOR_END: from_vars

// ANCHOR: dotenv
/// The variables the service starts with: `env` itself, plus, only when `APP_ENV=development`,
/// the lines of the `.env` file at `dotenv` (if there is one). A variable set in the real
/// environment always wins over the file, so `PORT=9000 cargo run` still means port 9000.
/// In production a `.env` file is ignored: configuration comes from the platform, and a file
/// that slipped into an image must not change what the service does.
pub fn with_dotenv(mut env: Vars, dotenv: &Path) -> Result<Vars, ConfigError> {
    if env.get("APP_ENV").map(String::as_str) != Some("development") {
        return Ok(env);
    }
    let Ok(text) = std::fs::read_to_string(dotenv) else {
        return Ok(env);
    };
    let (vars, problems) = parse_dotenv(&text);
    if !problems.is_empty() {
        let problems = problems
            .into_iter()
            .map(|p| format!("{}: {p}", dotenv.display()))
            .collect();
        return Err(ConfigError { problems });
    }
    for (name, value) in vars {
        env.entry(name).or_insert(value);
    }
    Ok(env)
}
// ANCHOR_END: dotenv

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
