//! Permanent deletes: the record gone from lookups, listings and counts, nothing else
//! touched.

use std::sync::Arc;

use keyward_store::{KeyStore, ListFilter, LiveKeys, PageRequest, Tenant};

use super::check::{at, insert_all, invalid_request, list_all, not_found, ok, same, same_ids};
use super::{fresh_id, fresh_name, sample_record};

/// `delete` returns the record as it was and removes it: a later `get` or `delete` is
/// [`StoreError::NotFound`], listings by owner and by tenant leave it out, a cursor
/// naming it is [`StoreError::InvalidRequest`], it no longer counts as live, and the
/// owner's other keys stay as they were. A revoked key deletes like any other.
///
/// [`StoreError::NotFound`]: keyward_store::StoreError::NotFound
/// [`StoreError::InvalidRequest`]: keyward_store::StoreError::InvalidRequest
pub async fn delete_removes_the_record(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "delete_removes_the_record";
    let owner = fresh_name("owner");
    let tenant = Tenant::new(fresh_name("team"), fresh_name("project"));
    let mut records: Vec<_> = (0..3)
        .map(|ms| sample_record(fresh_id(), &owner, at(ms)))
        .collect();
    for r in &mut records {
        r.tenant = Some(tenant.clone());
    }
    records[2].revoked_at = Some(at(5));
    insert_all(CHECK, store, &records).await;
    let [first, gone, revoked] = [&records[0], &records[1], &records[2]];

    same(
        CHECK,
        "record returned by delete",
        &ok(CHECK, "delete", store.delete(&gone.id).await),
        gone,
    );
    not_found(CHECK, "get after delete", store.get(&gone.id).await);
    not_found(CHECK, "second delete", store.delete(&gone.id).await);
    same_ids(
        CHECK,
        "owner's keys after a delete",
        &list_all(CHECK, store, &ListFilter::owner(&owner), 10).await,
        &[first.clone(), revoked.clone()],
    );
    same_ids(
        CHECK,
        "tenant's keys after a delete",
        &list_all(CHECK, store, &ListFilter::tenant(tenant.clone()), 1).await,
        &[first.clone(), revoked.clone()],
    );
    invalid_request(
        CHECK,
        "list after a deleted key",
        store
            .list(
                &ListFilter::owner(&owner),
                PageRequest {
                    limit: 10,
                    after: Some(gone.id),
                },
            )
            .await,
    );
    assert_eq!(
        ok(CHECK, "count_live", store.count_live(&owner, at(10)).await),
        LiveKeys {
            live: 1,
            in_grace: 0
        },
        "conformance check `{CHECK}`: live keys after a delete"
    );
    same(
        CHECK,
        "other key after a delete",
        &ok(CHECK, "get", store.get(&first.id).await),
        first,
    );

    same(
        CHECK,
        "revoked record returned by delete",
        &ok(CHECK, "delete revoked", store.delete(&revoked.id).await),
        revoked,
    );
    same_ids(
        CHECK,
        "owner's keys after deleting the revoked one",
        &list_all(CHECK, store, &ListFilter::owner(&owner), 10).await,
        std::slice::from_ref(first),
    );
}

/// Deleting an unknown id is [`StoreError::NotFound`] and creates nothing.
///
/// [`StoreError::NotFound`]: keyward_store::StoreError::NotFound
pub async fn delete_unknown_is_not_found(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "delete_unknown_is_not_found";
    let id = fresh_id();
    not_found(CHECK, "delete of an unknown id", store.delete(&id).await);
    not_found(
        CHECK,
        "get after deleting an unknown id",
        store.get(&id).await,
    );
}

/// Deleting one key of a roll leaves the other as it was: the old key keeps its expiry
/// and a `replaced_by` naming the deleted replacement, and a replacement outlives the
/// key it replaced.
pub async fn delete_leaves_the_other_key_of_a_roll(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "delete_leaves_the_other_key_of_a_roll";
    let owner = fresh_name("owner");

    // The replacement deleted: the old key still names it.
    let old = sample_record(fresh_id(), &owner, at(0));
    ok(CHECK, "insert", store.insert(&old).await);
    let replacement = sample_record(fresh_id(), &owner, at(10));
    let rolled = ok(
        CHECK,
        "roll",
        store.roll(&old.id, at(500), &replacement, at(10)).await,
    );
    ok(
        CHECK,
        "delete of the replacement",
        store.delete(&replacement.id).await,
    );
    same(
        CHECK,
        "old key after its replacement was deleted",
        &ok(CHECK, "get old", store.get(&old.id).await),
        &rolled,
    );

    // The old key deleted: its replacement stays.
    let old2 = sample_record(fresh_id(), &owner, at(20));
    ok(CHECK, "insert", store.insert(&old2).await);
    let replacement2 = sample_record(fresh_id(), &owner, at(30));
    ok(
        CHECK,
        "roll",
        store.roll(&old2.id, at(600), &replacement2, at(30)).await,
    );
    ok(CHECK, "delete of the old key", store.delete(&old2.id).await);
    same(
        CHECK,
        "replacement after the old key was deleted",
        &ok(CHECK, "get replacement", store.get(&replacement2.id).await),
        &replacement2,
    );
    same_ids(
        CHECK,
        "owner's keys after both deletes",
        &list_all(CHECK, store, &ListFilter::owner(&owner), 10).await,
        &[rolled, replacement2],
    );
}
