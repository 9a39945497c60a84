//! The example servers' `--metrics-bind`: Prometheus metrics on a listener of their own,
//! never on the API's, and no listener without the flag.

use std::net::SocketAddr;
use std::path::Path;

use crate::client;
use crate::server::ServerProcess;

/// With `--metrics-bind 127.0.0.1:0`, `binary` announces the bound metrics address; one
/// good, one mistyped and one missing key are counted there by outcome (with the cache
/// lookup, the slow hash and the cached entry), no key is in the scrape, and neither
/// port serves the other's routes. The store lives in `dir`.
///
/// # Panics
///
/// On the first answer that breaks the contract.
pub async fn served_on_their_own_listener(binary: &str, dir: &Path) {
    let db = dir.join("keyward.db");
    let server = ServerProcess::start(
        binary,
        &[
            "--database-url",
            db.to_str().unwrap(),
            "--metrics-bind",
            "127.0.0.1:0",
        ],
    )
    .await;
    let metrics: SocketAddr = server
        .startup_output
        .iter()
        .find_map(|l| l.strip_prefix("metrics: http://")?.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("no metrics line in {:?}", server.startup_output))
        .parse()
        .unwrap();
    assert_ne!(metrics.port(), 0, "the bound port is printed");
    let key = server.bootstrap_key.clone().expect("a bootstrap key");

    let ok = client::with_key(server.addr, "GET", "/v1/me", &key, "").await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let last = key.chars().last().unwrap();
    let typo = format!(
        "{}{}",
        &key[..key.len() - 1],
        if last == 'x' { 'y' } else { 'x' }
    );
    let refused = client::with_key(server.addr, "GET", "/v1/me", &typo, "").await;
    assert_eq!(refused.error(), "invalid_key");
    let anonymous = client::request(server.addr, "GET", "/v1/me", &[], "").await;
    assert_eq!(anonymous.error(), "missing_credential");

    let scraped = client::request(metrics, "GET", "/metrics", &[], "").await;
    assert_eq!(scraped.status, 200);
    assert_eq!(
        scraped.header("content-type"),
        Some("text/plain; version=0.0.4")
    );
    for line in [
        r#"keyward_auth_requests_total{outcome="ok"} 1"#,
        r#"keyward_auth_requests_total{outcome="invalid_key"} 1"#,
        r#"keyward_auth_requests_total{outcome="missing_credential"} 1"#,
        r#"keyward_cache_lookups_total{result="miss"} 1"#,
        "keyward_slow_hash_seconds_bucket",
        "keyward_cache_entries 1",
    ] {
        assert!(
            scraped
                .body
                .lines()
                .any(|l| l == line || l.starts_with(line)),
            "no {line} in:\n{}",
            scraped.body
        );
    }
    assert!(!scraped.body.contains(&key), "no key in the metrics");

    let elsewhere = client::request(metrics, "GET", "/v1/me", &[], "").await;
    assert_eq!(elsewhere.status, 404);
    let api = client::with_key(server.addr, "GET", "/metrics", &key, "").await;
    assert_eq!(api.status, 404, "the API port serves no metrics");
    server.stop().await;
}

/// Without `--metrics-bind`, `binary` announces no metrics listener. The store lives in
/// `dir`.
///
/// # Panics
///
/// When a metrics line is printed.
pub async fn no_listener_without_the_flag(binary: &str, dir: &Path) {
    let db = dir.join("keyward.db");
    let server = ServerProcess::start(binary, &["--database-url", db.to_str().unwrap()]).await;
    assert!(
        !server
            .startup_output
            .iter()
            .any(|l| l.starts_with("metrics:")),
        "{:?}",
        server.startup_output
    );
    server.stop().await;
}
