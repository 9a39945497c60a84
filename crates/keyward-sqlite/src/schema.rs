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
    // 3: the change feed other processes poll (`crate::ChangeFeed`). Triggers rather
    // than code in the store, so a change made by any writer (the CLI, another server,
    // an operator in the sqlite3 shell) is logged, inside the changing transaction: a
    // rolled-back change logs nothing. `last_used_at` (usage flushes) and `hash`
    // (re-hashing after a verification: the secret did not change) log nothing, so
    // traffic alone never grows the feed. AUTOINCREMENT keeps `seq` rising even if the
    // table is emptied by hand, which readers then notice. The last trigger keeps only
    // the newest `CHANGES_KEPT` rows: pruning costs each change one rowid-range delete,
    // whoever writes. A new column of `keyward_keys` that caches hold must be added to
    // the `WHEN` of `keyward_keys_changed` by its migration.
    "CREATE TABLE keyward_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key_id TEXT NOT NULL,
        changed_at INTEGER NOT NULL
    );
    CREATE TRIGGER keyward_keys_changed AFTER UPDATE ON keyward_keys FOR EACH ROW
        WHEN (OLD.id, OLD.prefix, OLD.last4, OLD.name, OLD.owner, OLD.tenant_team,
              OLD.tenant_project, OLD.capabilities, OLD.created_at, OLD.expires_at,
              OLD.revoked_at, OLD.disabled_at, OLD.metadata, OLD.rate_limit,
              OLD.rate_period_ms, OLD.ip_allowlist, OLD.replaced_by)
             IS NOT
             (NEW.id, NEW.prefix, NEW.last4, NEW.name, NEW.owner, NEW.tenant_team,
              NEW.tenant_project, NEW.capabilities, NEW.created_at, NEW.expires_at,
              NEW.revoked_at, NEW.disabled_at, NEW.metadata, NEW.rate_limit,
              NEW.rate_period_ms, NEW.ip_allowlist, NEW.replaced_by)
    BEGIN
        INSERT INTO keyward_changes (key_id, changed_at)
            SELECT OLD.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
            WHERE OLD.id IS NOT NEW.id;
        INSERT INTO keyward_changes (key_id, changed_at)
            VALUES (NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
    END;
    CREATE TRIGGER keyward_keys_deleted AFTER DELETE ON keyward_keys FOR EACH ROW
    BEGIN
        INSERT INTO keyward_changes (key_id, changed_at)
            VALUES (OLD.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
    END;
    CREATE TRIGGER keyward_changes_pruned AFTER INSERT ON keyward_changes FOR EACH ROW
    BEGIN
        DELETE FROM keyward_changes WHERE seq <= NEW.seq - 10000;
    END;",
    // 4: the audit log (`crate::SqliteStore`'s `apply` writes a change and its entry in
    // one transaction). Encoded as the keys table is: unix milliseconds, capabilities as
    // JSON text. A table of its own with no triggers, so an entry never reaches the
    // change feed: only the change it records does. AUTOINCREMENT: a pruned `seq` is
    // never handed out again, so a reader paging with `after_seq` misses nothing.
    "CREATE TABLE keyward_audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        action TEXT NOT NULL,
        key_id TEXT NOT NULL,
        actor_kind TEXT NOT NULL,
        actor_id TEXT,
        client_ip TEXT,
        capabilities TEXT NOT NULL,
        replacement TEXT,
        note TEXT
    );
    CREATE INDEX keyward_audit_log_by_key ON keyward_audit_log (key_id, seq);
    CREATE INDEX keyward_audit_log_by_replacement ON keyward_audit_log (replacement, seq)
        WHERE replacement IS NOT NULL;
    CREATE INDEX keyward_audit_log_by_at ON keyward_audit_log (at);",
    // 5: honeytokens and recorded usage. Keys minted before were real keys with no use
    // recorded: not decoys, no names, `usage_since` NULL until their first recorded
    // use. None of the three joins the change feed's `WHEN`: a key's honeytoken flag
    // is set at mint and never changes, and the usage columns change with traffic, as
    // `last_used_at` does.
    "ALTER TABLE keyward_keys ADD COLUMN honeytoken INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE keyward_keys ADD COLUMN used_capabilities TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE keyward_keys ADD COLUMN usage_since INTEGER;",
];

/// How many of the newest rows of the change feed the file keeps (the literal in
/// migration 3's pruning trigger). A reader that fell further behind than this
/// cannot know what it missed and drops everything it cached.
pub const CHANGES_KEPT: i64 = 10_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_log_fires_no_trigger() {
        let audit = MIGRATIONS[3];
        assert!(!audit.contains("TRIGGER"), "{audit}");
        assert!(
            MIGRATIONS[..3]
                .iter()
                .all(|m| !m.contains("keyward_audit_log")),
            "no earlier trigger may name the audit table"
        );
    }

    #[test]
    fn the_pruning_trigger_keeps_changes_kept_rows() {
        let feed = MIGRATIONS[2];
        assert!(
            feed.contains(&format!("NEW.seq - {CHANGES_KEPT};")),
            "{feed}"
        );
    }
}
