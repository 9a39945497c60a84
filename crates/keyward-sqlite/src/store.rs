use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use keyward_clock::Timestamp;
use keyward_format::KeyId;
use keyward_store::columns::{KeyColumns, corrupt, millis};
use keyward_store::{
    AuditEntry, AuditQuery, KeyChange, KeyRecord, KeyState, KeyStore, ListFilter, LiveKeys, Page,
    PageRequest, StoreError, UsageUpdate,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Executor, Row, Sqlite};

use crate::audit;
use crate::error::SqliteError;
use crate::schema::{
    CURRENT_VERSION, HAS_VERSION_TABLE, MIGRATIONS, RECORD_VERSION, SCHEMA_VERSION, VERSION_TABLE,
};

/// How long a statement waits for another connection or process holding the write lock
/// before it gives up with [`StoreError::Unavailable`].
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections per store: SQLite serialises writers, WAL lets readers run beside them.
const MAX_CONNECTIONS: u32 = 4;

macro_rules! columns {
    () => {
        "id, prefix, last4, name, owner, tenant_team, tenant_project, capabilities, \
         created_at, expires_at, last_used_at, revoked_at, disabled_at, hash, metadata, \
         rate_limit, rate_period_ms, ip_allowlist, replaced_by, honeytoken, \
         used_capabilities, usage_since"
    };
}

const SELECT_BY_ID: &str = concat!("SELECT ", columns!(), " FROM keyward_keys WHERE id = ?1");

const INSERT: &str = concat!(
    "INSERT INTO keyward_keys (",
    columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)"
);

/// The common tail of the listing queries: binds `?1` owner, `?2`/`?3` tenant, `?4`
/// include revoked, `?5`/`?6` cursor (created_at, id), `?7` limit.
macro_rules! list_tail {
    () => {
        "
      AND (?1 IS NULL OR owner = ?1)
      AND (?2 IS NULL OR (tenant_team = ?2 AND tenant_project = ?3))
      AND (?4 OR revoked_at IS NULL)
      AND (?5 IS NULL OR created_at > ?5 OR (created_at = ?5 AND id > ?6))
    ORDER BY created_at, id
    LIMIT ?7"
    };
}

/// Every key: walks the `(created_at, id)` index.
const LIST_ALL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM keyward_keys INDEXED BY keyward_keys_by_created WHERE 1",
    list_tail!()
);

/// One owner's keys: walks the `(owner, created_at, id)` index.
const LIST_BY_OWNER: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM keyward_keys INDEXED BY keyward_keys_by_owner WHERE owner = ?1",
    list_tail!()
);

/// One tenant's keys: walks the `(tenant_team, tenant_project, created_at, id)` index.
const LIST_BY_TENANT: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM keyward_keys INDEXED BY keyward_keys_by_tenant
    WHERE tenant_team = ?2 AND tenant_project = ?3",
    list_tail!()
);

const CURSOR: &str = "SELECT created_at FROM keyward_keys WHERE id = ?1";

const REVOKE: &str = concat!(
    "UPDATE keyward_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1 RETURNING ",
    columns!()
);

const DELETE: &str = concat!(
    "DELETE FROM keyward_keys WHERE id = ?1 RETURNING ",
    columns!()
);

const SET_EXPIRY: &str = concat!(
    "UPDATE keyward_keys SET expires_at = ?2 WHERE id = ?1 RETURNING ",
    columns!()
);

const SET_DISABLED: &str = concat!(
    "UPDATE keyward_keys SET disabled_at = ?2 WHERE id = ?1 RETURNING ",
    columns!()
);

const UPDATE_HASH: &str = "UPDATE keyward_keys SET hash = ?2 WHERE id = ?1";

/// Only a key that was never rolled and is active at the roll's time (`?4`) rolls: of
/// two concurrent rolls, one wins, and a key revoked, disabled or expired since the
/// caller read it gets no replacement.
const EXPIRE_FOR_ROLL: &str = "UPDATE keyward_keys SET expires_at = ?2, replaced_by = ?3
    WHERE id = ?1 AND replaced_by IS NULL AND revoked_at IS NULL AND disabled_at IS NULL
    AND (expires_at IS NULL OR expires_at > ?4)";

/// One owner's live keys and, of those, the rolled ones in their grace: walks the
/// owner's entries of the `(owner, created_at, id)` index.
const COUNT_LIVE: &str = "SELECT COUNT(*), COALESCE(SUM(replaced_by IS NOT NULL), 0)
    FROM keyward_keys INDEXED BY keyward_keys_by_owner
    WHERE owner = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)";

