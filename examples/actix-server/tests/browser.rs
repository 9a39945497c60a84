//! The API-keys settings page of the actix example server, in headless Chromium.

use keyward_testing::browser::Browser;
use keyward_testing::dashboard;
use keyward_testing::server::ServerProcess;

const BINARY: &str = env!("CARGO_BIN_EXE_keyward-example-actix");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_page_in_a_browser() {
    let Some(browser) = Browser::start_or_skip().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keys.db");
    let server = ServerProcess::start(BINARY, &["--database-url", db.to_str().unwrap()]).await;
    dashboard::walkthrough(&browser, server.addr).await;
    browser.close().await;
    server.stop().await;
}
