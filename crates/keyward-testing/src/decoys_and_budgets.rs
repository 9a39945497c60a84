//! Honeytokens, capability-usage reports, an owner-wide budget and the IETF rate-limit
//! fields, end to end against an example server binary.

use std::path::Path;

use serde_json::json;

use crate::client::with_key;
use crate::server::ServerProcess;
use crate::walkthrough::{assert_status, create};

/// An owner-wide budget of eight requests a minute, on top of the default per-key one.
const CONFIG: &str = r#"
[keys]
bcrypt_cost = 4

[limits]
owner = "8/min"
"#;

/// Against `binary` on a fresh store in `dir`: two keys of one owner share the owner's
/// budget (the 429 names `"limit": "owner"`, and the `RateLimit-Policy`/`RateLimit`
/// fields describe that budget); a key's usage report names what its requests used; a
/// honeytoken is answered exactly as an unknown key and locks its presenter out at once.
///
/// # Panics
///
/// On the first answer that breaks the contract.
pub async fn honeytoken_usage_and_owner_budget(binary: &str, dir: &Path) {
    let db = dir.join("decoys.db");
    let config = dir.join("keyward.toml");
    std::fs::write(&config, CONFIG).expect("write keyward.toml");
    let server = ServerProcess::start(
        binary,
        &[
            "--database-url",
            db.to_str().expect("utf-8 path"),
            "--config",
            config.to_str().expect("utf-8 path"),
        ],
    )
    .await;
    let addr = server.addr;
    let admin = server.bootstrap_key.clone().expect("bootstrap key");

    // Requests 1 and 2 of the owner's eight: a reader key and a honeytoken.
    let (reader_id, reader) = create(
        addr,
        &admin,
        json!({"name": "reader", "capabilities": ["desktop:read"]}),
    )
    .await;
    let (decoy_id, decoy) =
        create(addr, &admin, json!({"name": "decoy", "honeytoken": true})).await;
    // 3: the reader reads desktops; 4: its usage report names what that used.
    assert_status(
        &with_key(addr, "GET", "/v1/desktops", &reader, "").await,
        200,
        "desktops",
    );
    let usage = with_key(
        addr,
        "GET",
        &format!("/v1/api_keys/{reader_id}/usage"),
        &admin,
        "",
    )
    .await;
    assert_status(&usage, 200, "usage");
    let usage = usage.json();
    assert_eq!(usage["granted"], json!(["desktop:read"]), "{usage}");
    assert_eq!(usage["used"], json!(["desktop:read"]), "{usage}");
    assert_eq!(usage["suggested"], json!(["desktop:read"]), "{usage}");
    // 5: the listing marks the honeytoken.
    let listed = with_key(addr, "GET", &format!("/v1/api_keys/{decoy_id}"), &admin, "").await;
    assert_status(&listed, 200, "show the honeytoken");
    assert_eq!(listed.json()["honeytoken"], true);

    // 6 to 8 spend the owner's budget from both keys; the fields describe it.
    for (n, key) in [(6, &reader), (7, &admin), (8, &reader)] {
        let ok = with_key(addr, "GET", "/v1/me", key, "").await;
        assert_status(&ok, 200, &format!("request {n}"));
        assert_eq!(
            ok.header("ratelimit-policy"),
            Some(r#""owner";q=8;w=60"#),
            "request {n}"
        );
        let field = ok.header("ratelimit").expect("RateLimit");
        assert!(
            field.starts_with(&format!(r#""owner";r={};t="#, 8 - n)),
            "request {n}: {field}"
        );
    }
    let refused = with_key(addr, "GET", "/v1/me", &admin, "").await;
    assert_status(&refused, 429, "the owner's ninth request");
    assert_eq!(refused.error(), "rate_limited");
    assert_eq!(refused.json()["limit"], "owner");
    let retry_after = refused.header("retry-after").expect("Retry-After");
    let field = refused.header("ratelimit").expect("RateLimit");
    assert_eq!(field, format!(r#""owner";r=0;t={retry_after}"#));

    // A honeytoken is answered byte for byte as a key that does not exist...
    // (the unknown key first: one failure does not lock a client out).
    let unknown = format!("{}x", &decoy[..decoy.len() - 1]);
    let other = with_key(addr, "GET", "/v1/me", &unknown, "").await;
    assert_status(&other, 401, "an unknown key");
    let answered = with_key(addr, "GET", "/v1/me", &decoy, "").await;
    assert_status(&answered, 401, "the honeytoken");
    assert_eq!(answered.body, other.body);
    assert_eq!(answered.error(), "invalid_key");
    // ...and locks its presenter out at once, valid key or not.
    let locked = with_key(addr, "GET", "/v1/me", &reader, "").await;
    assert_status(&locked, 429, "after the honeytoken");
    assert_eq!(locked.error(), "too_many_failed_attempts");
    server.stop().await;
}
