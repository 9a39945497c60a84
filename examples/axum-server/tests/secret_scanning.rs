//! The axum example server with `--secret-scanning-keys`: a leaked key reported in an
//! alert signed as GitHub signs it is refused from then on; without the flag there is no
//! receiver.

use keyward_testing::secret_scanning;

const BINARY: &str = env!("CARGO_BIN_EXE_keyward-example-axum");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_alert_revokes_the_leaked_key() {
    let dir = tempfile::tempdir().unwrap();
    secret_scanning::signed_alert_revokes_the_leaked_key(BINARY, dir.path()).await;
}
