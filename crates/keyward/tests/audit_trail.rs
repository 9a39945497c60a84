//! Every key change is audited: the store gets one entry naming the action, the key, who
//! acted and from where, and the event sink gets the same entry once the change
//! succeeded. A change that fails leaves no entry and sends no event.

mod common;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{START, catalog, ip, rig, rig_with};
use keyward::clock::Timestamp;
use keyward::manage::{Actor, Caller, CreateKey, KeyManager, ManageError};
use keyward::scope::Requirement;
use keyward::store::{AuditAction, AuditEntry, AuditQuery, KeyStore, PageRequest, Tenant};
use keyward::{
    Config, Credential, ExpiredReason, KeyEvent, KeyService, MintRequest, RequestProblem,
    ServiceError,
};

/// The rig's audit log, oldest first.
async fn log(rig: &common::Rig) -> Vec<AuditEntry> {
    rig.store
        .list_audit(&AuditQuery::all(AuditQuery::MAX_LIMIT))
        .await
        .expect("the memory store keeps an audit log")
}

/// What the event sink received, change events only.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<AuditEntry>>>);

impl Received {
    fn sink(&self) -> impl Fn(&KeyEvent) + Send + Sync + 'static {
        let received = Arc::clone(&self.0);
        move |event: &KeyEvent| {
            if let KeyEvent::Changed(entry) = event {
                received.lock().unwrap().push(entry.clone());
            }
        }
    }

    fn take(&self) -> Vec<AuditEntry> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// `entry` without the store's sequence number, which events do not carry.
fn unsequenced(entry: &AuditEntry) -> AuditEntry {
    AuditEntry {
        seq: 0,
        ..entry.clone()
    }
}

#[tokio::test]
async fn each_service_change_appends_its_entry_as_the_service() {
    let received = Received::default();
    let rig = rig_with(|b| b.event_sink(received.sink()));
    let keys = rig.keyward.keys();
    let now = Timestamp::from_unix_seconds(START);

    let new = keys
        .mint(MintRequest::new("CI", "u_1").capabilities(["jobs:read"]))
        .await
        .unwrap();
    let id = new.summary.id;
    keys.disable(&id).await.unwrap();
    keys.enable(&id).await.unwrap();
    let later = now.saturating_add(Duration::from_secs(3600));
    keys.set_expiry(&id, Some(later)).await.unwrap();
    keys.set_expiry(&id, None).await.unwrap();
    let rolled = keys.roll(&id, Duration::from_secs(60)).await.unwrap();
    let replacement = rolled.new.summary.id;
    keys.revoke(&id).await.unwrap();
    keys.delete(&replacement).await.unwrap();

    let entries = log(&rig).await;
    let actions: Vec<AuditAction> = entries.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::Minted,
            AuditAction::Disabled,
            AuditAction::Enabled,
            AuditAction::ExpirySet,
            AuditAction::ExpirySet,
            AuditAction::Rolled,
            AuditAction::Revoked,
            AuditAction::Deleted,
        ]
    );
    for entry in &entries {
        assert_eq!(entry.actor, Actor::Service, "{entry:?}");
        assert_eq!(entry.client_ip, None, "{entry:?}");
        assert_eq!(entry.at, now, "{entry:?}");
    }
    assert!(entries.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(entries[0].key, id);
    assert_eq!(entries[0].capabilities, ["jobs:read"]);
    assert!(entries[1].capabilities.is_empty());
    assert_eq!(
        entries[3].note.as_deref(),
        Some("expires_at 2027-01-15T09:00:00Z")
    );
    assert_eq!(entries[4].note.as_deref(), Some("expiry cleared"));
    assert_eq!(entries[5].key, id);
    assert_eq!(entries[5].replacement, Some(replacement));
    assert_eq!(entries[5].capabilities, ["jobs:read"]);
    assert_eq!(entries[7].key, replacement);

    // The sink got the same entries, in the same order, once each.
    let events = received.take();
    let expected: Vec<AuditEntry> = entries.iter().map(unsequenced).collect();
    assert_eq!(events, expected);
}

