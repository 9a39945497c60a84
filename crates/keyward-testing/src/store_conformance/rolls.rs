//! Rolls: the old key revoked and its replacement inserted as one step, once.

use std::sync::Arc;

use keyward_store::{KeyState, KeyStore, ListFilter, StoreError};

use super::check::{at, conflict, expect_err, list_all, not_found, ok, same, same_ids};
use super::{fresh_id, fresh_name, sample_record};

/// `roll` inserts the replacement and sets the old key's expiry and `replaced_by`
/// together; when the
/// replacement's id exists (including the old id itself) it is
/// [`StoreError::Conflict`] and neither key changes.
pub async fn roll_is_atomic(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "roll_is_atomic";
    let owner = fresh_name("owner");
    let old = sample_record(fresh_id(), &owner, at(0));
    let mut replacement = sample_record(fresh_id(), &owner, at(10));
    replacement.name = "rolled".to_owned();
    ok(CHECK, "insert", store.insert(&old).await);

    let mut expected_old = old.clone();
    expected_old.expires_at = Some(at(3_600_000));
    expected_old.replaced_by = Some(replacement.id);
    let got = ok(
        CHECK,
        "roll",
        store
            .roll(&old.id, at(3_600_000), &replacement, at(10))
            .await,
    );
    same(CHECK, "old record returned by roll", &got, &expected_old);
    same(
        CHECK,
        "old record after roll",
        &ok(CHECK, "get old", store.get(&old.id).await),
        &expected_old,
    );
    same(
        CHECK,
        "replacement after roll",
        &ok(CHECK, "get replacement", store.get(&replacement.id).await),
        &replacement,
    );

    // The replacement id is taken: nothing changes on either side.
    let old2 = sample_record(fresh_id(), &owner, at(20));
    ok(CHECK, "insert", store.insert(&old2).await);
    let mut clash = sample_record(replacement.id, &owner, at(30));
    clash.name = "clash".to_owned();
    conflict(
        CHECK,
        "roll onto an existing id",
        store.roll(&old2.id, at(99), &clash, at(30)).await,
    );
    same(
        CHECK,
        "old record after a failed roll",
        &ok(CHECK, "get", store.get(&old2.id).await),
        &old2,
    );
    same(
        CHECK,
        "existing key after a failed roll",
        &ok(CHECK, "get", store.get(&replacement.id).await),
        &replacement,
    );

    // Rolling onto itself is the same conflict.
    let onto_itself = sample_record(old2.id, &owner, at(40));
    conflict(
        CHECK,
        "roll onto its own id",
        store.roll(&old2.id, at(99), &onto_itself, at(40)).await,
    );
    same(
        CHECK,
        "old record after rolling onto itself",
        &ok(CHECK, "get", store.get(&old2.id).await),
        &old2,
    );
    same_ids(
        CHECK,
        "keys of the owner after rolls",
        &list_all(CHECK, store, &ListFilter::owner(owner), 10).await,
        &[old, replacement, old2],
    );
}

/// Rolling an unknown key is [`StoreError::NotFound`] and does not insert the
/// replacement.
pub async fn roll_unknown_old_changes_nothing(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "roll_unknown_old_changes_nothing";
    let replacement = sample_record(fresh_id(), &fresh_name("owner"), at(0));
    let unknown = fresh_id();
    not_found(
        CHECK,
        "roll of an unknown key",
        store.roll(&unknown, at(5), &replacement, at(1)).await,
    );
    not_found(
        CHECK,
        "get of the replacement",
        store.get(&replacement.id).await,
    );
    not_found(CHECK, "get of the unknown key", store.get(&unknown).await);
}

