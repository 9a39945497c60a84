//! What both PostgreSQL test files share: the server, or a skip; a fresh schema name.

use std::time::Duration;

use keyward_testing::services;
use keyward_testing::store_conformance::fresh_id;
use sqlx::postgres::PgPoolOptions;

/// How long any single wait in these tests may take before it counts as a failure (a
/// change reaching another instance, among others).
pub const WAIT: Duration = Duration::from_secs(1);

/// The server's URL, or `None` (after printing why) when it is unreachable and
/// services are not required.
pub async fn server() -> Option<String> {
    let url = services::database_url();
    let probe = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(3))
        .connect(&url)
        .await;
    let pool = services::reachable_or_skip("PostgreSQL", &url, probe)?;
    pool.close().await;
    Some(url)
}

/// A fresh schema name: `kwt_` and a random lower-case suffix.
pub fn fresh_schema() -> String {
    format!("kwt_{}", fresh_id().as_str().to_ascii_lowercase())
}
