//! 5.1 Stateless: sessions and counters live in Redis, so every instance sees the same ones and
//! any instance can serve any request.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

/// The service's shared state: a handle on Redis. Cloning it is cheap (the `ConnectionManager`
/// is one multiplexed connection, shared, that reconnects by itself after Redis comes back).
#[derive(Clone)]
pub struct Store {
    redis: ConnectionManager,
    prefix: String,
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

    // ANCHOR: sessions
    /// A new session for `user`, valid for `ttl`: a random id, stored as `session:<id>` with an
    /// expiry, so an abandoned session disappears by itself. Returns the id (the cookie's value).
    pub async fn create_session(&self, user: &str, ttl: Duration) -> redis::RedisResult<String> {
        let id = crate::random_id().map_err(redis::RedisError::from)?;
        let mut redis = self.redis.clone();
        let () = redis
            .set_ex(
                self.key(&format!("session:{id}")),
                user,
                ttl.as_secs().max(1),
            )
            .await?;
        Ok(id)
    }

    /// The user of session `id`, if it exists and has not expired.
    pub async fn session_user(&self, id: &str) -> redis::RedisResult<Option<String>> {
        let mut redis = self.redis.clone();
        redis.get(self.key(&format!("session:{id}"))).await
    }
    // ANCHOR_END: sessions

    // ANCHOR: counter
    /// Adds one to counter `name` and returns the new value. `INCR` is atomic in Redis: two
    /// instances incrementing at the same moment both count, which a read, add and write back
    /// would not guarantee.
    pub async fn increment(&self, name: &str) -> redis::RedisResult<i64> {
        let mut redis = self.redis.clone();
        redis.incr(self.key(&format!("counter:{name}")), 1).await
    }

    /// The value of counter `name` (0 if it was never incremented).
    pub async fn count(&self, name: &str) -> redis::RedisResult<i64> {
        let mut redis = self.redis.clone();
        let value: Option<i64> = redis.get(self.key(&format!("counter:{name}"))).await?;
        Ok(value.unwrap_or(0))
    }
    // ANCHOR_END: counter
}
