//! [`PostgresStore`]: connecting, and the [`KeyStore`] calls. The statements are in
//! `sql.rs`, the row mapping in `rows.rs`, the migrations in `migrate.rs`.

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use keyward_clock::Timestamp;
use keyward_format::KeyId;
use keyward_store::columns::{millis, seq_bound};
use keyward_store::{
    AuditEntry, AuditQuery, KeyChange, KeyRecord, KeyState, KeyStore, ListFilter, LiveKeys, Page,
    PageRequest, StoreError, UsageUpdate,
};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Executor, Postgres};

use crate::error::{PostgresError, store_error};
use crate::migrate;
use crate::options::{PostgresOptions, validate_schema};
use crate::rows::{count_live_in, decode, decode_audit, insert_audit, insert_into};
use crate::sql;

/// A [`KeyStore`] on PostgreSQL: the scale-out store.
///
/// Tables live in one schema (the configured one, created when missing, or the server's
/// default); the embedded migrations are applied at connect, in one transaction, under
/// an advisory lock. Lookups by id use the primary key; a listing is one query on an
/// index matching its filter. Every change that must evict caches (revoke, disable,
/// expiry, a roll's old key) NOTIFYs the schema's channel in the same transaction; an
/// [`InvalidationListener`](crate::InvalidationListener) delivers those to a process.
/// The audit log is a table of the same schema: [`KeyStore::apply`] writes a change and
/// its entry in one transaction, and an entry notifies nobody. Appends take a
/// transaction-scoped lock of the log, so entries commit in the order of their `seq`
/// and a reader paging by `after_seq` misses none.
///
/// A store call that cannot get a connection within the acquire timeout, or whose
/// server fails, answers [`StoreError::Unavailable`]; the pool makes new connections by
/// itself once the server is back.
///
/// ```no_run
/// use keyward_postgres::{PostgresOptions, PostgresStore};
///
/// # async fn run() -> Result<(), keyward_postgres::PostgresError> {
/// let store = PostgresStore::connect_with(
///     "postgres://keyward:secret@db.internal/keyward",
///     PostgresOptions::new().schema("keyward"),
/// )
/// .await?;
/// assert_eq!(store.schema(), "keyward");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    shared: Arc<Shared>,
}

