//! Assertions shared by the checks: each panics with a message naming its check.

use std::fmt::Debug;
use std::sync::Arc;

use keyward_clock::Timestamp;
use keyward_format::KeyId;
use keyward_store::{KeyRecord, KeyStore, ListFilter, PageRequest, StoreError};

/// 2026-01-01T00:00:00Z plus `ms` milliseconds: whole-millisecond test times.
pub(super) fn at(ms: u64) -> Timestamp {
    Timestamp::from_unix_millis(1_767_225_600_000 + ms)
}

#[track_caller]
pub(super) fn ok<T>(check: &str, what: &str, result: Result<T, StoreError>) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("conformance check `{check}`: {what} failed: {e} ({e:?})"),
    }
}

#[track_caller]
pub(super) fn expect_err<T: Debug>(
    check: &str,
    what: &str,
    result: Result<T, StoreError>,
    expected: &str,
    is_expected: impl Fn(&StoreError) -> bool,
) {
    match result {
        Err(e) if is_expected(&e) => {}
        Err(e) => panic!("conformance check `{check}`: {what}: expected {expected}, got {e:?}"),
        Ok(v) => panic!("conformance check `{check}`: {what}: expected {expected}, got Ok({v:?})"),
    }
}

#[track_caller]
pub(super) fn not_found<T: Debug>(check: &str, what: &str, result: Result<T, StoreError>) {
    expect_err(check, what, result, "StoreError::NotFound", |e| {
        matches!(e, StoreError::NotFound)
    });
}

#[track_caller]
pub(super) fn conflict<T: Debug>(check: &str, what: &str, result: Result<T, StoreError>) {
    expect_err(check, what, result, "StoreError::Conflict", |e| {
        matches!(e, StoreError::Conflict)
    });
}

#[track_caller]
pub(super) fn invalid_request<T: Debug>(check: &str, what: &str, result: Result<T, StoreError>) {
    expect_err(check, what, result, "StoreError::InvalidRequest", |e| {
        matches!(e, StoreError::InvalidRequest(_))
    });
}

/// Compares two records field by field, the hash too (`KeyRecord`'s `Debug` hides it).
#[track_caller]
pub(super) fn same(check: &str, what: &str, actual: &KeyRecord, expected: &KeyRecord) {
    assert!(
        actual.hash == expected.hash,
        "conformance check `{check}`: {what}: hash differs: got {:?}, expected {:?}",
        actual.hash,
        expected.hash
    );
    assert_eq!(actual, expected, "conformance check `{check}`: {what}");
}

#[track_caller]
pub(super) fn same_ids(check: &str, what: &str, actual: &[KeyRecord], expected: &[KeyRecord]) {
    let actual: Vec<KeyId> = actual.iter().map(|r| r.id).collect();
    let expected: Vec<KeyId> = expected.iter().map(|r| r.id).collect();
    assert_eq!(actual, expected, "conformance check `{check}`: {what}");
}

pub(super) async fn insert_all(check: &str, store: &Arc<dyn KeyStore>, records: &[KeyRecord]) {
    for r in records {
        ok(check, "insert", store.insert(r).await);
    }
}

/// Every record matching `filter`, page by page (`limit` per page).
pub(super) async fn list_all(
    check: &str,
    store: &Arc<dyn KeyStore>,
    filter: &ListFilter,
    limit: u32,
) -> Vec<KeyRecord> {
    let mut all = Vec::new();
    let mut after = None;
    for _ in 0..10_000 {
        let page = ok(
            check,
            "list",
            store.list(filter, PageRequest { limit, after }).await,
        );
        assert!(
            page.records.len() <= limit as usize,
            "conformance check `{check}`: a page of limit {limit} held {} records",
            page.records.len()
        );
        all.extend(page.records);
        match page.next {
            None => return all,
            Some(next) => after = Some(next),
        }
    }
    panic!("conformance check `{check}`: listing never ended (a cursor that does not advance?)")
}

/// Sorted the way listings must be: `(created_at, id)`.
pub(super) fn in_list_order(mut records: Vec<KeyRecord>) -> Vec<KeyRecord> {
    records.sort_by_key(|r| (r.created_at, r.id));
    records
}

/// Awaits every task; a task's panic is re-raised as is.
pub(super) async fn join_all<T>(check: &str, tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok(v) => out.push(v),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("conformance check `{check}`: a task did not finish: {e}"),
        }
    }
    out
}
