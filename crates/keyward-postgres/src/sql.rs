//! The store's statements. Every statement is unqualified: the store's connections run
//! with `search_path` set to the configured schema, so the same text serves every
//! schema. The migrations and the statements that apply them are in `schema.rs`.

/// The columns as selected (and returned by `UPDATE … RETURNING`).
macro_rules! columns {
    () => {
        "id, prefix, last4, name, owner, tenant_team, tenant_project, capabilities, \
         created_at, expires_at, last_used_at, revoked_at, disabled_at, hash, \
         metadata::TEXT AS metadata, rate_limit, rate_period_ms, ip_allowlist, replaced_by, \
         honeytoken, used_capabilities, usage_since"
    };
}

pub(crate) const SELECT_BY_ID: &str =
    concat!("SELECT ", columns!(), " FROM keyward_keys WHERE id = $1");

pub(crate) const INSERT: &str =
    "INSERT INTO keyward_keys (id, prefix, last4, name, owner, tenant_team,
        tenant_project, capabilities, created_at, expires_at, last_used_at, revoked_at,
        disabled_at, hash, metadata, rate_limit, rate_period_ms, ip_allowlist, replaced_by,
        honeytoken, used_capabilities, usage_since)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::JSONB, $16,
        $17, $18, $19, $20, $21, $22)";

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

pub(crate) const EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM keyward_keys WHERE id = $1)";

// Each UPDATE that changes what a cache may hold fires the `keyward_keys_changed`
// trigger (see the migrations), which NOTIFYs the schema's channel in the same
// transaction.

pub(crate) const REVOKE: &str = concat!(
    "UPDATE keyward_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING ",
    columns!()
);

pub(crate) const SET_EXPIRY: &str = concat!(
    "UPDATE keyward_keys SET expires_at = $2 WHERE id = $1 RETURNING ",
    columns!()
);

pub(crate) const SET_DISABLED: &str = concat!(
    "UPDATE keyward_keys SET disabled_at = $2 WHERE id = $1 RETURNING ",
    columns!()
);

/// Fires the `keyward_keys_deleted` trigger, which NOTIFYs the deleted id as an UPDATE
/// does. No column references another row's id, so rows naming the deleted key (a key
/// it replaced) stay as they are.
pub(crate) const DELETE: &str = concat!(
    "DELETE FROM keyward_keys WHERE id = $1 RETURNING ",
    columns!()
);

pub(crate) const UPDATE_HASH: &str = "UPDATE keyward_keys SET hash = $2 WHERE id = $1";

/// Only a key that was never rolled and is active at the roll's time (`$4`) rolls: the
/// row lock makes a concurrent second roll wait, then find `replaced_by` set and change
/// nothing, and a key revoked, disabled or expired since the caller read it gets no
/// replacement.
pub(crate) const EXPIRE_FOR_ROLL: &str = concat!(
    "UPDATE keyward_keys SET expires_at = $2, replaced_by = $3
    WHERE id = $1 AND replaced_by IS NULL AND revoked_at IS NULL AND disabled_at IS NULL
    AND (expires_at IS NULL OR expires_at > $4) RETURNING ",
    columns!()
);

/// The row a roll matched nothing on, locked so that it cannot change before the roll
/// says why.
pub(crate) const SELECT_FOR_ROLL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM keyward_keys WHERE id = $1 FOR UPDATE"
);

/// One owner's live keys and, of those, the rolled ones in their grace.
pub(crate) const COUNT_LIVE: &str = "SELECT COUNT(*), COUNT(replaced_by) FROM keyward_keys
    WHERE owner = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)";

/// Key of the transaction-scoped advisory lock that serialises capped inserts of one
/// owner (the first half of the two-key form; the second is a hash of the owner), so
/// concurrent mints on any number of instances count each other's keys.
pub(crate) const OWNER_LOCK: i32 = 0x6b77_6f77; // "kwow"

/// Takes the transaction-scoped advisory lock `($1, hashtext($2))`.
pub(crate) const ADVISORY_LOCK: &str = "SELECT pg_advisory_xact_lock($1, hashtext($2))";

