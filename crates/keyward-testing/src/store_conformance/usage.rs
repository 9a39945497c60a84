//! Recorded usage: `record_usage` and the fields it keeps.

use std::sync::Arc;

use keyward_format::KeyId;
use keyward_store::{KeyRecord, KeyStore, UsageUpdate};

use super::check::{at, insert_all, not_found, ok};
use super::{fresh_id, fresh_name, sample_record};

fn update(id: KeyId, ms: u64, used: &[&str]) -> UsageUpdate {
    UsageUpdate {
        id,
        last_used_at: at(ms),
        used: used.iter().map(|&c| c.to_owned()).collect(),
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|&c| c.to_owned()).collect()
}

/// `record_usage` merges the names used into `used_capabilities` (sorted by bytes,
/// deduplicated, a union that never shrinks), moves `last_used_at` only forwards, sets
/// `usage_since` once (the first recorded use, unless the record had one), skips
/// unknown ids, accepts an empty batch, and leaves every other field alone.
pub async fn record_usage_unions_and_never_goes_back(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "record_usage_unions_and_never_goes_back";
    let owner = fresh_name("owner");
    // a: no usage recorded yet (a key older than usage tracking).
    let a = sample_record(fresh_id(), &owner, at(0));
    // b: minted with tracking, already used once, last used later than the batch.
    let mut b = sample_record(fresh_id(), &owner, at(1));
    b.usage_since = Some(at(1));
    b.used_capabilities = names(&["keys:read"]);
    b.last_used_at = Some(at(800));
    insert_all(CHECK, store, &[a.clone(), b.clone()]).await;
    let unknown = fresh_id();
    let get = |id: KeyId| async move { ok(CHECK, "get", store.get(&id).await) };

    let batch = [
        update(a.id, 300, &["jobs:write", "desktop:chat"]),
        update(unknown, 400, &["keys:read"]),
        update(b.id, 400, &["jobs:read", "keys:read"]),
        update(a.id, 200, &["jobs:write", "Jobs:read"]),
    ];
    ok(CHECK, "record_usage", store.record_usage(&batch).await);
    let got_a = get(a.id).await;
    assert_eq!(
        got_a.used_capabilities,
        names(&["Jobs:read", "desktop:chat", "jobs:write"]),
        "conformance check `{CHECK}`: a's names, sorted by bytes and deduplicated"
    );
    assert_eq!(
        got_a.last_used_at,
        Some(at(300)),
        "conformance check `{CHECK}`: a's latest duplicate wins"
    );
    assert_eq!(
        got_a.usage_since,
        Some(at(300)),
        "conformance check `{CHECK}`: a's usage_since is set by its first recorded use"
    );
    let got_b = get(b.id).await;
    assert_eq!(
        got_b.used_capabilities,
        names(&["jobs:read", "keys:read"]),
        "conformance check `{CHECK}`: b's names, merged with what it had"
    );
    assert_eq!(
        got_b.last_used_at,
        Some(at(800)),
        "conformance check `{CHECK}`: an older use moved b's last_used_at back"
    );
    assert_eq!(
        got_b.usage_since,
        Some(at(1)),
        "conformance check `{CHECK}`: b's usage_since changed although it was set"
    );
    not_found(
        CHECK,
        "get of an unknown id whose usage was recorded",
        store.get(&unknown).await,
    );

    // A later batch: the union only grows, usage_since stays, last_used_at moves on.
    ok(
        CHECK,
        "record_usage",
        store
            .record_usage(&[update(a.id, 900, &["keys:read"]), update(b.id, 100, &[])])
            .await,
    );
    let later_a = get(a.id).await;
    assert_eq!(
        later_a.used_capabilities,
        names(&["Jobs:read", "desktop:chat", "jobs:write", "keys:read"]),
        "conformance check `{CHECK}`: a's union after a second batch"
    );
    assert_eq!(
        (later_a.last_used_at, later_a.usage_since),
        (Some(at(900)), Some(at(300))),
        "conformance check `{CHECK}`: a's last_used_at moves on, usage_since stays"
    );
    let later_b = get(b.id).await;
    assert_eq!(
        later_b.used_capabilities,
        names(&["jobs:read", "keys:read"]),
        "conformance check `{CHECK}`: an update naming nothing shrank b's names"
    );
    assert_eq!(
        later_b.last_used_at,
        Some(at(800)),
        "conformance check `{CHECK}`: an older use moved b's last_used_at back"
    );
    ok(CHECK, "empty record_usage", store.record_usage(&[]).await);

    // Nothing else about the keys changed.
    let untouched = |mut got: KeyRecord, expected: &KeyRecord| {
        got.used_capabilities
            .clone_from(&expected.used_capabilities);
        got.last_used_at = expected.last_used_at;
        got.usage_since = expected.usage_since;
        assert_eq!(
            &got, expected,
            "conformance check `{CHECK}`: record_usage changed another field"
        );
    };
    untouched(later_a, &a);
    untouched(later_b, &b);
}

/// A key with no use recorded by `record_usage` keeps its fields; a honeytoken record
/// keeps its flag through `record_usage`, and `touch_last_used` alone leaves
/// `used_capabilities` and `usage_since` as they were.
pub async fn touch_last_used_keeps_recorded_usage(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "touch_last_used_keeps_recorded_usage";
    let owner = fresh_name("owner");
    let mut decoy = sample_record(fresh_id(), &owner, at(0));
    decoy.honeytoken = true;
    let plain = sample_record(fresh_id(), &owner, at(1));
    insert_all(CHECK, store, &[decoy.clone(), plain.clone()]).await;
    ok(
        CHECK,
        "record_usage",
        store
            .record_usage(&[update(decoy.id, 50, &["keys:read"])])
            .await,
    );
    ok(
        CHECK,
        "touch",
        store
            .touch_last_used(&[(decoy.id, at(60)), (plain.id, at(70))])
            .await,
    );
    let got = ok(CHECK, "get", store.get(&decoy.id).await);
    assert!(
        got.honeytoken,
        "conformance check `{CHECK}`: the honeytoken flag was lost"
    );
    assert_eq!(
        (got.used_capabilities, got.usage_since, got.last_used_at),
        (names(&["keys:read"]), Some(at(50)), Some(at(60))),
        "conformance check `{CHECK}`: touch_last_used after record_usage"
    );
    let got = ok(CHECK, "get", store.get(&plain.id).await);
    assert_eq!(
        (got.used_capabilities, got.usage_since, got.last_used_at),
        (Vec::<String>::new(), None, Some(at(70))),
        "conformance check `{CHECK}`: touch_last_used recorded usage"
    );
}
