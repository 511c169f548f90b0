//! A real Redis for each test: the one `REDIS_URL` names if it is set, otherwise a redis-server
//! started on a free port for this test alone and stopped when the test ends.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;

use crate::free_port;
use crate::process::Server;

/// How every failure to reach a Redis begins, so that the runner can tell "Redis is missing" (a
/// fact about the machine) from a fault in the learner's code.
pub const REDIS_UNREACHABLE: &str = "Redis is not reachable: ";

const INSTALL_HELP: &str = "These tests need a real Redis. Any one of these fixes it:\n\
     - install redis-server: `sudo apt install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS);\n\
     - or start one in Docker with `just redis` and run the tests with REDIS_URL=redis://127.0.0.1:6379;\n\
     - or point REDIS_URL at any Redis you have.\n\
     `just doctor` checks this for you.";

/// A Redis for one test. Keys are namespaced by [`prefix`](Self::prefix), so tests sharing the
/// `REDIS_URL` Redis do not see each other's data.
#[derive(Debug)]
pub struct Redis {
    url: String,
    prefix: String,
    server: Option<Server>,
}

impl Redis {
    /// Connects to `REDIS_URL`, or starts a private redis-server. Fails the test with install
    /// instructions if neither is possible.
    pub async fn start() -> Redis {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let prefix = format!(
            "test:{}:{}:",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        if let Some(url) = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()) {
            let redis = Redis {
                url,
                prefix,
                server: None,
            };
            if let Err(err) = redis.try_connect().await {
                panic!(
                    "{REDIS_UNREACHABLE}REDIS_URL is set to {}, but Redis does not answer there: {err}.\n\
                     Start it (`just redis`), or unset REDIS_URL to let the tests start their own \
                     redis-server.",
                    redis.url
                );
            }
            return redis;
        }
        match spawn_private().await {
            Ok((server, port)) => Redis {
                url: format!("redis://127.0.0.1:{port}"),
                prefix,
                server: Some(server),
            },
            Err(err @ PrivateRedisError::NotInstalled) => {
                panic!("{REDIS_UNREACHABLE}{err} and REDIS_URL is not set.\n{INSTALL_HELP}")
            }
            Err(err) => panic!("{err}"),
        }
    }

    /// The URL to give the program under test (`REDIS_URL`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// This test's key namespace (`REDIS_KEY_PREFIX`); ends with `:`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `prefix + name`: the full key a program using this prefix writes.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// A fresh connection, for the test to read what the program wrote.
    pub async fn connection(&self) -> MultiplexedConnection {
        self.try_connect().await.unwrap_or_else(|err| {
            panic!(
                "{REDIS_UNREACHABLE}could not connect to the test's Redis at {}: {err}",
                self.url
            )
        })
    }

    async fn try_connect(&self) -> redis::RedisResult<MultiplexedConnection> {
        let client = redis::Client::open(self.url.as_str())?;
        match tokio::time::timeout(
            Duration::from_secs(3),
            client.get_multiplexed_async_connection(),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no answer within 3 s",
            ))),
        }
    }

    /// Reads an integer key of this test's namespace; a missing key reads as 0.
    pub async fn get_int(&self, name: &str) -> i64 {
        let mut conn = self.connection().await;
        let value: Option<i64> = conn
            .get(self.key(name))
            .await
            .unwrap_or_else(|err| panic!("GET {} failed: {err}", self.key(name)));
        value.unwrap_or(0)
    }

    /// Stops the private redis-server at once (SIGKILL), to test what happens when Redis goes
    /// away. Panics when the tests were given an outside `REDIS_URL`, which they must not kill.
    pub fn kill(&mut self) {
        match &mut self.server {
            Some(server) => server.kill(),
            None => panic!("this test stops Redis, so it needs its own: unset REDIS_URL"),
        }
    }
}

/// A private redis-server could not be started.
#[derive(Debug)]
pub enum PrivateRedisError {
    /// There is no `redis-server` on `PATH`.
    NotInstalled,
    /// It exited or hung at every attempt; its last output.
    WouldNotStart(String),
}

impl std::fmt::Display for PrivateRedisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrivateRedisError::NotInstalled => write!(f, "redis-server is not installed"),
            PrivateRedisError::WouldNotStart(output) => {
                write!(
                    f,
                    "redis-server would not start on a free port. Its last output:\n{output}"
                )
            }
        }
    }
}

impl std::error::Error for PrivateRedisError {}

/// Starts a redis-server of its own on a free port of 127.0.0.1, persisting nothing, and
/// returns it (stopped when dropped) with its port. Used by the tests and by `just run`.
pub async fn spawn_private() -> Result<(Server, u16), PrivateRedisError> {
    let binary = find_on_path("redis-server").ok_or(PrivateRedisError::NotInstalled)?;
    let mut last_output = String::new();
    // A port that was free a moment ago may be taken by the time redis-server binds it.
    for _attempt in 0..5 {
        let port = free_port();
        let mut server = Server::builder(&binary)
            .name("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .spawn();
        match tokio::time::timeout(Duration::from_secs(10), wait_ready(&mut server)).await {
            Ok(true) => return Ok((server, port)),
            Ok(false) => last_output = server.tail(10),
            Err(_) => last_output = format!("(no \"Ready\" within 10 s)\n{}", server.tail(10)),
        }
    }
    Err(PrivateRedisError::WouldNotStart(last_output))
}

/// True once redis-server says it is ready; false if it exited (usually: port taken).
async fn wait_ready(server: &mut Server) -> bool {
    loop {
        if server.output().contains("Ready to accept connections") {
            return true;
        }
        if server.exited().is_some() {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Where `name` is on `PATH`, if anywhere.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}
