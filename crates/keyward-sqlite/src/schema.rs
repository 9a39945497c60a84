//! Embedded migrations. Migration `i` (0-based) brings the file to version `i + 1`.

/// The newest schema version this build knows. A file with a higher version (written by
/// a newer keyward) is refused at open with [`crate::SqliteError::NewerSchema`].
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS keyward_schema_version (
    version INTEGER PRIMARY KEY NOT NULL,
    applied_at INTEGER NOT NULL
)";

pub(crate) const HAS_VERSION_TABLE: &str = "SELECT EXISTS (SELECT 1 FROM sqlite_master
    WHERE type = 'table' AND name = 'keyward_schema_version')";

pub(crate) const CURRENT_VERSION: &str =
    "SELECT COALESCE(MAX(version), 0) FROM keyward_schema_version";

pub(crate) const RECORD_VERSION: &str =
    "INSERT INTO keyward_schema_version (version, applied_at) VALUES (?1, ?2)";

pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the keys table. Timestamps are unix milliseconds; capabilities, metadata and the
    // IP allowlist are JSON text, so a listing is one query over one table.
    "CREATE TABLE keyward_keys (
        id TEXT PRIMARY KEY NOT NULL,
        prefix TEXT NOT NULL,
        last4 TEXT NOT NULL,
        name TEXT NOT NULL,
        owner TEXT NOT NULL,
        tenant_team TEXT,
        tenant_project TEXT,
        capabilities TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        last_used_at INTEGER,
        revoked_at INTEGER,
        disabled_at INTEGER,
        hash TEXT NOT NULL,
        metadata TEXT NOT NULL,
        rate_limit INTEGER,
        rate_period_ms INTEGER,
        ip_allowlist TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX keyward_keys_by_created ON keyward_keys (created_at, id);
    CREATE INDEX keyward_keys_by_owner ON keyward_keys (owner, created_at, id);
    CREATE INDEX keyward_keys_by_tenant
        ON keyward_keys (tenant_team, tenant_project, created_at, id);",
    // 2: the key that replaced a rolled key. Existing rows were never rolled under this
    // rule, so NULL is right for them.
    "ALTER TABLE keyward_keys ADD COLUMN replaced_by TEXT;",
];
