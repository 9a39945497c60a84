//! Between a [`KeyRecord`] and a row of `keyward_keys`, and between an [`AuditEntry`]
//! and a row of `keyward_audit_log`, by way of the shared [`KeyColumns`] and
//! [`AuditColumns`].

use keyward_clock::Timestamp;
use keyward_store::columns::{AuditColumns, KeyColumns, corrupt, millis};
use keyward_store::{AuditEntry, KeyRecord, LiveKeys, StoreError};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{Executor, Postgres, Row};

use crate::error::store_error;
use crate::sql;

/// Inserts one record with `executor` (the pool or an open transaction).
pub(crate) async fn insert_into<'c, E>(executor: E, r: &KeyRecord) -> Result<(), StoreError>
where
    E: Executor<'c, Database = Postgres>,
{
    let c = KeyColumns::of(r);
    let metadata = serde_json::to_string(&c.metadata)
        .map_err(|e| StoreError::InvalidRequest(format!("metadata: {e}")))?;
    sqlx::query(sql::INSERT)
        .bind(c.id)
        .bind(c.prefix)
        .bind(c.last4)
        .bind(c.name)
        .bind(c.owner)
        .bind(c.tenant_team)
        .bind(c.tenant_project)
        .bind(c.capabilities)
        .bind(c.created_at)
        .bind(c.expires_at)
        .bind(c.last_used_at)
        .bind(c.revoked_at)
        .bind(c.disabled_at)
        .bind(c.hash)
        .bind(metadata)
        .bind(c.rate_limit)
        .bind(c.rate_period_ms)
        .bind(c.ip_allowlist)
        .bind(c.replaced_by)
        .bind(c.honeytoken)
        .bind(c.used_capabilities)
        .bind(c.usage_since)
        .execute(executor)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// One column of a row; a value of the wrong type is a corrupt row.
fn get<'r, T>(row: &'r PgRow, column: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(column).map_err(|e| corrupt(column, e))
}

/// A row selected (or returned) with the store's columns, as a record.
pub(crate) fn decode(row: &PgRow) -> Result<KeyRecord, StoreError> {
    KeyColumns {
        id: get(row, "id")?,
        prefix: get(row, "prefix")?,
        last4: get(row, "last4")?,
        name: get(row, "name")?,
        owner: get(row, "owner")?,
        tenant_team: get(row, "tenant_team")?,
        tenant_project: get(row, "tenant_project")?,
        capabilities: get(row, "capabilities")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        last_used_at: get(row, "last_used_at")?,
        revoked_at: get(row, "revoked_at")?,
        disabled_at: get(row, "disabled_at")?,
        hash: get(row, "hash")?,
        metadata: serde_json::from_str(&get::<String>(row, "metadata")?)
            .map_err(|e| corrupt("metadata", e))?,
        rate_limit: get(row, "rate_limit")?,
        rate_period_ms: get(row, "rate_period_ms")?,
        ip_allowlist: get(row, "ip_allowlist")?,
        replaced_by: get(row, "replaced_by")?,
        honeytoken: get(row, "honeytoken")?,
        used_capabilities: get(row, "used_capabilities")?,
        usage_since: get(row, "usage_since")?,
    }
    .into_record()
}

/// Appends one audit entry in `tx` (the transaction of its change, or one of its
/// own), under the append lock, held until `tx` ends: entries commit in `seq` order.
pub(crate) async fn insert_audit(
    tx: &mut PgConnection,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    sqlx::query(sql::LOCK_AUDIT)
        .bind(sql::AUDIT_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    let c = AuditColumns::of(entry);
    sqlx::query(sql::INSERT_AUDIT)
        .bind(c.at)
        .bind(c.action)
        .bind(c.key_id)
        .bind(c.actor_kind)
        .bind(c.actor_id)
        .bind(c.client_ip)
        .bind(c.capabilities)
        .bind(c.replacement)
        .bind(c.note)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// A row of the audit log as an entry.
pub(crate) fn decode_audit(row: &PgRow) -> Result<AuditEntry, StoreError> {
    AuditColumns {
        seq: get(row, "seq")?,
        at: get(row, "at")?,
        action: get(row, "action")?,
        key_id: get(row, "key_id")?,
        actor_kind: get(row, "actor_kind")?,
        actor_id: get(row, "actor_id")?,
        client_ip: get(row, "client_ip")?,
        capabilities: get(row, "capabilities")?,
        replacement: get(row, "replacement")?,
        note: get(row, "note")?,
    }
    .into_entry()
}

/// One owner's live keys at `now`, and how many of them are in a roll's grace.
pub(crate) async fn count_live_in<'c, E>(
    executor: E,
    owner: &str,
    now: Timestamp,
) -> Result<LiveKeys, StoreError>
where
    E: Executor<'c, Database = Postgres>,
{
    let (live, in_grace): (i64, i64) = sqlx::query_as(sql::COUNT_LIVE)
        .bind(owner)
        .bind(millis(now))
        .fetch_one(executor)
        .await
        .map_err(store_error)?;
    let count = |n: i64| u64::try_from(n).map_err(|e| corrupt("count", e));
    Ok(LiveKeys {
        live: count(live)?,
        in_grace: count(in_grace)?,
    })
}