#[tokio::test]
async fn a_handle_acting_for_the_cli_audits_as_the_cli() {
    let rig = rig();
    let cli = rig.keyward.keys().acting(Actor::Cli, None);
    assert_eq!(cli.actor(), &Actor::Cli);
    let new = cli.mint(MintRequest::new("CI", "u_1")).await.unwrap();
    cli.expire(&new.summary.id).await.unwrap();
    let from = ip("198.51.100.7");
    let console = rig
        .keyward
        .keys()
        .acting(Actor::User("admin".into()), Some(from));
    console.revoke(&new.summary.id).await.unwrap();

    let entries = log(&rig).await;
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].actor, Actor::Cli);
    assert_eq!(entries[1].actor, Actor::Cli);
    assert_eq!(entries[1].action, AuditAction::ExpirySet);
    assert_eq!(entries[2].actor, Actor::User("admin".into()));
    assert_eq!(entries[2].client_ip, Some(from));
    // The plain handle still audits as the service.
    assert_eq!(rig.keyward.keys().actor(), &Actor::Service);
}

#[tokio::test]
async fn a_leaked_key_is_revoked_with_its_note() {
    let rig = rig();
    let keys = rig.keyward.keys().acting(Actor::Automatic, None);
    let new = rig.mint(MintRequest::new("CI", "u_1")).await;
    let url = "https://github.com/acme/app/blob/main/.env";
    let revoked = keys
        .revoke_leaked(&new.summary.id, Some(url))
        .await
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    let entry = log(&rig).await.pop().unwrap();
    assert_eq!(entry.action, AuditAction::Leaked);
    assert_eq!(entry.actor, Actor::Automatic);
    assert_eq!(entry.note.as_deref(), Some(url));
}

#[tokio::test]
async fn the_key_manager_audits_as_the_calling_key_from_its_address() {
    let received = Received::default();
    let rig = rig_with(|b| b.event_sink(received.sink()));
    let admin = rig
        .mint(MintRequest::new("admin", "u_1").capabilities(["keys:write", "jobs:read"]))
        .await;
    let principal = rig
        .keyward
        .authenticator()
        .authenticate(
            Credential::Key(admin.key.expose()),
            &Requirement::none(),
            ip("192.0.2.1"),
        )
        .await
        .unwrap();
    let from: IpAddr = "2001:db8::5".parse().unwrap();
    let me = Caller::from_principal(&principal).with_client_ip(from);
    let manager = KeyManager::new(&rig.keyward);
    let created = manager
        .create(&me, CreateKey::new("CI").capabilities(["jobs:read"]))
        .await
        .unwrap();
    let id = created.summary.id.to_string();
    manager.disable(&me, &id).await.unwrap();
    manager.enable(&me, &id).await.unwrap();
    let rolled = manager
        .roll(&me, &id, Duration::from_secs(0))
        .await
        .unwrap();
    manager.revoke(&me, &id).await.unwrap();
    manager
        .delete(&me, &rolled.new.summary.id.to_string())
        .await
        .unwrap();

    let entries = log(&rig).await;
    // The admin key's own mint, by the service, then the manager's six changes.
    assert_eq!(entries.len(), 7);
    assert_eq!(entries[0].actor, Actor::Service);
    for entry in &entries[1..] {
        assert_eq!(entry.actor, Actor::Key(admin.summary.id), "{entry:?}");
        assert_eq!(entry.client_ip, Some(from), "{entry:?}");
    }
    assert_eq!(entries[1].action, AuditAction::Minted);
    assert_eq!(entries[1].key, created.summary.id);
    assert_eq!(entries[1].capabilities, ["jobs:read"]);
    assert_eq!(entries[4].action, AuditAction::Rolled);
    assert_eq!(entries[4].replacement, Some(rolled.new.summary.id));
    assert_eq!(received.take().len(), 7);
}

