//! The actix-web example server as a user runs it: the binary on a loopback port.

use keyward_testing::{request_shape, walkthrough};

const BINARY: &str = env!("CARGO_BIN_EXE_keyward-example-actix");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_of_the_demo_api() {
    let dir = tempfile::tempdir().unwrap();
    walkthrough::every_route(BINARY, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_and_lockout() {
    let dir = tempfile::tempdir().unwrap();
    walkthrough::limits(BINARY, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_of_the_request_shape() {
    let dir = tempfile::tempdir().unwrap();
    request_shape::request_shape(BINARY, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_management_edges() {
    let dir = tempfile::tempdir().unwrap();
    walkthrough::key_management(BINARY, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_file() {
    let dir = tempfile::tempdir().unwrap();
    walkthrough::configuration(BINARY, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_behind_the_demo_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    walkthrough::dashboard_sign_in(BINARY, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honeytoken_usage_and_owner_budget() {
    let dir = tempfile::tempdir().unwrap();
    keyward_testing::decoys_and_budgets::honeytoken_usage_and_owner_budget(BINARY, dir.path())
        .await;
}
