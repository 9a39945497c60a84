//! The black-box suite both example servers pass: every route of the demo API over
//! a real socket, the refusals of its HTTP contract, restarts, rate limits
//! and lockout.

use std::net::SocketAddr;

use keyward::format::KeyFormat;
use keyward::hash::BcryptHasher;
use keyward::{Keyward, MintRequest};
use keyward_cli::{Database, demo_catalog};
use keyward_demo_api::KEY_PREFIX;
use serde_json::{Value, json};

use crate::client::{Response, request, with_key};
use crate::server::ServerProcess;

/// Every capability of the demo catalog, sorted.
const EVERY: [&str; 9] = [
    "desktop:chat",
    "desktop:control",
    "desktop:lifecycle",
    "desktop:read",
    "jobs:read",
    "jobs:write",
    "kb:read",
    "keys:read",
    "keys:write",
];

/// Mints a key straight into the store at `database_url`, as another process (the CLI)
/// would: the server sees it on its first use. Returns `(id, key)`.
///
/// # Panics
///
/// When the store cannot be opened or written: this is a test helper.
pub async fn mint_directly(
    database_url: &str,
    owner: &str,
    capabilities: &[&str],
) -> (String, String) {
    let database = Database::open(database_url, None)
        .await
        .expect("open the store");
    let keyward = Keyward::builder(KeyFormat::new(KEY_PREFIX).expect("prefix"), demo_catalog())
        .shared_store(database.store())
        .hasher(BcryptHasher::new(4).expect("cost"))
        .build()
        .expect("keyward");
    let new = keyward
        .keys()
        .mint(
            MintRequest::new("minted elsewhere", owner).capabilities(capabilities.iter().copied()),
        )
        .await
        .expect("mint");
    (new.summary.id.to_string(), new.key.expose().to_owned())
}

fn names(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("a name").to_owned())
        .collect()
}

pub(crate) fn assert_status(response: &Response, status: u16, what: &str) {
    assert_eq!(response.status, status, "{what}: {response:?}");
}

pub(crate) async fn create(addr: SocketAddr, key: &str, body: Value) -> (String, String) {
    let created = with_key(addr, "POST", "/v1/api_keys", key, &body.to_string()).await;
    assert_status(&created, 201, &format!("create {body}"));
    let json = created.json();
    (
        json["id"].as_str().expect("id").to_owned(),
        json["key"].as_str().expect("key").to_owned(),
    )
}

/// Runs every route of the demo API against `binary` on a fresh store in `dir`.
///
/// # Panics
///
/// On the first answer that breaks the contract.
pub async fn every_route(binary: &str, dir: &std::path::Path) {
    let db = dir.join("keys.db");
    let db = db.to_str().expect("utf-8 path");
    let server =
        ServerProcess::start(binary, &["--database-url", db, "--rate-limit", "1000/min"]).await;
    let addr = server.addr;
    let admin = server
        .bootstrap_key
        .clone()
        .expect("first start prints the bootstrap key");
    assert!(admin.starts_with(KEY_PREFIX), "demo keys are {KEY_PREFIX}");

    unauthenticated(addr).await;
    me(addr, &admin).await;
    desktops(addr, &admin).await;
    let default = default_key(addr, &admin).await;
    let (key_admin, reader) = creating(addr, &admin).await;
    let listed_reader = listing(
        addr,
        &admin,
        &[&default.1, &key_admin, &reader.1],
        &reader.0,
    )
    .await;
    roll_with_grace(addr, &admin, &reader, &listed_reader).await;
    roll_without_grace(addr, &admin, &key_admin, &default).await;
    let victim = revoke(addr, &admin).await;
    another_owner(addr, &admin, db).await;
    wrong_key(addr, &admin).await;
    server.stop().await;
    restart(binary, db, &admin, &victim).await;
}

/// No authentication on the health route and the OpenAPI document; a contract 401
/// without a key.
async fn unauthenticated(addr: SocketAddr) {
    assert_status(
        &request(addr, "GET", "/healthz", &[], "").await,
        200,
        "health",
    );
    let document = request(addr, "GET", "/openapi.json", &[], "").await;
    assert_status(&document, 200, "openapi.json");
    assert_eq!(document.header("content-type"), Some("application/json"));
    let paths = &document.json()["paths"];
    for path in [
        "/v1/api_keys",
        "/v1/api_keys/{id}",
        "/v1/api_keys/{id}/roll",
    ] {
        assert!(paths.get(path).is_some(), "{path} in {paths}");
    }
    let missing = request(addr, "GET", "/v1/me", &[], "").await;
    assert_status(&missing, 401, "no key");
    assert_eq!(missing.error(), "missing_credential");
    assert!(
        missing
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer realm="))
    );
}

/// `GET /v1/me`: the admin with every capability, sorted, and rate-limit headers.
async fn me(addr: SocketAddr, admin: &str) {
    let me = with_key(addr, "GET", "/v1/me", admin, "").await;
    assert_status(&me, 200, "me");
    let body = me.json();
    assert_eq!(body["user_id"], "u_1");
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(body["role"], "admin");
    assert_eq!(body["tier"], "pro");
    assert_eq!(names(&body["key"]["capabilities"]), EVERY);
    assert_eq!(body["key"]["name"], "bootstrap");
    assert_eq!(me.header("ratelimit-limit"), Some("1000"));
    assert!(me.header("ratelimit-remaining").is_some());
}

