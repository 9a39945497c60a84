//! The black-box suite of refusals for a request's shape, which both example servers
//! must answer with the same bytes: unknown routes and methods, bodies that are too
//! large, not JSON or not the JSON a route takes, oversized keys, and input that must
//! not come back.

use keyward::http::{MAX_BODY_LEN, RequestError};
use serde_json::Value;

use crate::client::{Response, request, with_key};
use crate::server::ServerProcess;

/// Asserts `response` is `error` exactly as keyward renders it.
fn assert_refused(response: &Response, error: RequestError, what: &str) {
    let expected = error.render();
    assert_eq!(response.status, expected.status, "{what}: {response:?}");
    assert_eq!(response.body, expected.body, "{what}");
    assert_eq!(
        response.header("content-type"),
        Some("application/json"),
        "{what}"
    );
}

/// Runs the suite against `binary` on a fresh store in `dir`.
///
/// # Panics
///
/// On the first answer that breaks the contract.
pub async fn request_shape(binary: &str, dir: &std::path::Path) {
    let db = dir.join("shape.db");
    let db = db.to_str().expect("utf-8 path");
    let server =
        ServerProcess::start(binary, &["--database-url", db, "--rate-limit", "1000/min"]).await;
    let addr = server.addr;
    let admin = server.bootstrap_key.clone().expect("bootstrap key");

    // Unknown routes and methods: JSON like every other refusal, before authentication.
    for path in ["/nope", "/v1", "/v1/api_keys/x/y/z"] {
        let missing = request(addr, "GET", path, &[], "").await;
        assert_refused(&missing, RequestError::NotFound, path);
    }
    for (method, path, allowed) in [
        ("DELETE", "/v1/me", "GET"),
        ("POST", "/healthz", "GET"),
        ("PUT", "/v1/api_keys", "POST"),
        ("GET", "/v1/api_keys/k/roll", "POST"),
        ("POST", "/v1/api_keys/k", "DELETE"),
    ] {
        let what = format!("{method} {path}");
        for key in ["", admin.as_str()] {
            let wrong = if key.is_empty() {
                request(addr, method, path, &[], "").await
            } else {
                with_key(addr, method, path, key, "").await
            };
            assert_refused(&wrong, RequestError::MethodNotAllowed, &what);
            let allow = wrong.header("allow").unwrap_or_default();
            assert!(allow.contains(allowed), "{what}: Allow: {allow}");
        }
    }

    // Content type: JSON only, parameters allowed; no body needs none.
    let body = r#"{"name": "typed"}"#;
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let plain = request(
            addr,
            "POST",
            "/v1/api_keys",
            &[
                ("authorization", &format!("Bearer {admin}")),
                ("content-type", content_type),
            ],
            body,
        )
        .await;
        assert_refused(&plain, RequestError::UnsupportedMediaType, content_type);
    }
    let untyped = request(
        addr,
        "POST",
        "/v1/api_keys",
        &[("authorization", &format!("Bearer {admin}"))],
        body,
    )
    .await;
    assert_refused(
        &untyped,
        RequestError::UnsupportedMediaType,
        "no content type",
    );
    let charset = request(
        addr,
        "POST",
        "/v1/api_keys",
        &[
            ("authorization", &format!("Bearer {admin}")),
            ("content-type", "application/json; charset=utf-8"),
        ],
        body,
    )
    .await;
    assert_eq!(charset.status, 201, "{charset:?}");
    let rolled_id = charset.json()["id"].as_str().expect("id").to_owned();
    let roll = with_key(
        addr,
        "POST",
        &format!("/v1/api_keys/{rolled_id}/roll"),
        &admin,
        "",
    )
    .await;
    assert_eq!(roll.status, 201, "a roll needs no body: {roll:?}");

    // One body limit, answered as JSON.
    let mut padded = r#"{"name": "big"}"#.to_owned();
    padded.push_str(&" ".repeat(MAX_BODY_LEN + 1 - padded.len()));
    let big = with_key(addr, "POST", "/v1/api_keys", &admin, &padded).await;
    assert_refused(&big, RequestError::PayloadTooLarge, "a body over the limit");
    padded.pop();
    let at_limit = with_key(addr, "POST", "/v1/api_keys", &admin, &padded).await;
    assert_eq!(at_limit.status, 201, "a body at the limit: {at_limit:?}");

    // No input comes back past 256 bytes: long names, long lists, serde's quotes.
    let long_name = "x".repeat(MAX_BODY_LEN - 100);
    let unknown = with_key(
        addr,
        "POST",
        "/v1/api_keys",
        &admin,
        &format!(r#"{{"name": "n", "capabilities": ["{long_name}"]}}"#),
    )
    .await;
    assert_eq!(unknown.status, 400, "{unknown:?}");
    assert_eq!(unknown.error(), "unknown_capability");
    assert!(unknown.body.len() < 400, "{} bytes", unknown.body.len());
    let many: Vec<String> = (0..1000).map(|i| format!("nope:{i:04}")).collect();
    let unknown = with_key(
        addr,
        "POST",
        "/v1/api_keys",
        &admin,
        &serde_json::json!({"name": "n", "capabilities": many}).to_string(),
    )
    .await;
    let listed = unknown.json()["capabilities"]
        .as_array()
        .cloned()
        .expect("a list");
    assert_eq!(unknown.json()["more"], Value::from(1000 - listed.len()));
    let echoed: usize = listed.iter().filter_map(Value::as_str).map(str::len).sum();
    assert!(echoed <= 256, "{echoed} bytes of names");
    // With the catalog's valid names, capped alike.
    assert!(unknown.body.len() < 1024, "{} bytes", unknown.body.len());
    for body in [
        format!(r#"{{"name": "n", "{}": 1}}"#, "f".repeat(2000)),
        format!(r#"{{"name": ["{}"]}}"#, "w".repeat(2000)),
        format!(
            r#"{{"name": "n", "expires_in_seconds": "{}"}}"#,
            "e".repeat(2000)
        ),
    ] {
        let refused = with_key(addr, "POST", "/v1/api_keys", &admin, &body).await;
        assert_eq!(refused.status, 400, "{refused:?}");
        assert_eq!(refused.error(), "invalid_request");
        assert!(refused.body.len() < 200, "{}", refused.body);
        assert!(
            refused.json()["message"]
                .as_str()
                .is_some_and(|m| m.contains("line 1, column"))
        );
    }

    // An oversized key is a malformed key.
    let long_key = format!("Bearer {}", "k".repeat(8192));
    let oversized = request(addr, "GET", "/v1/me", &[("authorization", &long_key)], "").await;
    assert_eq!(oversized.status, 401, "{oversized:?}");
    assert_eq!(oversized.error(), "invalid_key");
    assert!(
        oversized
            .header("www-authenticate")
            .is_some_and(|v| v.contains("error=\"invalid_token\""))
    );

    // A missing credential says how to send one.
    let digest = request(
        addr,
        "GET",
        "/v1/me",
        &[("authorization", "Digest username=\"u\"")],
        "",
    )
    .await;
    assert_eq!(digest.error(), "missing_credential");
    let message = digest.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for part in [
        "Authorization: Bearer <key>",
        "x-api-key",
        "Basic",
        "ignored",
    ] {
        assert!(message.contains(part), "{message}");
    }
    server.stop().await;
}
