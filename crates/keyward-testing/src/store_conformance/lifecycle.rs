//! A key's life after insert: revoke, expiry, disable, re-hash, last use.

use std::sync::Arc;

use keyward_format::KeyId;
use keyward_store::{KeyState, KeyStore};

use super::check::{at, insert_all, not_found, ok, same};
use super::{fresh_id, fresh_name, sample_record};

/// Revoking sets `revoked_at` and returns the record; revoking again (earlier or later)
/// keeps the first `revoked_at` and changes nothing else.
pub async fn revoke_is_idempotent(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "revoke_is_idempotent";
    let record = sample_record(fresh_id(), &fresh_name("owner"), at(0));
    ok(CHECK, "insert", store.insert(&record).await);
    let mut expected = record.clone();
    expected.revoked_at = Some(at(50));

    let got = ok(
        CHECK,
        "first revoke",
        store.revoke(&record.id, at(50)).await,
    );
    same(CHECK, "returned by the first revoke", &got, &expected);
    assert_eq!(got.state(at(60)), KeyState::Revoked);
    for again in [at(80), at(10)] {
        let got = ok(
            CHECK,
            "second revoke",
            store.revoke(&record.id, again).await,
        );
        same(CHECK, "returned by a second revoke", &got, &expected);
    }
    let got = ok(CHECK, "get", store.get(&record.id).await);
    same(CHECK, "stored after revokes", &got, &expected);
}

/// Revoking an unknown id is [`StoreError::NotFound`] and creates nothing.
///
/// [`StoreError::NotFound`]: keyward_store::StoreError::NotFound
pub async fn revoke_unknown_is_not_found(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "revoke_unknown_is_not_found";
    let id = fresh_id();
    not_found(
        CHECK,
        "revoke of an unknown id",
        store.revoke(&id, at(1)).await,
    );
    not_found(
        CHECK,
        "get after revoking an unknown id",
        store.get(&id).await,
    );
}

/// `set_expiry` sets and clears `expires_at`, returns the record, touches nothing
/// else; unknown ids are [`StoreError::NotFound`].
///
/// [`StoreError::NotFound`]: keyward_store::StoreError::NotFound
pub async fn set_expiry_and_clear(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "set_expiry_and_clear";
    let record = sample_record(fresh_id(), &fresh_name("owner"), at(0));
    ok(CHECK, "insert", store.insert(&record).await);
    let mut expected = record.clone();

    expected.expires_at = Some(at(3_600_001));
    let got = ok(
        CHECK,
        "set",
        store.set_expiry(&record.id, expected.expires_at).await,
    );
    same(CHECK, "returned after set", &got, &expected);
    same(
        CHECK,
        "stored after set",
        &ok(CHECK, "get", store.get(&record.id).await),
        &expected,
    );
    assert_eq!(got.state(at(3_600_001)), KeyState::Expired);

    expected.expires_at = None;
    let got = ok(CHECK, "clear", store.set_expiry(&record.id, None).await);
    same(CHECK, "returned after clear", &got, &expected);
    same(
        CHECK,
        "stored after clear",
        &ok(CHECK, "get", store.get(&record.id).await),
        &expected,
    );

    not_found(
        CHECK,
        "set_expiry of an unknown id",
        store.set_expiry(&fresh_id(), Some(at(1))).await,
    );
}

/// `set_disabled(Some)` disables, `set_disabled(None)` enables again; both return the
/// record and touch nothing else; unknown ids are [`StoreError::NotFound`].
///
/// [`StoreError::NotFound`]: keyward_store::StoreError::NotFound
pub async fn disable_and_enable(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "disable_and_enable";
    let record = sample_record(fresh_id(), &fresh_name("owner"), at(0));
    ok(CHECK, "insert", store.insert(&record).await);
    let mut expected = record.clone();

    expected.disabled_at = Some(at(42));
    let got = ok(
        CHECK,
        "disable",
        store.set_disabled(&record.id, Some(at(42))).await,
    );
    same(CHECK, "returned after disable", &got, &expected);
    assert_eq!(got.state(at(43)), KeyState::Disabled);
    same(
        CHECK,
        "stored after disable",
        &ok(CHECK, "get", store.get(&record.id).await),
        &expected,
    );

    expected.disabled_at = None;
    let got = ok(CHECK, "enable", store.set_disabled(&record.id, None).await);
    same(CHECK, "returned after enable", &got, &expected);
    assert_eq!(got.state(at(44)), KeyState::Active);
    same(
        CHECK,
        "stored after enable",
        &ok(CHECK, "get", store.get(&record.id).await),
        &expected,
    );

    not_found(
        CHECK,
        "set_disabled of an unknown id",
        store.set_disabled(&fresh_id(), None).await,
    );
}

