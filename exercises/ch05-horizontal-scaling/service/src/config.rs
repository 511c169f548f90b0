//! The service's settings, from the environment (chapter 3 showed how; this one is kept short).

use std::net::IpAddr;
use std::time::Duration;

/// Everything the service reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `HOST`, default 0.0.0.0.
    pub host: IpAddr,
    /// `PORT`, default 8080; 0 picks a free port (the tests do that).
    pub port: u16,
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`.
    pub redis_url: String,
    /// `REDIS_KEY_PREFIX`, default `ch05:`: every key the service writes starts with it.
    pub prefix: String,
    /// `INSTANCE`: this copy's name in answers and logs; default the host name (a container id).
    pub instance: String,
    /// `SHUTDOWN_TIMEOUT` seconds, default 10.
    pub shutdown_timeout: Duration,
    /// `SHUTDOWN_DELAY` seconds, default 0: how long readiness fails before draining starts, so
    /// the load balancer stops sending first (5.2, 5.5).
    pub shutdown_delay: Duration,
    /// `SESSION_TTL` seconds, default 1800.
    pub session_ttl: Duration,
    /// `RATE_LIMIT`: requests per client per `RATE_WINDOW` seconds (default 600 per 60).
    pub rate_limit: u32,
    /// `RATE_WINDOW` seconds, default 60.
    pub rate_window: Duration,
}

impl Config {
    /// Reads the environment; a bad value is an error naming the variable.
    pub fn from_env() -> Result<Config, String> {
        fn var<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
            match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => v
                    .trim()
                    .parse()
                    .map_err(|_| format!("{name}={v}: not a valid value")),
                _ => Ok(default),
            }
        }
        let secs = |name: &str, default: u64| var(name, default).map(Duration::from_secs);
        let instance = std::env::var("INSTANCE")
            .or_else(|_| std::env::var("HOSTNAME"))
            .unwrap_or_else(|_| format!("pid-{}", std::process::id()));
        Ok(Config {
            host: var("HOST", IpAddr::from([0, 0, 0, 0]))?,
            port: var("PORT", 8080)?,
            redis_url: var("REDIS_URL", "redis://127.0.0.1:6379".to_string())?,
            prefix: var("REDIS_KEY_PREFIX", "ch05:".to_string())?,
            instance: instance.chars().take(12).collect(),
            shutdown_timeout: secs("SHUTDOWN_TIMEOUT", 10)?,
            shutdown_delay: secs("SHUTDOWN_DELAY", 0)?,
            session_ttl: secs("SESSION_TTL", 1800)?,
            rate_limit: var("RATE_LIMIT", 600)?,
            rate_window: secs("RATE_WINDOW", 60)?,
        })
    }
}
