//! The alert receiver through both mounts, with a P-256 key made for the test standing
//! in for GitHub's: what a signed alert revokes, and what every refused one leaves alone.

use std::future::Future;
use std::sync::atomic::Ordering;

use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::web;
use axum::Router;
use axum::body::Body;
use keyward::scope::Requirement;
use keyward::store::{Actor, AuditAction, AuditQuery, KeyStore};
use keyward::{AuthError, Credential, MintRequest};
use keyward_secret_scanning::test_signer::TestSigner;
use keyward_secret_scanning::{
    AlertReceiver, AlertRequest, MAX_ALERT_LEN, MAX_ALERT_TOKENS, PublicKeys, token_hash,
};
use keyward_testing::rig::{Rig, ip};
use serde_json::{Value, json};
use tower::ServiceExt;

const PATH: &str = "/github/secret-scanning";
const LEAK_URL: &str = "https://github.com/acme/app/commit/0123abcd";

/// Where the mounts' answers are compared: status and JSON body.
type Answer = (u16, Value);

/// An alert body as GitHub sends it.
fn alert(tokens: &[&str]) -> Vec<u8> {
    let entries: Vec<Value> = tokens
        .iter()
        .map(
            |t| json!({"token": t, "type": "keyward_api_key", "url": LEAK_URL, "source": "commit"}),
        )
        .collect();
    serde_json::to_vec(&entries).unwrap()
}

/// The signature headers `signer` would send for `body`, under `identifier`.
fn signed(signer: &TestSigner, identifier: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".to_owned()),
        ("github-public-key-identifier", identifier.to_owned()),
        ("github-public-key-signature", signer.sign(body)),
    ]
}

async fn works(rig: &Rig, key: &str) -> Result<(), AuthError> {
    rig.keyward
        .authenticator()
        .authenticate(
            Credential::Key(key),
            &Requirement::none(),
            ip("198.51.100.7"),
        )
        .await
        .map(|_| ())
}