/// The latest time per id wins, and a stored time is never moved backwards.
pub(crate) const TOUCH: &str = "UPDATE keyward_keys k SET last_used_at = u.at
    FROM (SELECT id, MAX(at) AS at FROM UNNEST($1::TEXT[], $2::BIGINT[]) AS t(id, at)
          GROUP BY id) u
    WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)";

/// `record_usage`, a batch in one statement. Binds the batch merged by key: `$1` ids,
/// `$2` times, and the names used as pairs, `$3` key ids beside `$4` names. The union
/// is sorted by bytes (`COLLATE "C"`), as the other stores sort it; `GREATEST` ignores
/// a NULL `last_used_at`.
pub(crate) const RECORD_USAGE: &str = r#"UPDATE keyward_keys k SET
        last_used_at = GREATEST(k.last_used_at, u.at),
        usage_since = COALESCE(k.usage_since, u.at),
        used_capabilities = ARRAY(
            SELECT DISTINCT n.name COLLATE "C"
            FROM unnest(k.used_capabilities || u.used) AS n(name)
            ORDER BY 1)
    FROM (SELECT t.id, t.at,
            ARRAY(SELECT p.name FROM unnest($3::TEXT[], $4::TEXT[]) AS p(id, name)
                  WHERE p.id = t.id) AS used
          FROM unnest($1::TEXT[], $2::BIGINT[]) AS t(id, at)) u
    WHERE k.id = u.id"#;

/// The listing statement for a filter shape: by owner, by tenant, both or neither,
/// with or without a cursor.
pub(crate) fn list(by_owner: bool, by_tenant: bool, after_cursor: bool) -> &'static str {
    match (by_owner, by_tenant, after_cursor) {
        (false, false, false) => LIST_ALL,
        (false, false, true) => LIST_ALL_AFTER,
        (true, false, false) => LIST_OWNER,
        (true, false, true) => LIST_OWNER_AFTER,
        (false, true, false) => LIST_TENANT,
        (false, true, true) => LIST_TENANT_AFTER,
        (true, true, false) => LIST_OWNER_TENANT,
        (true, true, true) => LIST_OWNER_TENANT_AFTER,
    }
}

/// The audit log's columns as selected.
macro_rules! audit_columns {
    () => {
        "seq, at, action, key_id, actor_kind, actor_id, client_ip, capabilities, \
         replacement, note"
    };
}

/// Key of the transaction-scoped advisory lock every append to the audit log takes
/// before drawing its `seq` (the first half of the two-key form; the second is the
/// table's oid, so each schema's log has its own lock). Appends then commit in `seq`
/// order: without it, an append could commit while one with a lower `seq` is still
/// open, and a reader paging by `after_seq` would pass the lower one for good.
pub(crate) const AUDIT_LOCK: i32 = 0x6b77_6175; // "kwau"

/// Takes the audit log's append lock (`AUDIT_LOCK`), held until the transaction ends.
pub(crate) const LOCK_AUDIT: &str =
    "SELECT pg_advisory_xact_lock($1, 'keyward_audit_log'::regclass::oid::int)";

/// No trigger watches the audit table: an entry NOTIFYs nobody.
pub(crate) const INSERT_AUDIT: &str = "INSERT INTO keyward_audit_log (at, action, key_id,
        actor_kind, actor_id, client_ip, capabilities, replacement, note)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// One key's entries, as the target or as a roll's replacement (an index each); `$2`
/// since (or NULL), `$3` after this seq, `$4` limit.
pub(crate) const LIST_AUDIT_BY_KEY: &str = concat!(
    "SELECT ",
    audit_columns!(),
    " FROM keyward_audit_log WHERE (key_id = $1 OR replacement = $1)
      AND ($2::BIGINT IS NULL OR at >= $2) AND seq > $3 ORDER BY seq LIMIT $4"
);

/// The whole log: `$1` since (or NULL), `$2` after this seq, `$3` limit.
pub(crate) const LIST_AUDIT: &str = concat!(
    "SELECT ",
    audit_columns!(),
    " FROM keyward_audit_log WHERE ($1::BIGINT IS NULL OR at >= $1) AND seq > $2
    ORDER BY seq LIMIT $3"
);

pub(crate) const PRUNE_AUDIT: &str = "DELETE FROM keyward_audit_log WHERE at < $1";
