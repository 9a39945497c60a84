//! The conformance suite every [`KeyStore`] passes.
//!
//! A store crate calls [`run`] from one of its own tests, with a store that is reachable
//! and (ideally) empty; each check panics with a message naming itself on the first
//! behaviour that differs from the contract. The checks are also public one by one, so
//! a store under development can run a subset, or report each as its own test.
//!
//! ```
//! use std::sync::Arc;
//! use keyward_store::{MemoryStore, conformance};
//!
//! // In a store crate: `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]`.
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! conformance::run(Arc::new(MemoryStore::new())).await;
//! # });
//! ```
//!
//! # What the suite assumes
//!
//! - **Not an empty store.** Several test binaries may share one database, and [`run`]
//!   may run twice against the same store. Every check mints fresh random key ids and
//!   lists only by a fresh random owner or tenant, so leftovers never interfere.
//! - **Millisecond precision.** Stores keep timestamps (and rate-limit periods) to at
//!   least the millisecond; the suite uses whole-millisecond values and expects them
//!   back exactly.
//! - **Byte order for ids.** Listings are ordered by `(created_at, id)`, ties broken by
//!   the id's bytes (in PostgreSQL, an id column with `COLLATE "C"`; SQLite's default
//!   `BINARY` collation already is).
//! - **A tokio runtime.** The `concurrent_*` checks use `tokio::spawn`; a
//!   multi-threaded runtime makes them concurrent for real.
//!
//! Panicking is this module's error handling: it exists to fail tests.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use keyward_clock::Timestamp;
use keyward_format::{KeyFormat, KeyId};

use crate::error::StoreError;
use crate::record::{KeyRecord, KeyState, RateLimitOverride, Tenant};
use crate::store::{KeyStore, ListFilter, LiveKeys, PageRequest};

static FORMAT: LazyLock<KeyFormat> =
    LazyLock::new(|| KeyFormat::new("kw_test_").expect("`kw_test_` is a valid prefix"));

/// The hash [`sample_record`] stores: a real bcrypt hash (cost 4) of
/// `not a keyward secret`, not of any key the suite mints (stores never interpret it).
pub const SAMPLE_HASH: &str = "$2b$04$xt7JG2XWq1p2zPZoxJLTb.T1v947ExQg2JJIHa53htjFyM5A91la.";

/// A fresh random key id, minted from the OS generator (format `kw_test_`).
pub fn fresh_id() -> KeyId {
    FORMAT
        .mint()
        .expect("the OS random generator failed to mint a test key")
        .id()
}

/// A fresh random name for an owner, team or project: `<label>-<random id>`.
pub fn fresh_name(label: &str) -> String {
    format!("{label}-{}", fresh_id())
}

/// A plain active record to build tests on: key `id` of `owner`, created at
/// `created_at`, no tenant, capability `keys:read`, no expiry or other timestamps,
/// [`SAMPLE_HASH`], no metadata, rate limit or allowlist.
///
/// ```
/// use keyward_clock::Timestamp;
/// use keyward_store::conformance::{fresh_id, sample_record};
///
/// let mut record = sample_record(fresh_id(), "u_1", Timestamp::from_unix_seconds(1));
/// record.expires_at = Some(Timestamp::from_unix_seconds(2));
/// assert_eq!(record.state(Timestamp::from_unix_seconds(3)).as_str(), "expired");
/// ```
pub fn sample_record(id: KeyId, owner: &str, created_at: Timestamp) -> KeyRecord {
    KeyRecord {
        id,
        prefix: FORMAT.prefix().to_owned(),
        last4: "T3st".to_owned(),
        name: "sample key".to_owned(),
        owner: owner.to_owned(),
        tenant: None,
        capabilities: vec!["keys:read".to_owned()],
        created_at,
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
        disabled_at: None,
        replaced_by: None,
        hash: SAMPLE_HASH.to_owned(),
        metadata: BTreeMap::new(),
        rate_limit: None,
        ip_allowlist: Vec::new(),
    }
}

