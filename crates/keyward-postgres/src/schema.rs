//! Embedded migrations. Migration `i` (0-based) brings the schema to version `i + 1`.
//!
//! Every statement here is unqualified: the store's connections run with `search_path`
//! set to the configured schema, so the same text serves every schema.

/// The newest schema version this build knows. A database with a higher version (written
/// by a newer keyward) is refused at connect with [`crate::PostgresError::NewerSchema`].
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Key of the transaction-scoped advisory lock that serialises migrations (the first
/// half of the two-key form; the second is a hash of the schema name), so two instances
/// starting at once migrate one after the other, and the second finds nothing to do.
pub(crate) const MIGRATION_LOCK: i32 = 0x6b77_7264; // "kwrd"

pub(crate) const SCHEMA_EXISTS: &str =
    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)";

pub(crate) const HAS_VERSION_TABLE: &str =
    "SELECT to_regclass('keyward_schema_version') IS NOT NULL";

pub(crate) const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS keyward_schema_version (
    version INTEGER PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)";

pub(crate) const CURRENT_VERSION: &str =
    "SELECT COALESCE(MAX(version), 0)::BIGINT FROM keyward_schema_version";

pub(crate) const RECORD_VERSION: &str =
    "INSERT INTO keyward_schema_version (version) VALUES ($1::INTEGER)";

/// The schema holding `keyward_keys` and the NOTIFY channel of that schema. The
/// expression is the one in the trigger function below: both must stay the same.
pub(crate) const LOCATE: &str = "SELECT n.nspname::TEXT,
        CASE WHEN octet_length(n.nspname) <= 50 THEN 'keyward_keys.' || n.nspname
             ELSE 'keyward_keys.' || md5(n.nspname) END
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = 'keyward_keys'::regclass";

pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the keys table and its invalidation trigger.
    //
    // Timestamps are unix milliseconds (BIGINT), as in the SQLite store, so every store
    // round-trips the same values; capabilities and the IP allowlist are text arrays,
    // metadata is JSONB: a listing is one query over one table. The id column sorts by
    // bytes (COLLATE "C"), as listings require.
    //
    // Invalidation is a trigger rather than code in the store, so a change made by any
    // writer (the CLI, another instance, an operator in psql) reaches every listening
    // instance, inside the changing transaction: a rolled-back change notifies nobody.
    // `last_used_at` (usage flushes) and `hash` (re-hashing after a verification: the
    // secret did not change and caches compare the hash on refresh) do not notify.
    r#"CREATE TABLE keyward_keys (
        id TEXT COLLATE "C" PRIMARY KEY,
        prefix TEXT NOT NULL,
        last4 TEXT NOT NULL,
        name TEXT NOT NULL,
        owner TEXT NOT NULL,
        tenant_team TEXT,
        tenant_project TEXT,
        capabilities TEXT[] NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        last_used_at BIGINT,
        revoked_at BIGINT,
        disabled_at BIGINT,
        hash TEXT NOT NULL,
        metadata JSONB NOT NULL,
        rate_limit BIGINT,
        rate_period_ms BIGINT,
        ip_allowlist TEXT[] NOT NULL,
        CONSTRAINT keyward_keys_tenant_both CHECK ((tenant_team IS NULL) = (tenant_project IS NULL)),
        CONSTRAINT keyward_keys_rate_both CHECK ((rate_limit IS NULL) = (rate_period_ms IS NULL))
    );
    CREATE INDEX keyward_keys_by_created ON keyward_keys (created_at, id);
    CREATE INDEX keyward_keys_by_owner ON keyward_keys (owner, created_at, id);
    CREATE INDEX keyward_keys_by_tenant
        ON keyward_keys (tenant_team, tenant_project, created_at, id);

    CREATE FUNCTION keyward_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
    DECLARE
        channel TEXT := CASE WHEN octet_length(TG_TABLE_SCHEMA) <= 50
            THEN 'keyward_keys.' || TG_TABLE_SCHEMA
            ELSE 'keyward_keys.' || md5(TG_TABLE_SCHEMA) END;
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            PERFORM pg_notify(channel, '*');
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM pg_notify(channel, OLD.id);
        ELSE
            IF OLD.id IS DISTINCT FROM NEW.id THEN
                PERFORM pg_notify(channel, OLD.id);
            END IF;
            PERFORM pg_notify(channel, NEW.id);
        END IF;
        RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER keyward_keys_changed AFTER UPDATE ON keyward_keys FOR EACH ROW
        WHEN ((OLD.id, OLD.prefix, OLD.last4, OLD.name, OLD.owner, OLD.tenant_team,
               OLD.tenant_project, OLD.capabilities, OLD.expires_at, OLD.revoked_at,
               OLD.disabled_at, OLD.metadata, OLD.rate_limit, OLD.rate_period_ms,
               OLD.ip_allowlist)
              IS DISTINCT FROM
              (NEW.id, NEW.prefix, NEW.last4, NEW.name, NEW.owner, NEW.tenant_team,
               NEW.tenant_project, NEW.capabilities, NEW.expires_at, NEW.revoked_at,
               NEW.disabled_at, NEW.metadata, NEW.rate_limit, NEW.rate_period_ms,
               NEW.ip_allowlist))
        EXECUTE FUNCTION keyward_keys_notify();
    CREATE TRIGGER keyward_keys_deleted AFTER DELETE ON keyward_keys FOR EACH ROW
        EXECUTE FUNCTION keyward_keys_notify();
    CREATE TRIGGER keyward_keys_truncated AFTER TRUNCATE ON keyward_keys FOR EACH STATEMENT
        EXECUTE FUNCTION keyward_keys_notify();"#,
    // 2: the key that replaced a rolled key. Existing rows were never rolled under this
    // rule, so NULL is right for them. A roll also moves the old key's expiry, which
    // notifies; `replaced_by` alone changes nothing a cache holds.
    r#"ALTER TABLE keyward_keys ADD COLUMN replaced_by TEXT COLLATE "C";"#,
    // 3: the audit log (the store's `apply` writes a change and its entry in one
    // transaction). Encoded as the keys table is: unix milliseconds, capabilities as a
    // text array; ids sort by bytes. A table of its own with no trigger, so appending
    // or pruning entries NOTIFYs nobody: only the key change an entry records does.
    r#"CREATE TABLE keyward_audit_log (
        seq BIGSERIAL PRIMARY KEY,
        at BIGINT NOT NULL,
        action TEXT NOT NULL,
        key_id TEXT COLLATE "C" NOT NULL,
        actor_kind TEXT NOT NULL,
        actor_id TEXT,
        client_ip TEXT,
        capabilities TEXT[] NOT NULL,
        replacement TEXT COLLATE "C",
        note TEXT
    );
    CREATE INDEX keyward_audit_log_by_key ON keyward_audit_log (key_id, seq);
    CREATE INDEX keyward_audit_log_by_replacement ON keyward_audit_log (replacement, seq)
        WHERE replacement IS NOT NULL;
    CREATE INDEX keyward_audit_log_by_at ON keyward_audit_log (at);"#,
    // 4: honeytokens and recorded usage. Keys created before were real keys with no use
    // recorded: not decoys, no names, `usage_since` NULL until their first recorded
    // use. None of the three joins the trigger's `WHEN`: a key's honeytoken flag is set
    // at insert and never changes, and the usage columns change with traffic, as
    // `last_used_at` does. Names sort by bytes, as every store sorts them.
    r#"ALTER TABLE keyward_keys
        ADD COLUMN honeytoken BOOLEAN NOT NULL DEFAULT FALSE,
        ADD COLUMN used_capabilities TEXT[] NOT NULL DEFAULT '{}',
        ADD COLUMN usage_since BIGINT;"#,
];
