//! Refusals as log lines naming the client group and the reason, never the key. In a
//! binary of its own: a test without a subscriber running alongside could leave the
//! log's callsites disabled for this one.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{LogCapture, auth_from, catalog, ip, mint, rig_with};
use keyward::MintRequest;
use keyward::limit::{GuardConfig, Quota};
use keyward::scope::Requirement;
use tracing::Level;

/// Every kind of refusal from the request path leaves a line naming the client group
/// and the reason, never the key.
#[tokio::test]
async fn every_kind_of_refusal_is_logged_with_its_client_and_reason() {
    let lockout = GuardConfig::new(3, Duration::from_secs(60), Duration::from_secs(60)).unwrap();
    let rig = rig_with(|b| b.default_quota(Quota::per_minute(2)).lockout(lockout));
    let capture = LogCapture::install(Level::INFO);

    let keys = rig.keyward.keys();
    let none = Requirement::none();
    let mut minted = Vec::new();
    for name in [
        "capability",
        "limited",
        "expired",
        "revoked",
        "disabled",
        "uncached",
    ] {
        minted.push(mint(&rig, MintRequest::new(name, "u_1")).await);
    }
    let presented: Vec<String> = minted.iter().map(|k| k.key.expose().to_owned()).collect();
    let [capable, limited, expired, revoked, disabled, uncached] = &minted[..] else {
        unreachable!()
    };
    // One client per refusal, so each is its group's first line.
    let cases = [
        ("192.0.2.10", "insufficient_capability"),
        ("192.0.2.11", "rate_limited"),
        ("192.0.2.12", "key_expired"),
        ("192.0.2.13", "key_revoked"),
        ("192.0.2.14", "key_disabled"),
        ("192.0.2.15", "auth_unavailable"),
        ("192.0.2.16", "too_many_failed_attempts"),
    ];
    let kb_read = catalog().all_of(["kb:read"]).unwrap();
    let e = auth_from(&rig, capable.key.expose(), &kb_read, ip(cases[0].0)).await;
    assert_eq!(e.unwrap_err().code().as_str(), cases[0].1);
    for _ in 0..2 {
        auth_from(&rig, limited.key.expose(), &none, ip(cases[1].0))
            .await
            .unwrap();
    }
    let e = auth_from(&rig, limited.key.expose(), &none, ip(cases[1].0)).await;
    assert_eq!(e.unwrap_err().code().as_str(), cases[1].1);
    keys.expire(&expired.key.id()).await.unwrap();
    keys.revoke(&revoked.key.id()).await.unwrap();
    keys.disable(&disabled.key.id()).await.unwrap();
    for (k, (client, code)) in [expired, revoked, disabled].iter().zip(&cases[2..5]) {
        let e = auth_from(&rig, k.key.expose(), &none, ip(client)).await;
        assert_eq!(e.unwrap_err().code().as_str(), *code);
    }
    rig.store.down.store(true, Ordering::SeqCst);
    let e = auth_from(&rig, uncached.key.expose(), &none, ip(cases[5].0)).await;
    assert_eq!(e.unwrap_err().code().as_str(), cases[5].1);
    rig.store.down.store(false, Ordering::SeqCst);
    for _ in 0..4 {
        let _ = auth_from(&rig, "sk_live_garbage", &none, ip(cases[6].0)).await;
    }

    let log = capture.text();
    for (client, code) in cases {
        let line = log
            .lines()
            .find(|l| {
                l.contains("authentication_failed")
                    && l.contains(&format!("client={client}"))
                    && (l.contains(&format!("code=\"{code}\""))
                        || l.contains(&format!("code={code} ")))
            })
            .unwrap_or_else(|| panic!("no {code} line for {client} in:\n{log}"));
        assert!(line.contains("reason="), "{line}");
    }
    assert!(
        log.contains("client_locked_out") && log.contains("client=192.0.2.16"),
        "{log}"
    );
    for key in presented {
        assert!(!log.contains(&key), "a key leaked into the log:\n{log}");
    }
}
