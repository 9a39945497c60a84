use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use keyward_clock::Timestamp;
use keyward_format::KeyId;
use keyward_store::columns::{KeyColumns, corrupt, millis};
use keyward_store::{KeyRecord, KeyStore, ListFilter, LiveKeys, Page, PageRequest, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Executor, Postgres, Row};

use crate::error::PostgresError;
use crate::options::{PostgresOptions, validate_schema};
use crate::schema::{
    CURRENT_VERSION, HAS_VERSION_TABLE, LOCATE, LOCK, MIGRATION_LOCK, MIGRATIONS, RECORD_VERSION,
    SCHEMA_EXISTS, SCHEMA_VERSION, VERSION_TABLE,
};

/// The columns as selected (and returned by `UPDATE … RETURNING`).
macro_rules! columns {
    () => {
        "id, prefix, last4, name, owner, tenant_team, tenant_project, capabilities, \
         created_at, expires_at, last_used_at, revoked_at, disabled_at, hash, \
         metadata::TEXT AS metadata, rate_limit, rate_period_ms, ip_allowlist, replaced_by"
    };
}

const SELECT_BY_ID: &str = concat!("SELECT ", columns!(), " FROM keyward_keys WHERE id = $1");

const INSERT: &str = "INSERT INTO keyward_keys (id, prefix, last4, name, owner, tenant_team,
        tenant_project, capabilities, created_at, expires_at, last_used_at, revoked_at,
        disabled_at, hash, metadata, rate_limit, rate_period_ms, ip_allowlist, replaced_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::JSONB, $16,
        $17, $18, $19)";

/// A listing query: `$where` filters, then `(created_at, id)` order and a limit. Each
/// filter shape has its own statement so the planner walks the matching index even
/// with a generic plan; binds are numbered in the order owner, team, project, include
/// revoked, cursor, limit, skipping those a shape does not use.
macro_rules! list {
    ($where:expr, $limit:literal) => {
        concat!(
            "SELECT ",
            columns!(),
            " FROM keyward_keys WHERE ",
            $where,
            " ORDER BY created_at, id LIMIT ",
            $limit
        )
    };
}

/// The cursor condition: strictly after the named key in `(created_at, id)` order. A
/// cursor naming no key selects nothing (the comparison with NULL is never true); the
/// store then tells "no such cursor" from "last page" with one more query.
macro_rules! after {
    ($n:literal) => {
        concat!(
            " AND (created_at, id) > (SELECT c.created_at, c.id FROM keyward_keys c WHERE c.id = ",
            $n,
            ")"
        )
    };
}

const LIST_ALL: &str = list!("($1 OR revoked_at IS NULL)", "$2");
const LIST_ALL_AFTER: &str = list!(concat!("($1 OR revoked_at IS NULL)", after!("$2")), "$3");
const LIST_OWNER: &str = list!("owner = $1 AND ($2 OR revoked_at IS NULL)", "$3");
const LIST_OWNER_AFTER: &str = list!(
    concat!("owner = $1 AND ($2 OR revoked_at IS NULL)", after!("$3")),
    "$4"
);
const LIST_TENANT: &str = list!(
    "tenant_team = $1 AND tenant_project = $2 AND ($3 OR revoked_at IS NULL)",
    "$4"
);
const LIST_TENANT_AFTER: &str = list!(
    concat!(
        "tenant_team = $1 AND tenant_project = $2 AND ($3 OR revoked_at IS NULL)",
        after!("$4")
    ),
    "$5"
);
const LIST_OWNER_TENANT: &str = list!(
    "owner = $1 AND tenant_team = $2 AND tenant_project = $3 AND ($4 OR revoked_at IS NULL)",
    "$5"
);
const LIST_OWNER_TENANT_AFTER: &str = list!(
    concat!(
        "owner = $1 AND tenant_team = $2 AND tenant_project = $3 AND ($4 OR revoked_at IS NULL)",
        after!("$5")
    ),
    "$6"
);

const EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM keyward_keys WHERE id = $1)";

// Each UPDATE that changes what a cache may hold fires the `keyward_keys_changed`
// trigger (see schema.rs), which NOTIFYs the schema's channel in the same transaction.

const REVOKE: &str = concat!(
    "UPDATE keyward_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING ",
    columns!()
);

const SET_EXPIRY: &str = concat!(
    "UPDATE keyward_keys SET expires_at = $2 WHERE id = $1 RETURNING ",
    columns!()
);

const SET_DISABLED: &str = concat!(
    "UPDATE keyward_keys SET disabled_at = $2 WHERE id = $1 RETURNING ",
    columns!()
);

const UPDATE_HASH: &str = "UPDATE keyward_keys SET hash = $2 WHERE id = $1";

/// Only a key that was never rolled rolls: the row lock makes a concurrent second roll
/// wait, then find `replaced_by` set and change nothing.
const EXPIRE_FOR_ROLL: &str = concat!(
    "UPDATE keyward_keys SET expires_at = $2, replaced_by = $3
    WHERE id = $1 AND replaced_by IS NULL RETURNING ",
    columns!()
);

