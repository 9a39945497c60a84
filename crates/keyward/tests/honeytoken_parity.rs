//! A honeytoken is answered as an unknown key in every case a client can arrange: a
//! client locked out while its request was in flight, a decoy's id with a wrong secret,
//! a revoked or disabled decoy; only its presenter is locked out, whatever forwarded
//! address it claims.

mod common;

use common::{Rig, ip, rig};
use keyward::MintRequest;
use keyward::http::{Gate, HttpResponse, RequestHeaders};
use keyward::limit::ClientIpResolver;
use keyward::scope::Requirement;
use keyward::{AuthError, Credential};

/// A request's headers: a bearer key and, optionally, a forwarded-for line.
struct Headers(Vec<(&'static str, Vec<u8>)>);

impl Headers {
    fn bearer(key: &str) -> Headers {
        Headers(vec![(
            "authorization",
            format!("Bearer {key}").into_bytes(),
        )])
    }

    fn forwarded_for(mut self, line: &str) -> Headers {
        self.0.push(("x-forwarded-for", line.as_bytes().to_vec()));
        self
    }
}

impl RequestHeaders for Headers {
    fn values(&self, name: &str) -> impl Iterator<Item = &[u8]> {
        self.0
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v.as_slice())
    }
}

async fn refused(gate: &Gate, peer: &str, headers: &Headers) -> HttpResponse {
    gate.authenticate(Some(ip(peer)), headers)
        .await
        .expect_err("refused")
}

/// A key of the rig's format whose id was never stored.
fn unknown_key() -> String {
    keyward_testing::rig::format()
        .mint()
        .unwrap()
        .expose()
        .to_owned()
}

/// Whether `client`'s next request, with a valid key, is refused for its lockout.
async fn locked_out(rig: &Rig, valid: &str, client: &str) -> bool {
    let answer = rig
        .keyward
        .authenticator()
        .authenticate(Credential::Key(valid), &Requirement::none(), ip(client))
        .await;
    matches!(answer, Err(AuthError::TooManyFailedAttempts { .. }))
}

/// Makes the next store read lock `client` out before it returns, as ten failed
/// attempts the client sent meanwhile would.
fn lock_during_next_read(rig: &Rig, client: &'static str) {
    let authn = rig.keyward.authenticator();
    *rig.store.after_get.lock().unwrap() = Some(Box::new(move || {
        Box::pin(async move {
            for _ in 0..10 {
                let _ = authn
                    .authenticate(
                        Credential::Key("sk_live_not-a-key"),
                        &Requirement::none(),
                        ip(client),
                    )
                    .await;
            }
        })
    }));
}

/// An unknown key whose client got locked out while it was being looked up is answered
/// 429: its failure is not counted on top of a spent budget. A honeytoken must get that
/// very answer, or a client could tell the two apart by racing its own failures.
#[tokio::test]
async fn a_client_locked_out_mid_request_gets_the_same_answer_for_a_decoy() {
    let rig = rig();
    let decoy = rig
        .mint(MintRequest::new("decoy", "u_1").honeytoken())
        .await;
    let gate = Gate::new(rig.keyward.authenticator());

    lock_during_next_read(&rig, "198.51.100.10");
    let for_unknown = refused(&gate, "198.51.100.10", &Headers::bearer(&unknown_key())).await;
    lock_during_next_read(&rig, "198.51.100.11");
    let for_decoy = refused(&gate, "198.51.100.11", &Headers::bearer(decoy.key.expose())).await;

    assert_eq!(for_unknown.status, 429, "{}", for_unknown.body);
    assert_eq!(
        (for_decoy.status, &for_decoy.headers, &for_decoy.body),
        (for_unknown.status, &for_unknown.headers, &for_unknown.body)
    );
}

/// The decoy's id with another secret, and a revoked or disabled decoy: each answered
/// as an unknown key, and each locks its presenter out (whoever holds the decoy's id
/// learned it from where it was planted).
#[tokio::test]
async fn a_wrong_secret_or_a_stopped_decoy_is_answered_as_unknown_and_locks() {
    let rig = rig();
    let real = rig.mint(MintRequest::new("real", "u_1")).await;
    let keys = rig.keyward.keys();
    let gate = Gate::new(rig.keyward.authenticator());
    let for_unknown = refused(&gate, "203.0.113.1", &Headers::bearer(&unknown_key())).await;

    let wrong = rig
        .mint(MintRequest::new("decoy", "u_1").honeytoken())
        .await;
    let wrong_secret = keyward_testing::rig::format()
        .mint_for(&wrong.summary.id)
        .unwrap();
    let revoked = rig
        .mint(MintRequest::new("decoy", "u_1").honeytoken())
        .await;
    keys.revoke(&revoked.summary.id).await.unwrap();
    let disabled = rig
        .mint(MintRequest::new("decoy", "u_1").honeytoken())
        .await;
    keys.disable(&disabled.summary.id).await.unwrap();

    for (client, key) in [
        ("203.0.113.2", wrong_secret.expose()),
        ("203.0.113.3", revoked.key.expose()),
        ("203.0.113.4", disabled.key.expose()),
    ] {
        let answer = refused(&gate, client, &Headers::bearer(key)).await;
        assert_eq!(
            (answer.status, &answer.headers, &answer.body),
            (for_unknown.status, &for_unknown.headers, &for_unknown.body),
            "{client}"
        );
        assert!(
            locked_out(&rig, real.key.expose(), client).await,
            "{client}"
        );
    }
}

/// A decoy with a broken checksum is no key at all: answered as any malformed key,
/// before any store read, and counted as one failure, not a lockout.
#[tokio::test]
async fn a_decoy_with_a_broken_checksum_is_just_malformed() {
    let rig = rig();
    let real = rig.mint(MintRequest::new("real", "u_1")).await;
    let decoy = rig
        .mint(MintRequest::new("decoy", "u_1").honeytoken())
        .await;
    let gate = Gate::new(rig.keyward.authenticator());
    let broken = |key: &str| {
        let mut chars: Vec<char> = key.chars().collect();
        let last = chars.last_mut().unwrap();
        *last = if *last == 'a' { 'b' } else { 'a' };
        chars.into_iter().collect::<String>()
    };
    let for_unknown = refused(
        &gate,
        "192.0.2.1",
        &Headers::bearer(&broken(&unknown_key())),
    )
    .await;
    let gets = rig.store.gets.load(std::sync::atomic::Ordering::SeqCst);
    let for_decoy = refused(
        &gate,
        "192.0.2.2",
        &Headers::bearer(&broken(decoy.key.expose())),
    )
    .await;
    assert_eq!(
        rig.store.gets.load(std::sync::atomic::Ordering::SeqCst),
        gets
    );
    assert_eq!(
        (for_decoy.status, &for_decoy.headers, &for_decoy.body),
        (for_unknown.status, &for_unknown.headers, &for_unknown.body)
    );
    assert!(!locked_out(&rig, real.key.expose(), "192.0.2.2").await);
}

/// Without trusted proxies a forwarded-for header is ignored: a decoy presented with a
/// forged one locks out the socket peer, never the address it names.
#[tokio::test]
async fn a_forged_forwarded_address_locks_out_only_the_presenter() {
    let rig = rig();
    let real = rig.mint(MintRequest::new("real", "u_1")).await;
    let decoy = rig
        .mint(MintRequest::new("decoy", "u_1").honeytoken())
        .await;
    let gate = Gate::new(rig.keyward.authenticator());
    let forged = Headers::bearer(decoy.key.expose()).forwarded_for("192.0.2.77");
    refused(&gate, "203.0.113.66", &forged).await;
    assert!(locked_out(&rig, real.key.expose(), "203.0.113.66").await);
    assert!(!locked_out(&rig, real.key.expose(), "192.0.2.77").await);

    // Behind a trusted proxy, the hop the proxy saw is the client: an address the
    // client put in front of it is not.
    let proxied = Gate::new(rig.keyward.authenticator()).client_ip(
        ClientIpResolver::trust_forwarded_headers_from(["10.0.0.0/8".parse().unwrap()]),
    );
    let forged = Headers::bearer(decoy.key.expose()).forwarded_for("192.0.2.78, 203.0.113.67");
    refused(&proxied, "10.0.0.1", &forged).await;
    assert!(locked_out(&rig, real.key.expose(), "203.0.113.67").await);
    assert!(!locked_out(&rig, real.key.expose(), "192.0.2.78").await);
}
