//! What the Redis test files share: a fresh namespace per test, a connection in it (or a
//! skip) and a raw connection to look at the keys it writes.

// Each test file is its own crate and uses only some of these.
#![allow(dead_code)]

use keyward_redis::RedisLimits;
use keyward_testing::services;

/// A namespace no other test or run shares: the test's name, the process and the clock.
pub fn namespace(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("kw_test:{test}:{}:{nanos}", std::process::id())
}

/// A connection in a fresh namespace, or `None` after printing `skipped: …`.
pub async fn connect(test: &str) -> Option<RedisLimits> {
    let url = services::redis_url();
    let connected = RedisLimits::connect(&url, &namespace(test)).await;
    services::reachable_or_skip("Redis", &url, connected)
}

/// A plain connection to the test Redis, outside keyward.
pub async fn raw() -> redis::aio::MultiplexedConnection {
    redis::Client::open(services::redis_url().as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}