/// Rolling a key that was already rolled is [`StoreError::AlreadyRolled`]: the second
/// replacement is not stored and the old key keeps its first roll's expiry.
pub async fn roll_twice_is_already_rolled(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "roll_twice_is_already_rolled";
    let owner = fresh_name("owner");
    let old = sample_record(fresh_id(), &owner, at(0));
    ok(CHECK, "insert", store.insert(&old).await);
    let first = sample_record(fresh_id(), &owner, at(10));
    let rolled = ok(
        CHECK,
        "first roll",
        store.roll(&old.id, at(500), &first, at(10)).await,
    );
    let second = sample_record(fresh_id(), &owner, at(20));
    expect_err(
        CHECK,
        "second roll",
        store.roll(&old.id, at(900), &second, at(20)).await,
        "StoreError::AlreadyRolled",
        |e| matches!(e, StoreError::AlreadyRolled),
    );
    same(
        CHECK,
        "old record after the refused roll",
        &ok(CHECK, "get", store.get(&old.id).await),
        &rolled,
    );
    not_found(
        CHECK,
        "get of the refused replacement",
        store.get(&second.id).await,
    );
    // The replacement itself rolls as any key.
    let third = sample_record(fresh_id(), &owner, at(30));
    ok(
        CHECK,
        "roll of the replacement",
        store.roll(&first.id, at(700), &third, at(30)).await,
    );
}

/// A roll checks that the old key is still active at the roll's time, in the same step:
/// a key revoked or disabled after the caller read it (while it hashed the
/// replacement), or expired by the roll's time, is [`StoreError::NotActive`] with its
/// state, the replacement is not stored and the old key is left as it was.
pub async fn roll_of_a_key_no_longer_active_is_refused(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "roll_of_a_key_no_longer_active_is_refused";
    let owner = fresh_name("owner");

    // Each change lands between the caller's read and its roll.
    let changes: [(&str, KeyState); 2] = [
        ("revoked", KeyState::Revoked),
        ("disabled", KeyState::Disabled),
    ];
    for (what, state) in changes {
        let old = sample_record(fresh_id(), &owner, at(0));
        ok(CHECK, "insert", store.insert(&old).await);
        let read = ok(CHECK, "get before the roll", store.get(&old.id).await);
        assert_eq!(
            read.state(at(10)),
            KeyState::Active,
            "conformance check `{CHECK}`"
        );
        let changed = match state {
            KeyState::Revoked => ok(CHECK, "revoke", store.revoke(&old.id, at(5)).await),
            _ => ok(
                CHECK,
                "disable",
                store.set_disabled(&old.id, Some(at(5))).await,
            ),
        };
        let replacement = sample_record(fresh_id(), &owner, at(10));
        expect_err(
            CHECK,
            &format!("roll of a key {what} since it was read"),
            store.roll(&old.id, at(500), &replacement, at(10)).await,
            &format!("StoreError::NotActive({state:?})"),
            |e| matches!(e, StoreError::NotActive(s) if *s == state),
        );
        same(
            CHECK,
            &format!("{what} key after the refused roll"),
            &ok(CHECK, "get", store.get(&old.id).await),
            &changed,
        );
        not_found(
            CHECK,
            &format!("get of the replacement of the {what} key"),
            store.get(&replacement.id).await,
        );
    }

    // A key whose expiry has come by the roll's time (an expiry equal to it has passed).
    let mut expiring = sample_record(fresh_id(), &owner, at(0));
    expiring.expires_at = Some(at(50));
    ok(CHECK, "insert", store.insert(&expiring).await);
    let late = sample_record(fresh_id(), &owner, at(50));
    expect_err(
        CHECK,
        "roll at the key's expiry",
        store.roll(&expiring.id, at(40), &late, at(50)).await,
        "StoreError::NotActive(Expired)",
        |e| matches!(e, StoreError::NotActive(KeyState::Expired)),
    );
    same(
        CHECK,
        "expired key after the refused roll",
        &ok(CHECK, "get", store.get(&expiring.id).await),
        &expiring,
    );
    not_found(
        CHECK,
        "get of the replacement of the expired key",
        store.get(&late.id).await,
    );
    // Just before its expiry the same key rolls.
    let in_time = sample_record(fresh_id(), &owner, at(49));
    let rolled = ok(
        CHECK,
        "roll just before the key's expiry",
        store.roll(&expiring.id, at(40), &in_time, at(49)).await,
    );
    assert_eq!(
        rolled.replaced_by,
        Some(in_time.id),
        "conformance check `{CHECK}`"
    );
}
