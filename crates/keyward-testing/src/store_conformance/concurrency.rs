//! Concurrent callers: inserts, conflicting inserts, rolls and capped inserts at once.
//! They use `tokio::spawn`; a multi-threaded runtime makes them concurrent for real.

use std::sync::Arc;

use keyward_store::{KeyRecord, KeyStore, ListFilter, PageRequest, StoreError};

use super::check::{at, in_list_order, join_all, list_all, not_found, ok, same, same_ids};
use super::{fresh_id, fresh_name, sample_record};

/// 50 tasks (`tokio::spawn`) each insert a key, read it back and find it in a listing,
/// at once; afterwards the owner lists exactly those 50 keys, in order.
pub async fn concurrent_inserts_and_reads(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "concurrent_inserts_and_reads";
    const TASKS: u64 = 50;
    let owner = fresh_name("owner");
    let records: Vec<KeyRecord> = (0..TASKS)
        .map(|i| sample_record(fresh_id(), &owner, at(i % 7)))
        .collect();
    let tasks: Vec<_> = records
        .iter()
        .cloned()
        .map(|record| {
            let store = Arc::clone(store);
            let filter = ListFilter::owner(&owner);
            tokio::spawn(async move {
                ok(CHECK, "concurrent insert", store.insert(&record).await);
                let got = ok(CHECK, "concurrent get", store.get(&record.id).await);
                same(CHECK, "concurrent get after insert", &got, &record);
                let page = ok(
                    CHECK,
                    "concurrent list",
                    store
                        .list(&filter, PageRequest::first(PageRequest::MAX_LIMIT))
                        .await,
                );
                assert!(
                    page.records.iter().any(|r| r.id == record.id),
                    "conformance check `{CHECK}`: a task's own key missing from a listing"
                );
            })
        })
        .collect();
    join_all(CHECK, tasks).await;
    same_ids(
        CHECK,
        "all keys after concurrent inserts",
        &list_all(
            CHECK,
            store,
            &ListFilter::owner(owner),
            PageRequest::MAX_LIMIT,
        )
        .await,
        &in_list_order(records),
    );
}

/// Ten tasks insert records with the same id at once: exactly one succeeds, every
/// other gets [`StoreError::Conflict`] (not an "unavailable" from a unique-constraint
/// violation), and the stored record is the winner's.
pub async fn concurrent_conflicting_inserts(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "concurrent_conflicting_inserts";
    let id = fresh_id();
    let owner = fresh_name("owner");
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = Arc::clone(store);
            let mut record = sample_record(id, &owner, at(i));
            record.name = format!("contender {i}");
            tokio::spawn(async move { (record.clone(), store.insert(&record).await) })
        })
        .collect();
    let mut winners = Vec::new();
    for (record, result) in join_all(CHECK, tasks).await {
        match result {
            Ok(()) => winners.push(record),
            Err(StoreError::Conflict) => {}
            Err(e) => panic!("conformance check `{CHECK}`: expected Ok or Conflict, got {e:?}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "conformance check `{CHECK}`: exactly one insert wins"
    );
    same(
        CHECK,
        "the winner is stored",
        &ok(CHECK, "get", store.get(&id).await),
        &winners[0],
    );
}

/// Ten tasks roll one key at once, each to its own replacement: exactly one wins,
/// every other gets [`StoreError::AlreadyRolled`], and only the winner's replacement
/// is stored.
pub async fn concurrent_rolls_of_one_key(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "concurrent_rolls_of_one_key";
    let owner = fresh_name("owner");
    let old = sample_record(fresh_id(), &owner, at(0));
    ok(CHECK, "insert", store.insert(&old).await);
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = Arc::clone(store);
            let replacement = sample_record(fresh_id(), &owner, at(10 + i));
            tokio::spawn(async move {
                let result = store.roll(&old.id, at(500), &replacement, at(10)).await;
                (replacement.id, result)
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for (id, result) in join_all(CHECK, tasks).await {
        match result {
            Ok(_) => winners.push(id),
            Err(StoreError::AlreadyRolled) => losers.push(id),
            Err(e) => {
                panic!("conformance check `{CHECK}`: expected Ok or AlreadyRolled, got {e:?}")
            }
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "conformance check `{CHECK}`: exactly one roll wins"
    );
    assert_eq!(
        ok(CHECK, "get old", store.get(&old.id).await).replaced_by,
        Some(winners[0]),
        "conformance check `{CHECK}`: the old key names the winner"
    );
    for id in losers {
        not_found(CHECK, "get of a losing replacement", store.get(&id).await);
    }
}

/// Ten tasks insert keys of one owner at once with a cap of four: exactly four are
/// stored, every other insert gets [`StoreError::TooManyKeys`].
pub async fn concurrent_capped_inserts(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "concurrent_capped_inserts";
    let owner = fresh_name("owner");
    let now = at(1_000);
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = Arc::clone(store);
            let record = sample_record(fresh_id(), &owner, at(i));
            tokio::spawn(async move { store.insert_capped(&record, 4, now).await })
        })
        .collect();
    let mut stored = 0;
    for result in join_all(CHECK, tasks).await {
        match result {
            Ok(()) => stored += 1,
            Err(StoreError::TooManyKeys { max: 4 }) => {}
            Err(e) => panic!("conformance check `{CHECK}`: expected Ok or TooManyKeys, got {e:?}"),
        }
    }
    assert_eq!(stored, 4, "conformance check `{CHECK}`: inserts that won");
    let listed = list_all(CHECK, store, &ListFilter::owner(owner), 100).await;
    assert_eq!(listed.len(), 4, "conformance check `{CHECK}`: keys stored");
}