#[tokio::test]
async fn a_signed_in_user_is_audited_as_that_user() {
    let rig = rig();
    let user = Caller::user("u_7", None, catalog().all()).with_client_ip(ip("203.0.113.9"));
    let manager = KeyManager::new(&rig.keyward);
    let created = manager.create(&user, CreateKey::new("CI")).await.unwrap();
    manager
        .revoke(&user, &created.summary.id.to_string())
        .await
        .unwrap();
    let entries = log(&rig).await;
    assert_eq!(entries.len(), 2);
    for entry in &entries {
        assert_eq!(entry.actor, Actor::User("u_7".into()));
        assert_eq!(entry.client_ip, Some(ip("203.0.113.9")));
    }
}

#[tokio::test]
async fn a_change_that_fails_appends_nothing_and_sends_no_event() {
    let received = Received::default();
    let rig = rig_with(|b| {
        b.event_sink(received.sink()).config(Config {
            max_live_keys_per_owner: 1,
            ..Config::default()
        })
    });
    let keys = rig.keyward.keys();
    let new = keys.mint(MintRequest::new("CI", "u_1")).await.unwrap();
    let id = new.summary.id;
    let before = log(&rig).await;
    received.take();

    let unknown = keyward::format::KeyFormat::new("sk_test_")
        .unwrap()
        .mint()
        .unwrap()
        .id();
    assert!(matches!(
        keys.revoke(&unknown).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        keys.disable(&unknown).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        keys.delete(&unknown).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        keys.set_expiry(&unknown, None).await,
        Err(ServiceError::NotFound)
    ));
    // Over the owner's cap.
    assert!(matches!(
        keys.mint(MintRequest::new("two", "u_1")).await,
        Err(ServiceError::TooManyKeys { max: 1 })
    ));
    // A grace past the maximum, then a roll of a revoked key.
    assert!(matches!(
        keys.roll(&id, Duration::from_secs(30 * 24 * 3600)).await,
        Err(ServiceError::GraceTooLong { .. })
    ));
    keys.revoke(&id).await.unwrap();
    assert!(matches!(
        keys.roll(&id, Duration::ZERO).await,
        Err(ServiceError::NotActive(_))
    ));
    // The store down: the change fails, nothing is logged.
    rig.store
        .down
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(keys.enable(&id).await.is_err());
    rig.store
        .down
        .store(false, std::sync::atomic::Ordering::SeqCst);

    let after = log(&rig).await;
    assert_eq!(after.len(), before.len() + 1, "only the revoke: {after:?}");
    assert_eq!(after.last().unwrap().action, AuditAction::Revoked);
    let events = received.take();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, AuditAction::Revoked);
}

#[tokio::test]
async fn a_key_manager_lists_only_the_events_of_keys_the_caller_sees() {
    let rig = rig();
    let manager = KeyManager::new(&rig.keyward);
    let acme = Tenant::new("acme", "web");
    let me = Caller::user("u_1", Some(acme.clone()), catalog().all());
    let other = Caller::user("u_2", Some(acme), catalog().all());
    let mine = manager.create(&me, CreateKey::new("mine")).await.unwrap();
    let mine = mine.summary.id.to_string();
    let theirs = manager
        .create(&other, CreateKey::new("theirs"))
        .await
        .unwrap();
    let theirs = theirs.summary.id.to_string();
    manager.disable(&me, &mine).await.unwrap();
    manager.enable(&me, &mine).await.unwrap();

    let page = manager.events(&me, &mine, None, 100).await.unwrap();
    let actions: Vec<AuditAction> = page.entries.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::Minted,
            AuditAction::Disabled,
            AuditAction::Enabled
        ]
    );
    assert_eq!(page.next, None);

    // Paged: two, then the rest after the cursor.
    let first = manager.events(&me, &mine, None, 2).await.unwrap();
    assert_eq!(first.entries.len(), 2);
    let cursor = first.next.expect("a third entry follows");
    assert_eq!(cursor, first.entries[1].seq);
    let rest = manager.events(&me, &mine, Some(cursor), 2).await.unwrap();
    assert_eq!(rest.entries.len(), 1);
    assert_eq!(rest.entries[0].action, AuditAction::Enabled);
    assert_eq!(rest.next, None);

    // Another owner's key, an unknown and a malformed id: not found alike.
    for id in [theirs.as_str(), "AbCd12345678", "not-an-id"] {
        assert!(
            matches!(
                manager.events(&me, id, None, 10).await,
                Err(ManageError::NotFound)
            ),
            "{id}"
        );
    }
    // A deleted key's trail stays in the log but is not listed.
    manager.delete(&me, &mine).await.unwrap();
    assert!(matches!(
        manager.events(&me, &mine, None, 10).await,
        Err(ManageError::NotFound)
    ));
    assert_eq!(
        rig.keyward
            .keys()
            .audit(&AuditQuery::key(mine.parse().unwrap(), 10))
            .await
            .unwrap()
            .entries
            .len(),
        4
    );
}