/// The desktops: listed, each action accepted, an unknown one 404.
async fn desktops(addr: SocketAddr, admin: &str) {
    let desktops = with_key(addr, "GET", "/v1/desktops", admin, "").await;
    assert_status(&desktops, 200, "desktops");
    assert_eq!(desktops.json().as_array().map(Vec::len), Some(2));
    for action in ["chat", "start", "stop"] {
        let path = format!("/v1/desktops/d_1/{action}");
        assert_status(&with_key(addr, "POST", &path, admin, "").await, 202, &path);
    }
    let unknown = with_key(addr, "POST", "/v1/desktops/d_9/chat", admin, "").await;
    assert_status(&unknown, 404, "unknown desktop");
}

/// A default key: `desktop:read` + `desktop:chat`, shown once, nothing else. Returns
/// `(id, key)`.
async fn default_key(addr: SocketAddr, admin: &str) -> (String, String) {
    let (default_id, default_key) = create(addr, admin, json!({"name": "ci"})).await;
    let me = with_key(addr, "GET", "/v1/me", &default_key, "")
        .await
        .json();
    assert_eq!(
        names(&me["key"]["capabilities"]),
        ["desktop:chat", "desktop:read"]
    );
    assert_eq!(me["key"]["id"], default_id.as_str());
    let chat = with_key(addr, "POST", "/v1/desktops/d_2/chat", &default_key, "").await;
    assert_status(&chat, 202, "default key chats");
    let start = with_key(addr, "POST", "/v1/desktops/d_2/start", &default_key, "").await;
    assert_status(&start, 403, "default key cannot start");
    assert_eq!(start.error(), "insufficient_capability");
    assert_eq!(names(&start.json()["required"]), ["desktop:lifecycle"]);
    assert_eq!(
        names(&start.json()["held"]),
        ["desktop:chat", "desktop:read"]
    );
    let challenge = start.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(
        challenge.contains("scope=\"desktop:lifecycle\""),
        "{challenge}"
    );
    let list = with_key(addr, "GET", "/v1/api_keys", &default_key, "").await;
    assert_status(&list, 403, "default key cannot list keys");
    assert_eq!(names(&list.json()["required"]), ["keys:read"]);
    (default_id, default_key)
}

