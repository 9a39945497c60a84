//! Honeytokens: decoy keys answered exactly as unknown keys (no slow hash, never
//! cached), whose client is locked out at once, and which raise an alert (a `warn` line,
//! an event, an audit entry).

mod common;

use std::net::IpAddr;
use std::sync::atomic::Ordering;

use common::{Received, Rig, captured_log, ip, rig_with};
use keyward::http::{Gate, HttpResponse, RequestHeaders};
use keyward::scope::Requirement;
use keyward::store::{Actor, AuditAction, AuditEntry, AuditQuery, KeyStore};
use keyward::{AuthError, Credential, KeyEvent, MintRequest};
use tracing::Level;

/// A request's headers: a bearer key and, optionally, a user agent.
struct Headers(Vec<(&'static str, Vec<u8>)>);

impl Headers {
    fn bearer(key: &str, user_agent: Option<&[u8]>) -> Headers {
        let mut headers = vec![("authorization", format!("Bearer {key}").into_bytes())];
        if let Some(agent) = user_agent {
            headers.push(("user-agent", agent.to_vec()));
        }
        Headers(headers)
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

fn events_rig() -> (Rig, Received) {
    let received = Received::default();
    let rig = rig_with(|b| b.event_sink(received.sink()));
    (rig, received)
}

async fn answer(gate: &Gate, peer: &str, key: &str, agent: Option<&[u8]>) -> HttpResponse {
    gate.authenticate(Some(ip(peer)), &Headers::bearer(key, agent))
        .await
        .expect_err("refused")
}

/// The audit entries about `key`, once the spawned honeytoken entry is in (the current-thread
/// runtime runs it when the test yields).
async fn entries_about(rig: &Rig, key: keyward::format::KeyId) -> Vec<AuditEntry> {
    for _ in 0..100 {
        let entries = rig
            .store
            .list_audit(&AuditQuery::key(key, 10))
            .await
            .unwrap();
        if entries.iter().any(|e| e.action == AuditAction::Honeytoken) {
            return entries;
        }
        tokio::task::yield_now().await;
    }
    Vec::new()
}

#[tokio::test]
async fn a_honeytoken_is_answered_byte_for_byte_as_an_unknown_key_without_a_slow_hash() {
    let (rig, _) = events_rig();
    let decoy = rig
        .mint(MintRequest::new("decoy", "u_1").honeytoken())
        .await;
    assert!(decoy.summary.honeytoken);
    // A key of the same format whose id was never stored.
    let unknown = keyward_testing::rig::format().mint().unwrap();
    let gate = Gate::new(rig.keyward.authenticator());

    let hashes_before = rig.verifications.load(Ordering::SeqCst);
    let for_decoy = answer(&gate, "198.51.100.1", decoy.key.expose(), Some(b"curl/8")).await;
    let for_unknown = answer(&gate, "198.51.100.2", unknown.expose(), Some(b"curl/8")).await;
    assert_eq!(for_decoy.status, 401);
    assert_eq!(
        (for_decoy.status, &for_decoy.headers, &for_decoy.body),
        (for_unknown.status, &for_unknown.headers, &for_unknown.body)
    );
    assert!(for_decoy.body.contains("invalid_key"), "{}", for_decoy.body);
    assert_eq!(
        rig.verifications.load(Ordering::SeqCst),
        hashes_before,
        "no slow hash for either"
    );

    // Never cached: the next presentation (from elsewhere) reads the store again and
    // gets the same answer.
    let gets = rig.store.gets.load(Ordering::SeqCst);
    let again = answer(&gate, "198.51.100.3", decoy.key.expose(), None).await;
    assert_eq!(again.body, for_unknown.body);
    assert_eq!(rig.store.gets.load(Ordering::SeqCst), gets + 1);
    assert_eq!(rig.keyward.authenticator().cached_keys(), 0);
}

#[tokio::test]
async fn the_client_is_locked_out_at_once_even_with_a_valid_key() {
    let (rig, _) = events_rig();
    let decoy = rig
        .mint(MintRequest::new("decoy", "u_1").honeytoken())
        .await;
    let real = rig.mint(MintRequest::new("real", "u_1")).await;
    let authn = rig.keyward.authenticator();
    let attacker = ip("203.0.113.50");
    let none = Requirement::none();

    let first = authn
        .authenticate(Credential::Key(decoy.key.expose()), &none, attacker)
        .await;
    assert!(matches!(first, Err(AuthError::InvalidKey(_))), "{first:?}");
    let next = authn
        .authenticate(Credential::Key(real.key.expose()), &none, attacker)
        .await;
    assert!(
        matches!(next, Err(AuthError::TooManyFailedAttempts { .. })),
        "{next:?}"
    );
    // Another client is not affected.
    authn
        .authenticate(
            Credential::Key(real.key.expose()),
            &none,
            ip("203.0.113.51"),
        )
        .await
        .expect("another client's valid key");
}

#[tokio::test]
async fn the_alert_is_an_event_an_audit_entry_and_a_warning() {
    let (rig, received) = events_rig();
    let decoy = rig
        .mint(MintRequest::new("decoy", "u_1").honeytoken())
        .await;
    let gate = Gate::new(rig.keyward.authenticator());
    let client: IpAddr = ip("2001:db8::7");
    // Control characters (a NUL, an escape sequence, a newline) are dropped; quotes are
    // kept, and escaped in the log.
    let agent = b"evil\0 \x1b[31mbot\n \"quoted\"";
    let (response, log) = captured_log(
        Level::TRACE,
        answer(&gate, "2001:db8::7", decoy.key.expose(), Some(agent)),
    )
    .await;
    assert_eq!(response.status, 401);
    let cleaned = "evil [31mbot \"quoted\"".to_owned();

    assert_eq!(
        received.take_where(|e| matches!(e, KeyEvent::Honeytoken { .. })),
        [KeyEvent::Honeytoken {
            key: decoy.summary.id,
            client,
            user_agent: Some(cleaned.clone()),
        }]
    );

    let entries = entries_about(&rig, decoy.summary.id).await;
    let honeytoken: Vec<&AuditEntry> = entries
        .iter()
        .filter(|e| e.action == AuditAction::Honeytoken)
        .collect();
    assert_eq!(honeytoken.len(), 1, "{entries:?}");
    let entry = honeytoken[0];
    assert_eq!(entry.actor, Actor::Automatic);
    assert_eq!(entry.client_ip, Some(client));
    assert_eq!(entry.note.as_deref(), Some(cleaned.as_str()));

    let line = log
        .lines()
        .find(|l| l.contains("honeytoken_presented"))
        .unwrap_or_else(|| panic!("no honeytoken line in {log}"));
    assert!(line.contains("WARN"), "{line}");
    let masked = format!("{}…{}", decoy.summary.key_prefix, decoy.summary.last4);
    assert!(line.contains(&masked), "{line}");
    assert!(line.contains("2001:db8::7"), "{line}");
    assert!(line.contains(r#"evil [31mbot \"quoted\""#), "{line}");
    assert!(
        !log.contains(decoy.key.expose()),
        "the key itself is never logged"
    );
}

#[tokio::test]
async fn honeytokens_are_marked_in_listings_and_their_rolls_stay_decoys() {
    let (rig, _) = events_rig();
    let decoy = rig
        .mint(MintRequest::new("decoy", "u_1").honeytoken())
        .await;
    let real = rig.mint(MintRequest::new("real", "u_1")).await;
    assert!(!real.summary.honeytoken);
    let keys = rig.keyward.keys();
    let listed = keys.get(&decoy.summary.id).await.unwrap();
    assert!(listed.honeytoken);
    let rolled = keys
        .roll(&decoy.summary.id, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert!(rolled.new.summary.honeytoken);
}
