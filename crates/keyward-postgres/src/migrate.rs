//! Bringing a database to [`SCHEMA_VERSION`] at connect, and finding where the tables
//! are. An up-to-date schema is only read, so a role without CREATE privileges can use
//! a schema that another role migrated.

use sqlx::{AssertSqlSafe, PgConnection, PgPool};

use crate::error::PostgresError;
use crate::schema::{
    CURRENT_VERSION, HAS_VERSION_TABLE, LOCATE, MIGRATION_LOCK, MIGRATIONS, RECORD_VERSION,
    SCHEMA_EXISTS, SCHEMA_VERSION, VERSION_TABLE,
};
use crate::sql;

/// Applies pending migrations; returns the schema holding the tables and its channel.
pub(crate) async fn migrate(
    pool: &PgPool,
    server: &str,
    schema: Option<&str>,
) -> Result<(String, String), PostgresError> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(|e| PostgresError::connecting(server, e))?;
    match stored_version(&mut conn, server).await? {
        Some(found) if found > SCHEMA_VERSION => return Err(newer(schema, found)),
        Some(found) if found == SCHEMA_VERSION => {}
        _ => upgrade(&mut conn, server, schema).await?,
    }
    sqlx::query_as(LOCATE)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| PostgresError::migrating(server, e))
}

/// The schema's version, read without writing; `None` before the first migration.
async fn stored_version(
    conn: &mut PgConnection,
    server: &str,
) -> Result<Option<i64>, PostgresError> {
    let has_table: bool = sqlx::query_scalar(HAS_VERSION_TABLE)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| PostgresError::connecting(server, e))?;
    if !has_table {
        return Ok(None);
    }
    let found = sqlx::query_scalar(CURRENT_VERSION)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| PostgresError::migrating(server, e))?;
    Ok(Some(found))
}

/// Applies the missing migrations in one transaction, under an advisory lock on the
/// schema, so that instances starting at once migrate one after the other.
async fn upgrade(
    conn: &mut PgConnection,
    server: &str,
    schema: Option<&str>,
) -> Result<(), PostgresError> {
    let migrating = |e| PostgresError::migrating(server, e);
    // Dropping the transaction on any early return rolls it back: nothing is changed.
    let mut tx = sqlx::Acquire::begin(conn).await.map_err(migrating)?;
    sqlx::query(sql::ADVISORY_LOCK)
        .bind(MIGRATION_LOCK)
        .bind(schema.unwrap_or(""))
        .execute(&mut *tx)
        .await
        .map_err(migrating)?;
    if let Some(schema) = schema {
        create_schema_if_missing(&mut tx, server, schema).await?;
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
        return Err(newer(schema, found));
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
    tx.commit().await.map_err(migrating)
}

/// Creates the configured schema unless it exists (checked first, so an existing
/// schema needs no CREATE privilege on the database).
async fn create_schema_if_missing(
    tx: &mut PgConnection,
    server: &str,
    schema: &str,
) -> Result<(), PostgresError> {
    let migrating = |e| PostgresError::migrating(server, e);
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
    Ok(())
}

/// The database holds a schema written by a newer keyward.
fn newer(schema: Option<&str>, found: i64) -> PostgresError {
    PostgresError::NewerSchema {
        schema: schema.unwrap_or("(default)").to_owned(),
        found,
        supported: SCHEMA_VERSION,
    }
}
