use std::time::Duration;

use crate::error::PostgresError;

/// How a [`crate::PostgresStore`] connects: schema, pool size and timeouts.
///
/// Every default is chosen so that an outage is answered quickly instead of queueing
/// requests: a request that cannot get a connection within
/// [`acquire_timeout`](Self::acquire_timeout) fails with
/// [`StoreError::Unavailable`](keyward_store::StoreError::Unavailable), which the
/// authenticator answers with 503 `auth_unavailable`.
///
/// ```
/// use std::time::Duration;
/// use keyward_postgres::PostgresOptions;
///
/// let options = PostgresOptions::new()
///     .schema("keyward")
///     .max_connections(20)
///     .acquire_timeout(Duration::from_secs(1));
/// assert_eq!(options.get_schema(), Some("keyward"));
/// ```
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    pub(crate) schema: Option<String>,
    pub(crate) max_connections: u32,
    pub(crate) acquire_timeout: Duration,
    pub(crate) query_timeout: Duration,
    pub(crate) application_name: String,
    pub(crate) ping_before_use: bool,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            schema: None,
            max_connections: 10,
            // Short on purpose: while the server is down, every request waits this long
            // before its 503. Connections are re-made lazily when it returns.
            acquire_timeout: Duration::from_secs(3),
            // Also sent to the server as `statement_timeout`, so abandoned work stops.
            query_timeout: Duration::from_secs(10),
            application_name: "keyward".to_owned(),
            // On: a connection that died while idle (a server restart, a failover) is
            // replaced before a request uses it, so recovery costs no failed requests.
            ping_before_use: true,
        }
    }
}

impl PostgresOptions {
    /// The defaults: the server's default schema (usually `public`), 10 connections, a
    /// 3 s acquire timeout, a 10 s query timeout, application name `keyward`.
    pub fn new() -> Self {
        PostgresOptions::default()
    }

    /// Puts keyward's tables in `schema` (created when missing) instead of the server's
    /// default. The name must be 1 to 63 bytes of `a-z`, `0-9` and `_`, not starting
    /// with a digit or `pg_`; anything else is refused at connect with
    /// [`PostgresError::InvalidSchema`]. Instances sharing a schema share keys and
    /// invalidations; instances in different schemas see nothing of each other.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The most connections the store's pool opens (default 10).
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// How long a store call waits for a connection, including making one (default 3 s).
    /// Also bounds [`crate::PostgresStore::connect`] against an unreachable server.
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// How long one store call may run once it has a connection (default 10 s). Sent to
    /// the server as `statement_timeout` too; a call that takes longer fails with
    /// [`StoreError::Unavailable`](keyward_store::StoreError::Unavailable).
    pub fn query_timeout(mut self, timeout: Duration) -> Self {
        self.query_timeout = timeout;
        self
    }

    /// The `application_name` the store's connections report in `pg_stat_activity`
    /// (default `keyward`).
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = name.into();
        self
    }

    /// Whether a pooled connection is checked with a round trip before each use
    /// (default on). Off saves that round trip, about a third of a point lookup on a
    /// loopback connection (`postgres/get_by_id`: ~155 µs instead of ~230 µs), but after
    /// a server restart each stale pooled connection fails one call with
    /// [`StoreError::Unavailable`](keyward_store::StoreError::Unavailable) before it is
    /// replaced. The authenticator only reaches the store on a cache miss, so the
    /// default favours recovery.
    pub fn ping_before_use(mut self, ping: bool) -> Self {
        self.ping_before_use = ping;
        self
    }

    /// The configured schema, if any.
    pub fn get_schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }
}

/// Checks a schema name: lower-case identifier characters only, so it never needs
/// quoting, survives `search_path` and fits PostgreSQL's 63-byte names.
pub(crate) fn validate_schema(name: &str) -> Result<(), PostgresError> {
    let invalid = |reason| {
        Err(PostgresError::InvalidSchema {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return invalid("empty");
    }
    if name.len() > 63 {
        return invalid("longer than 63 bytes");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return invalid("only a-z, 0-9 and _ are allowed");
    }
    if name.as_bytes()[0].is_ascii_digit() {
        return invalid("must not start with a digit");
    }
    if name.starts_with("pg_") {
        return invalid("names starting with pg_ are reserved by PostgreSQL");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names() {
        for ok in ["keyward", "_x", "tenant_42", &"a".repeat(63)] {
            assert!(validate_schema(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Keyward",
            "a-b",
            "a b",
            "x\"; DROP TABLE y; --",
            "1abc",
            "pg_temp",
            "ключ",
            &"a".repeat(64),
        ] {
            assert!(
                matches!(
                    validate_schema(bad),
                    Err(PostgresError::InvalidSchema { .. })
                ),
                "{bad}"
            );
        }
    }
}
