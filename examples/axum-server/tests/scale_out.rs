//! Two axum example servers on one PostgreSQL and one Redis, and both services failing
//! under a running server. Skipped (with a printed line) when the services are
//! unreachable, unless `KEYWARD_REQUIRE_SERVICES=1`.

use keyward_testing::scale_out::{self, Services};

const BINARY: &str = env!("CARGO_BIN_EXE_keyward-example-axum");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behave_as_one() {
    let Some(services) = Services::reachable() else {
        return;
    };
    let propagation = scale_out::two_instances(BINARY, &services).await;
    println!("revocation propagation A -> B: {propagation:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_redis_outages_recover_without_a_restart() {
    let Some(services) = Services::reachable() else {
        return;
    };
    scale_out::outage(BINARY, &services).await;
}