/// `update_hash` replaces the hash (with a longer string) and nothing else; unknown ids
/// are [`StoreError::NotFound`].
///
/// [`StoreError::NotFound`]: keyward_store::StoreError::NotFound
pub async fn update_hash(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "update_hash";
    let record = sample_record(fresh_id(), &fresh_name("owner"), at(0));
    ok(CHECK, "insert", store.insert(&record).await);
    let mut expected = record.clone();
    expected.hash = format!(
        "$argon2id$v=19$m=1048576,t=10,p=16,keyid=a2V5,data=ZGF0YQ${}${}",
        "c".repeat(86),
        "h".repeat(171)
    );
    ok(
        CHECK,
        "update_hash",
        store.update_hash(&record.id, &expected.hash).await,
    );
    same(
        CHECK,
        "stored after update_hash",
        &ok(CHECK, "get", store.get(&record.id).await),
        &expected,
    );
    not_found(
        CHECK,
        "update_hash of an unknown id",
        store.update_hash(&fresh_id(), "$2b$x").await,
    );
}

/// `touch_last_used` updates many keys in one call, skips unknown ids, takes the latest
/// of duplicate entries, never moves `last_used_at` backwards, accepts an empty batch
/// and changes nothing else.
pub async fn touch_last_used_batches_and_never_goes_back(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "touch_last_used_batches_and_never_goes_back";
    let owner = fresh_name("owner");
    let a = sample_record(fresh_id(), &owner, at(0));
    let mut b = sample_record(fresh_id(), &owner, at(1));
    b.last_used_at = Some(at(500));
    insert_all(CHECK, store, &[a.clone(), b.clone()]).await;
    let unknown = fresh_id();
    let last_used = |id: KeyId| async move { ok(CHECK, "get", store.get(&id).await).last_used_at };

    let batch = [
        (a.id, at(300)),
        (unknown, at(400)),
        (b.id, at(400)),
        (a.id, at(200)),
    ];
    ok(CHECK, "touch", store.touch_last_used(&batch).await);
    assert_eq!(
        last_used(a.id).await,
        Some(at(300)),
        "conformance check `{CHECK}`: latest duplicate wins"
    );
    assert_eq!(
        last_used(b.id).await,
        Some(at(500)),
        "conformance check `{CHECK}`: older touch moved b back"
    );
    not_found(
        CHECK,
        "get of an unknown touched id",
        store.get(&unknown).await,
    );

    ok(
        CHECK,
        "touch",
        store.touch_last_used(&[(a.id, at(100))]).await,
    );
    assert_eq!(
        last_used(a.id).await,
        Some(at(300)),
        "conformance check `{CHECK}`: older touch moved a back"
    );
    ok(
        CHECK,
        "touch",
        store
            .touch_last_used(&[(a.id, at(900)), (b.id, at(901))])
            .await,
    );
    assert_eq!(
        last_used(a.id).await,
        Some(at(900)),
        "conformance check `{CHECK}`: newer touch of a"
    );
    assert_eq!(
        last_used(b.id).await,
        Some(at(901)),
        "conformance check `{CHECK}`: newer touch of b"
    );
    ok(CHECK, "empty touch", store.touch_last_used(&[]).await);
    ok(
        CHECK,
        "touch of only unknown ids",
        store.touch_last_used(&[(fresh_id(), at(1))]).await,
    );

    let mut expected_a = a;
    expected_a.last_used_at = Some(at(900));
    same(
        CHECK,
        "a after touches",
        &ok(CHECK, "get", store.get(&expected_a.id).await),
        &expected_a,
    );
    let mut expected_b = b;
    expected_b.last_used_at = Some(at(901));
    same(
        CHECK,
        "b after touches",
        &ok(CHECK, "get", store.get(&expected_b.id).await),
        &expected_b,
    );
}
