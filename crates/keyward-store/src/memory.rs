use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::ops::Bound;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use keyward_clock::Timestamp;
use keyward_format::KeyId;

use crate::audit::{AuditEntry, AuditQuery};
use crate::error::StoreError;
use crate::record::{KeyRecord, KeyState};
use crate::store::{KeyChange, KeyStore, ListFilter, LiveKeys, Page, PageRequest, UsageUpdate};

/// A [`KeyStore`] in process memory: for tests, examples and single-process services
/// that mint their keys at start-up. Everything is lost when the process exits.
///
/// One `RwLock` guards the records; no method awaits while holding it, so it never
/// blocks the runtime for longer than a map operation. Lookups by id are a hash-map
/// probe; listings walk an index ordered by `(created_at, id)` and filter as they go;
/// counting an owner's live keys walks that owner's keys only. The audit log sits under
/// the same lock, so [`KeyStore::apply`] changes a key and logs it in one step.
///
/// ```
/// use keyward_store::{KeyStore, MemoryStore, StoreError};
/// use std::sync::Arc;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store: Arc<dyn KeyStore> = Arc::new(MemoryStore::new());
/// let id = "AbCd12345678".parse().unwrap();
/// assert!(matches!(store.get(&id).await, Err(StoreError::NotFound)));
/// # });
/// ```
#[derive(Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    records: HashMap<KeyId, KeyRecord>,
    /// Listing order. `created_at` never changes after insert, so entries never move.
    order: BTreeSet<(Timestamp, KeyId)>,
    /// Each owner's keys, for counting them; an owner never changes after insert.
    by_owner: HashMap<String, Vec<KeyId>>,
    /// The audit log in `seq` order (appends only; pruning keeps the order).
    audit: Vec<AuditEntry>,
    /// The last `seq` assigned; never reused, even after pruning.
    last_seq: u64,
}

impl Inner {
    fn insert_new(&mut self, record: KeyRecord) {
        self.order.insert((record.created_at, record.id));
        match self.by_owner.get_mut(&record.owner) {
            Some(ids) => ids.push(record.id),
            None => {
                self.by_owner.insert(record.owner.clone(), vec![record.id]);
            }
        }
        self.records.insert(record.id, record);
    }

    fn update(
        &mut self,
        id: &KeyId,
        change: impl FnOnce(&mut KeyRecord),
    ) -> Result<KeyRecord, StoreError> {
        let record = self.records.get_mut(id).ok_or(StoreError::NotFound)?;
        change(record);
        Ok(record.clone())
    }

    fn insert_capped(
        &mut self,
        record: &KeyRecord,
        max_live: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if self.records.contains_key(&record.id) {
            return Err(StoreError::Conflict);
        }
        if self.count_live(&record.owner, now).live >= max_live {
            return Err(StoreError::TooManyKeys { max: max_live });
        }
        self.insert_new(record.clone());
        Ok(())
    }

    fn delete(&mut self, id: &KeyId) -> Result<KeyRecord, StoreError> {
        let record = self.records.remove(id).ok_or(StoreError::NotFound)?;
        self.order.remove(&(record.created_at, record.id));
        if let Some(ids) = self.by_owner.get_mut(&record.owner) {
            ids.retain(|owned| owned != id);
            if ids.is_empty() {
                self.by_owner.remove(&record.owner);
            }
        }
        Ok(record)
    }

    fn roll(
        &mut self,
        old: &KeyId,
        old_expires_at: Timestamp,
        replacement: &KeyRecord,
        now: Timestamp,
    ) -> Result<KeyRecord, StoreError> {
        // Every check happens before the first change.
        if !self.records.contains_key(old) {
            return Err(StoreError::NotFound);
        }
        if self.records.contains_key(&replacement.id) {
            return Err(StoreError::Conflict);
        }
        let old_record = self.records.get_mut(old).ok_or(StoreError::NotFound)?;
        if old_record.replaced_by.is_some() {
            return Err(StoreError::AlreadyRolled);
        }
        let state = old_record.state(now);
        if state != KeyState::Active {
            return Err(StoreError::NotActive(state));
        }
        old_record.expires_at = Some(old_expires_at);
        old_record.replaced_by = Some(replacement.id);
        let updated = old_record.clone();
        self.insert_new(replacement.clone());
        Ok(updated)
    }

