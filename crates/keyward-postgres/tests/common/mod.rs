//! What the PostgreSQL test files share: the server, or a skip; a fresh schema, a store
//! in it, SQL run as an operator would, and invalidations caught on a channel.

// Each test file is its own crate and uses only some of these.
#![allow(dead_code)]

use std::time::Duration;

use keyward_clock::Timestamp;
use keyward_postgres::{
    Invalidation, InvalidationListener, ListenerOptions, PostgresOptions, PostgresStore,
};
use keyward_testing::services;
use keyward_testing::store_conformance::fresh_id;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::mpsc;

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

/// `ms` milliseconds after 2026-01-01T00:00:00Z.
pub fn at(ms: u64) -> Timestamp {
    Timestamp::from_unix_millis(1_767_225_600_000 + ms)
}

/// The store's options in these tests: `schema`, a small pool, a short acquire timeout.
pub fn options(schema: &str) -> PostgresOptions {
    PostgresOptions::new()
        .schema(schema)
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(2))
}

/// A store in `schema` (created and migrated on connect).
pub async fn store(url: &str, schema: &str) -> PostgresStore {
    PostgresStore::connect_with(url, options(schema))
        .await
        .unwrap()
}

/// Runs SQL outside keyward (as an operator would).
pub async fn admin(url: &str, sql: String) {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(3))
        .connect(url)
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// Drops `schema` and everything in it.
pub async fn drop_schema(url: &str, schema: &str) {
    admin(url, format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).await;
}

/// A listener forwarding every invalidation to a channel.
pub async fn listen(
    store: &PostgresStore,
    options: ListenerOptions,
) -> (InvalidationListener, mpsc::UnboundedReceiver<Invalidation>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let listener = InvalidationListener::start_with(store, options, move |event| {
        let _ = tx.send(event);
    })
    .await
    .unwrap();
    (listener, rx)
}

/// The next invalidation, failing the test when none arrives within `within`.
pub async fn next(
    rx: &mut mpsc::UnboundedReceiver<Invalidation>,
    within: Duration,
) -> Invalidation {
    tokio::time::timeout(within, rx.recv())
        .await
        .unwrap_or_else(|_| panic!("no invalidation within {within:?}"))
        .expect("listener channel closed")
}