const TOUCH: &str = "UPDATE keyward_keys SET last_used_at = ?2
    WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)";

/// `record_usage`'s read of one key, inside its write transaction.
const USAGE_OF: &str = "SELECT used_capabilities FROM keyward_keys WHERE id = ?1";

/// `record_usage`'s write of one key: `?2` its time, `?3` the merged names as JSON.
const RECORD_USAGE: &str = "UPDATE keyward_keys SET
        last_used_at = MAX(COALESCE(last_used_at, ?2), ?2),
        usage_since = COALESCE(usage_since, ?2),
        used_capabilities = ?3
    WHERE id = ?1";

/// A [`KeyStore`] in one SQLite file: the embedded default.
///
/// The file is created when missing and migrated on open; it runs in WAL mode with a
/// busy timeout, so the `keyward` CLI and a running server can share it. Lookups by id
/// use the primary key; a listing is one query. The audit log is a table in the same
/// file: [`KeyStore::apply`] writes a change and its entry in one transaction.
///
/// ```
/// use keyward_sqlite::SqliteStore;
/// use keyward_store::{KeyStore, StoreError};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let dir = std::env::temp_dir().join(format!("keyward-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let store = SqliteStore::open(dir.join("keys.db").to_str().unwrap()).await.unwrap();
/// let id = "AbCd12345678".parse().unwrap();
/// assert!(matches!(store.get(&id).await, Err(StoreError::NotFound)));
/// # std::fs::remove_dir_all(&dir).ok();
/// # });
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `url_or_path`: an `sqlite:` URL
    /// (`sqlite:keys.db`, `sqlite:///var/lib/keyward/keys.db?mode=rwc`) or a plain file
    /// path. Applies any pending migrations in one transaction.
    ///
    /// Fails with a [`SqliteError`] naming the problem (not a database, cannot open,
    /// read-only, a newer schema) and leaves the file untouched.
    pub async fn open(url_or_path: &str) -> Result<SqliteStore, SqliteError> {
        let options = if url_or_path.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url_or_path).map_err(|e| SqliteError::InvalidUrl {
                url: url_or_path.to_owned(),
                reason: e.to_string(),
            })?
        } else if url_or_path.is_empty() {
            return Err(SqliteError::InvalidUrl {
                url: String::new(),
                reason: "empty path".to_owned(),
            });
        } else {
            SqliteConnectOptions::new().filename(url_or_path)
        };
        // "Created when missing", unless a URL chose its own `mode=` (e.g. `mode=ro`).
        let options = if url_or_path.starts_with("sqlite:") && url_or_path.contains("mode=") {
            options
        } else {
            options.create_if_missing(true)
        };
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT);
        let path = options.get_filename().to_path_buf();
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .map_err(|e| SqliteError::classify(path.clone(), e))?;
        let store = SqliteStore { pool, path };
        if let Err(e) = store.migrate().await {
            store.pool.close().await;
            return Err(e);
        }
        Ok(store)
    }

    /// The schema version recorded in the file (0 for a new file), read without writing.
    async fn stored_version<'c, E>(executor: E) -> Result<i64, sqlx::Error>
    where
        E: Executor<'c, Database = Sqlite>,
    {
        sqlx::query_scalar(CURRENT_VERSION)
            .fetch_one(executor)
            .await
    }

    async fn migrate(&self) -> Result<(), SqliteError> {
        let classify = |e| SqliteError::classify(self.path.clone(), e);
        let newer = |found| SqliteError::NewerSchema {
            path: self.path.clone(),
            found,
            supported: SCHEMA_VERSION,
        };
        // A read first: an up-to-date (or newer) file is never written to, so a
        // read-only file of the current schema opens fine.
        let has_table: bool = sqlx::query_scalar(HAS_VERSION_TABLE)
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        if has_table {
            let found = Self::stored_version(&self.pool).await.map_err(classify)?;
            if found > SCHEMA_VERSION {
                return Err(newer(found));
            }
            if found == SCHEMA_VERSION {
                return Ok(());
            }
        }
        // Migrate under the write lock; another process may have done it meanwhile.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(classify)?;
        sqlx::query(VERSION_TABLE)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        let found = Self::stored_version(&mut *tx).await.map_err(classify)?;
        if found > SCHEMA_VERSION {
            // Dropping the transaction rolls it back: nothing was changed.
            return Err(newer(found));
        }
        let now = millis(Timestamp::from_system_time(std::time::SystemTime::now()));
        for (version, migration) in (1i64..).zip(MIGRATIONS.iter()).skip(found.max(0) as usize) {
            sqlx::raw_sql(*migration)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            sqlx::query(RECORD_VERSION)
                .bind(version)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection pool (the change feed takes its connect options from it).
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Inserts many records in one transaction (an import, or a benchmark's setup). Fails
    /// with [`StoreError::Conflict`] and inserts none when any id exists.
    pub async fn insert_batch(&self, records: &[KeyRecord]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        for record in records {
            insert_into(&mut *tx, record).await?;
        }
        tx.commit().await.map_err(store_error)
    }

    /// Closes every connection; later calls answer [`StoreError::Unavailable`].
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A database error as the store reports it.
pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(e.to_string())
        }
        _ => StoreError::unavailable(e),
    }
}

