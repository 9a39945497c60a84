use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use keyward_clock::Timestamp;
use keyward_format::KeyId;

use crate::audit::{AuditEntry, AuditQuery};
use crate::error::StoreError;
use crate::record::{KeyRecord, Tenant};

/// One change to the key records, as [`KeyStore::apply`] takes it with its audit entry.
#[derive(Debug, Clone, Copy)]
pub enum KeyChange<'a> {
    /// [`KeyStore::insert_capped`].
    Insert {
        /// The new record.
        record: &'a KeyRecord,
        /// The owner's cap of live keys.
        max_live: u64,
        /// The time the cap is counted at.
        now: Timestamp,
    },
    /// [`KeyStore::revoke`].
    Revoke {
        /// The key.
        id: &'a KeyId,
        /// When.
        at: Timestamp,
    },
    /// [`KeyStore::delete`].
    Delete {
        /// The key.
        id: &'a KeyId,
    },
    /// [`KeyStore::set_disabled`].
    SetDisabled {
        /// The key.
        id: &'a KeyId,
        /// `Some(at)` disables, `None` enables.
        disabled_at: Option<Timestamp>,
    },
    /// [`KeyStore::set_expiry`].
    SetExpiry {
        /// The key.
        id: &'a KeyId,
        /// The new expiry, or none.
        expires_at: Option<Timestamp>,
    },
    /// [`KeyStore::roll`].
    Roll {
        /// The key rolled.
        old: &'a KeyId,
        /// The old key's new expiry (the grace's end).
        old_expires_at: Timestamp,
        /// The replacement record.
        replacement: &'a KeyRecord,
        /// The roll's time.
        now: Timestamp,
    },
}

/// What one key was seen doing since the last flush, for [`KeyStore::record_usage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageUpdate {
    /// The key.
    pub id: KeyId,
    /// When it last authenticated.
    pub last_used_at: Timestamp,
    /// The capability names it used (any order, duplicates allowed).
    pub used: Vec<String>,
}

impl UsageUpdate {
    /// Merges a batch by key: the latest `last_used_at` and the sorted, deduplicated
    /// union of `used` for each id, ordered by id. Stores that write one row per key
    /// call this first.
    pub fn merged(updates: &[UsageUpdate]) -> Vec<UsageUpdate> {
        let mut by_id: BTreeMap<KeyId, (Timestamp, BTreeSet<&str>)> = BTreeMap::new();
        for u in updates {
            let (at, used) = by_id
                .entry(u.id)
                .or_insert_with(|| (u.last_used_at, BTreeSet::new()));
            *at = (*at).max(u.last_used_at);
            used.extend(u.used.iter().map(String::as_str));
        }
        by_id
            .into_iter()
            .map(|(id, (last_used_at, used))| UsageUpdate {
                id,
                last_used_at,
                used: used.into_iter().map(str::to_owned).collect(),
            })
            .collect()
    }

    /// `stored` with this update's `used` merged in: sorted and deduplicated.
    pub fn union_into(&self, stored: &[String]) -> Vec<String> {
        let union: BTreeSet<&str> = stored
            .iter()
            .chain(&self.used)
            .map(String::as_str)
            .collect();
        union.into_iter().map(str::to_owned).collect()
    }
}

/// Which keys a listing returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Only keys of this owner.
    pub owner: Option<String>,
    /// Only keys bound to this tenant.
    pub tenant: Option<Tenant>,
    /// Include revoked keys (a listing shows them with `revoked_at` set).
    pub include_revoked: bool,
}

impl ListFilter {
    /// Every key, revoked ones included.
    pub fn all() -> Self {
        ListFilter {
            include_revoked: true,
            ..ListFilter::default()
        }
    }

    /// The keys of one owner, revoked ones included.
    pub fn owner(owner: impl Into<String>) -> Self {
        ListFilter {
            owner: Some(owner.into()),
            include_revoked: true,
            ..ListFilter::default()
        }
    }

    /// The keys bound to one tenant, revoked ones included.
    pub fn tenant(tenant: Tenant) -> Self {
        ListFilter {
            tenant: Some(tenant),
            include_revoked: true,
            ..ListFilter::default()
        }
    }

    /// Whether `record` passes this filter.
    pub fn matches(&self, record: &KeyRecord) -> bool {
        self.owner.as_ref().is_none_or(|o| *o == record.owner)
            && self
                .tenant
                .as_ref()
                .is_none_or(|t| record.tenant.as_ref() == Some(t))
            && (self.include_revoked || record.revoked_at.is_none())
    }
}

/// One page of a listing: at most `limit` records after the cursor `after`.
///
/// Listings are ordered by `(created_at, id)`, oldest first, so a cursor stays valid
/// while keys are minted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// At most this many records (1 ..= [`PageRequest::MAX_LIMIT`]).
    pub limit: u32,
    /// Start after this key (the previous page's `next`).
    pub after: Option<KeyId>,
}