/// Runs every check, in the order listed in this module, and panics on the first
/// failure.
pub async fn run(store: Arc<dyn KeyStore>) {
    let store = &store;
    insert_then_get(store).await;
    insert_conflict(store).await;
    get_unknown_is_not_found(store).await;
    round_trips_every_field(store).await;
    list_by_owner_paginates(store).await;
    list_by_tenant(store).await;
    list_excludes_revoked_unless_asked(store).await;
    list_rejects_bad_page(store).await;
    revoke_is_idempotent(store).await;
    revoke_unknown_is_not_found(store).await;
    set_expiry_and_clear(store).await;
    disable_and_enable(store).await;
    update_hash(store).await;
    roll_is_atomic(store).await;
    roll_unknown_old_changes_nothing(store).await;
    roll_twice_is_already_rolled(store).await;
    touch_last_used_batches_and_never_goes_back(store).await;
    count_live_by_owner(store).await;
    insert_capped_stops_at_the_cap(store).await;
    concurrent_inserts_and_reads(store).await;
    concurrent_conflicting_inserts(store).await;
    concurrent_rolls_of_one_key(store).await;
    concurrent_capped_inserts(store).await;
}

// ----- helpers -------------------------------------------------------------------

/// 2026-01-01T00:00:00Z plus `ms` milliseconds: whole-millisecond test times.
fn at(ms: u64) -> Timestamp {
    Timestamp::from_unix_millis(1_767_225_600_000 + ms)
}

#[track_caller]
fn ok<T>(check: &str, what: &str, result: Result<T, StoreError>) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("conformance check `{check}`: {what} failed: {e} ({e:?})"),
    }
}