#[tokio::test]
async fn a_rolled_keys_replacement_lists_the_roll() {
    let rig = rig();
    let manager = KeyManager::new(&rig.keyward);
    let me = Caller::user("u_1", None, catalog().all());
    let old = manager.create(&me, CreateKey::new("CI")).await.unwrap();
    let rolled = manager
        .roll(&me, &old.summary.id.to_string(), Duration::ZERO)
        .await
        .unwrap();
    let page = manager
        .events(&me, &rolled.new.summary.id.to_string(), None, 10)
        .await
        .unwrap();
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.entries[0].action, AuditAction::Rolled);
    assert_eq!(page.entries[0].key, old.summary.id);
    assert_eq!(page.entries[0].replacement, Some(rolled.new.summary.id));
}

#[tokio::test]
async fn max_lifetime_fills_in_and_caps_the_expiry() {
    let day = Duration::from_secs(24 * 3600);
    let rig = rig_with(|b| {
        b.config(Config {
            max_lifetime: Some(90 * day),
            ..Config::default()
        })
    });
    let keys = rig.keyward.keys();
    let now = Timestamp::from_unix_seconds(START);

    let open = keys.mint(MintRequest::new("open", "u_1")).await.unwrap();
    assert_eq!(open.summary.expires_at, Some(now.saturating_add(90 * day)));
    let short = keys
        .mint(MintRequest::new("short", "u_1").expires_in(day))
        .await
        .unwrap();
    assert_eq!(short.summary.expires_at, Some(now.saturating_add(day)));
    let exact = keys
        .mint(MintRequest::new("exact", "u_1").expires_in(90 * day))
        .await
        .unwrap();
    assert_eq!(exact.summary.expires_at, Some(now.saturating_add(90 * day)));

    for request in [
        MintRequest::new("long", "u_1").expires_in(90 * day + Duration::from_secs(1)),
        MintRequest::new("far", "u_1").expires_at(now.saturating_add(365 * day)),
    ] {
        match keys.mint(request).await {
            Err(ServiceError::InvalidRequest(RequestProblem::LifetimeTooLong { max_seconds })) => {
                assert_eq!(max_seconds, 90 * 24 * 3600)
            }
            other => panic!("expected LifetimeTooLong, got {other:?}"),
        }
    }
    let message = ServiceError::InvalidRequest(RequestProblem::LifetimeTooLong {
        max_seconds: 7_776_000,
    })
    .to_string();
    assert!(message.contains("7776000 seconds"), "{message}");

    // A roll keeps the old key's expiry, already within the maximum.
    rig.clock.advance(Duration::from_secs(3600));
    let rolled = keys.roll(&short.summary.id, Duration::ZERO).await.unwrap();
    assert_eq!(rolled.new.summary.expires_at, short.summary.expires_at);
}