/// One owner's live keys and, of those, the rolled ones in their grace.
const COUNT_LIVE: &str = "SELECT COUNT(*), COUNT(replaced_by) FROM keyward_keys
    WHERE owner = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)";

/// Key of the transaction-scoped advisory lock that serialises capped inserts of one
/// owner (the first half of the two-key form; the second is a hash of the owner), so
/// concurrent mints on any number of instances count each other's keys.
const OWNER_LOCK: i32 = 0x6b77_6f77; // "kwow"

/// The latest time per id wins, and a stored time is never moved backwards.
const TOUCH: &str = "UPDATE keyward_keys k SET last_used_at = u.at
    FROM (SELECT id, MAX(at) AS at FROM UNNEST($1::TEXT[], $2::BIGINT[]) AS t(id, at)
          GROUP BY id) u
    WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)";

/// A [`KeyStore`] on PostgreSQL: the scale-out store.
///
/// Tables live in one schema (the configured one, created when missing, or the server's
/// default); the embedded migrations are applied at connect, in one transaction, under
/// an advisory lock. Lookups by id use the primary key; a listing is one query on an
/// index matching its filter. Every change that must evict caches (revoke, disable,
/// expiry, a roll's old key) NOTIFYs the schema's channel in the same transaction; an
/// [`InvalidationListener`](crate::InvalidationListener) delivers those to a process.
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
            migrate(&pool, &server, options.schema.as_deref()),
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
        self.bounded(async {
            let row = sqlx::query(sql)
                .bind(id.as_str())
                .bind(value)
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?
                .ok_or(StoreError::NotFound)?;
            decode(&row)
        })
        .await
    }
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

/// Applies pending migrations; returns the schema holding the tables and its channel.
async fn migrate(
    pool: &PgPool,
    server: &str,
    schema: Option<&str>,
) -> Result<(String, String), PostgresError> {
    let connecting = |e| PostgresError::connecting(server, e);
    let migrating = |e| PostgresError::migrating(server, e);
    let newer = |found| PostgresError::NewerSchema {
        schema: schema.unwrap_or("(default)").to_owned(),
        found,
        supported: SCHEMA_VERSION,
    };
    // A read first: an up-to-date (or newer) schema is never written to, so a role
    // without CREATE privileges can use a schema migrated by another.
    let mut conn = pool.acquire().await.map_err(connecting)?;
    let has_table: bool = sqlx::query_scalar(HAS_VERSION_TABLE)
        .fetch_one(&mut *conn)
        .await
        .map_err(connecting)?;
    let mut up_to_date = false;
    if has_table {
        let found: i64 = sqlx::query_scalar(CURRENT_VERSION)
            .fetch_one(&mut *conn)
            .await
            .map_err(migrating)?;
        if found > SCHEMA_VERSION {
            return Err(newer(found));
        }
        up_to_date = found == SCHEMA_VERSION;
    }
    if !up_to_date {
        let mut tx = sqlx::Acquire::begin(&mut *conn).await.map_err(migrating)?;
        sqlx::query(LOCK)
            .bind(MIGRATION_LOCK)
            .bind(schema.unwrap_or(""))
            .execute(&mut *tx)
            .await
            .map_err(migrating)?;
        if let Some(schema) = schema {
            let exists: bool = sqlx::query_scalar(SCHEMA_EXISTS)
                .bind(schema)
                .fetch_one(&mut *tx)
                .await
                .map_err(migrating)?;
            if !exists {
                // The name was validated: identifier characters only.
                let create = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
                sqlx::query(AssertSqlSafe(create))
                    .execute(&mut *tx)
                    .await
                    .map_err(migrating)?;
            }
        }
        sqlx::query(VERSION_TABLE)
            .execute(&mut *tx)
            .await
            .map_err(migrating)?;
        // Another instance may have migrated while this one waited for the lock.
        let found: i64 = sqlx::query_scalar(CURRENT_VERSION)
            .fetch_one(&mut *tx)
            .await
            .map_err(migrating)?;
        if found > SCHEMA_VERSION {
            // Dropping the transaction rolls it back: nothing was changed.
            return Err(newer(found));
        }
        for (version, migration) in (1i64..).zip(MIGRATIONS.iter()).skip(found.max(0) as usize) {
            sqlx::raw_sql(*migration)
                .execute(&mut *tx)
                .await
                .map_err(migrating)?;
            sqlx::query(RECORD_VERSION)
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(migrating)?;
            tracing::info!(target: "keyward", %server, schema = schema.unwrap_or("(default)"), version, "applied keyward schema migration");
        }
        tx.commit().await.map_err(migrating)?;
    }
    let (located, channel): (String, String) = sqlx::query_as(LOCATE)
        .fetch_one(&mut *conn)
        .await
        .map_err(migrating)?;
    Ok((located, channel))
}