pub(crate) fn to_json<T: serde::Serialize>(what: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::InvalidRequest(format!("{what}: {e}")))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    column: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(column, e))
}

async fn insert_into<'c, E>(executor: E, r: &KeyRecord) -> Result<(), StoreError>
where
    E: Executor<'c, Database = Sqlite>,
{
    let c = KeyColumns::of(r);
    // The list and map columns are JSON text: SQLite has no arrays.
    sqlx::query(INSERT)
        .bind(c.id)
        .bind(c.prefix)
        .bind(c.last4)
        .bind(c.name)
        .bind(c.owner)
        .bind(c.tenant_team)
        .bind(c.tenant_project)
        .bind(to_json("capabilities", &c.capabilities)?)
        .bind(c.created_at)
        .bind(c.expires_at)
        .bind(c.last_used_at)
        .bind(c.revoked_at)
        .bind(c.disabled_at)
        .bind(c.hash)
        .bind(to_json("metadata", &c.metadata)?)
        .bind(c.rate_limit)
        .bind(c.rate_period_ms)
        .bind(to_json("ip_allowlist", &c.ip_allowlist)?)
        .bind(c.replaced_by)
        .bind(c.honeytoken)
        .bind(to_json("used_capabilities", &c.used_capabilities)?)
        .bind(c.usage_since)
        .execute(executor)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub(crate) fn get<'r, T>(row: &'r SqliteRow, column: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(column).map_err(|e| corrupt(column, e))
}

fn decode(row: &SqliteRow) -> Result<KeyRecord, StoreError> {
    KeyColumns {
        id: get(row, "id")?,
        prefix: get(row, "prefix")?,
        last4: get(row, "last4")?,
        name: get(row, "name")?,
        owner: get(row, "owner")?,
        tenant_team: get(row, "tenant_team")?,
        tenant_project: get(row, "tenant_project")?,
        capabilities: from_json("capabilities", &get::<String>(row, "capabilities")?)?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        last_used_at: get(row, "last_used_at")?,
        revoked_at: get(row, "revoked_at")?,
        disabled_at: get(row, "disabled_at")?,
        hash: get(row, "hash")?,
        metadata: from_json("metadata", &get::<String>(row, "metadata")?)?,
        rate_limit: get(row, "rate_limit")?,
        rate_period_ms: get(row, "rate_period_ms")?,
        ip_allowlist: from_json("ip_allowlist", &get::<String>(row, "ip_allowlist")?)?,
        replaced_by: get(row, "replaced_by")?,
        honeytoken: get(row, "honeytoken")?,
        used_capabilities: from_json(
            "used_capabilities",
            &get::<String>(row, "used_capabilities")?,
        )?,
        usage_since: get(row, "usage_since")?,
    }
    .into_record()
}

async fn count_live_in<'c, E>(
    executor: E,
    owner: &str,
    now: Timestamp,
) -> Result<LiveKeys, StoreError>
where
    E: Executor<'c, Database = Sqlite>,
{
    let (live, in_grace): (i64, i64) = sqlx::query_as(COUNT_LIVE)
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

/// Runs an `UPDATE … RETURNING` on one key and decodes the result.
async fn update_returning<'c, E>(
    executor: E,
    sql: &'static str,
    id: &KeyId,
    value: Option<i64>,
) -> Result<KeyRecord, StoreError>
where
    E: Executor<'c, Database = Sqlite>,
{
    let row = sqlx::query(sql)
        .bind(id.as_str())
        .bind(value)
        .fetch_optional(executor)
        .await
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)?;
    decode(&row)
}

