//! An owner's live keys: counting them and capping inserts.

use std::sync::Arc;

use keyward_store::{KeyRecord, KeyStore, LiveKeys, StoreError};

use super::check::{at, conflict, expect_err, insert_all, not_found, ok};
use super::{fresh_id, fresh_name, sample_record};

/// `count_live` counts one owner's keys that are neither revoked nor expired at `now`
/// (an expiry equal to `now` has passed); disabled keys count, and rolled keys in their
/// grace count in both `live` and `in_grace`.
pub async fn count_live_by_owner(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "count_live_by_owner";
    let owner = fresh_name("owner");
    let now = at(1_000);
    let key = |ms| sample_record(fresh_id(), &owner, at(ms));
    let active = key(1);
    let mut future = key(2);
    future.expires_at = Some(at(1_001));
    let mut disabled = key(3);
    disabled.disabled_at = Some(at(4));
    let mut revoked = key(5);
    revoked.revoked_at = Some(at(6));
    let mut expired = key(7);
    expired.expires_at = Some(now);
    let in_grace = key(8);
    let past_grace = key(9);
    let others = sample_record(fresh_id(), &fresh_name("owner"), at(1));
    insert_all(
        CHECK,
        store,
        &[
            active,
            future,
            disabled,
            revoked,
            expired,
            in_grace.clone(),
            past_grace.clone(),
            others,
        ],
    )
    .await;
    ok(
        CHECK,
        "roll into a grace",
        store.roll(&in_grace.id, at(2_000), &key(10), at(10)).await,
    );
    ok(
        CHECK,
        "roll with a grace that has ended",
        store.roll(&past_grace.id, at(999), &key(11), at(11)).await,
    );
    let counted = ok(CHECK, "count_live", store.count_live(&owner, now).await);
    // active, future, disabled, in_grace and the two replacements.
    assert_eq!(
        counted,
        LiveKeys {
            live: 6,
            in_grace: 1
        },
        "conformance check `{CHECK}`"
    );
    assert_eq!(
        ok(
            CHECK,
            "count_live of an unknown owner",
            store.count_live(&fresh_name("nobody"), now).await
        ),
        LiveKeys::default(),
        "conformance check `{CHECK}`: unknown owner"
    );
}

/// `insert_capped` inserts while the owner has fewer than `max_live` live keys and
/// answers [`StoreError::TooManyKeys`] (storing nothing) once it has that many; keys
/// that are revoked or expired make room again; an existing id is still
/// [`StoreError::Conflict`].
pub async fn insert_capped_stops_at_the_cap(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "insert_capped_stops_at_the_cap";
    let owner = fresh_name("owner");
    let now = at(1_000);
    let keys: Vec<KeyRecord> = (0..3)
        .map(|i| sample_record(fresh_id(), &owner, at(i)))
        .collect();
    for key in &keys {
        ok(
            CHECK,
            "insert under the cap",
            store.insert_capped(key, 3, now).await,
        );
    }
    let extra = sample_record(fresh_id(), &owner, at(10));
    expect_err(
        CHECK,
        "insert at the cap",
        store.insert_capped(&extra, 3, now).await,
        "StoreError::TooManyKeys { max: 3 }",
        |e| matches!(e, StoreError::TooManyKeys { max: 3 }),
    );
    not_found(CHECK, "get of the refused key", store.get(&extra.id).await);
    ok(
        CHECK,
        "insert for another owner",
        store
            .insert_capped(
                &sample_record(fresh_id(), &fresh_name("owner"), at(0)),
                3,
                now,
            )
            .await,
    );
    conflict(
        CHECK,
        "insert_capped of an existing id",
        store.insert_capped(&keys[0], 10, now).await,
    );

    ok(CHECK, "revoke", store.revoke(&keys[0].id, at(20)).await);
    ok(
        CHECK,
        "insert after a revoke",
        store.insert_capped(&extra, 3, now).await,
    );
    ok(
        CHECK,
        "expire",
        store.set_expiry(&keys[1].id, Some(now)).await,
    );
    let another = sample_record(fresh_id(), &owner, at(11));
    ok(
        CHECK,
        "insert after an expiry",
        store.insert_capped(&another, 3, now).await,
    );
    assert_eq!(
        ok(CHECK, "count_live", store.count_live(&owner, now).await).live,
        3,
        "conformance check `{CHECK}`: live keys after the inserts"
    );
}