impl PageRequest {
    /// The largest page a store must serve.
    pub const MAX_LIMIT: u32 = 1000;

    /// The first page of `limit` records.
    pub fn first(limit: u32) -> Self {
        PageRequest { limit, after: None }
    }

    /// Checks the limit; stores call this before querying.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.limit == 0 || self.limit > Self::MAX_LIMIT {
            return Err(StoreError::InvalidRequest(format!(
                "page limit must be between 1 and {}, got {}",
                Self::MAX_LIMIT,
                self.limit
            )));
        }
        Ok(())
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest::first(100)
    }
}

/// A page of records and the cursor of the next page, if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The records, ordered by `(created_at, id)`.
    pub records: Vec<KeyRecord>,
    /// Pass as `after` to get the next page; `None` on the last page.
    pub next: Option<KeyId>,
}

impl Page {
    /// A page of `records`, whose cursor is its last record when `more` records follow.
    pub fn new(records: Vec<KeyRecord>, more: bool) -> Self {
        let next = if more {
            records.last().map(|r| r.id)
        } else {
            None
        };
        Page { records, next }
    }
}

/// How many of one owner's keys are live (see [`KeyRecord::is_live`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveKeys {
    /// Live keys: not revoked, not expired. Disabled keys and rolled keys still in
    /// their grace count.
    pub live: u64,
    /// Of those, the rolled keys still in their grace (`replaced_by` set).
    pub in_grace: u64,
}