/// Makes `change` on `conn`, inside a transaction the caller began with `BEGIN
/// IMMEDIATE` (the write lock, for the checks of a capped insert and a roll) and
/// commits; an error leaves it to be rolled back.
async fn change_in(
    conn: &mut SqliteConnection,
    change: KeyChange<'_>,
) -> Result<KeyRecord, StoreError> {
    match change {
        KeyChange::Insert {
            record,
            max_live,
            now,
        } => {
            if count_live_in(&mut *conn, &record.owner, now).await?.live >= max_live {
                return Err(StoreError::TooManyKeys { max: max_live });
            }
            insert_into(&mut *conn, record).await?;
            Ok(record.clone())
        }
        KeyChange::Revoke { id, at } => update_returning(conn, REVOKE, id, Some(millis(at))).await,
        KeyChange::Delete { id } => {
            let row = sqlx::query(DELETE)
                .bind(id.as_str())
                .fetch_optional(conn)
                .await
                .map_err(store_error)?
                .ok_or(StoreError::NotFound)?;
            decode(&row)
        }
        KeyChange::SetDisabled { id, disabled_at } => {
            update_returning(conn, SET_DISABLED, id, disabled_at.map(millis)).await
        }
        KeyChange::SetExpiry { id, expires_at } => {
            update_returning(conn, SET_EXPIRY, id, expires_at.map(millis)).await
        }
        KeyChange::Roll {
            old,
            old_expires_at,
            replacement,
            now,
        } => roll_in(conn, old, old_expires_at, replacement, now).await,
    }
}