/// A timestamp as stored: unix milliseconds (saturating far in the future).
/// Maps a database error to the store's answer: constraint and data errors are the
/// caller's, decode errors are corrupt rows, everything else (connection refused, pool
/// timeout, server shutdown, statement timeout) is "unavailable", a 503.
pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(e.to_string())
        }
        sqlx::Error::Encode(_) => StoreError::InvalidRequest(e.to_string()),
        // Class 22 (data exception: a NUL character, a value out of range) and 23
        // (another integrity constraint): the request carried a value the schema refuses.
        sqlx::Error::Database(db)
            if db
                .code()
                .is_some_and(|c| c.starts_with("22") || c.starts_with("23")) =>
        {
            StoreError::InvalidRequest(e.to_string())
        }
        _ => StoreError::unavailable(e),
    }
}

async fn insert_into<'c, E>(executor: E, r: &KeyRecord) -> Result<(), StoreError>
where
    E: Executor<'c, Database = Postgres>,
{
    let c = KeyColumns::of(r);
    let metadata = serde_json::to_string(&c.metadata)
        .map_err(|e| StoreError::InvalidRequest(format!("metadata: {e}")))?;
    sqlx::query(INSERT)
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
        .execute(executor)
        .await
        .map_err(store_error)?;
    Ok(())
}

fn get<'r, T>(row: &'r PgRow, column: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(column).map_err(|e| corrupt(column, e))
}

fn decode(row: &PgRow) -> Result<KeyRecord, StoreError> {
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
    }
    .into_record()
}

async fn count_live_in<'c, E>(
    executor: E,
    owner: &str,
    now: Timestamp,
) -> Result<LiveKeys, StoreError>
where
    E: Executor<'c, Database = Postgres>,
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

#[async_trait]
impl KeyStore for PostgresStore {
    async fn insert(&self, record: &KeyRecord) -> Result<(), StoreError> {
        self.bounded(insert_into(&self.pool, record)).await
    }

    async fn get(&self, id: &KeyId) -> Result<KeyRecord, StoreError> {
        self.bounded(async {
            let row = sqlx::query(SELECT_BY_ID)
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
            let sql = match (&filter.owner, &filter.tenant, &page.after) {
                (None, None, None) => LIST_ALL,
                (None, None, Some(_)) => LIST_ALL_AFTER,
                (Some(_), None, None) => LIST_OWNER,
                (Some(_), None, Some(_)) => LIST_OWNER_AFTER,
                (None, Some(_), None) => LIST_TENANT,
                (None, Some(_), Some(_)) => LIST_TENANT_AFTER,
                (Some(_), Some(_), None) => LIST_OWNER_TENANT,
                (Some(_), Some(_), Some(_)) => LIST_OWNER_TENANT_AFTER,
            };
            let mut query = sqlx::query(sql);
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
                let exists: bool = sqlx::query_scalar(EXISTS)
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
        self.update_returning(REVOKE, id, Some(millis(at))).await
    }

    async fn set_expiry(
        &self,
        id: &KeyId,
        expires_at: Option<Timestamp>,
    ) -> Result<KeyRecord, StoreError> {
        self.update_returning(SET_EXPIRY, id, expires_at.map(millis))
            .await
    }

    async fn set_disabled(
        &self,
        id: &KeyId,
        disabled_at: Option<Timestamp>,
    ) -> Result<KeyRecord, StoreError> {
        self.update_returning(SET_DISABLED, id, disabled_at.map(millis))
            .await
    }

    async fn update_hash(&self, id: &KeyId, hash: &str) -> Result<(), StoreError> {
        self.bounded(async {
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
        })
        .await
    }

    async fn roll(
        &self,
        old: &KeyId,
        old_expires_at: Timestamp,
        replacement: &KeyRecord,
    ) -> Result<KeyRecord, StoreError> {
        self.bounded(async {
            // Dropping the transaction on any early return rolls everything back,
            // the old key's NOTIFY included.
            let mut tx = self.pool.begin().await.map_err(store_error)?;
            let row = sqlx::query(EXPIRE_FOR_ROLL)
                .bind(old.as_str())
                .bind(millis(old_expires_at))
                .bind(replacement.id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
            let Some(row) = row else {
                let exists: bool = sqlx::query_scalar(EXISTS)
                    .bind(old.as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(store_error)?;
                return Err(if exists {
                    StoreError::AlreadyRolled
                } else {
                    StoreError::NotFound
                });
            };
            let updated = decode(&row)?;
            insert_into(&mut *tx, replacement).await?;
            tx.commit().await.map_err(store_error)?;
            Ok(updated)
        })
        .await
    }

    async fn touch_last_used(&self, updates: &[(KeyId, Timestamp)]) -> Result<(), StoreError> {
        if updates.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = updates.iter().map(|(id, _)| id.as_str()).collect();
        let times: Vec<i64> = updates.iter().map(|(_, at)| millis(*at)).collect();
        self.bounded(async {
            sqlx::query(TOUCH)
                .bind(ids.as_slice())
                .bind(times.as_slice())
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
        self.bounded(async {
            let mut tx = self.pool.begin().await.map_err(store_error)?;
            sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                .bind(OWNER_LOCK)
                .bind(record.owner.as_str())
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
            if count_live_in(&mut *tx, &record.owner, now).await?.live >= max_live {
                return Err(StoreError::TooManyKeys { max: max_live });
            }
            insert_into(&mut *tx, record).await?;
            tx.commit().await.map_err(store_error)
        })
        .await
    }
}