    fn change(&mut self, change: KeyChange<'_>) -> Result<KeyRecord, StoreError> {
        match change {
            KeyChange::Insert {
                record,
                max_live,
                now,
            } => self
                .insert_capped(record, max_live, now)
                .map(|()| record.clone()),
            KeyChange::Revoke { id, at } => self.update(id, |r| {
                r.revoked_at.get_or_insert(at);
            }),
            KeyChange::Delete { id } => self.delete(id),
            KeyChange::SetDisabled { id, disabled_at } => {
                self.update(id, |r| r.disabled_at = disabled_at)
            }
            KeyChange::SetExpiry { id, expires_at } => {
                self.update(id, |r| r.expires_at = expires_at)
            }
            KeyChange::Roll {
                old,
                old_expires_at,
                replacement,
                now,
            } => self.roll(old, old_expires_at, replacement, now),
        }
    }

    fn append_audit(&mut self, entry: &AuditEntry) {
        self.last_seq += 1;
        let mut stored = entry.clone();
        stored.seq = self.last_seq;
        stored.note = entry.stored_note().map(String::from);
        stored.actor = entry.actor.stored().into_owned();
        self.audit.push(stored);
    }

    fn count_live(&self, owner: &str, now: Timestamp) -> LiveKeys {
        let mut count = LiveKeys::default();
        let ids = self.by_owner.get(owner).map_or(&[][..], Vec::as_slice);
        for record in ids
            .iter()
            .filter_map(|id| self.records.get(id))
            .filter(|r| r.is_live(now))
        {
            count.live += 1;
            count.in_grace += u64::from(record.replaced_by.is_some());
        }
        count
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    // A panic while the lock was held (there is no such path in this file, short of an
    // allocation failure) poisons it; answer "unavailable" rather than panic in turn.
    fn read(&self) -> Result<RwLockReadGuard<'_, Inner>, StoreError> {
        self.inner.read().map_err(|_| poisoned())
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, Inner>, StoreError> {
        self.inner.write().map_err(|_| poisoned())
    }

    /// Applies `change` under the write lock and returns the result.
    fn change(&self, change: KeyChange<'_>) -> Result<KeyRecord, StoreError> {
        self.write()?.change(change)
    }
}

fn poisoned() -> StoreError {
    StoreError::unavailable("memory store lock poisoned by a panic")
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("MemoryStore");
        match self.inner.read() {
            Ok(inner) => d.field("records", &inner.records.len()),
            Err(_) => d.field("records", &"<poisoned>"),
        };
        d.finish()
    }
}

#[async_trait]
impl KeyStore for MemoryStore {
    async fn insert(&self, record: &KeyRecord) -> Result<(), StoreError> {
        let mut inner = self.write()?;
        if inner.records.contains_key(&record.id) {
            return Err(StoreError::Conflict);
        }
        inner.insert_new(record.clone());
        Ok(())
    }