struct Shared {
    /// The schema holding the tables.
    schema: String,
    /// The NOTIFY channel of that schema.
    channel: String,
    /// `host:port/database`, for messages.
    server: String,
    /// How to open more connections (the listener's).
    connect_options: PgConnectOptions,
    options: PostgresOptions,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("server", &self.shared.server)
            .field("schema", &self.shared.schema)
            .field("channel", &self.shared.channel)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`) with
    /// the default [`PostgresOptions`] and applies any pending migrations.
    pub async fn connect(url: &str) -> Result<PostgresStore, PostgresError> {
        PostgresStore::connect_with(url, PostgresOptions::default()).await
    }

    /// Connects to the database at `url` with `options` and applies any pending
    /// migrations (creating the configured schema when missing).
    ///
    /// Fails within about the acquire timeout when the server cannot be reached
    /// ([`PostgresError::Unreachable`]), and with a typed [`PostgresError`] for a bad
    /// URL or schema name, a refused login, a schema newer than this build, or a failed
    /// migration.
    pub async fn connect_with(
        url: &str,
        options: PostgresOptions,
    ) -> Result<PostgresStore, PostgresError> {
        if let Some(schema) = &options.schema {
            validate_schema(schema)?;
        }
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(PostgresError::InvalidUrl {
                reason: "expected a postgres:// or postgresql:// URL".to_owned(),
            });
        }
        let parsed = PgConnectOptions::from_str(url).map_err(|e| PostgresError::InvalidUrl {
            // sqlx's messages do not repeat the URL; keep it that way.
            reason: match e {
                sqlx::Error::Configuration(inner) => inner.to_string(),
                other => other.to_string(),
            },
        })?;
        PostgresStore::connect_with_options(parsed, options).await
    }

    /// Like [`connect_with`](Self::connect_with), from sqlx connect options (for TLS
    /// settings and the like that a URL does not carry).
    pub async fn connect_with_options(
        connect_options: PgConnectOptions,
        options: PostgresOptions,
    ) -> Result<PostgresStore, PostgresError> {
        if let Some(schema) = &options.schema {
            validate_schema(schema)?;
        }
        let server = format!(
            "{}:{}/{}",
            connect_options.get_host(),
            connect_options.get_port(),
            connect_options.get_database().unwrap_or("")
        );
        let statement_timeout = options.query_timeout.as_millis().max(1).to_string();
        let mut connect_options = connect_options
            .application_name(&options.application_name)
            .options([("statement_timeout", statement_timeout.as_str())]);
        if let Some(schema) = &options.schema {
            // Validated above: identifier characters only, nothing to escape.
            connect_options = connect_options.options([("search_path", schema.as_str())]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .min_connections(0)
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(options.ping_before_use)
            .connect_lazy_with(connect_options.clone());
        let located = tokio::time::timeout(
            // Migrating may wait for another instance's migration (bounded by the
            // server-side statement timeout) as well as for a connection.
            options.acquire_timeout + options.query_timeout * 2,
            migrate::migrate(&pool, &server, options.schema.as_deref()),
        )
        .await
        .unwrap_or_else(|_| {
            Err(PostgresError::Unreachable {
                server: server.clone(),
                source: sqlx::Error::PoolTimedOut,
            })
        });
        let (schema, channel) = match located {
            Ok(located) => located,
            Err(e) => {
                pool.close().await;
                return Err(e);
            }
        };
        tracing::debug!(target: "keyward", %server, %schema, "PostgreSQL key store ready");
        Ok(PostgresStore {
            pool,
            shared: Arc::new(Shared {
                schema,
                channel,
                server,
                connect_options,
                options,
            }),
        })
    }

    /// The schema holding keyward's tables (the configured one, or where the server's
    /// default `search_path` put them, usually `public`).
    pub fn schema(&self) -> &str {
        &self.shared.schema
    }

    /// The NOTIFY channel this store's schema uses for invalidations:
    /// `keyward_keys.<schema>` (for schema names over 50 bytes, their MD5 instead).
    pub fn channel(&self) -> &str {
        &self.shared.channel
    }

    /// The connection pool, for queries of your own next to keyward's tables.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) fn connect_options(&self) -> &PgConnectOptions {
        &self.shared.connect_options
    }

    pub(crate) fn options(&self) -> &PostgresOptions {
        &self.shared.options
    }

    pub(crate) fn server(&self) -> &str {
        &self.shared.server
    }

    /// Inserts many records in one transaction (an import, or a benchmark's setup). Fails
    /// with [`StoreError::Conflict`] and inserts none when any id exists.
    pub async fn insert_batch(&self, records: &[KeyRecord]) -> Result<(), StoreError> {
        let work = async {
            let mut tx = self.pool.begin().await.map_err(store_error)?;
            for record in records {
                insert_into(&mut *tx, record).await?;
            }
            tx.commit().await.map_err(store_error)
        };
        // An import may be large: each statement is bounded by the server's
        // statement timeout, the whole by the number of records.
        let limit = self.shared.options.query_timeout
            + Duration::from_millis(10)
                .saturating_mul(u32::try_from(records.len()).unwrap_or(u32::MAX));
        bounded(limit, work).await
    }

    /// Closes every connection; later calls answer [`StoreError::Unavailable`].
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Runs one store call under the query timeout (plus the time to get a connection).
    async fn bounded<T>(
        &self,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let options = &self.shared.options;
        bounded(options.acquire_timeout + options.query_timeout, work).await
    }

    /// Runs an `UPDATE … RETURNING` on one key and decodes the result.
    async fn update_returning(
        &self,
        sql: &'static str,
        id: &KeyId,
        value: Option<i64>,
    ) -> Result<KeyRecord, StoreError> {
        self.bounded(update_returning(&self.pool, sql, id, value))
            .await
    }

    /// Makes `change` and appends `audit` in one transaction: both or neither.
    /// Dropping the transaction on any early return rolls everything back, the
    /// change's NOTIFY included.
    async fn change_and_log(
        &self,
        change: KeyChange<'_>,
        audit: Option<&AuditEntry>,
    ) -> Result<KeyRecord, StoreError> {
        self.bounded(async {
            let mut tx = self.pool.begin().await.map_err(store_error)?;
            let record = change_in(&mut tx, change).await?;
            // Last before the commit: the append lock is held as briefly as it can be,
            // and after the key's row locks, as every change takes them.
            if let Some(entry) = audit {
                insert_audit(&mut tx, entry).await?;
            }
            tx.commit().await.map_err(store_error)?;
            Ok(record)
        })
        .await
    }
}

/// Runs an `UPDATE … RETURNING` on one key and decodes the result.
async fn update_returning<'c, E>(
    executor: E,
    sql: &'static str,
    id: &KeyId,
    value: Option<i64>,
) -> Result<KeyRecord, StoreError>
where
    E: Executor<'c, Database = Postgres>,
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

/// Makes `change` on `conn`, inside a transaction the caller commits; an error leaves it
/// to be rolled back.
async fn change_in(
    conn: &mut PgConnection,
    change: KeyChange<'_>,
) -> Result<KeyRecord, StoreError> {
    match change {
        KeyChange::Insert {
            record,
            max_live,
            now,
        } => {
            // Serialises capped inserts of one owner from every instance.
            sqlx::query(sql::ADVISORY_LOCK)
                .bind(sql::OWNER_LOCK)
                .bind(record.owner.as_str())
                .execute(&mut *conn)
                .await
                .map_err(store_error)?;
            if count_live_in(&mut *conn, &record.owner, now).await?.live >= max_live {
                return Err(StoreError::TooManyKeys { max: max_live });
            }
            insert_into(&mut *conn, record).await?;
            Ok(record.clone())
        }
        KeyChange::Revoke { id, at } => {
            update_returning(conn, sql::REVOKE, id, Some(millis(at))).await
        }
        KeyChange::Delete { id } => {
            let row = sqlx::query(sql::DELETE)
                .bind(id.as_str())
                .fetch_optional(conn)
                .await
                .map_err(store_error)?
                .ok_or(StoreError::NotFound)?;
            decode(&row)
        }
        KeyChange::SetDisabled { id, disabled_at } => {
            update_returning(conn, sql::SET_DISABLED, id, disabled_at.map(millis)).await
        }
        KeyChange::SetExpiry { id, expires_at } => {
            update_returning(conn, sql::SET_EXPIRY, id, expires_at.map(millis)).await
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
    conn: &mut PgConnection,
    old: &KeyId,
    old_expires_at: Timestamp,
    replacement: &KeyRecord,
    now: Timestamp,
) -> Result<KeyRecord, StoreError> {
    let expire = || {
        sqlx::query(sql::EXPIRE_FOR_ROLL)
            .bind(old.as_str())
            .bind(millis(old_expires_at))
            .bind(replacement.id.as_str())
            .bind(millis(now))
    };
    let mut row = expire()
        .fetch_optional(&mut *conn)
        .await
        .map_err(store_error)?;
    if row.is_none() {
        let locked = sqlx::query(sql::SELECT_FOR_ROLL)
            .bind(old.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(store_error)?;
        let Some(locked) = locked else {
            return Err(StoreError::NotFound);
        };
        let current = decode(&locked)?;
        if current.replaced_by.is_some() {
            return Err(StoreError::AlreadyRolled);
        }
        let state = current.state(now);
        if state != KeyState::Active {
            return Err(StoreError::NotActive(state));
        }
        // Enabled again (or its expiry lifted) between the two statements; the lock now
        // holds it active, so the update matches.
        row = expire()
            .fetch_optional(&mut *conn)
            .await
            .map_err(store_error)?;
    }
    let Some(row) = row else {
        return Err(StoreError::Corrupt(
            "a roll matched no row of an active key".to_owned(),
        ));
    };
    let updated = decode(&row)?;
    insert_into(&mut *conn, replacement).await?;
    Ok(updated)
}

async fn bounded<T>(
    limit: Duration,
    work: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
        Err(StoreError::unavailable(format!(
            "PostgreSQL did not answer within {limit:?}"
        )))
    })
}

#[async_trait]
impl KeyStore for PostgresStore {
    async fn insert(&self, record: &KeyRecord) -> Result<(), StoreError> {
        self.bounded(insert_into(&self.pool, record)).await
    }

    async fn get(&self, id: &KeyId) -> Result<KeyRecord, StoreError> {
        self.bounded(async {
            let row = sqlx::query(sql::SELECT_BY_ID)
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?
                .ok_or(StoreError::NotFound)?;
            decode(&row)
        })
        .await
    }

    async fn list(&self, filter: &ListFilter, page: PageRequest) -> Result<Page, StoreError> {
        page.validate()?;
        self.bounded(async {
            let mut query = sqlx::query(sql::list(
                filter.owner.is_some(),
                filter.tenant.is_some(),
                page.after.is_some(),
            ));
            if let Some(owner) = &filter.owner {
                query = query.bind(owner.as_str());
            }
            if let Some(tenant) = &filter.tenant {
                query = query
                    .bind(tenant.team.as_str())
                    .bind(tenant.project.as_str());
            }
            query = query.bind(filter.include_revoked);
            if let Some(after) = &page.after {
                query = query.bind(after.as_str());
            }
            let rows = query
                .bind(i64::from(page.limit) + 1)
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
            if rows.is_empty()
                && let Some(after) = &page.after
            {
                // Nothing after the cursor, or no such cursor: only now ask which.
                let exists: bool = sqlx::query_scalar(sql::EXISTS)
                    .bind(after.as_str())
                    .fetch_one(&self.pool)
                    .await
                    .map_err(store_error)?;
                if !exists {
                    return Err(StoreError::InvalidRequest(format!(
                        "page cursor {after} names no key"
                    )));
                }
            }
            let more = rows.len() > page.limit as usize;
            let records = rows
                .iter()
                .take(page.limit as usize)
                .map(decode)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::new(records, more))
        })
        .await
    }

    async fn revoke(&self, id: &KeyId, at: Timestamp) -> Result<KeyRecord, StoreError> {
        self.update_returning(sql::REVOKE, id, Some(millis(at)))
            .await
    }

    async fn delete(&self, id: &KeyId) -> Result<KeyRecord, StoreError> {
        self.bounded(async {
            let row = sqlx::query(sql::DELETE)
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?
                .ok_or(StoreError::NotFound)?;
            decode(&row)
        })
        .await
    }

    async fn set_expiry(
        &self,
        id: &KeyId,
        expires_at: Option<Timestamp>,
    ) -> Result<KeyRecord, StoreError> {
        self.update_returning(sql::SET_EXPIRY, id, expires_at.map(millis))
            .await
    }

    async fn set_disabled(
        &self,
        id: &KeyId,
        disabled_at: Option<Timestamp>,
    ) -> Result<KeyRecord, StoreError> {
        self.update_returning(sql::SET_DISABLED, id, disabled_at.map(millis))
            .await
    }

    async fn update_hash(&self, id: &KeyId, hash: &str) -> Result<(), StoreError> {
        self.bounded(async {
            let done = sqlx::query(sql::UPDATE_HASH)
                .bind(id.as_str())
                .bind(hash)
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn roll(
        &self,
        old: &KeyId,
        old_expires_at: Timestamp,
        replacement: &KeyRecord,
        now: Timestamp,
    ) -> Result<KeyRecord, StoreError> {
        let change = KeyChange::Roll {
            old,
            old_expires_at,
            replacement,
            now,
        };
        self.change_and_log(change, None).await
    }

    async fn touch_last_used(&self, updates: &[(KeyId, Timestamp)]) -> Result<(), StoreError> {
        if updates.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = updates.iter().map(|(id, _)| id.as_str()).collect();
        let times: Vec<i64> = updates.iter().map(|(_, at)| millis(*at)).collect();
        self.bounded(async {
            sqlx::query(sql::TOUCH)
                .bind(ids.as_slice())
                .bind(times.as_slice())
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
            Ok(())
        })
        .await
    }

    /// One statement for the whole batch, merged by key first so each row is updated
    /// once.
    async fn record_usage(&self, updates: &[UsageUpdate]) -> Result<(), StoreError> {
        if updates.is_empty() {
            return Ok(());
        }
        let merged = UsageUpdate::merged(updates);
        let ids: Vec<&str> = merged.iter().map(|u| u.id.as_str()).collect();
        let times: Vec<i64> = merged.iter().map(|u| millis(u.last_used_at)).collect();
        let (pair_ids, pair_names): (Vec<&str>, Vec<&str>) = merged
            .iter()
            .flat_map(|u| u.used.iter().map(|name| (u.id.as_str(), name.as_str())))
            .unzip();
        self.bounded(async {
            sqlx::query(sql::RECORD_USAGE)
                .bind(ids.as_slice())
                .bind(times.as_slice())
                .bind(pair_ids.as_slice())
                .bind(pair_names.as_slice())
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
            Ok(())
        })
        .await
    }

    async fn count_live(&self, owner: &str, now: Timestamp) -> Result<LiveKeys, StoreError> {
        self.bounded(count_live_in(&self.pool, owner, now)).await
    }

    /// Counts and inserts under a transaction-scoped advisory lock on the owner, so
    /// inserts of one owner from every instance are serialised.
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

    /// The change and the entry in one transaction: a change is never left without its
    /// entry, nor an entry without its change.
    async fn apply(
        &self,
        change: KeyChange<'_>,
        audit: Option<&AuditEntry>,
    ) -> Result<KeyRecord, StoreError> {
        self.change_and_log(change, audit).await
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.bounded(async {
            let mut tx = self.pool.begin().await.map_err(store_error)?;
            insert_audit(&mut tx, entry).await?;
            tx.commit().await.map_err(store_error)
        })
        .await
    }

    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        query.validate()?;
        let since = query.since.map(millis);
        let after = query.after_seq.map_or(0, seq_bound);
        let limit = i64::from(query.limit);
        self.bounded(async {
            let rows = match &query.key {
                Some(key) => sqlx::query(sql::LIST_AUDIT_BY_KEY).bind(key.as_str()),
                None => sqlx::query(sql::LIST_AUDIT),
            }
            .bind(since)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
            rows.iter().map(decode_audit).collect()
        })
        .await
    }

    async fn prune_audit(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.bounded(async {
            let done = sqlx::query(sql::PRUNE_AUDIT)
                .bind(millis(before))
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
            Ok(done.rows_affected())
        })
        .await
    }
}