/// Where key records live. Object safe: services hold an `Arc<dyn KeyStore>`.
///
/// Every implementation passes the conformance suite (`keyward_testing::store_conformance`).
/// Methods that address one key answer [`StoreError::NotFound`] for an unknown id.
#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// Stores a new record; [`StoreError::Conflict`] when the id exists.
    async fn insert(&self, record: &KeyRecord) -> Result<(), StoreError>;

    /// Point lookup by key id: the request path's only store access.
    async fn get(&self, id: &KeyId) -> Result<KeyRecord, StoreError>;

    /// One page of the records matching `filter`. A cursor (`page.after`) naming no key
    /// is [`StoreError::InvalidRequest`]; one naming a key the filter leaves out is fine.
    async fn list(&self, filter: &ListFilter, page: PageRequest) -> Result<Page, StoreError>;

    /// Revokes a key at `at` and returns the record. Revoking a revoked key keeps its
    /// first `revoked_at`.
    async fn revoke(&self, id: &KeyId, at: Timestamp) -> Result<KeyRecord, StoreError>;

    /// Removes a key's record for good and returns it. Records naming it (a key it
    /// replaced, through `replaced_by`) are left as they are; a listing cursor naming
    /// it is then [`StoreError::InvalidRequest`], like any cursor naming no key.
    async fn delete(&self, id: &KeyId) -> Result<KeyRecord, StoreError>;

    /// Sets or clears a key's expiry and returns the record.
    async fn set_expiry(
        &self,
        id: &KeyId,
        expires_at: Option<Timestamp>,
    ) -> Result<KeyRecord, StoreError>;

    /// Disables a key (`Some(at)`) or enables it again (`None`); returns the record.
    async fn set_disabled(
        &self,
        id: &KeyId,
        disabled_at: Option<Timestamp>,
    ) -> Result<KeyRecord, StoreError>;

    /// Replaces a key's hash (re-hashing with current parameters after a successful
    /// verification).
    async fn update_hash(&self, id: &KeyId, hash: &str) -> Result<(), StoreError>;

    /// Inserts `replacement` and sets the old key's expiry and `replaced_by` (the
    /// replacement's id) in one step (a key roll); returns the old record as updated.
    /// [`StoreError::AlreadyRolled`] when the old key already names a replacement, so
    /// of two concurrent rolls of one key exactly one wins.
    /// [`StoreError::NotActive`] when the old key is not active at `now` (revoked,
    /// disabled or expired), checked in the same step, so a key revoked while the
    /// caller hashed the replacement never gets one. Nothing changes when any part
    /// fails.
    async fn roll(
        &self,
        old: &KeyId,
        old_expires_at: Timestamp,
        replacement: &KeyRecord,
        now: Timestamp,
    ) -> Result<KeyRecord, StoreError>;

    /// Records `last_used_at` for many keys at once. Unknown ids are skipped, and a
    /// timestamp older than the stored one never moves it backwards.
    async fn touch_last_used(&self, updates: &[(KeyId, Timestamp)]) -> Result<(), StoreError>;

    /// Records many keys' use at once: `last_used_at` as
    /// [`touch_last_used`](Self::touch_last_used) does (unknown ids skipped, never moved
    /// backwards), the names in `used` merged into `used_capabilities` (sorted,
    /// deduplicated), and `usage_since` set to the update's time where it was `None`. A
    /// batch naming a key twice counts as one update ([`UsageUpdate::merged`]).
    ///
    /// The default only touches `last_used_at`, so a store written before usage was
    /// recorded keeps working; the stores of this workspace write each batch in one
    /// statement or transaction.
    async fn record_usage(&self, updates: &[UsageUpdate]) -> Result<(), StoreError> {
        let touches: Vec<(KeyId, Timestamp)> =
            updates.iter().map(|u| (u.id, u.last_used_at)).collect();
        self.touch_last_used(&touches).await
    }

    /// How many of `owner`'s keys are live at `now`, and how many of those are rolled
    /// keys in their grace.
    ///
    /// The default pages through [`list`](Self::list); the stores of this workspace
    /// answer with one query.
    async fn count_live(&self, owner: &str, now: Timestamp) -> Result<LiveKeys, StoreError> {
        let filter = ListFilter {
            owner: Some(owner.to_owned()),
            tenant: None,
            include_revoked: false,
        };
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        let mut count = LiveKeys::default();
        loop {
            let listed = self.list(&filter, page).await?;
            for record in listed.records.iter().filter(|r| r.is_live(now)) {
                count.live += 1;
                count.in_grace += u64::from(record.replaced_by.is_some());
            }
            match listed.next {
                Some(after) => page.after = Some(after),
                None => return Ok(count),
            }
        }
    }

    /// Inserts `record` unless its owner already has `max_live` or more live keys at
    /// `now` ([`count_live`](Self::count_live)`.live`): then
    /// [`StoreError::TooManyKeys`] and nothing changes. [`StoreError::Conflict`] when
    /// the id exists, as for [`insert`](Self::insert).
    ///
    /// The stores of this workspace count and insert in one step, so concurrent
    /// inserts, from any number of processes, never take an owner past the cap. The
    /// default counts, then inserts: a store with concurrent writers overrides it.
    async fn insert_capped(
        &self,
        record: &KeyRecord,
        max_live: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if self.count_live(&record.owner, now).await?.live >= max_live {
            return Err(StoreError::TooManyKeys { max: max_live });
        }
        self.insert(record).await
    }

    /// Applies `change` and, when it succeeds, appends `audit` (its `seq` is assigned
    /// by the store). Returns the record as changed: the inserted one for an insert,
    /// the old key's for a roll, the removed one for a delete. Errors are those of the
    /// method the change names; when the change fails nothing is appended.
    ///
    /// The stores of this workspace change and append in one transaction. The default
    /// runs the change, then [`append_audit`](Self::append_audit); an append that
    /// fails after the change is logged, not returned, because the change happened.
    async fn apply(
        &self,
        change: KeyChange<'_>,
        audit: Option<&AuditEntry>,
    ) -> Result<KeyRecord, StoreError> {
        let record = match change {
            KeyChange::Insert {
                record,
                max_live,
                now,
            } => {
                self.insert_capped(record, max_live, now).await?;
                record.clone()
            }
            KeyChange::Revoke { id, at } => self.revoke(id, at).await?,
            KeyChange::Delete { id } => self.delete(id).await?,
            KeyChange::SetDisabled { id, disabled_at } => {
                self.set_disabled(id, disabled_at).await?
            }
            KeyChange::SetExpiry { id, expires_at } => self.set_expiry(id, expires_at).await?,
            KeyChange::Roll {
                old,
                old_expires_at,
                replacement,
                now,
            } => self.roll(old, old_expires_at, replacement, now).await?,
        };
        if let Some(entry) = audit
            && let Err(e) = self.append_audit(entry).await
        {
            tracing::warn!(
                target: "keyward",
                key_id = %entry.key,
                action = %entry.action,
                error = %e,
                "audit entry not appended after the change"
            );
        }
        Ok(record)
    }

    /// Appends one entry to the audit log, assigning its sequence number.
    ///
    /// The default keeps no log: [`StoreError::Unsupported`]. Every store of this
    /// workspace keeps one.
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let _ = entry;
        Err(StoreError::Unsupported("audit log"))
    }

    /// The audit entries matching `query`, oldest first (by sequence number).
    ///
    /// The default keeps no log: [`StoreError::Unsupported`].
    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let _ = query;
        Err(StoreError::Unsupported("audit log"))
    }

    /// Removes the audit entries older than `before`; returns how many went.
    ///
    /// The default keeps no log: [`StoreError::Unsupported`].
    async fn prune_audit(&self, before: Timestamp) -> Result<u64, StoreError> {
        let _ = before;
        Err(StoreError::Unsupported("audit log"))
    }
}
