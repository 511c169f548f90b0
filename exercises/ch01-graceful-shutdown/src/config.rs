//! The service's settings, read from environment variables (chapter 3 goes deeper).

use std::net::IpAddr;
use std::time::Duration;

use service_kit::env::{BadSetting, parse_or, seconds_or, var};

/// Everything the service reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `HOST`, default 127.0.0.1. In a container it must be 0.0.0.0 (chapter 3).
    pub host: IpAddr,
    /// `PORT`, default 3000; 0 picks a free port (the tests do that).
    pub port: u16,
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`.
    pub redis_url: String,
    /// `REDIS_KEY_PREFIX`, default `ch01:`: every key the service writes starts with it.
    pub redis_key_prefix: String,
    /// `SHUTDOWN_TIMEOUT` in seconds, default 10: how long shutdown may take, counted from the
    /// signal, before the service exits anyway (1.3). Ten seconds is what `docker stop` waits
    /// before its SIGKILL, so by default we give up just as Docker would, but cleanly and with a
    /// log line saying what was still running.
    pub shutdown_timeout: Duration,
    /// `SHUTDOWN_DELAY` in seconds, default 0: how long to keep accepting requests after the
    /// signal while readiness already fails, so load balancers stop sending traffic first (1.4).
    pub shutdown_delay: Duration,
    /// `FLUSH_INTERVAL` in seconds, default 1: how often the hit counter is written to Redis.
    pub flush_interval: Duration,
}

impl Config {
    /// Reads the environment, reporting every bad variable at once.
    pub fn from_env() -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let localhost = IpAddr::from([127, 0, 0, 1]);
        let host = or_note(
            parse_or(
                "HOST",
                localhost,
                "an IP address such as 127.0.0.1 or 0.0.0.0",
            ),
            localhost,
            &mut problems,
        );
        let port = or_note(
            parse_or("PORT", 3000u16, "a port number between 0 and 65535"),
            0,
            &mut problems,
        );
        let mut seconds = |name: &str, default: Duration| {
            or_note(seconds_or(name, default), default, &mut problems)
        };
        let shutdown_timeout = seconds("SHUTDOWN_TIMEOUT", Duration::from_secs(10));
        let shutdown_delay = seconds("SHUTDOWN_DELAY", Duration::ZERO);
        let flush_interval = seconds("FLUSH_INTERVAL", Duration::from_secs(1));
        if flush_interval.is_zero() {
            problems.push(BadSetting {
                name: "FLUSH_INTERVAL".into(),
                value: "0".into(),
                expected: "more than 0 seconds".into(),
            });
        }
        if shutdown_delay >= shutdown_timeout {
            problems.push(BadSetting {
                name: "SHUTDOWN_DELAY".into(),
                value: format!("{}", shutdown_delay.as_secs_f64()),
                expected: format!(
                    "less than SHUTDOWN_TIMEOUT ({} s): the delay is part of the shutdown time",
                    shutdown_timeout.as_secs_f64()
                ),
            });
        }
        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        Ok(Config {
            host,
            port,
            redis_url: var("REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379".into()),
            redis_key_prefix: var("REDIS_KEY_PREFIX").unwrap_or_else(|| "ch01:".into()),
            shutdown_timeout,
            shutdown_delay,
            flush_interval,
        })
    }

    /// The Redis key the hit counter is written to.
    pub fn hits_key(&self) -> String {
        format!("{}hits", self.redis_key_prefix)
    }
}

/// The value, or `default` with the problem noted, so that every problem is reported at once.
fn or_note<T>(result: Result<T, BadSetting>, default: T, problems: &mut Vec<BadSetting>) -> T {
    result.unwrap_or_else(|bad| {
        problems.push(bad);
        default
    })
}

/// One or more settings were wrong; all of them are listed.
#[derive(Debug, thiserror::Error)]
#[error("bad configuration:\n{}", .problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    /// Every problem found.
    pub problems: Vec<BadSetting>,
}