/// Creating: bad bodies, unknown names, and no escalation. Returns a key holding
/// `keys:write` and `desktop:read`, and `(id, key)` of an expiring `keys:read` key it
/// created.
async fn creating(addr: SocketAddr, admin: &str) -> (String, (String, String)) {
    for (body, what) in [
        ("", "empty body"),
        ("not json", "not JSON"),
        ("{}", "no name"),
        ("{\"name\": \"\"}", "empty name"),
        ("{\"name\": \"x\", \"scopes\": []}", "unknown field"),
        (
            "{\"name\": \"x\", \"expires_in_seconds\": -1}",
            "negative expiry",
        ),
    ] {
        let refused = with_key(addr, "POST", "/v1/api_keys", admin, body).await;
        assert_status(&refused, 400, what);
        assert_eq!(refused.error(), "invalid_request", "{what}");
    }
    let unknown = with_key(
        addr,
        "POST",
        "/v1/api_keys",
        admin,
        r#"{"name":"x","capabilities":["jobs:raed","jobs:read"]}"#,
    )
    .await;
    assert_status(&unknown, 400, "unknown capability");
    assert_eq!(unknown.error(), "unknown_capability");
    assert_eq!(unknown.json()["capabilities"], json!(["jobs:raed"]));
    assert_eq!(
        unknown.json()["valid"],
        json!(EVERY),
        "the names it could have meant"
    );
    let (_, key_admin) = create(
        addr,
        admin,
        json!({"name": "key admin", "capabilities": ["keys:write", "desktop:read"]}),
    )
    .await;
    let escalate = with_key(
        addr,
        "POST",
        "/v1/api_keys",
        &key_admin,
        r#"{"name":"y","capabilities":["jobs:write","keys:read"]}"#,
    )
    .await;
    assert_status(&escalate, 403, "escalation");
    assert_eq!(escalate.error(), "insufficient_capability");
    assert_eq!(names(&escalate.json()["required"]), ["jobs:write"]);
    let defaults = with_key(addr, "POST", "/v1/api_keys", &key_admin, r#"{"name":"z"}"#).await;
    assert_status(&defaults, 403, "the default set is checked too");
    assert_eq!(names(&defaults.json()["required"]), ["desktop:chat"]);
    let unknown_wins = with_key(
        addr,
        "POST",
        "/v1/api_keys",
        &key_admin,
        r#"{"name":"y","capabilities":["jobs:write","nope:nope"]}"#,
    )
    .await;
    assert_eq!(
        unknown_wins.status, 400,
        "an unknown name wins over a missing one"
    );
    let implied = create(
        addr,
        &key_admin,
        json!({"name": "reader", "capabilities": ["keys:read"], "expires_in_seconds": 3600}),
    )
    .await;
    let expiring = with_key(addr, "GET", "/v1/api_keys", &implied.1, "").await;
    assert_status(
        &expiring,
        200,
        "a key holding keys:read through keys:write may grant it",
    );
    (key_admin, implied)
}

/// Listing: masked previews only; `secrets` (besides `admin`) never shown. Returns the
/// listed key `reader_id`.
async fn listing(addr: SocketAddr, admin: &str, secrets: &[&str], reader_id: &str) -> Value {
    let listing = with_key(addr, "GET", "/v1/api_keys", admin, "").await;
    assert_status(&listing, 200, "list");
    for secret in std::iter::once(&admin).chain(secrets) {
        assert!(
            !listing.body.contains(secret),
            "a listing never shows a key"
        );
        assert!(
            !listing.body.contains(&secret[secret.len() - 20..]),
            "nor its secret"
        );
    }
    let listed = listing.json();
    let listed = listed.as_array().expect("an array");
    assert_eq!(listed.len(), 4);
    for key in listed {
        for field in [
            "id",
            "name",
            "key_prefix",
            "last4",
            "capabilities",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
            "disabled_at",
            "replaced_by",
            "state",
        ] {
            assert!(key.get(field).is_some(), "{field} in {key}");
        }
        assert!(
            key.get("key").is_none() && key.get("hash").is_none(),
            "{key}"
        );
        assert!(
            key["key_prefix"]
                .as_str()
                .is_some_and(|p| p.starts_with(KEY_PREFIX))
        );
        assert_eq!(key["last4"].as_str().map(str::len), Some(4));
    }
    let reader = listed
        .iter()
        .find(|k| k["id"] == reader_id)
        .expect("listed");
    assert!(reader["expires_at"].is_string(), "expiry listed: {reader}");
    reader.clone()
}

/// Roll with grace: both keys work; the new one keeps name, capabilities and expiry.
async fn roll_with_grace(
    addr: SocketAddr,
    admin: &str,
    implied: &(String, String),
    reader: &Value,
) {
    let rolled = with_key(
        addr,
        "POST",
        &format!("/v1/api_keys/{}/roll", implied.0),
        admin,
        r#"{"grace_seconds": 3600}"#,
    )
    .await;
    assert_status(&rolled, 201, "roll with grace");
    let rolled = rolled.json();
    let new_key = rolled["key"].as_str().expect("new key").to_owned();
    assert_eq!(names(&rolled["capabilities"]), ["keys:read"]);
    assert_eq!(rolled["expires_at"], reader["expires_at"]);
    assert_status(
        &with_key(addr, "GET", "/v1/me", &implied.1, "").await,
        200,
        "old key in its grace",
    );
    assert_status(
        &with_key(addr, "GET", "/v1/me", &new_key, "").await,
        200,
        "new key",
    );
}

/// Roll without grace: the old key is expired at once; a grace beyond the cap and a
/// roll by a weaker key are refused.
async fn roll_without_grace(
    addr: SocketAddr,
    admin: &str,
    key_admin: &str,
    (default_id, default_key): &(String, String),
) {
    let rolled = with_key(
        addr,
        "POST",
        &format!("/v1/api_keys/{default_id}/roll"),
        admin,
        "",
    )
    .await;
    assert_status(&rolled, 201, "roll");
    let old = with_key(addr, "GET", "/v1/me", default_key, "").await;
    assert_status(&old, 401, "rolled key without grace");
    assert_eq!(old.error(), "key_expired");
    let too_long = with_key(
        addr,
        "POST",
        &format!(
            "/v1/api_keys/{}/roll",
            rolled.json()["id"].as_str().unwrap_or_default()
        ),
        admin,
        r#"{"grace_seconds": 99999999}"#,
    )
    .await;
    assert_status(&too_long, 400, "grace beyond the cap");
    // A key that holds keys:write but not desktop:chat cannot roll a key that has it.
    let escalate = with_key(
        addr,
        "POST",
        &format!(
            "/v1/api_keys/{}/roll",
            rolled.json()["id"].as_str().unwrap_or_default()
        ),
        key_admin,
        "",
    )
    .await;
    assert_status(&escalate, 403, "roll escalation");
}

/// Revoke: 204, then 401 `key_revoked`, listed with `revoked_at`; rolling it is 409.
/// Returns the revoked key.
async fn revoke(addr: SocketAddr, admin: &str) -> String {
    let (victim_id, victim) = create(addr, admin, json!({"name": "to revoke"})).await;
    assert_status(
        &with_key(addr, "GET", "/v1/me", &victim, "").await,
        200,
        "before revoke",
    );
    let revoked = with_key(
        addr,
        "DELETE",
        &format!("/v1/api_keys/{victim_id}"),
        admin,
        "",
    )
    .await;
    assert_status(&revoked, 204, "revoke");
    let refused = with_key(addr, "GET", "/v1/me", &victim, "").await;
    assert_status(&refused, 401, "revoked");
    assert_eq!(refused.error(), "key_revoked");
    assert!(!refused.body.contains(&victim), "never echoed");
    let roll_revoked = with_key(
        addr,
        "POST",
        &format!("/v1/api_keys/{victim_id}/roll"),
        admin,
        "",
    )
    .await;
    assert_status(&roll_revoked, 409, "rolling a revoked key");
    let listing = with_key(addr, "GET", "/v1/api_keys", admin, "")
        .await
        .json();
    let listed = listing
        .as_array()
        .expect("array")
        .iter()
        .find(|k| k["id"] == victim_id.as_str())
        .cloned();
    assert!(
        listed.is_some_and(|k| k["revoked_at"].is_string()),
        "revoked keys are listed"
    );
    victim
}

/// Another owner's key is invisible: 404 like an unknown or malformed id.
async fn another_owner(addr: SocketAddr, admin: &str, db: &str) {
    let (member_id, member_key) = mint_directly(db, "u_2", &["desktop:read"]).await;
    let member = with_key(addr, "GET", "/v1/me", &member_key, "")
        .await
        .json();
    assert_eq!(
        (
            member["user_id"].clone(),
            member["role"].clone(),
            member["tier"].clone()
        ),
        (json!("u_2"), json!("member"), json!("free"))
    );
    for id in [member_id.as_str(), "AAAAAAAAAAAA", "not-an-id", "%2e%2e"] {
        let path = format!("/v1/api_keys/{id}");
        assert_status(
            &with_key(addr, "DELETE", &path, admin, "").await,
            404,
            &path,
        );
        assert_status(
            &with_key(addr, "POST", &format!("{path}/roll"), admin, "").await,
            404,
            &path,
        );
    }
    assert_status(
        &with_key(addr, "GET", "/v1/me", &member_key, "").await,
        200,
        "untouched",
    );
    let theirs = with_key(addr, "GET", "/v1/api_keys", admin, "").await;
    assert!(
        !theirs.body.contains(&member_id),
        "another owner's key is not listed"
    );
}

/// A wrong key is 401 `invalid_key` and never echoed.
async fn wrong_key(addr: SocketAddr, admin: &str) {
    let other = if admin.ends_with('x') { 'y' } else { 'x' };
    let wrong = format!("{}{other}", &admin[..admin.len() - 1]);
    let refused = with_key(addr, "GET", "/v1/me", &wrong, "").await;
    assert_status(&refused, 401, "wrong key");
    assert_eq!(refused.error(), "invalid_key");
    assert!(!refused.body.contains(&wrong) && !refused.any_header_contains(&wrong));
}

/// A restart keeps every key and prints nothing secret.
async fn restart(binary: &str, db: &str, admin: &str, victim: &str) {
    let again = ServerProcess::start(binary, &["--database-url", db]).await;
    assert_eq!(
        again.bootstrap_key, None,
        "no second bootstrap key: {:?}",
        again.startup_output
    );
    assert!(
        again.startup_output.iter().all(|l| !l.contains(KEY_PREFIX)),
        "{:?}",
        again.startup_output
    );
    assert_status(
        &with_key(again.addr, "GET", "/v1/me", admin, "").await,
        200,
        "after restart",
    );
    assert_status(
        &with_key(again.addr, "GET", "/v1/me", victim, "").await,
        401,
        "still revoked",
    );
    again.stop().await;
}

/// `(status, error)` of `method path` with `key`.
async fn answer(server: &ServerProcess, method: &str, path: &str, key: &str) -> (u16, String) {
    let response = with_key(server.addr, method, path, key, "").await;
    let error = if response.body.is_empty() {
        String::new()
    } else {
        response.error()
    };
    (response.status, error)
}

/// The edges of key management (`--max-live-keys-per-owner 5`): a key cannot revoke,
/// roll, disable or enable a key holding more than it does; one key shown, disabled and
/// enabled; a key in its grace cannot be rolled again; the cap of live keys per owner;
/// names that would spoof a listing.
///
/// # Panics
///
/// On the first answer that breaks the contract.
pub async fn key_management(binary: &str, dir: &std::path::Path) {
    let db = dir.join("management.db");
    let db = db.to_str().expect("utf-8 path");
    let server = ServerProcess::start(
        binary,
        &[
            "--database-url",
            db,
            "--rate-limit",
            "1000/min",
            "--max-live-keys-per-owner",
            "5",
        ],
    )
    .await;
    let addr = server.addr;
    let admin = server.bootstrap_key.clone().expect("bootstrap key");

    // A leaked keys:write key of the same owner cannot touch a stronger key.
    let (_, weak) = create(
        addr,
        &admin,
        json!({"name": "weak", "capabilities": ["keys:write"]}),
    )
    .await;
    let (strong_id, strong) = create(
        addr,
        &admin,
        json!({"name": "production", "capabilities": ["desktop:lifecycle"]}),
    )
    .await;
    let path = format!("/v1/api_keys/{strong_id}");
    for (method, route) in [
        ("DELETE", path.clone()),
        ("POST", format!("{path}/roll")),
        ("POST", format!("{path}/disable")),
        ("POST", format!("{path}/enable")),
    ] {
        let refused = with_key(addr, method, &route, &weak, "").await;
        assert_status(&refused, 403, &format!("weak {method} {route}"));
        assert_eq!(refused.error(), "insufficient_capability");
        assert_eq!(names(&refused.json()["required"]), ["desktop:lifecycle"]);
        assert_eq!(names(&refused.json()["held"]), ["keys:read", "keys:write"]);
    }
    assert_status(
        &with_key(addr, "POST", "/v1/desktops/d_1/start", &strong, "").await,
        202,
        "the strong key still works",
    );

    // One key, in the listing's shape; keys:read is required, another owner's is 404.
    let shown = with_key(addr, "GET", &path, &weak, "").await;
    assert_status(&shown, 200, "get one key");
    let shown = shown.json();
    assert_eq!(shown["id"], strong_id.as_str());
    assert_eq!(shown["state"], "active");
    assert_eq!(names(&shown["capabilities"]), ["desktop:lifecycle"]);
    assert!(shown.get("key").is_none() && shown.get("hash").is_none());
    assert!(!shown.to_string().contains(&strong[strong.len() - 20..]));
    assert_eq!(
        answer(&server, "GET", &path, &strong).await,
        (403, "insufficient_capability".to_owned())
    );
    let (member_id, member_key) = mint_directly(db, "u_2", &["desktop:read"]).await;
    for id in [member_id.as_str(), "AAAAAAAAAAAA", "not-an-id"] {
        let other = format!("/v1/api_keys/{id}");
        for (method, route) in [
            ("GET", other.clone()),
            ("POST", format!("{other}/disable")),
            ("POST", format!("{other}/enable")),
        ] {
            assert_eq!(
                answer(&server, method, &route, &admin).await,
                (404, "not_found".to_owned()),
                "{method} {route}"
            );
        }
    }
    assert_status(
        &with_key(addr, "GET", "/v1/me", &member_key, "").await,
        200,
        "another owner's key untouched",
    );

    // Disable and enable: 200 with the key; 401 key_disabled meanwhile.
    let disabled = with_key(addr, "POST", &format!("{path}/disable"), &admin, "").await;
    assert_status(&disabled, 200, "disable");
    assert_eq!(disabled.json()["state"], "disabled");
    assert!(disabled.json()["disabled_at"].is_string());
    assert_eq!(
        answer(&server, "GET", "/v1/me", &strong).await,
        (401, "key_disabled".to_owned())
    );
    let enabled = with_key(addr, "POST", &format!("{path}/enable"), &admin, "").await;
    assert_status(&enabled, 200, "enable");
    assert_eq!(enabled.json()["state"], "active");
    assert!(enabled.json()["disabled_at"].is_null());
    assert_status(
        &with_key(addr, "GET", "/v1/me", &strong, "").await,
        200,
        "enabled again",
    );

    // A key in its grace cannot be rolled again; its replacement never inherits the grace.
    let rolled = with_key(
        addr,
        "POST",
        &format!("{path}/roll"),
        &admin,
        r#"{"grace_seconds": 3600}"#,
    )
    .await;
    assert_status(&rolled, 201, "roll with grace");
    let rolled = rolled.json();
    assert!(rolled["expires_at"].is_null(), "{rolled}");
    let again = with_key(
        addr,
        "POST",
        &format!("{path}/roll"),
        &admin,
        r#"{"grace_seconds": 3600}"#,
    )
    .await;
    assert_status(&again, 409, "rolling a key in its grace");
    assert_eq!(again.error(), "conflict");
    let old = with_key(addr, "GET", &path, &admin, "").await.json();
    assert_eq!(old["replaced_by"], rolled["id"]);

    // Five live keys: admin, weak, production (in its grace) and its replacement, and
    // one more. A sixth mint is 409 too_many_keys; a revoke makes room; a roll at the
    // cap still works.
    let (extra_id, _) = create(addr, &admin, json!({"name": "fifth"})).await;
    let refused = with_key(addr, "POST", "/v1/api_keys", &admin, r#"{"name":"sixth"}"#).await;
    assert_status(&refused, 409, "past the cap");
    assert_eq!(refused.error(), "too_many_keys");
    assert_status(
        &with_key(
            addr,
            "DELETE",
            &format!("/v1/api_keys/{extra_id}"),
            &admin,
            "",
        )
        .await,
        204,
        "revoke to make room",
    );
    create(addr, &admin, json!({"name": "sixth"})).await;
    let new_id = rolled["id"].as_str().expect("id");
    let at_cap = with_key(
        addr,
        "POST",
        &format!("/v1/api_keys/{new_id}/roll"),
        &admin,
        r#"{"grace_seconds": 60}"#,
    )
    .await;
    assert_status(&at_cap, 201, "a roll at the cap");

    // Names that would spoof a listing are refused, without echoing them.
    for name in [
        "CI \u{202E}dorp",
        "a\u{200B}b",
        "\u{FEFF}x",
        "a\u{2028}b",
        "a\nb",
    ] {
        let body = json!({ "name": name }).to_string();
        let refused = with_key(addr, "POST", "/v1/api_keys", &admin, &body).await;
        assert_status(&refused, 400, &format!("name {name:?}"));
        assert_eq!(refused.error(), "invalid_request");
        assert!(!refused.body.contains(name), "{}", refused.body);
    }
    server.stop().await;
}

/// A key's budget (`--rate-limit 5/min`: the sixth request is 429 with `Retry-After`)
/// and the per-IP lockout (ten failures, then 429 even for a valid key).
///
/// # Panics
///
/// On the first answer that breaks the contract.
pub async fn limits(binary: &str, dir: &std::path::Path) {
    let db = dir.join("limits.db");
    let db = db.to_str().expect("utf-8 path");
    let server =
        ServerProcess::start(binary, &["--database-url", db, "--rate-limit", "5/min"]).await;
    let addr = server.addr;
    let key = server.bootstrap_key.clone().expect("bootstrap key");
    for n in 1..=5 {
        let ok = with_key(addr, "GET", "/v1/me", &key, "").await;
        assert_status(&ok, 200, &format!("request {n}"));
        assert_eq!(
            ok.header("ratelimit-remaining"),
            Some((5 - n).to_string().as_str())
        );
    }
    let limited = with_key(addr, "GET", "/v1/me", &key, "").await;
    assert_status(&limited, 429, "sixth request");
    assert_eq!(limited.error(), "rate_limited");
    let retry_after: u64 = limited
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(limited.json()["retry_after"], retry_after);

    // Ten failures from this address lock it out, valid key or not.
    for n in 1..=10 {
        let wrong = with_key(addr, "GET", "/v1/me", &format!("{KEY_PREFIX}{n:0>50}"), "").await;
        assert_status(&wrong, 401, &format!("failure {n}"));
    }
    let locked = with_key(addr, "GET", "/v1/me", &key, "").await;
    assert_status(&locked, 429, "locked out");
    assert_eq!(locked.error(), "too_many_failed_attempts");
    assert!(locked.header("retry-after").is_some());
    server.stop().await;
}

/// A configuration file with its own catalog (no desktop capabilities), prefix,
/// limits and management requirements.
const CUSTOM_CONFIG: &str = r#"
[keys]
prefix = "acme_"
bcrypt_cost = 4

[capabilities]
names = ["reports:read", "reports:admin"]
defaults = ["reports:read"]

[limits]
rate = "5/min"

[management]
read = "reports:admin"
write = "reports:admin"
"#;

/// The server and `keyward.toml`: a bad file stops it with exit 2 and the file's
/// one-line error; a file with its own catalog, prefix and limits is served (the desktop
/// routes, whose capabilities it lacks, are left out), with `--rate-limit` overriding
/// its rate.
pub async fn configuration(binary: &str, dir: &std::path::Path) {
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[keys]\nprefix = \"acme_\"\n\n[limits]\nrate = \"lots\"\n",
    )
    .expect("write the file");
    let bad = bad.to_str().expect("utf-8 path");
    let db = dir.join("configured.db");
    let db = db.to_str().expect("utf-8 path");
    let out = ServerProcess::refused(binary, &["--config", bad, "--database-url", db]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(
        error.contains(&format!("{bad}:5:8: limits.rate: invalid rate")),
        "{error}"
    );
    assert_eq!(stderr.matches("error: ").count(), 1, "{stderr}");
    assert!(!std::path::Path::new(db).exists(), "no store opened");
    let missing = dir.join("missing.toml");
    let out = ServerProcess::refused(binary, &["--config", missing.to_str().expect("utf-8")]).await;
    assert_eq!(out.status.code(), Some(2));

    let file = dir.join("keyward.toml");
    std::fs::write(&file, CUSTOM_CONFIG).expect("write the file");
    let file = file.to_str().expect("utf-8 path");
    let server = ServerProcess::start(binary, &["--config", file, "--database-url", db]).await;
    assert!(
        server
            .startup_output
            .contains(&format!("configuration: {file}")),
        "{:?}",
        server.startup_output
    );
    let admin = server.bootstrap_key.clone().expect("bootstrap key");
    assert!(admin.starts_with("acme_"), "the file's prefix");
    let addr = server.addr;
    let me = with_key(addr, "GET", "/v1/me", &admin, "").await;
    assert_status(&me, 200, "me");
    assert_eq!(
        names(&me.json()["key"]["capabilities"]),
        ["reports:admin", "reports:read"]
    );
    assert_eq!(me.header("ratelimit-limit"), Some("5"), "the file's rate");
    let desktops = with_key(addr, "GET", "/v1/desktops", &admin, "").await;
    assert_status(
        &desktops,
        404,
        "no desktop routes without their capabilities",
    );

    // Management by the file's requirements and catalog.
    let (_, reader) = create(addr, &admin, json!({"name": "reader"})).await;
    assert!(reader.starts_with("acme_"));
    let listing = with_key(addr, "GET", "/v1/api_keys", &reader, "").await;
    assert_status(
        &listing,
        403,
        "reports:read is not the file's management.read",
    );
    assert_eq!(names(&listing.json()["required"]), ["reports:admin"]);
    let unknown = with_key(
        addr,
        "POST",
        "/v1/api_keys",
        &admin,
        r#"{"name": "x", "capabilities": ["desktop:read"]}"#,
    )
    .await;
    assert_status(&unknown, 400, "a demo capability the file lacks");
    assert_eq!(
        unknown.json()["valid"],
        json!(["reports:admin", "reports:read"])
    );
    server.stop().await;

    // An explicit --rate-limit wins over the file's.
    let server = ServerProcess::start(
        binary,
        &[
            "--config",
            file,
            "--database-url",
            db,
            "--rate-limit",
            "7/min",
        ],
    )
    .await;
    assert_eq!(server.bootstrap_key, None, "the same store");
    let me = with_key(server.addr, "GET", "/v1/me", &admin, "").await;
    assert_eq!(me.header("ratelimit-limit"), Some("7"));
    server.stop().await;
}

/// The demo sign-in and the API-keys dashboard behind it: `/login` sets the session
/// cookie (exactly `HttpOnly; SameSite=Strict; Path=/`), the dashboard answers the
/// signed-in user with the create form offering only what that user holds, a key
/// created there works on `/v1`, the cookie alone never does (401
/// `missing_credential`), and `/logout` ends the session.
///
/// # Panics
///
/// On the first answer that breaks the contract.
pub async fn dashboard_sign_in(binary: &str, dir: &std::path::Path) {
    let db = dir.join("dashboard.db");
    let db = db.to_str().expect("utf-8 path");
    let server =
        ServerProcess::start(binary, &["--database-url", db, "--rate-limit", "1000/min"]).await;
    let addr = server.addr;

    let login = request(addr, "GET", "/login", &[], "").await;
    assert_status(&login, 200, "the sign-in page");
    assert_page_headers(&login);
    let form = element(&login.body, "form", "data-testid", "login").expect("the login form");
    assert_eq!(attribute(form, "method"), Some("post"), "{form}");
    let users: Vec<_> = tags(&login.body, "option")
        .filter_map(|tag| attribute(tag, "value"))
        .collect();
    assert_eq!(users, ["u_1", "u_2"], "{}", login.body);
    assert!(login.body.contains(r#"name="user""#), "{}", login.body);

    let signed_out = request(addr, "GET", "/settings/api-keys", &[], "").await;
    assert_status(&signed_out, 303, "the dashboard, signed out");
    assert_eq!(signed_out.header("location"), Some("/login"));
    let tab = request(addr, "GET", "/settings?tab=apiKeys", &[], "").await;
    assert_status(&tab, 303, "the settings tab");
    assert_eq!(tab.header("location"), Some("/settings/api-keys"));

    let unknown = sign_in(addr, "user=u_3").await;
    assert_status(&unknown, 400, "an unknown user");
    assert_page_headers(&unknown);
    assert_eq!(unknown.header("set-cookie"), None);
    let json = request(
        addr,
        "POST",
        "/login",
        &[("content-type", "application/json")],
        r#"{"user": "u_1"}"#,
    )
    .await;
    assert_status(&json, 415, "a body that is not a form");
    assert_eq!(json.header("set-cookie"), None);

    let admin = signed_in(addr, "u_1").await;
    let page = dashboard(addr, &admin).await;
    let mut every = offered(&page);
    every.sort();
    assert_eq!(every, EVERY, "u_1 may grant every capability");
    let member = signed_in(addr, "u_2").await;
    assert_ne!(member, admin, "a session of its own");
    let member_page = dashboard(addr, &member).await;
    let mut held = offered(&member_page);
    held.sort();
    assert_eq!(
        held,
        ["desktop:chat", "desktop:read", "keys:read", "keys:write"],
        "u_2: the default grants and key management, not jobs:write or desktop:lifecycle"
    );

    // The session is not an API credential.
    let cookie = format!("keyward_demo_session={admin}");
    for path in ["/v1/me", "/v1/api_keys"] {
        let refused = request(addr, "GET", path, &[("cookie", &cookie)], "").await;
        assert_status(&refused, 401, &format!("{path} with the session cookie"));
        assert_eq!(refused.error(), "missing_credential", "{path}");
    }

    // A key created on the dashboard (through its own form) is shown once, works on
    // /v1, and is revoked on the dashboard by following its links.
    let create = element(&page, "form", "data-testid", "create-key").expect("the create form");
    let action = attribute(create, "action").expect("the create form's action");
    let created = post_form(
        addr,
        &cookie,
        action,
        &format!(
            "csrf={}&name=from+the+dashboard&capabilities=keys%3Aread&expires=never",
            csrf(&page)
        ),
    )
    .await;
    assert_status(&created, 303, "create on the dashboard");
    let shown = created.header("location").expect("to the key").to_owned();
    assert!(shown.starts_with("/settings/api-keys/new?"), "{shown}");
    let once = request(addr, "GET", &shown, &[("cookie", &cookie)], "").await;
    assert_status(&once, 200, "the key, once");
    let key = text_of(&once.body, "data-testid", "new-key").expect("the new key");
    assert!(key.starts_with(KEY_PREFIX), "{key}");
    let me = with_key(addr, "GET", "/v1/me", key, "").await;
    assert_status(&me, 200, "the dashboard's key on /v1");
    assert_eq!(me.json()["user_id"], "u_1");
    assert_eq!(names(&me.json()["key"]["capabilities"]), ["keys:read"]);
    let id = me.json()["key"]["id"].as_str().expect("id").to_owned();
    let again = request(addr, "GET", &shown, &[("cookie", &cookie)], "").await;
    assert!(!again.body.contains(key), "shown once only");

    let done = follow(addr, &cookie, &once, "a", "class", "button primary").await;
    assert_status(&done, 200, "back to the list");
    let row = done
        .body
        .find(&format!(" data-key-id=\"{id}\""))
        .map(|at| &done.body[at..])
        .expect("the new key listed");
    let row = &row[..row.find("</tr>").unwrap_or(row.len())];
    let revoke = element(row, "a", "data-testid", "revoke")
        .and_then(|tag| attribute(tag, "href"))
        .unwrap_or_else(|| panic!("no revoke link: {row}"));
    let confirm = request(addr, "GET", revoke, &[("cookie", &cookie)], "").await;
    assert_status(&confirm, 200, "the revoke confirmation");
    let button = confirm
        .body
        .find("data-testid=\"confirm-revoke\"")
        .expect("confirm");
    let form = tags(&confirm.body[..button], "form")
        .last()
        .expect("the confirmation form");
    let revoked = post_form(
        addr,
        &cookie,
        attribute(form, "action").expect("its action"),
        &format!("csrf={}", csrf(&confirm.body)),
    )
    .await;
    assert_status(&revoked, 303, "revoke on the dashboard");
    let list = revoked.header("location").expect("back to the list");
    let list = request(addr, "GET", list, &[("cookie", &cookie)], "").await;
    assert_status(&list, 200, "the list after a revoke");
    let row = list
        .body
        .find(&format!(" data-key-id=\"{id}\""))
        .map(|at| &list.body[at..])
        .expect("a revoked key stays listed");
    let row = &row[..row.find("</tr>").unwrap_or(row.len())];
    assert!(row.contains(">revoked<"), "{row}");
    let refused = with_key(addr, "GET", "/v1/me", key, "").await;
    assert_status(&refused, 401, "the revoked key");
    assert_eq!(refused.error(), "key_revoked");

    // A form without the session's token is refused.
    let forged = post_form(addr, &cookie, action, "csrf=forged&name=x").await;
    assert_status(&forged, 403, "a forged form");

    let out = request(addr, "POST", "/logout", &[("cookie", &cookie)], "").await;
    assert_status(&out, 303, "sign out");
    assert_eq!(out.header("location"), Some("/login"));
    assert_eq!(
        out.header("set-cookie"),
        Some("keyward_demo_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
    );
    let ended = request(
        addr,
        "GET",
        "/settings/api-keys",
        &[("cookie", &cookie)],
        "",
    )
    .await;
    assert_status(&ended, 303, "the dashboard after signing out");
    assert_eq!(ended.header("location"), Some("/login"));
    server.stop().await;
}

async fn post_form(addr: SocketAddr, cookie: &str, path: &str, form: &str) -> Response {
    request(
        addr,
        "POST",
        path,
        &[
            ("cookie", cookie),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        form,
    )
    .await
}

/// GETs the `href` of the first `<tag_name>` of `page` whose `attr` is `value`.
async fn follow(
    addr: SocketAddr,
    cookie: &str,
    page: &Response,
    tag_name: &str,
    attr: &str,
    value: &str,
) -> Response {
    let link = element(&page.body, tag_name, attr, value)
        .and_then(|tag| attribute(tag, "href"))
        .unwrap_or_else(|| panic!("no <{tag_name} {attr}={value:?}> link: {}", page.body));
    request(addr, "GET", link, &[("cookie", cookie)], "").await
}

/// The CSRF token the page's forms carry.
fn csrf(page: &str) -> &str {
    element(page, "input", "name", "csrf")
        .and_then(|tag| attribute(tag, "value"))
        .expect("a CSRF token")
}

async fn sign_in(addr: SocketAddr, form: &str) -> Response {
    request(
        addr,
        "POST",
        "/login",
        &[("content-type", "application/x-www-form-urlencoded")],
        form,
    )
    .await
}

/// Signs `user` in; returns the session id its cookie carries.
async fn signed_in(addr: SocketAddr, user: &str) -> String {
    let response = sign_in(addr, &format!("user={user}")).await;
    assert_status(&response, 303, &format!("sign in as {user}"));
    assert_eq!(response.header("location"), Some("/settings/api-keys"));
    let cookies: Vec<_> = response.headers.get_all("set-cookie").iter().collect();
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let cookie = cookies[0].to_str().expect("a text cookie");
    let id = cookie
        .strip_prefix("keyward_demo_session=")
        .and_then(|rest| rest.strip_suffix("; HttpOnly; SameSite=Strict; Path=/"))
        .unwrap_or_else(|| panic!("cookie attributes: {cookie}"));
    // 32 random bytes, base64url without padding.
    assert_eq!(id.len(), 43, "{id}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{id}"
    );
    id.to_owned()
}

/// The dashboard's list page for session `id`: 200 with the create form.
async fn dashboard(addr: SocketAddr, id: &str) -> String {
    let cookie = format!("keyward_demo_session={id}");
    let page = request(
        addr,
        "GET",
        "/settings/api-keys",
        &[("cookie", &cookie)],
        "",
    )
    .await;
    assert_status(&page, 200, "the dashboard, signed in");
    assert_page_headers(&page);
    let form = element(&page.body, "form", "data-testid", "create-key").expect("the create form");
    assert_eq!(attribute(form, "method"), Some("post"), "{form}");
    assert!(element(&page.body, "input", "name", "name").is_some());
    page.body
}

/// The capability checkboxes of the create form.
fn offered(page: &str) -> Vec<&str> {
    tags(page, "input")
        .filter(|tag| attribute(tag, "name") == Some("capabilities"))
        .inspect(|tag| assert_eq!(attribute(tag, "type"), Some("checkbox"), "{tag}"))
        .filter_map(|tag| attribute(tag, "value"))
        .collect()
}

fn assert_page_headers(page: &Response) {
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = page.header("content-security-policy").unwrap_or_default();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
}

/// Every opening `<name …>` tag of `html`, as written.
fn tags<'a>(html: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> {
    html.match_indices('<')
        .map(|(at, _)| &html[at..])
        .filter(move |tag| {
            tag[1..].strip_prefix(name).is_some_and(|after| {
                after.starts_with(|c: char| c.is_ascii_whitespace() || c == '>')
            })
        })
        .filter_map(|tag| tag.find('>').map(|end| &tag[..=end]))
}

/// The value of attribute `name` in `tag` (double-quoted, as the pages write them).
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// The first `<tag_name>` whose `attr` is `value`.
fn element<'a>(html: &'a str, tag_name: &'a str, attr: &str, value: &str) -> Option<&'a str> {
    tags(html, tag_name).find(|tag| attribute(tag, attr) == Some(value))
}

/// The text inside the element whose `attr` is `value` (no nested markup).
fn text_of<'a>(html: &'a str, attr: &str, value: &str) -> Option<&'a str> {
    let at = html.find(&format!(" {attr}=\"{value}\""))?;
    let start = at + html[at..].find('>')? + 1;
    let len = html[start..].find('<')?;
    Some(&html[start..start + len])
}
