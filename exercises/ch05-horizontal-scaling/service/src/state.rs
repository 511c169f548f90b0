//! 5.1 Stateless: sessions and counters live in Redis, so every instance sees the same ones and
//! any instance can serve any request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::ConnectionManager;

// TODO(5.1): this store keeps sessions and counters in the process's memory. With one instance it
// works; with three behind a load balancer, a user who logged in on one is a stranger to the
// other two, and each instance counts its own visits. Keep them in Redis instead (the
// `ConnectionManager` is already here): `SET … EX` for a session, `GET` to read it, `INCR` for a
// counter. Then remove the two maps.

/// The service's shared state.
#[derive(Clone)]
pub struct Store {
    redis: ConnectionManager,
    prefix: String,
    sessions: Arc<Mutex<HashMap<String, String>>>,
    counters: Arc<Mutex<HashMap<String, i64>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl Store {
    /// A store on `redis`, writing keys that start with `prefix`.
    pub fn new(redis: ConnectionManager, prefix: impl Into<String>) -> Store {
        Store {
            redis,
            prefix: prefix.into(),
            sessions: Arc::default(),
            counters: Arc::default(),
        }
    }

    /// A connection for other modules (health, rate limit).
    pub fn redis(&self) -> ConnectionManager {
        self.redis.clone()
    }

    /// `prefix` + `rest`: every key the service writes.
    pub fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    /// A new session for `user`, valid for `ttl`. Returns the id (the cookie's value).
    pub async fn create_session(&self, user: &str, ttl: Duration) -> redis::RedisResult<String> {
        let _ = ttl;
        let id = crate::random_id().map_err(redis::RedisError::from)?;
        self.sessions
            .lock()
            .unwrap()
            .insert(id.clone(), user.to_string());
        Ok(id)
    }

    /// The user of session `id`, if it exists and has not expired.
    pub async fn session_user(&self, id: &str) -> redis::RedisResult<Option<String>> {
        Ok(self.sessions.lock().unwrap().get(id).cloned())
    }

    /// Adds one to counter `name` and returns the new value.
    pub async fn increment(&self, name: &str) -> redis::RedisResult<i64> {
        let mut counters = self.counters.lock().unwrap();
        let value = counters.entry(name.to_string()).or_default();
        *value += 1;
        Ok(*value)
    }

    /// The value of counter `name` (0 if it was never incremented).
    pub async fn count(&self, name: &str) -> redis::RedisResult<i64> {
        Ok(self
            .counters
            .lock()
            .unwrap()
            .get(name)
            .copied()
            .unwrap_or(0))
    }
}
