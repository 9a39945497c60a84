//! Single records: insert, get, conflicts and exact round trips.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use keyward_store::{KeyRecord, KeyStore, ListFilter, RateLimitOverride, Tenant};

use super::check::{at, conflict, insert_all, list_all, not_found, ok, same};
use super::{fresh_id, fresh_name, sample_record};

/// `insert` then `get` returns the same record.
pub async fn insert_then_get(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "insert_then_get";
    let record = sample_record(fresh_id(), &fresh_name("owner"), at(0));
    ok(CHECK, "insert", store.insert(&record).await);
    let got = ok(CHECK, "get", store.get(&record.id).await);
    same(CHECK, "get after insert", &got, &record);
}

/// Inserting an existing id is [`StoreError::Conflict`] and leaves the first record.
///
/// [`StoreError::Conflict`]: keyward_store::StoreError::Conflict
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
///
/// [`StoreError::NotFound`]: keyward_store::StoreError::NotFound
pub async fn get_unknown_is_not_found(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "get_unknown_is_not_found";
    not_found(CHECK, "get of an unknown id", store.get(&fresh_id()).await);
}

/// Every field survives `insert`, `get` and `list` exactly: metadata (unicode, quotes,
/// empty values), tenant, rate limit (a whole-millisecond period), IPv4 and IPv6
/// allowlist entries, a unicode name, every timestamp at millisecond precision, the
/// honeytoken flag and the recorded usage; and a
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
        honeytoken: true,
        used_capabilities: vec!["jobs:read".to_owned(), "keys:write".to_owned()],
        usage_since: Some(at(1_001)),
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
