//! Refusals as events: `KeyEvent::Refused`, `ExpiredKeyUsed`, `RateLimited` and
//! `LockedOut`.

mod common;

use std::time::Duration;

use common::{Received, Rig, auth_from, catalog, ip, mint, rig_with};
use keyward::limit::{GuardConfig, IpGroup, Quota};
use keyward::scope::Requirement;
use keyward::{AuthError, ErrorCode, KeyEvent, MintRequest};

/// A rig whose events are collected, with a quota of two requests a minute and a
/// lockout after three failures.
fn collecting() -> (Rig, Received) {
    let events = Received::default();
    let lockout = GuardConfig::new(3, Duration::from_secs(60), Duration::from_secs(60)).unwrap();
    let rig = rig_with(|b| {
        b.default_quota(Quota::per_minute(2))
            .lockout(lockout)
            .event_sink(events.sink())
    });
    (rig, events)
}

/// The request path's events so far (management changes left out).
fn drain(events: &Received) -> Vec<KeyEvent> {
    events.take_where(|e| !matches!(e, KeyEvent::Changed(_)))
}

#[tokio::test]
async fn every_refusal_is_an_event_with_its_code_client_and_key() {
    let (rig, events) = collecting();
    let client = ip("192.0.2.7");
    let group = IpGroup::of(client);
    let key = mint(&rig, MintRequest::new("CI", "u_1")).await;
    let id = key.key.id();
    let kb_read = catalog().all_of(["kb:read"]).unwrap();

    auth_from(&rig, key.key.expose(), &Requirement::none(), client)
        .await
        .unwrap();
    assert_eq!(drain(&events), [], "a success is no event");

    let _ = auth_from(&rig, key.key.expose(), &kb_read, client).await;
    assert_eq!(
        drain(&events),
        [KeyEvent::Refused {
            code: ErrorCode::InsufficientCapability,
            client: group,
            key: Some(id)
        }]
    );

    let _ = auth_from(&rig, "sk_live_garbage", &Requirement::none(), client).await;
    assert_eq!(
        drain(&events),
        [KeyEvent::Refused {
            code: ErrorCode::InvalidKey,
            client: group,
            key: None
        }],
        "no key id when the credential does not parse"
    );

    auth_from(&rig, key.key.expose(), &Requirement::none(), client)
        .await
        .unwrap();
    let limited = auth_from(&rig, key.key.expose(), &Requirement::none(), client).await;
    let Err(AuthError::RateLimited { retry_after, .. }) = limited else {
        panic!("{limited:?}")
    };
    assert_eq!(
        drain(&events),
        [
            KeyEvent::RateLimited {
                key: id,
                client: group,
                retry_after
            },
            KeyEvent::Refused {
                code: ErrorCode::RateLimited,
                client: group,
                key: Some(id)
            }
        ]
    );

    rig.keyward.keys().expire(&id).await.unwrap();
    let _ = auth_from(&rig, key.key.expose(), &Requirement::none(), client).await;
    assert_eq!(
        drain(&events),
        [
            KeyEvent::ExpiredKeyUsed {
                key: id,
                client: group
            },
            KeyEvent::Refused {
                code: ErrorCode::KeyExpired,
                client: group,
                key: Some(id)
            }
        ]
    );
}

#[tokio::test]
async fn a_lockout_is_one_event_however_many_429s_follow() {
    let (rig, events) = collecting();
    let client = ip("198.51.100.4");
    for _ in 0..3 {
        let _ = auth_from(&rig, "sk_live_garbage", &Requirement::none(), client).await;
    }
    for _ in 0..5 {
        let e = auth_from(&rig, "sk_live_garbage", &Requirement::none(), client).await;
        assert_eq!(e.unwrap_err().code(), ErrorCode::TooManyFailedAttempts);
    }
    let events = drain(&events);
    let locked: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, KeyEvent::LockedOut { .. }))
        .collect();
    assert_eq!(
        locked,
        [&KeyEvent::LockedOut {
            client: IpGroup::of(client),
            retry_after: 60
        }]
    );
    let refused = |code| {
        events
            .iter()
            .filter(|e| matches!(e, KeyEvent::Refused { code: c, .. } if *c == code))
            .count()
    };
    assert_eq!(refused(ErrorCode::InvalidKey), 3);
    assert_eq!(refused(ErrorCode::TooManyFailedAttempts), 5);
}

#[tokio::test]
async fn a_broadcast_channel_receives_events() {
    let (sender, mut receiver) = tokio::sync::broadcast::channel(16);
    let rig = rig_with(|b| b.event_sink(sender));
    let _ = auth_from(
        &rig,
        "sk_live_garbage",
        &Requirement::none(),
        ip("192.0.2.1"),
    )
    .await;
    assert_eq!(receiver.try_recv().unwrap().kind(), "refused");
}