#[tokio::test]
async fn a_key_unused_past_the_threshold_is_listed_as_expired_unused() {
    let day = Duration::from_secs(24 * 3600);
    let rig = rig_with(|b| {
        b.config(Config {
            expire_unused_after: Some(30 * day),
            ..Config::default()
        })
    });
    let keys = rig.keyward.keys();
    let idle = keys.mint(MintRequest::new("idle", "u_1")).await.unwrap();
    let dated = keys
        .mint(MintRequest::new("dated", "u_1").expires_in(day))
        .await
        .unwrap();
    assert_eq!(idle.summary.expired_reason, None);

    rig.clock.advance(30 * day - Duration::from_secs(1));
    let listed = keys.get(&idle.summary.id).await.unwrap();
    assert_eq!(listed.state, keyward::store::KeyState::Active);
    assert_eq!(listed.expired_reason, None);
    let listed = keys.get(&dated.summary.id).await.unwrap();
    assert_eq!(listed.state, keyward::store::KeyState::Expired);
    assert_eq!(listed.expired_reason, Some(ExpiredReason::ExpiresAt));

    rig.clock.advance(Duration::from_secs(1));
    let page = keys
        .list(
            &keyward::store::ListFilter::owner("u_1"),
            PageRequest::first(10),
        )
        .await
        .unwrap();
    let idle_listed = page.keys.iter().find(|k| k.id == idle.summary.id).unwrap();
    assert_eq!(idle_listed.state, keyward::store::KeyState::Expired);
    assert_eq!(idle_listed.expired_reason, Some(ExpiredReason::Unused));
    // It does not roll either.
    assert!(matches!(
        keys.roll(&idle.summary.id, Duration::ZERO).await,
        Err(ServiceError::NotActive(keyward::store::KeyState::Expired))
    ));
    // A revoked key is listed as revoked, with no reason.
    let revoked = keys.revoke(&idle.summary.id).await.unwrap();
    assert_eq!(revoked.expired_reason, None);
}

#[tokio::test]
async fn pruning_keeps_what_the_retention_covers() {
    let day = Duration::from_secs(24 * 3600);
    let rig = rig_with(|b| {
        b.config(Config {
            audit_retention: Some(7 * day),
            ..Config::default()
        })
    });
    let keys = rig.keyward.keys();
    rig.mint(MintRequest::new("old", "u_1")).await;
    rig.clock.advance(6 * day);
    rig.mint(MintRequest::new("newer", "u_1")).await;
    assert_eq!(keys.prune_audit().await.unwrap(), 0);
    rig.clock.advance(day + Duration::from_secs(1));
    assert_eq!(keys.prune_audit().await.unwrap(), 1);
    let left = log(&rig).await;
    assert_eq!(left.len(), 1);
    assert_eq!(
        left[0].at,
        Timestamp::from_unix_seconds(START).saturating_add(6 * day)
    );

    // Without a retention nothing is pruned, however old.
    let keeping = rig_with(|b| b);
    keeping.mint(MintRequest::new("old", "u_1")).await;
    keeping.clock.advance(3650 * day);
    assert_eq!(keeping.keyward.keys().prune_audit().await.unwrap(), 0);
    assert_eq!(log(&keeping).await.len(), 1);
}

#[tokio::test]
async fn the_pruner_prunes_at_once_then_on_its_interval() {
    let day = Duration::from_secs(24 * 3600);
    let rig = rig_with(|b| {
        b.config(Config {
            audit_retention: Some(day),
            ..Config::default()
        })
    });
    rig.mint(MintRequest::new("old", "u_1")).await;
    rig.clock.advance(2 * day);
    let pruner: KeyService = rig.keyward.keys();
    let task = pruner.spawn_audit_pruner(Duration::from_secs(3600));
    // The first run is at once (on the timer's next millisecond): the test's one thread
    // runs it while this one yields. The bound only turns a hang into a failure.
    let pruned = tokio::time::timeout(Duration::from_secs(10), async {
        while !log(&rig).await.is_empty() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(pruned.is_ok(), "the pruner never ran");
    assert!(
        !task.is_finished(),
        "it keeps running for the next interval"
    );
    task.abort();
}
