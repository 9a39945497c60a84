//! The example servers' `--secret-scanning-keys`: a leaked key reported in an alert
//! signed as GitHub signs it is refused from then on; without the flag there is no
//! receiver.

use std::path::Path;

use keyward_secret_scanning::test_signer::TestSigner;
use keyward_secret_scanning::token_hash;
use serde_json::json;

use crate::client::{request, with_key};
use crate::server::ServerProcess;

/// Where the example servers mount the receiver.
const PATH: &str = "/github/secret-scanning";

/// `binary` with GitHub's public keys from a file in `dir`: an alert signed by another key
/// is 401 `invalid_signature` and the key keeps working; the signed alert answers
/// `true_positive` by the token's hash, never echoing the key, and the key is 401
/// `key_revoked` from then on. Without the flag, the receiver's path is 404.
///
/// # Panics
///
/// On the first answer that breaks the contract.
pub async fn signed_alert_revokes_the_leaked_key(binary: &str, dir: &Path) {
    let github = TestSigner::generate();
    let keys = dir.join("github-keys.json");
    std::fs::write(&keys, github.public_keys_json()).unwrap();
    let db = dir.join("keys.db");
    let server = ServerProcess::start(
        binary,
        &[
            "--database-url",
            db.to_str().unwrap(),
            "--secret-scanning-keys",
            keys.to_str().unwrap(),
        ],
    )
    .await;
    let addr = server.addr;
    let key = server.bootstrap_key.clone().expect("bootstrap key");
    assert_eq!(with_key(addr, "GET", "/v1/me", &key, "").await.status, 200);

    let body = json!([{
        "token": key,
        "type": "keyward_api_key",
        "url": "https://github.com/acme/app/commit/0123abcd",
        "source": "commit",
    }])
    .to_string();
    let signature = github.sign(body.as_bytes());
    let headers = |signature: &str| {
        vec![
            ("content-type", "application/json".to_owned()),
            (
                "github-public-key-identifier",
                github.key_identifier().to_owned(),
            ),
            ("github-public-key-signature", signature.to_owned()),
        ]
    };
    let post = |headers: Vec<(&'static str, String)>| {
        let body = body.clone();
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            request(addr, "POST", PATH, &headers, &body).await
        }
    };

    // Signed by another key: refused, and the key keeps working.
    let forged = TestSigner::generate().sign(body.as_bytes());
    let refused = post(headers(&forged)).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.error(), "invalid_signature");
    assert_eq!(with_key(addr, "GET", "/v1/me", &key, "").await.status, 200);

    let answer = post(headers(&signature)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!([{"token_hash": token_hash(&key), "token_type": "keyward_api_key", "label": "true_positive"}])
    );
    assert!(!answer.body.contains(&key));
    let after = with_key(addr, "GET", "/v1/me", &key, "").await;
    assert_eq!(after.status, 401);
    assert_eq!(after.error(), "key_revoked");
    server.stop().await;

    // Without the flag, no receiver.
    let db = dir.join("plain.db");
    let server = ServerProcess::start(binary, &["--database-url", db.to_str().unwrap()]).await;
    let answer = request(server.addr, "POST", PATH, &[], "[]").await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    server.stop().await;
}
