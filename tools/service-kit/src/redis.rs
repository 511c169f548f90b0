//! Connecting to Redis at start-up, with a deadline and an error that says how to fix it.

use std::time::Duration;

use redis::aio::MultiplexedConnection;

/// Redis could not be reached when the service started.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL itself is wrong.
    #[error("REDIS_URL={url:?} is not a Redis URL (expected redis://host:port): {source}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What the client said.
        source: redis::RedisError,
    },
    /// Nothing answered, or it answered with an error.
    #[error(
        "cannot reach Redis at {url}: {cause}. Is it running? Start one with `just redis` \
         (Docker) or `redis-server`, or point REDIS_URL at yours."
    )]
    Unreachable {
        /// The URL as given.
        url: String,
        /// What went wrong.
        cause: String,
    },
}

/// Opens a multiplexed connection: one TCP connection that every handler and task can clone
/// and use at once (redis-rs pipelines their commands), so no pool is needed.
///
/// Gives up after `limit`, so a service started without Redis fails in seconds with a message
/// rather than hanging at start-up.
pub async fn connect(url: &str, limit: Duration) -> Result<MultiplexedConnection, ConnectError> {
    let client = redis::Client::open(url).map_err(|source| ConnectError::BadUrl {
        url: url.to_owned(),
        source,
    })?;
    let unreachable = |cause: String| ConnectError::Unreachable {
        url: url.to_owned(),
        cause,
    };
    match tokio::time::timeout(limit, client.get_multiplexed_async_connection()).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(err)) => Err(unreachable(err.to_string())),
        Err(_) => Err(unreachable(format!(
            "no answer within {} s",
            limit.as_secs_f64()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unreachable_redis_is_reported_with_the_fix() {
        // A port nobody listens on: bound, then released.
        let port = test_support::free_port();
        let url = format!("redis://127.0.0.1:{port}");
        let err = connect(&url, Duration::from_secs(2)).await.unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&url), "{message}");
        assert!(message.contains("just redis"), "{message}");
    }

    #[tokio::test]
    async fn a_running_redis_connects() {
        let redis = test_support::Redis::start().await;
        let mut conn = connect(redis.url(), Duration::from_secs(2)).await.unwrap();
        let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
        assert_eq!(pong, "PONG");
    }

    #[test]
    fn a_malformed_url_is_named() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = runtime
            .block_on(connect("http://nope", Duration::from_secs(1)))
            .unwrap_err();
        assert!(
            err.to_string().contains("REDIS_URL=\"http://nope\""),
            "{err}"
        );
    }
}