/// Every scenario, run against one mount: `send(headers, body)` posts to [`PATH`].
async fn scenarios<F, Fut>(rig: &Rig, github: &TestSigner, send: F)
where
    F: Fn(Vec<(&'static str, String)>, Vec<u8>) -> Fut,
    Fut: Future<Output = Answer>,
{
    let id = github.key_identifier();
    let victim = rig.mint(MintRequest::new("prod", "u_1")).await;
    let victim_key = victim.key.expose().to_owned();
    let bystander = rig.mint(MintRequest::new("ci", "u_1")).await;
    let bystander_key = bystander.key.expose().to_owned();

    // A forged token: the victim's real id, another secret, a valid checksum.
    let forged = rig.keyward.format().mint_for(&victim.summary.id).unwrap();
    let forged = forged.expose().to_owned();
    let unknown = rig.keyward.format().mint().unwrap().expose().to_owned();
    let body = alert(&[&forged, &unknown, "sk_live_notakey", "ghp_somebodyelse"]);
    let (status, answer) = send(signed(github, id, &body), body.clone()).await;
    assert_eq!(status, 200, "{answer}");
    let labels: Vec<&str> = answer
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["false_positive"; 4]);
    assert_eq!(answer[0]["token_hash"], token_hash(&forged));
    assert_eq!(
        works(rig, &victim_key).await,
        Ok(()),
        "a forged token revoked the key"
    );

    // Refused alerts change nothing: a signature by another key, a tampered body, an
    // identifier naming no configured key, no signature, a malformed one.
    let body = alert(&[&victim_key]);
    let impostor = TestSigner::generate();
    let tampered = alert(&[&bystander_key]);
    let mut unsigned = signed(github, id, &body);
    unsigned.retain(|(name, _)| *name != "github-public-key-signature");
    let mut garbled = signed(github, id, &body);
    garbled[2].1 = "bm90IGEgc2lnbmF0dXJl".to_owned();
    for (what, headers, sent) in [
        (
            "another key's signature",
            signed(&impostor, id, &body),
            body.clone(),
        ),
        ("a tampered body", signed(github, id, &body), tampered),
        (
            "an unknown identifier",
            signed(github, impostor.key_identifier(), &body),
            body.clone(),
        ),
        ("no signature", unsigned, body.clone()),
        ("a malformed signature", garbled, body.clone()),
    ] {
        let (status, answer) = send(headers, sent).await;
        assert_eq!(status, 401, "{what}: {answer}");
        assert_eq!(answer["error"], "invalid_signature", "{what}");
    }
    assert_eq!(works(rig, &victim_key).await, Ok(()));
    assert_eq!(works(rig, &bystander_key).await, Ok(()));

    // Signed but not the partner program's JSON: 400, nothing changed.
    for malformed in [
        &b"[{\"token\": "[..],
        b"{\"token\": \"x\"}",
        b"[{\"type\": \"t\"}]",
    ] {
        let (status, answer) = send(signed(github, id, malformed), malformed.to_vec()).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"], "invalid_request");
    }

    // The real leak: revoked at once, labelled, named by its hash only.
    let body = alert(&[&victim_key, &unknown, &victim_key]);
    let (status, answer) = send(signed(github, id, &body), body.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!([
            {"token_hash": token_hash(&victim_key), "token_type": "keyward_api_key", "label": "true_positive"},
            {"token_hash": token_hash(&unknown), "token_type": "keyward_api_key", "label": "false_positive"},
            {"token_hash": token_hash(&victim_key), "token_type": "keyward_api_key", "label": "true_positive"},
        ])
    );
    assert!(!answer.to_string().contains(&victim_key));
    assert_eq!(works(rig, &victim_key).await, Err(AuthError::KeyRevoked));
    assert_eq!(works(rig, &bystander_key).await, Ok(()));
    let audit = rig
        .store
        .list_audit(&AuditQuery::key(victim.summary.id, 10))
        .await
        .unwrap();
    let leaked: Vec<_> = audit
        .iter()
        .filter(|e| e.action == AuditAction::Leaked)
        .collect();
    assert_eq!(leaked.len(), 1, "{audit:?}");
    assert_eq!(leaked[0].actor, Actor::Automatic);
    assert_eq!(leaked[0].note.as_deref(), Some(LEAK_URL));

    // Reported again (a fork): still ours, nothing more to revoke.
    let body = alert(&[&victim_key]);
    let (status, answer) = send(signed(github, id, &body), body.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(answer[0]["label"], "true_positive");

    // A large batch (GitHub may send every match of a push at once), far past the
    // management API's 16 KiB: decided in one answer. One token more than an alert may
    // carry is 413 before anything is checked.
    let batch = rig.mint(MintRequest::new("batch", "u_1")).await;
    let batch_key = batch.key.expose().to_owned();
    let others: Vec<String> = (0..MAX_ALERT_TOKENS)
        .map(|i| format!("ghp_other_vendor_{i:05}"))
        .collect();
    let mut tokens: Vec<&str> = others.iter().map(String::as_str).collect();
    tokens[MAX_ALERT_TOKENS - 1] = &batch_key;
    tokens.push("ghp_one_too_many");
    let body = alert(&tokens);
    assert!(body.len() > 100 * 1024);
    let (status, answer) = send(signed(github, id, &body), body.clone()).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(answer["error"], "payload_too_large");
    assert!(
        answer["message"].as_str().unwrap().contains("1000 tokens"),
        "{answer}"
    );
    assert_eq!(works(rig, &batch_key).await, Ok(()));
    tokens.pop();
    let body = alert(&tokens);
    let (status, answer) = send(signed(github, id, &body), body.clone()).await;
    assert_eq!(status, 200, "{answer}");
    let labels = answer.as_array().unwrap();
    assert_eq!(labels.len(), MAX_ALERT_TOKENS);
    assert_eq!(labels[0]["label"], "false_positive");
    assert_eq!(labels[MAX_ALERT_TOKENS - 1]["label"], "true_positive");
    assert_eq!(works(rig, &batch_key).await, Err(AuthError::KeyRevoked));

    // The store down: the bystander cannot be checked now. 503, so GitHub may ask
    // again, rather than a label that could be wrong; nothing changed.
    rig.store.down.store(true, Ordering::SeqCst);
    let body = alert(&[&bystander_key]);
    let (status, answer) = send(signed(github, id, &body), body.clone()).await;
    rig.store.down.store(false, Ordering::SeqCst);
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"], "auth_unavailable");
    assert_eq!(works(rig, &bystander_key).await, Ok(()));
}

/// `receiver`'s answer to `body`, signed by `github`, called without a mount.
async fn handle_signed(receiver: &AlertReceiver, github: &TestSigner, body: &[u8]) -> Answer {
    let signature = github.sign(body);
    let answer = receiver
        .handle(AlertRequest {
            key_identifier: Some(github.key_identifier().as_bytes()),
            signature: Some(signature.as_bytes()),
            content_type: Some(b"application/json"),
            body,
        })
        .await;
    (answer.status, serde_json::from_str(&answer.body).unwrap())
}

fn receiver(rig: &Rig, github: &TestSigner) -> AlertReceiver {
    let keys = PublicKeys::parse(&github.public_keys_json()).unwrap();
    AlertReceiver::new(&rig.keyward, keys)
}

#[tokio::test]
async fn axum_mount() {
    let rig = Rig::new();
    let github = TestSigner::generate();
    let app: Router = Router::new().route(
        PATH,
        keyward_secret_scanning::axum::endpoint(receiver(&rig, &github)),
    );
    let send = |headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let app = app.clone();
        async move {
            let mut request = axum::http::Request::post(PATH);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let response = app
                .oneshot(request.body(Body::from(body)).unwrap())
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, serde_json::from_slice(&body).unwrap())
        }
    };
    scenarios(&rig, &github, send).await;
}