#[track_caller]
fn expect_err<T: Debug>(
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
fn not_found<T: Debug>(check: &str, what: &str, result: Result<T, StoreError>) {
    expect_err(check, what, result, "StoreError::NotFound", |e| {
        matches!(e, StoreError::NotFound)
    });
}

#[track_caller]
fn conflict<T: Debug>(check: &str, what: &str, result: Result<T, StoreError>) {
    expect_err(check, what, result, "StoreError::Conflict", |e| {
        matches!(e, StoreError::Conflict)
    });
}

#[track_caller]
fn invalid_request<T: Debug>(check: &str, what: &str, result: Result<T, StoreError>) {
    expect_err(check, what, result, "StoreError::InvalidRequest", |e| {
        matches!(e, StoreError::InvalidRequest(_))
    });
}

/// Compares two records field by field, the hash too (`KeyRecord`'s `Debug` hides it).
#[track_caller]
fn same(check: &str, what: &str, actual: &KeyRecord, expected: &KeyRecord) {
    assert!(
        actual.hash == expected.hash,
        "conformance check `{check}`: {what}: hash differs: got {:?}, expected {:?}",
        actual.hash,
        expected.hash
    );
    assert_eq!(actual, expected, "conformance check `{check}`: {what}");
}

#[track_caller]
fn same_ids(check: &str, what: &str, actual: &[KeyRecord], expected: &[KeyRecord]) {
    let actual: Vec<KeyId> = actual.iter().map(|r| r.id).collect();
    let expected: Vec<KeyId> = expected.iter().map(|r| r.id).collect();
    assert_eq!(actual, expected, "conformance check `{check}`: {what}");
}

async fn insert_all(check: &str, store: &Arc<dyn KeyStore>, records: &[KeyRecord]) {
    for r in records {
        ok(check, "insert", store.insert(r).await);
    }
}

/// Every record matching `filter`, page by page (`limit` per page).
async fn list_all(
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
fn in_list_order(mut records: Vec<KeyRecord>) -> Vec<KeyRecord> {
    records.sort_by_key(|r| (r.created_at, r.id));
    records
}

// ----- checks --------------------------------------------------------------------

/// `insert` then `get` returns the same record.
pub async fn insert_then_get(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "insert_then_get";
    let record = sample_record(fresh_id(), &fresh_name("owner"), at(0));
    ok(CHECK, "insert", store.insert(&record).await);
    let got = ok(CHECK, "get", store.get(&record.id).await);
    same(CHECK, "get after insert", &got, &record);
}

/// Inserting an existing id is [`StoreError::Conflict`] and leaves the first record.
pub async fn insert_conflict(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "insert_conflict";
    let first = sample_record(fresh_id(), &fresh_name("owner"), at(0));
    ok(CHECK, "first insert", store.insert(&first).await);
    let mut second = sample_record(first.id, &fresh_name("owner"), at(1));
    second.name = "second".to_owned();
    second.hash = "$2b$04$another".to_owned();
    conflict(
        CHECK,
        "insert of an existing id",
        store.insert(&second).await,
    );
    let got = ok(CHECK, "get", store.get(&first.id).await);
    same(CHECK, "record after a conflicting insert", &got, &first);
}

/// `get` of an id never inserted is [`StoreError::NotFound`].
pub async fn get_unknown_is_not_found(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "get_unknown_is_not_found";
    not_found(CHECK, "get of an unknown id", store.get(&fresh_id()).await);
}

/// Every field survives `insert`, `get` and `list` exactly: metadata (unicode, quotes,
/// empty values), tenant, rate limit (a whole-millisecond period), IPv4 and IPv6
/// allowlist entries, a unicode name, every timestamp at millisecond precision; and a
/// minimal record with every optional field empty.
pub async fn round_trips_every_field(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "round_trips_every_field";
    let owner = fresh_name("owner ✓");
    let tenant = Tenant::new(fresh_name("team"), "projekt-ß");
    let full = KeyRecord {
        id: fresh_id(),
        prefix: "kw_test_".to_owned(),
        last4: "Zz09".to_owned(),
        name: "Déploiement 🚀 CI — 生产 \"quoted\" 'single' \\ back".to_owned(),
        owner: owner.clone(),
        tenant: Some(tenant.clone()),
        capabilities: vec![
            "desktop:chat".to_owned(),
            "jobs:read".to_owned(),
            "keys:write".to_owned(),
        ],
        created_at: at(1_001),
        expires_at: Some(at(86_400_123)),
        last_used_at: Some(at(5_555)),
        revoked_at: Some(at(7_007)),
        disabled_at: Some(at(6_006)),
        replaced_by: Some(fresh_id()),
        hash: "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$6gB5aMtb4x3/9KcHzW8v2Yq1lPq3rS0tU4vW5xY6zA0"
            .to_owned(),
        metadata: BTreeMap::from([
            ("env".to_owned(), "production".to_owned()),
            ("empty".to_owned(), String::new()),
            ("ключ".to_owned(), "значение 🔑".to_owned()),
            ("json-ish".to_owned(), r#"{"a": [1, "b"]}"#.to_owned()),
        ]),
        rate_limit: Some(RateLimitOverride {
            limit: 120,
            period: Duration::from_millis(90_500),
        }),
        ip_allowlist: vec![
            "10.0.0.0/8".parse().expect("valid network"),
            "203.0.113.7/32".parse().expect("valid network"),
            "2001:db8::/32".parse().expect("valid network"),
            "::1/128".parse().expect("valid network"),
        ],
    };
    let mut minimal = sample_record(fresh_id(), &owner, at(2_002));
    minimal.capabilities.clear();
    minimal.name = String::new();

    insert_all(CHECK, store, &[full.clone(), minimal.clone()]).await;
    for expected in [&full, &minimal] {
        let got = ok(CHECK, "get", store.get(&expected.id).await);
        same(CHECK, "get after insert", &got, expected);
    }
    let listed = list_all(CHECK, store, &ListFilter::owner(owner), 10).await;
    assert_eq!(
        listed.len(),
        2,
        "conformance check `{CHECK}`: list by owner"
    );
    same(CHECK, "full record as listed", &listed[0], &full);
    same(CHECK, "minimal record as listed", &listed[1], &minimal);
    let listed = list_all(CHECK, store, &ListFilter::tenant(tenant), 10).await;
    assert_eq!(
        listed.len(),
        1,
        "conformance check `{CHECK}`: list by tenant"
    );
    same(CHECK, "full record listed by tenant", &listed[0], &full);
}

/// Listing by owner pages in `(created_at, id)` order (ties broken by id), with
/// `next` set exactly when more records follow, and cursors that stay valid while keys
/// are added; other owners' keys never appear.
pub async fn list_by_owner_paginates(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "list_by_owner_paginates";
    let owner = fresh_name("owner");
    let other = fresh_name("owner");
    // Inserted out of order; three share a created_at.
    let mine: Vec<KeyRecord> = [50, 10, 30, 30, 30, 90, 20]
        .into_iter()
        .map(|ms| sample_record(fresh_id(), &owner, at(ms)))
        .collect();
    let theirs: Vec<KeyRecord> = [15, 30, 95]
        .into_iter()
        .map(|ms| sample_record(fresh_id(), &other, at(ms)))
        .collect();
    insert_all(CHECK, store, &theirs[..2]).await;
    insert_all(CHECK, store, &mine).await;
    let expected = in_list_order(mine);
    let filter = ListFilter::owner(&owner);

    // One page holding exactly everything: no next page.
    let page = ok(
        CHECK,
        "list",
        store.list(&filter, PageRequest::first(7)).await,
    );
    same_ids(CHECK, "page of exactly 7", &page.records, &expected);
    assert_eq!(
        page.next, None,
        "conformance check `{CHECK}`: next after a full last page"
    );
    for (got, want) in page.records.iter().zip(&expected) {
        same(CHECK, "listed record", got, want);
    }

    // Pages of 3, with a key minted (and another owner's) after the first page.
    let page1 = ok(
        CHECK,
        "list",
        store.list(&filter, PageRequest::first(3)).await,
    );
    same_ids(CHECK, "first page of 3", &page1.records, &expected[..3]);
    assert_eq!(
        page1.next,
        Some(expected[2].id),
        "conformance check `{CHECK}`: next is the last record's id"
    );
    let late = sample_record(fresh_id(), &owner, at(100));
    insert_all(CHECK, store, &[late.clone(), theirs[2].clone()]).await;
    let page2 = ok(
        CHECK,
        "list",
        store
            .list(
                &filter,
                PageRequest {
                    limit: 3,
                    after: page1.next,
                },
            )
            .await,
    );
    same_ids(CHECK, "second page of 3", &page2.records, &expected[3..6]);
    assert_eq!(
        page2.next,
        Some(expected[5].id),
        "conformance check `{CHECK}`: second next"
    );
    let page3 = ok(
        CHECK,
        "list",
        store
            .list(
                &filter,
                PageRequest {
                    limit: 3,
                    after: page2.next,
                },
            )
            .await,
    );
    let mut tail = expected[6..].to_vec();
    tail.push(late);
    same_ids(CHECK, "last page", &page3.records, &tail);
    assert_eq!(
        page3.next, None,
        "conformance check `{CHECK}`: next on the last page"
    );

    // Page size 1 walks everything; the largest page is allowed.
    let mut everything = expected.clone();
    everything.extend(tail.into_iter().skip(1));
    same_ids(
        CHECK,
        "pages of 1",
        &list_all(CHECK, store, &filter, 1).await,
        &everything,
    );
    same_ids(
        CHECK,
        "one page of MAX_LIMIT",
        &list_all(CHECK, store, &filter, PageRequest::MAX_LIMIT).await,
        &everything,
    );
    same_ids(
        CHECK,
        "the other owner",
        &list_all(CHECK, store, &ListFilter::owner(other), 2).await,
        &in_list_order(theirs),
    );
}

/// Listing by tenant matches team and project exactly, across owners, and combines
/// with an owner filter.
pub async fn list_by_tenant(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "list_by_tenant";
    let team = fresh_name("team");
    let alpha = Tenant::new(&team, "alpha");
    let beta = Tenant::new(&team, "beta");
    let other_team = Tenant::new(fresh_name("team"), "alpha");
    let (o1, o2) = (fresh_name("owner"), fresh_name("owner"));
    let with = |owner: &str, tenant: Option<&Tenant>, ms| {
        let mut r = sample_record(fresh_id(), owner, at(ms));
        r.tenant = tenant.cloned();
        r
    };
    let records = vec![
        with(&o1, Some(&alpha), 3),
        with(&o2, Some(&alpha), 1),
        with(&o1, Some(&beta), 2),
        with(&o1, None, 4),
        with(&o1, Some(&alpha), 5),
        with(&o2, Some(&other_team), 6),
    ];
    insert_all(CHECK, store, &records).await;
    let pick = |idx: &[usize]| in_list_order(idx.iter().map(|&i| records[i].clone()).collect());

    let got = list_all(CHECK, store, &ListFilter::tenant(alpha.clone()), 2).await;
    same_ids(CHECK, "tenant alpha", &got, &pick(&[0, 1, 4]));
    for r in &got {
        assert_eq!(
            r.tenant.as_ref(),
            Some(&alpha),
            "conformance check `{CHECK}`: tenant"
        );
    }
    let got = list_all(CHECK, store, &ListFilter::tenant(beta), 2).await;
    same_ids(CHECK, "tenant beta", &got, &pick(&[2]));
    let got = list_all(CHECK, store, &ListFilter::tenant(other_team), 2).await;
    same_ids(CHECK, "same project, other team", &got, &pick(&[5]));
    let both = ListFilter {
        owner: Some(o1.clone()),
        tenant: Some(alpha),
        include_revoked: true,
    };
    same_ids(
        CHECK,
        "owner and tenant",
        &list_all(CHECK, store, &both, 2).await,
        &pick(&[0, 4]),
    );
    same_ids(
        CHECK,
        "owner across tenants",
        &list_all(CHECK, store, &ListFilter::owner(o1), 2).await,
        &pick(&[0, 2, 3, 4]),
    );
}

/// `include_revoked: false` leaves out revoked keys (but not disabled or expired
/// ones), also across pages and with a revoked key as the cursor; `true` lists them
/// with `revoked_at` set.
pub async fn list_excludes_revoked_unless_asked(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "list_excludes_revoked_unless_asked";
    let owner = fresh_name("owner");
    let mut records: Vec<KeyRecord> = (0..5)
        .map(|ms| sample_record(fresh_id(), &owner, at(ms)))
        .collect();
    records[3].disabled_at = Some(at(10));
    records[4].expires_at = Some(at(11));
    insert_all(CHECK, store, &records).await;
    for i in [1, 2] {
        let revoked = ok(CHECK, "revoke", store.revoke(&records[i].id, at(20)).await);
        records[i] = revoked;
    }

    let active_only = ListFilter {
        owner: Some(owner.clone()),
        tenant: None,
        include_revoked: false,
    };
    let expected = [records[0].clone(), records[3].clone(), records[4].clone()];
    same_ids(
        CHECK,
        "without revoked",
        &list_all(CHECK, store, &active_only, 10).await,
        &expected,
    );
    same_ids(
        CHECK,
        "without revoked, pages of 1",
        &list_all(CHECK, store, &active_only, 1).await,
        &expected,
    );
    // A cursor may name a key the filter leaves out (it was revoked between pages).
    let page = ok(
        CHECK,
        "list after a revoked cursor",
        store
            .list(
                &active_only,
                PageRequest {
                    limit: 10,
                    after: Some(records[1].id),
                },
            )
            .await,
    );
    same_ids(
        CHECK,
        "after a revoked cursor",
        &page.records,
        &expected[1..],
    );

    let all = list_all(CHECK, store, &ListFilter::owner(owner), 10).await;
    same_ids(CHECK, "with revoked", &all, &records);
    for (got, want) in all.iter().zip(&records) {
        same(CHECK, "listed with revoked", got, want);
    }
    assert_eq!(
        all[1].revoked_at,
        Some(at(20)),
        "conformance check `{CHECK}`: revoked_at"
    );
}

/// Page limits of 0 and above [`PageRequest::MAX_LIMIT`] and a cursor naming no key
/// are [`StoreError::InvalidRequest`]; `MAX_LIMIT` itself is served.
pub async fn list_rejects_bad_page(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "list_rejects_bad_page";
    let filter = ListFilter::owner(fresh_name("owner"));
    for limit in [0, PageRequest::MAX_LIMIT + 1, u32::MAX] {
        invalid_request(
            CHECK,
            &format!("list with limit {limit}"),
            store.list(&filter, PageRequest::first(limit)).await,
        );
    }
    let page = ok(
        CHECK,
        "list with MAX_LIMIT",
        store
            .list(&filter, PageRequest::first(PageRequest::MAX_LIMIT))
            .await,
    );
    assert!(
        page.records.is_empty() && page.next.is_none(),
        "conformance check `{CHECK}`: a fresh owner has no keys"
    );
    invalid_request(
        CHECK,
        "list after a cursor naming no key",
        store
            .list(
                &filter,
                PageRequest {
                    limit: 10,
                    after: Some(fresh_id()),
                },
            )
            .await,
    );
}

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
        store.roll(&old.id, at(3_600_000), &replacement).await,
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
        store.roll(&old2.id, at(99), &clash).await,
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
        store.roll(&old2.id, at(99), &onto_itself).await,
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
        store.roll(&unknown, at(5), &replacement).await,
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
        store.roll(&old.id, at(500), &first).await,
    );
    let second = sample_record(fresh_id(), &owner, at(20));
    expect_err(
        CHECK,
        "second roll",
        store.roll(&old.id, at(900), &second).await,
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
        store.roll(&first.id, at(700), &third).await,
    );
}

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
        store.roll(&in_grace.id, at(2_000), &key(10)).await,
    );
    ok(
        CHECK,
        "roll with a grace that has ended",
        store.roll(&past_grace.id, at(999), &key(11)).await,
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
                let result = store.roll(&old.id, at(500), &replacement).await;
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

/// Awaits every task; a task's panic is re-raised as is.
async fn join_all<T>(check: &str, tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_hash_is_a_well_formed_bcrypt_string() {
        let parts: bcrypt::HashParts = SAMPLE_HASH.parse().expect("well-formed");
        assert_eq!(parts.get_cost(), 4);
        assert_eq!(parts.to_string(), SAMPLE_HASH);
        assert!(bcrypt::verify("not a keyward secret", SAMPLE_HASH).unwrap());
    }

    #[test]
    fn fresh_values_differ() {
        assert_ne!(fresh_id(), fresh_id());
        assert_ne!(fresh_name("o"), fresh_name("o"));
        assert!(fresh_name("team").starts_with("team-"));
    }
}
