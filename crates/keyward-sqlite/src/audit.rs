//! The audit log's statements and rows (`keyward_audit_log`, migration 4).

use keyward_clock::Timestamp;
use keyward_store::columns::{AuditColumns, millis, seq_bound};
use keyward_store::{AuditEntry, AuditQuery, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::{Executor, Sqlite};

use crate::store::{from_json, get, store_error, to_json};

macro_rules! columns {
    () => {
        "seq, at, action, key_id, actor_kind, actor_id, client_ip, capabilities, \
         replacement, note"
    };
}

const INSERT: &str = "INSERT INTO keyward_audit_log (at, action, key_id, actor_kind,
        actor_id, client_ip, capabilities, replacement, note)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

/// The filters after the key's: binds `?2` since (or NULL), `?3` after this seq, `?4`
/// limit.
macro_rules! tail {
    () => {
        " AND (?2 IS NULL OR at >= ?2) AND seq > ?3 ORDER BY seq LIMIT ?4"
    };
}

/// One key's entries, as the target or a roll's replacement: one index each.
const LIST_BY_KEY: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM keyward_audit_log WHERE (key_id = ?1 OR replacement = ?1)",
    tail!()
);

/// The whole log; `?1` is unused (bound NULL), so both listings bind alike.
const LIST_ALL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM keyward_audit_log WHERE (?1 IS NULL)",
    tail!()
);

const PRUNE: &str = "DELETE FROM keyward_audit_log WHERE at < ?1";

/// Appends `entry` with `executor` (the pool, or the transaction of its change).
pub(crate) async fn append_in<'c, E>(executor: E, entry: &AuditEntry) -> Result<(), StoreError>
where
    E: Executor<'c, Database = Sqlite>,
{
    let c = AuditColumns::of(entry);
    sqlx::query(INSERT)
        .bind(c.at)
        .bind(c.action)
        .bind(c.key_id)
        .bind(c.actor_kind)
        .bind(c.actor_id)
        .bind(c.client_ip)
        .bind(to_json("capabilities", &c.capabilities)?)
        .bind(c.replacement)
        .bind(c.note)
        .execute(executor)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// The entries matching `query`, oldest first.
pub(crate) async fn list<'c, E>(
    executor: E,
    query: &AuditQuery,
) -> Result<Vec<AuditEntry>, StoreError>
where
    E: Executor<'c, Database = Sqlite>,
{
    query.validate()?;
    let sql = if query.key.is_some() {
        LIST_BY_KEY
    } else {
        LIST_ALL
    };
    let rows = sqlx::query(sql)
        .bind(query.key.as_ref().map(|k| k.as_str()))
        .bind(query.since.map(millis))
        .bind(query.after_seq.map_or(0, seq_bound))
        .bind(i64::from(query.limit))
        .fetch_all(executor)
        .await
        .map_err(store_error)?;
    rows.iter().map(decode).collect()
}

/// Removes the entries older than `before`; returns how many.
pub(crate) async fn prune<'c, E>(executor: E, before: Timestamp) -> Result<u64, StoreError>
where
    E: Executor<'c, Database = Sqlite>,
{
    let done = sqlx::query(PRUNE)
        .bind(millis(before))
        .execute(executor)
        .await
        .map_err(store_error)?;
    Ok(done.rows_affected())
}

fn decode(row: &SqliteRow) -> Result<AuditEntry, StoreError> {
    AuditColumns {
        seq: get(row, "seq")?,
        at: get(row, "at")?,
        action: get(row, "action")?,
        key_id: get(row, "key_id")?,
        actor_kind: get(row, "actor_kind")?,
        actor_id: get(row, "actor_id")?,
        client_ip: get(row, "client_ip")?,
        capabilities: from_json("capabilities", &get::<String>(row, "capabilities")?)?,
        replacement: get(row, "replacement")?,
        note: get(row, "note")?,
    }
    .into_entry()
}
