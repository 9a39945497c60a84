//! [`MeteredStore`]: counts the key store's failures by method
//! (`keyward_store_errors_total{op}`), forwarding every call, overrides included.

use async_trait::async_trait;
use keyward_clock::Timestamp;
use keyward_format::KeyId;
use keyward_store::{
    AuditEntry, AuditQuery, KeyChange, KeyRecord, KeyStore, ListFilter, LiveKeys, Page,
    PageRequest, StoreError, UsageUpdate,
};
use metrics::Counter;
use std::sync::Arc;

use crate::metrics::STORE_ERRORS;

/// The methods of [`KeyStore`], each with its own counter.
#[derive(Debug, Clone, Copy)]
enum Op {
    Insert,
    Get,
    List,
    Revoke,
    Delete,
    SetExpiry,
    SetDisabled,
    UpdateHash,
    Roll,
    TouchLastUsed,
    RecordUsage,
    CountLive,
    InsertCapped,
    Apply,
    AppendAudit,
    ListAudit,
    PruneAudit,
}

impl Op {
    const ALL: [Op; 17] = [
        Op::Insert,
        Op::Get,
        Op::List,
        Op::Revoke,
        Op::Delete,
        Op::SetExpiry,
        Op::SetDisabled,
        Op::UpdateHash,
        Op::Roll,
        Op::TouchLastUsed,
        Op::RecordUsage,
        Op::CountLive,
        Op::InsertCapped,
        Op::Apply,
        Op::AppendAudit,
        Op::ListAudit,
        Op::PruneAudit,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Op::Insert => "insert",
            Op::Get => "get",
            Op::List => "list",
            Op::Revoke => "revoke",
            Op::Delete => "delete",
            Op::SetExpiry => "set_expiry",
            Op::SetDisabled => "set_disabled",
            Op::UpdateHash => "update_hash",
            Op::Roll => "roll",
            Op::TouchLastUsed => "touch_last_used",
            Op::RecordUsage => "record_usage",
            Op::CountLive => "count_live",
            Op::InsertCapped => "insert_capped",
            Op::Apply => "apply",
            Op::AppendAudit => "append_audit",
            Op::ListAudit => "list_audit",
            Op::PruneAudit => "prune_audit",
        }
    }
}

/// The configured store behind a counter per method. Only failures count:
/// `NotFound`, `Conflict`, `TooManyKeys`, `AlreadyRolled`, `NotActive` and
/// `InvalidRequest` are the store's answers, not its errors.
pub(crate) struct MeteredStore {
    inner: Arc<dyn KeyStore>,
    errors: [Counter; Op::ALL.len()],
}

impl MeteredStore {
    /// Registers the counters with the recorder installed now.
    pub(crate) fn new(inner: Arc<dyn KeyStore>) -> Self {
        MeteredStore {
            inner,
            errors: std::array::from_fn(
                |i| metrics::counter!(STORE_ERRORS, "op" => Op::ALL[i].as_str()),
            ),
        }
    }

    fn count<T>(&self, op: Op, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(
            StoreError::Unavailable(_) | StoreError::Corrupt(_) | StoreError::Unsupported(_),
        ) = &result
        {
            self.errors[op as usize].increment(1);
        }
        result
    }
}

#[async_trait]
impl KeyStore for MeteredStore {
    async fn insert(&self, record: &KeyRecord) -> Result<(), StoreError> {
        self.count(Op::Insert, self.inner.insert(record).await)
    }

    async fn get(&self, id: &KeyId) -> Result<KeyRecord, StoreError> {
        self.count(Op::Get, self.inner.get(id).await)
    }

    async fn list(&self, filter: &ListFilter, page: PageRequest) -> Result<Page, StoreError> {
        self.count(Op::List, self.inner.list(filter, page).await)
    }

    async fn revoke(&self, id: &KeyId, at: Timestamp) -> Result<KeyRecord, StoreError> {
        self.count(Op::Revoke, self.inner.revoke(id, at).await)
    }

    async fn delete(&self, id: &KeyId) -> Result<KeyRecord, StoreError> {
        self.count(Op::Delete, self.inner.delete(id).await)
    }

    async fn set_expiry(
        &self,
        id: &KeyId,
        expires_at: Option<Timestamp>,
    ) -> Result<KeyRecord, StoreError> {
        self.count(Op::SetExpiry, self.inner.set_expiry(id, expires_at).await)
    }

    async fn set_disabled(
        &self,
        id: &KeyId,
        disabled_at: Option<Timestamp>,
    ) -> Result<KeyRecord, StoreError> {
        self.count(
            Op::SetDisabled,
            self.inner.set_disabled(id, disabled_at).await,
        )
    }

    async fn update_hash(&self, id: &KeyId, hash: &str) -> Result<(), StoreError> {
        self.count(Op::UpdateHash, self.inner.update_hash(id, hash).await)
    }

    async fn roll(
        &self,
        old: &KeyId,
        old_expires_at: Timestamp,
        replacement: &KeyRecord,
        now: Timestamp,
    ) -> Result<KeyRecord, StoreError> {
        self.count(
            Op::Roll,
            self.inner.roll(old, old_expires_at, replacement, now).await,
        )
    }

    async fn touch_last_used(&self, updates: &[(KeyId, Timestamp)]) -> Result<(), StoreError> {
        self.count(Op::TouchLastUsed, self.inner.touch_last_used(updates).await)
    }

    async fn record_usage(&self, updates: &[UsageUpdate]) -> Result<(), StoreError> {
        self.count(Op::RecordUsage, self.inner.record_usage(updates).await)
    }

    async fn count_live(&self, owner: &str, now: Timestamp) -> Result<LiveKeys, StoreError> {
        self.count(Op::CountLive, self.inner.count_live(owner, now).await)
    }

    async fn insert_capped(
        &self,
        record: &KeyRecord,
        max_live: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.count(
            Op::InsertCapped,
            self.inner.insert_capped(record, max_live, now).await,
        )
    }

    async fn apply(
        &self,
        change: KeyChange<'_>,
        audit: Option<&AuditEntry>,
    ) -> Result<KeyRecord, StoreError> {
        self.count(Op::Apply, self.inner.apply(change, audit).await)
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.count(Op::AppendAudit, self.inner.append_audit(entry).await)
    }

    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.count(Op::ListAudit, self.inner.list_audit(query).await)
    }

    async fn prune_audit(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.count(Op::PruneAudit, self.inner.prune_audit(before).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_index_their_own_counter() {
        for (i, op) in Op::ALL.into_iter().enumerate() {
            assert_eq!(op as usize, i, "{}", op.as_str());
        }
    }
}
