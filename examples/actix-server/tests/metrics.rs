//! `--metrics-bind`: Prometheus metrics on a listener of their own.

use keyward_testing::metrics;

const BINARY: &str = env!("CARGO_BIN_EXE_keyward-example-actix");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_their_own_listener() {
    let dir = tempfile::tempdir().unwrap();
    metrics::served_on_their_own_listener(BINARY, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_flag_no_metrics_listener_is_announced() {
    let dir = tempfile::tempdir().unwrap();
    metrics::no_listener_without_the_flag(BINARY, dir.path()).await;
}
