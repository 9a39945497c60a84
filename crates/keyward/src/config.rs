use std::time::Duration;

use keyward_limit::GuardConfig;

use crate::error::{BuildError, ConfigProblem};

/// Tuning of the authenticator and the key service. The defaults are the documented
/// behaviour; every field is checked by [`crate::KeywardBuilder::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Most keys kept in the verification cache (default 100,000). When full, an
    /// arbitrary 1/64 of the entries is dropped to make room.
    pub cache_capacity: usize,
    /// How long a cache entry is trusted before the record is re-read from the store
    /// (default 30 s). This bounds how late a change made by *another process* without
    /// notification (the CLI revoking a key in the SQLite file) is seen; changes through
    /// this process's [`crate::KeyService`] apply at once.
    pub cache_refresh: Duration,
    /// Slow hashes (verifications, mints) running at once on the blocking pool
    /// (default: the number of CPUs).
    pub max_concurrent_hashes: usize,
    /// Cold verifications that may wait for a slow-hash slot (default 64). One more is
    /// answered 503 `auth_unavailable` with `Retry-After` at once instead of queueing for
    /// seconds; cached keys never wait behind the queue.
    pub max_queued_verifications: usize,
    /// Failed slow verifications allowed per key id, whoever sends them (default: 10
    /// within 60 s, then a 60 s cool-down, at most 100,000 ids tracked). During a
    /// cool-down an uncached attempt on that id is answered `invalid_key` without a slow
    /// hash; the key's cached traffic is unaffected.
    pub key_lockout: GuardConfig,
    /// After the first refusal of a kind from a client group is logged, further ones
    /// are summed into at most one line per this interval (default 10 s).
    pub refusal_log_interval: Duration,
    /// The longest grace period a roll may give the old key (default 7 days, as Stripe).
    pub max_roll_grace: Duration,
    /// Most live keys (neither revoked nor expired) one owner may hold (default 100).
    /// Minting past it is [`crate::ServiceError::TooManyKeys`]; a roll is refused only
    /// when this many of the owner's keys are already in a roll's grace.
    pub max_live_keys_per_owner: u64,
    /// `Retry-After` seconds answered with 503 when the store is unreachable (default 1).
    pub unavailable_retry_after: u64,
    /// Every new key expires within this (default: none). A mint without an expiry
    /// gets exactly this; a longer one is refused.
    pub max_lifetime: Option<Duration>,
    /// A key not used for this long (since its last use, or its mint when never used)
    /// stops working with `key_expired` (default: never).
    pub expire_unused_after: Option<Duration>,
    /// Audit entries older than this are pruned (default: kept forever).
    pub audit_retention: Option<Duration>,
    /// Record which capabilities each key's requests use, and store them with the
    /// key's last use (default on): what [`crate::KeyService::usage`] reports and a roll
    /// to the used capabilities narrows to. A cached request costs a few loads and
    /// compares more; a write only the first time the key uses a capability.
    pub record_capability_usage: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cache_capacity: 100_000,
            cache_refresh: Duration::from_secs(30),
            max_concurrent_hashes: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            max_queued_verifications: 64,
            key_lockout: GuardConfig::default(),
            refusal_log_interval: Duration::from_secs(10),
            max_roll_grace: Duration::from_secs(7 * 24 * 3600),
            max_live_keys_per_owner: 100,
            unavailable_retry_after: 1,
            max_lifetime: None,
            expire_unused_after: None,
            audit_retention: None,
            record_capability_usage: true,
        }
    }
}

impl Config {
    pub(crate) fn validate(&self) -> Result<(), BuildError> {
        if self.cache_capacity == 0 {
            return Err(BuildError::InvalidConfig {
                field: "cache_capacity",
                problem: ConfigProblem::ZeroCount,
            });
        }
        if self.cache_refresh.is_zero() {
            return Err(BuildError::InvalidConfig {
                field: "cache_refresh",
                problem: ConfigProblem::ZeroDuration,
            });
        }
        if self.max_concurrent_hashes == 0 {
            return Err(BuildError::InvalidConfig {
                field: "max_concurrent_hashes",
                problem: ConfigProblem::ZeroCount,
            });
        }
        if self.max_live_keys_per_owner == 0 {
            return Err(BuildError::InvalidConfig {
                field: "max_live_keys_per_owner",
                problem: ConfigProblem::ZeroCount,
            });
        }
        if self.refusal_log_interval.is_zero() {
            return Err(BuildError::InvalidConfig {
                field: "refusal_log_interval",
                problem: ConfigProblem::ZeroDuration,
            });
        }
        for (field, value) in [
            ("max_lifetime", self.max_lifetime),
            ("expire_unused_after", self.expire_unused_after),
            ("audit_retention", self.audit_retention),
        ] {
            if value.is_some_and(|d| d.is_zero()) {
                return Err(BuildError::InvalidConfig {
                    field,
                    problem: ConfigProblem::ZeroDuration,
                });
            }
        }
        Ok(())
    }
}