#[actix_web::test]
async fn actix_mount() {
    let rig = Rig::new();
    let github = TestSigner::generate();
    let app = init_service(actix_web::App::new().service(web::resource(PATH).route(
        keyward_secret_scanning::actix::route(receiver(&rig, &github)),
    )))
    .await;
    let send = |headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let app = &app;
        async move {
            let mut request = TestRequest::post().uri(PATH).set_payload(body);
            for (name, value) in headers {
                request = request.insert_header((name, value));
            }
            let response = call_service(app, request.to_request()).await;
            let status = response.status().as_u16();
            let body = read_body(response).await;
            (status, serde_json::from_slice(&body).unwrap())
        }
    };
    scenarios(&rig, &github, send).await;
}

#[actix_web::test]
async fn a_body_past_the_limit_is_413_through_either_mount() {
    let rig = Rig::new();
    let github = TestSigner::generate();
    let big = vec![b' '; MAX_ALERT_LEN + 1];
    let app: Router = Router::new().route(
        PATH,
        keyward_secret_scanning::axum::endpoint(receiver(&rig, &github)),
    );
    let request = axum::http::Request::post(PATH)
        .header("content-type", "application/json")
        .body(Body::from(big.clone()))
        .unwrap();
    assert_eq!(app.oneshot(request).await.unwrap().status(), 413);

    let app = init_service(actix_web::App::new().service(web::resource(PATH).route(
        keyward_secret_scanning::actix::route(receiver(&rig, &github)),
    )))
    .await;
    let request = TestRequest::post()
        .uri(PATH)
        .insert_header(("content-type", "application/json"))
        .set_payload(big)
        .to_request();
    assert_eq!(call_service(&app, request).await.status(), 413);
}

/// Reports are no requests: however many forged or repeated reports arrive, none
/// locks the receiver out or cools a key down, so the next alert is still decided.
#[tokio::test]
async fn forged_reports_never_lock_the_receiver_out() {
    let rig = Rig::new();
    let github = TestSigner::generate();
    let receiver = receiver(&rig, &github);
    let victim = rig.mint(MintRequest::new("prod", "u_1")).await;
    let victim_key = victim.key.expose().to_owned();
    let forged = rig.keyward.format().mint_for(&victim.summary.id).unwrap();
    let forged = forged.expose().to_owned();
    let post = async |tokens: Vec<String>| {
        let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
        handle_signed(&receiver, &github, &alert(&tokens)).await
    };
    for round in 0..12 {
        let (status, answer) = post(vec![forged.clone()]).await;
        assert_eq!(status, 200, "report {round}: {answer}");
        assert_eq!(answer[0]["label"], "false_positive");
    }
    let (status, answer) = post(vec![victim_key.clone()]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer[0]["label"], "true_positive");
    assert_eq!(works(&rig, &victim_key).await, Err(AuthError::KeyRevoked));
}

/// A request's `Debug` never shows the body, which holds the reported tokens.
#[test]
fn a_request_debug_shows_no_token() {
    let body = alert(&["sk_live_secretpart"]);
    let request = AlertRequest {
        key_identifier: Some(b"f9525bf0"),
        signature: Some(b"MEUCIQ"),
        content_type: Some(b"application/json"),
        body: &body,
    };
    let printed = format!("{request:?}");
    assert!(!printed.contains("secretpart"), "{printed}");
    assert!(!printed.contains(&format!("{:?}", &body[..4])), "{printed}");
    assert!(
        printed.contains(&format!("{} bytes", body.len())),
        "{printed}"
    );
}
