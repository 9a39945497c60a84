//! The conformance suite every [`KeyStore`] passes, for keyward's stores and for
//! authors of others.
//!
//! A store crate calls [`run`] from one of its own tests, with a store that is reachable
//! and (ideally) empty; each check panics with a message naming itself on the first
//! behaviour that differs from the contract. The checks are also public one by one, so
//! a store under development can run a subset, or report each as its own test. They
//! are grouped by area: single records, listings, a key's lifecycle, recorded usage,
//! rolls, permanent deletes, an owner's live keys, concurrent callers, and the audit
//! log.
//!
//! ```
//! use std::sync::Arc;
//! use keyward_store::MemoryStore;
//! use keyward_testing::store_conformance;
//!
//! // In a store crate: `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]`.
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! store_conformance::run(Arc::new(MemoryStore::new())).await;
//! # });
//! ```
//!
//! # What the suite assumes
//!
//! - **Not an empty store.** Several test binaries may share one database, and [`run`]
//!   may run twice against the same store. Every check mints fresh random key ids and
//!   lists only by a fresh random owner or tenant, so leftovers never interfere. The
//!   audit checks list by fresh key ids; the pruning check removes entries older than
//!   2001-09-09 from the whole log, so a store shared with real data must not run it.
//! - **An audit log.** The audit checks run last: a store without one (the trait's
//!   defaults, [`StoreError::Unsupported`](keyward_store::StoreError::Unsupported))
//!   passes every other check and fails those.
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
use std::sync::{Arc, LazyLock};

use keyward_clock::Timestamp;
use keyward_format::{KeyFormat, KeyId};
use keyward_store::{KeyRecord, KeyStore};

mod audit;
mod check;
mod concurrency;
mod deletes;
mod lifecycle;
mod listing;
mod live_keys;
mod records;
mod rolls;
mod usage;

pub use audit::{
    apply_changes_and_appends_one_entry, apply_that_fails_appends_nothing,
    apply_without_an_entry_appends_nothing, audit_append_assigns_increasing_seq,
    audit_list_filters_and_pages, audit_list_rejects_bad_limit,
    audit_prune_removes_only_older_entries, audit_round_trips_every_field,
};
pub use concurrency::{
    concurrent_capped_inserts, concurrent_conflicting_inserts, concurrent_inserts_and_reads,
    concurrent_rolls_of_one_key,
};
pub use deletes::{
    delete_leaves_the_other_key_of_a_roll, delete_removes_the_record, delete_unknown_is_not_found,
};
pub use lifecycle::{
    disable_and_enable, revoke_is_idempotent, revoke_unknown_is_not_found, set_expiry_and_clear,
    touch_last_used_batches_and_never_goes_back, update_hash,
};
pub use listing::{
    list_by_owner_paginates, list_by_tenant, list_excludes_revoked_unless_asked,
    list_rejects_bad_page,
};
pub use live_keys::{count_live_by_owner, insert_capped_stops_at_the_cap};
pub use records::{
    get_unknown_is_not_found, insert_conflict, insert_then_get, round_trips_every_field,
};
pub use rolls::{
    roll_is_atomic, roll_of_a_key_no_longer_active_is_refused, roll_twice_is_already_rolled,
    roll_unknown_old_changes_nothing,
};
pub use usage::{record_usage_unions_and_never_goes_back, touch_last_used_keeps_recorded_usage};

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
/// [`SAMPLE_HASH`], no metadata, rate limit or allowlist; not a honeytoken, no usage
/// recorded.
///
/// ```
/// use keyward_clock::Timestamp;
/// use keyward_testing::store_conformance::{fresh_id, sample_record};
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
        honeytoken: false,
        used_capabilities: Vec::new(),
        usage_since: None,
    }
}

/// Runs every check, area by area, and panics on the first failure.
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
    roll_of_a_key_no_longer_active_is_refused(store).await;
    delete_removes_the_record(store).await;
    delete_unknown_is_not_found(store).await;
    delete_leaves_the_other_key_of_a_roll(store).await;
    touch_last_used_batches_and_never_goes_back(store).await;
    record_usage_unions_and_never_goes_back(store).await;
    touch_last_used_keeps_recorded_usage(store).await;
    count_live_by_owner(store).await;
    insert_capped_stops_at_the_cap(store).await;
    concurrent_inserts_and_reads(store).await;
    concurrent_conflicting_inserts(store).await;
    concurrent_rolls_of_one_key(store).await;
    concurrent_capped_inserts(store).await;
    audit_append_assigns_increasing_seq(store).await;
    audit_list_filters_and_pages(store).await;
    audit_list_rejects_bad_limit(store).await;
    audit_prune_removes_only_older_entries(store).await;
    audit_round_trips_every_field(store).await;
    apply_changes_and_appends_one_entry(store).await;
    apply_that_fails_appends_nothing(store).await;
    apply_without_an_entry_appends_nothing(store).await;
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
