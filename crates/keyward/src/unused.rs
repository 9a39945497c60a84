//! The unused-key rule ([`Config::expire_unused_after`]) on a stored record, for
//! listings and reports that show why a key stopped working.
//!
//! The request path applies the same rule, and also counts a use this process has not
//! yet flushed to the store (see [`crate::Authenticator::flush_usage`]).

use keyward_clock::Timestamp;
use keyward_store::KeyRecord;

use crate::config::Config;

/// When `record`'s current idle period began: its last use as stored, or its mint when
/// it was never used.
///
/// ```
/// # use keyward::clock::Timestamp;
/// # fn check(record: &keyward::store::KeyRecord) {
/// let since = keyward::unused_since(record);
/// assert!(since >= record.created_at);
/// # }
/// ```
pub fn unused_since(record: &KeyRecord) -> Timestamp {
    record
        .last_used_at
        .map_or(record.created_at, |used| used.max(record.created_at))
}

impl Config {
    /// When `record` stops working for being unused, if
    /// [`expire_unused_after`](Config::expire_unused_after) is set and it is not used
    /// before then: [`unused_since`] plus that duration.
    pub fn unused_expiry(&self, record: &KeyRecord) -> Option<Timestamp> {
        let after = self.expire_unused_after?;
        Some(unused_since(record).saturating_add(after))
    }

    /// Whether `record` is refused `key_expired` at `now` for being unused (its stored
    /// last use; a use not yet flushed may still keep it alive).
    pub fn is_expired_unused(&self, record: &KeyRecord, now: Timestamp) -> bool {
        self.unused_expiry(record).is_some_and(|at| at <= now)
    }
}