    async fn get(&self, id: &KeyId) -> Result<KeyRecord, StoreError> {
        self.read()?
            .records
            .get(id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    /// A cursor naming no key (never stored, or deleted since it ended a page) is
    /// [`StoreError::InvalidRequest`].
    async fn list(&self, filter: &ListFilter, page: PageRequest) -> Result<Page, StoreError> {
        page.validate()?;
        let limit = page.limit as usize;
        let inner = self.read()?;
        let start = match &page.after {
            None => Bound::Unbounded,
            Some(after) => {
                let cursor = inner.records.get(after).ok_or_else(|| {
                    StoreError::InvalidRequest(format!("page cursor {after} names no key"))
                })?;
                Bound::Excluded((cursor.created_at, *after))
            }
        };
        let mut records = Vec::new();
        let mut more = false;
        let matching = inner
            .order
            .range((start, Bound::Unbounded))
            .filter_map(|(_, id)| inner.records.get(id))
            .filter(|r| filter.matches(r));
        for record in matching {
            if records.len() == limit {
                more = true;
                break;
            }
            records.push(record.clone());
        }
        Ok(Page::new(records, more))
    }

    async fn revoke(&self, id: &KeyId, at: Timestamp) -> Result<KeyRecord, StoreError> {
        self.change(KeyChange::Revoke { id, at })
    }

    async fn delete(&self, id: &KeyId) -> Result<KeyRecord, StoreError> {
        self.change(KeyChange::Delete { id })
    }

    async fn set_expiry(
        &self,
        id: &KeyId,
        expires_at: Option<Timestamp>,
    ) -> Result<KeyRecord, StoreError> {
        self.change(KeyChange::SetExpiry { id, expires_at })
    }

    async fn set_disabled(
        &self,
        id: &KeyId,
        disabled_at: Option<Timestamp>,
    ) -> Result<KeyRecord, StoreError> {
        self.change(KeyChange::SetDisabled { id, disabled_at })
    }

    async fn update_hash(&self, id: &KeyId, hash: &str) -> Result<(), StoreError> {
        self.write()?
            .update(id, |r| hash.clone_into(&mut r.hash))
            .map(drop)
    }

    async fn roll(
        &self,
        old: &KeyId,
        old_expires_at: Timestamp,
        replacement: &KeyRecord,
        now: Timestamp,
    ) -> Result<KeyRecord, StoreError> {
        self.change(KeyChange::Roll {
            old,
            old_expires_at,
            replacement,
            now,
        })
    }

    async fn touch_last_used(&self, updates: &[(KeyId, Timestamp)]) -> Result<(), StoreError> {
        if updates.is_empty() {
            return Ok(());
        }
        let mut inner = self.write()?;
        for (id, at) in updates {
            if let Some(record) = inner.records.get_mut(id) {
                record.last_used_at = record.last_used_at.max(Some(*at));
            }
        }
        Ok(())
    }

    async fn record_usage(&self, updates: &[UsageUpdate]) -> Result<(), StoreError> {
        if updates.is_empty() {
            return Ok(());
        }
        let updates = UsageUpdate::merged(updates);
        let mut inner = self.write()?;
        for update in &updates {
            if let Some(record) = inner.records.get_mut(&update.id) {
                record.last_used_at = record.last_used_at.max(Some(update.last_used_at));
                record.usage_since.get_or_insert(update.last_used_at);
                if !update.used.is_empty() {
                    record.used_capabilities = update.union_into(&record.used_capabilities);
                }
            }
        }
        Ok(())
    }

    async fn count_live(&self, owner: &str, now: Timestamp) -> Result<LiveKeys, StoreError> {
        Ok(self.read()?.count_live(owner, now))
    }

    async fn insert_capped(
        &self,
        record: &KeyRecord,
        max_live: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write()?.insert_capped(record, max_live, now)
    }

    /// The change and the entry under one write lock: no reader sees one without the
    /// other.
    async fn apply(
        &self,
        change: KeyChange<'_>,
        audit: Option<&AuditEntry>,
    ) -> Result<KeyRecord, StoreError> {
        let mut inner = self.write()?;
        let record = inner.change(change)?;
        if let Some(entry) = audit {
            inner.append_audit(entry);
        }
        Ok(record)
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.write()?.append_audit(entry);
        Ok(())
    }

    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        query.validate()?;
        let inner = self.read()?;
        // The log is in `seq` order: skip straight past the cursor.
        let start = query
            .after_seq
            .map_or(0, |after| inner.audit.partition_point(|e| e.seq <= after));
        Ok(inner.audit[start..]
            .iter()
            .filter(|e| query.matches(e))
            .take(query.limit as usize)
            .cloned()
            .collect())
    }

    async fn prune_audit(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut inner = self.write()?;
        let was = inner.audit.len();
        inner.audit.retain(|e| e.at >= before);
        Ok((was - inner.audit.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::test_records::{fresh_id, sample_record};

    fn at(ms: u64) -> Timestamp {
        Timestamp::from_unix_millis(1_767_225_600_000 + ms)
    }

    #[tokio::test]
    async fn poisoned_lock_is_unavailable_not_a_panic() {
        let store = Arc::new(MemoryStore::new());
        let record = sample_record(fresh_id(), "owner", at(0));
        store.insert(&record).await.unwrap();

        let poisoner = Arc::clone(&store);
        let joined = std::thread::spawn(move || {
            let _guard = poisoner.inner.write().unwrap();
            panic!("poisoning the lock on purpose");
        })
        .join();
        assert!(joined.is_err());

        let unavailable = |r: Result<_, StoreError>| matches!(r, Err(StoreError::Unavailable(_)));
        assert!(unavailable(store.get(&record.id).await.map(drop)));
        assert!(unavailable(store.insert(&record).await));
        assert!(unavailable(
            store
                .list(&ListFilter::all(), PageRequest::default())
                .await
                .map(drop)
        ));
        assert!(unavailable(store.revoke(&record.id, at(1)).await.map(drop)));
        assert!(unavailable(store.delete(&record.id).await.map(drop)));
        assert!(unavailable(
            store.set_expiry(&record.id, None).await.map(drop)
        ));
        assert!(unavailable(
            store.set_disabled(&record.id, None).await.map(drop)
        ));
        assert!(unavailable(store.update_hash(&record.id, "h").await));
        let replacement = sample_record(fresh_id(), "owner", at(2));
        assert!(unavailable(
            store
                .roll(&record.id, at(3), &replacement, at(2))
                .await
                .map(drop)
        ));
        assert!(unavailable(
            store.touch_last_used(&[(record.id, at(4))]).await
        ));
        assert!(unavailable(
            store
                .record_usage(&[crate::UsageUpdate {
                    id: record.id,
                    last_used_at: at(4),
                    used: vec!["keys:read".into()],
                }])
                .await
        ));
        assert!(unavailable(
            store.count_live("owner", at(5)).await.map(drop)
        ));
        assert!(unavailable(store.insert_capped(&record, 10, at(5)).await));
        let entry = AuditEntry::new(
            at(6),
            crate::AuditAction::Revoked,
            record.id,
            crate::Actor::Cli,
        );
        assert!(unavailable(store.append_audit(&entry).await));
        assert!(unavailable(
            store
                .apply(
                    KeyChange::Revoke {
                        id: &record.id,
                        at: at(6)
                    },
                    Some(&entry)
                )
                .await
                .map(drop)
        ));
        assert!(unavailable(
            store.list_audit(&AuditQuery::all(10)).await.map(drop)
        ));
        assert!(unavailable(store.prune_audit(at(7)).await.map(drop)));
        assert_eq!(
            format!("{store:?}"),
            r#"MemoryStore { records: "<poisoned>" }"#
        );
        let e = store.get(&record.id).await.unwrap_err();
        assert!(e.to_string().contains("poisoned"), "{e}");
    }

    #[tokio::test]
    async fn listing_walks_the_created_at_index() {
        let store = MemoryStore::new();
        // Inserted out of order, with a tie on created_at broken by id (byte order).
        let mut ids: Vec<KeyId> = (0..4).map(|_| fresh_id()).collect();
        for (id, ms) in ids.iter().zip([30, 10, 20, 20]) {
            store
                .insert(&sample_record(*id, "o", at(ms)))
                .await
                .unwrap();
        }
        let (mut tied, rest) = (vec![ids[2], ids[3]], vec![ids[1], ids[0]]);
        tied.sort();
        ids = vec![rest[0], tied[0], tied[1], rest[1]];

        let page = store
            .list(&ListFilter::all(), PageRequest::first(3))
            .await
            .unwrap();
        let got: Vec<KeyId> = page.records.iter().map(|r| r.id).collect();
        assert_eq!(got, ids[..3]);
        assert_eq!(page.next, Some(ids[2]));
        let page = store
            .list(
                &ListFilter::all(),
                PageRequest {
                    limit: 3,
                    after: page.next,
                },
            )
            .await
            .unwrap();
        assert_eq!(page.records.len(), 1);
        assert_eq!(page.records[0].id, ids[3]);
        assert_eq!(page.next, None);
    }

    #[tokio::test]
    async fn failed_roll_leaves_index_untouched() {
        let store = MemoryStore::new();
        let old = sample_record(fresh_id(), "o", at(0));
        store.insert(&old).await.unwrap();
        // Replacement reusing the old id: conflict, and no second index entry.
        let mut same_id = sample_record(old.id, "o", at(5));
        same_id.name = "imposter".into();
        assert!(matches!(
            store.roll(&old.id, at(9), &same_id, at(5)).await,
            Err(StoreError::Conflict)
        ));
        let inner = store.inner.read().unwrap();
        assert_eq!(inner.order.len(), 1);
        assert_eq!(inner.by_owner["o"], [old.id]);
        assert_eq!(inner.records[&old.id], old);
    }

    #[tokio::test]
    async fn delete_leaves_no_index_entry() {
        let store = MemoryStore::new();
        let kept = sample_record(fresh_id(), "o", at(0));
        let gone = sample_record(fresh_id(), "o", at(1));
        let alone = sample_record(fresh_id(), "p", at(2));
        for r in [&kept, &gone, &alone] {
            store.insert(r).await.unwrap();
        }
        store.delete(&gone.id).await.unwrap();
        store.delete(&alone.id).await.unwrap();
        let inner = store.inner.read().unwrap();
        assert_eq!(
            inner.order.iter().copied().collect::<Vec<_>>(),
            [(kept.created_at, kept.id)]
        );
        assert_eq!(inner.by_owner["o"], [kept.id]);
        assert!(!inner.by_owner.contains_key("p"));
    }

    #[tokio::test]
    async fn empty_touch_batch_is_a_no_op() {
        let store = MemoryStore::new();
        store.touch_last_used(&[]).await.unwrap();
        assert_eq!(format!("{store:?}"), "MemoryStore { records: 0 }");
    }

    #[test]
    fn debug_shows_a_count_not_records() {
        let store = MemoryStore::new();
        let mut record = sample_record(fresh_id(), "o", at(0));
        record.metadata = BTreeMap::from([("k".to_owned(), "v".to_owned())]);
        store.inner.write().unwrap().insert_new(record.clone());
        let shown = format!("{store:?}");
        assert_eq!(shown, "MemoryStore { records: 1 }");
        assert!(!shown.contains(&record.hash));
    }
}
