use std::time::Duration;

use crate::error::BuildError;

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
    /// The longest grace period a roll may give the old key (default 7 days, as Stripe).
    pub max_roll_grace: Duration,
    /// `Retry-After` seconds answered with 503 when the store is unreachable (default 1).
    pub unavailable_retry_after: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cache_capacity: 100_000,
            cache_refresh: Duration::from_secs(30),
            max_concurrent_hashes: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            max_roll_grace: Duration::from_secs(7 * 24 * 3600),
            unavailable_retry_after: 1,
        }
    }
}

impl Config {
    pub(crate) fn validate(&self) -> Result<(), BuildError> {
        if self.cache_capacity == 0 {
            return Err(BuildError::InvalidConfig(
                "cache_capacity must be at least 1".into(),
            ));
        }
        if self.cache_refresh.is_zero() {
            return Err(BuildError::InvalidConfig(
                "cache_refresh must be longer than zero".into(),
            ));
        }
        if self.max_concurrent_hashes == 0 {
            return Err(BuildError::InvalidConfig(
                "max_concurrent_hashes must be at least 1".into(),
            ));
        }
        Ok(())
    }
}