async fn roll_in(
    conn: &mut SqliteConnection,
    old: &KeyId,
    old_expires_at: Timestamp,
    replacement: &KeyRecord,
    now: Timestamp,
) -> Result<KeyRecord, StoreError> {
    let done = sqlx::query(EXPIRE_FOR_ROLL)
        .bind(old.as_str())
        .bind(millis(old_expires_at))
        .bind(replacement.id.as_str())
        .bind(millis(now))
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    if done.rows_affected() == 0 {
        // The write lock holds the row as the update saw it: say why it matched nothing.
        let row = sqlx::query(SELECT_BY_ID)
            .bind(old.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(store_error)?;
        let Some(row) = row else {
            return Err(StoreError::NotFound);
        };
        let current = decode(&row)?;
        if current.replaced_by.is_some() {
            return Err(StoreError::AlreadyRolled);
        }
        return Err(match current.state(now) {
            KeyState::Active => {
                StoreError::Corrupt("a roll matched no row of an active key".to_owned())
            }
            state => StoreError::NotActive(state),
        });
    }
    insert_into(&mut *conn, replacement).await?;
    let row = sqlx::query(SELECT_BY_ID)
        .bind(old.as_str())
        .fetch_one(&mut *conn)
        .await
        .map_err(store_error)?;
    decode(&row)
}

impl SqliteStore {
    /// Makes `change` and appends `audit` in one transaction under SQLite's write lock
    /// (`BEGIN IMMEDIATE`): both or neither. Dropping the transaction on any early
    /// return rolls everything back.
    async fn change_and_log(
        &self,
        change: KeyChange<'_>,
        audit: Option<&AuditEntry>,
    ) -> Result<KeyRecord, StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(store_error)?;
        let record = change_in(&mut tx, change).await?;
        if let Some(entry) = audit {
            audit::append_in(&mut *tx, entry).await?;
        }
        tx.commit().await.map_err(store_error)?;
        Ok(record)
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn insert(&self, record: &KeyRecord) -> Result<(), StoreError> {
        insert_into(&self.pool, record).await
    }

    async fn get(&self, id: &KeyId) -> Result<KeyRecord, StoreError> {
        let row = sqlx::query(SELECT_BY_ID)
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)?;
        decode(&row)
    }

    async fn list(&self, filter: &ListFilter, page: PageRequest) -> Result<Page, StoreError> {
        page.validate()?;
        let cursor = match &page.after {
            None => None,
            Some(after) => {
                let created_at: i64 = sqlx::query_scalar(CURSOR)
                    .bind(after.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(store_error)?
                    .ok_or_else(|| {
                        StoreError::InvalidRequest(format!("page cursor {after} names no key"))
                    })?;
                Some((created_at, after.as_str()))
            }
        };
        let (team, project) = match &filter.tenant {
            Some(t) => (Some(t.team.as_str()), Some(t.project.as_str())),
            None => (None, None),
        };
        let sql = match (&filter.owner, &filter.tenant) {
            (Some(_), _) => LIST_BY_OWNER,
            (None, Some(_)) => LIST_BY_TENANT,
            (None, None) => LIST_ALL,
        };
        let rows = sqlx::query(sql)
            .bind(filter.owner.as_deref())
            .bind(team)
            .bind(project)
            .bind(filter.include_revoked)
            .bind(cursor.map(|c| c.0))
            .bind(cursor.map(|c| c.1))
            .bind(i64::from(page.limit) + 1)
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        let more = rows.len() > page.limit as usize;
        let records = rows
            .iter()
            .take(page.limit as usize)
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::new(records, more))
    }

    async fn revoke(&self, id: &KeyId, at: Timestamp) -> Result<KeyRecord, StoreError> {
        update_returning(&self.pool, REVOKE, id, Some(millis(at))).await
    }

    async fn delete(&self, id: &KeyId) -> Result<KeyRecord, StoreError> {
        let row = sqlx::query(DELETE)
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)?;
        decode(&row)
    }

    async fn set_expiry(
        &self,
        id: &KeyId,
        expires_at: Option<Timestamp>,
    ) -> Result<KeyRecord, StoreError> {
        update_returning(&self.pool, SET_EXPIRY, id, expires_at.map(millis)).await
    }

    async fn set_disabled(
        &self,
        id: &KeyId,
        disabled_at: Option<Timestamp>,
    ) -> Result<KeyRecord, StoreError> {
        update_returning(&self.pool, SET_DISABLED, id, disabled_at.map(millis)).await
    }

    async fn update_hash(&self, id: &KeyId, hash: &str) -> Result<(), StoreError> {
        let done = sqlx::query(UPDATE_HASH)
            .bind(id.as_str())
            .bind(hash)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn roll(
        &self,
        old: &KeyId,
        old_expires_at: Timestamp,
        replacement: &KeyRecord,
        now: Timestamp,
    ) -> Result<KeyRecord, StoreError> {
        self.change_and_log(
            KeyChange::Roll {
                old,
                old_expires_at,
                replacement,
                now,
            },
            None,
        )
        .await
    }

    async fn touch_last_used(&self, updates: &[(KeyId, Timestamp)]) -> Result<(), StoreError> {
        if updates.is_empty() {
            return Ok(());
        }
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(store_error)?;
        for (id, at) in updates {
            sqlx::query(TOUCH)
                .bind(id.as_str())
                .bind(millis(*at))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)
    }

    /// Reads and writes each key under the write lock (`BEGIN IMMEDIATE`), the whole
    /// batch in one transaction: the union is computed here, where it sorts by bytes
    /// as the other stores do.
    async fn record_usage(&self, updates: &[UsageUpdate]) -> Result<(), StoreError> {
        if updates.is_empty() {
            return Ok(());
        }
        let updates = UsageUpdate::merged(updates);
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(store_error)?;
        for update in &updates {
            let stored: Option<String> = sqlx::query_scalar(USAGE_OF)
                .bind(update.id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
            // An unknown id is skipped, as touch_last_used skips it.
            let Some(stored) = stored else { continue };
            let stored: Vec<String> = from_json("used_capabilities", &stored)?;
            let used = update.union_into(&stored);
            sqlx::query(RECORD_USAGE)
                .bind(update.id.as_str())
                .bind(millis(update.last_used_at))
                .bind(to_json("used_capabilities", &used)?)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)
    }

    async fn count_live(&self, owner: &str, now: Timestamp) -> Result<LiveKeys, StoreError> {
        count_live_in(&self.pool, owner, now).await
    }

    /// Counts and inserts under SQLite's write lock (`BEGIN IMMEDIATE`), so inserts
    /// from every connection and process are serialised.
    async fn insert_capped(
        &self,
        record: &KeyRecord,
        max_live: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let change = KeyChange::Insert {
            record,
            max_live,
            now,
        };
        self.change_and_log(change, None).await.map(drop)
    }

    /// The change and the entry in one transaction under the write lock: a change is
    /// never left without its entry, nor an entry without its change.
    async fn apply(
        &self,
        change: KeyChange<'_>,
        audit: Option<&AuditEntry>,
    ) -> Result<KeyRecord, StoreError> {
        self.change_and_log(change, audit).await
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        audit::append_in(&self.pool, entry).await
    }

    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        audit::list(&self.pool, query).await
    }

    async fn prune_audit(&self, before: Timestamp) -> Result<u64, StoreError> {
        audit::prune(&self.pool, before).await
    }
}
