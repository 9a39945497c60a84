//! [`Metrics`]: the handles keyward records through the `metrics` facade.
//!
//! Every handle is registered once, when [`crate::KeywardBuilder::build`] runs, with the
//! recorder installed at that moment; a request then does an atomic add on a handle it
//! already holds, never a name or label lookup. Without a recorder the handles are
//! no-ops. Install the recorder before `build()`: one installed later sees nothing.
//! The names and their meaning are listed in `docs/operations.md`.

use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, Unit};

use crate::error::ErrorCode;

/// `keyward_auth_requests_total{outcome}`: `ok` or the error code answered.
pub const AUTH_REQUESTS: &str = "keyward_auth_requests_total";
/// `keyward_cache_lookups_total{result}`: `hit`, `miss` or `stale`.
pub const CACHE_LOOKUPS: &str = "keyward_cache_lookups_total";
/// `keyward_slow_hash_seconds`: how long each slow hash ran (not its wait for a slot).
pub const SLOW_HASH_SECONDS: &str = "keyward_slow_hash_seconds";
/// `keyward_slow_hash_queue_depth`: cold verifications waiting for a slow-hash slot.
pub const SLOW_HASH_QUEUE_DEPTH: &str = "keyward_slow_hash_queue_depth";
/// `keyward_lockouts_total`: client groups locked out after failed attempts.
pub const LOCKOUTS: &str = "keyward_lockouts_total";
/// `keyward_rate_limited_total`: requests refused 429 `rate_limited`.
pub const RATE_LIMITED: &str = "keyward_rate_limited_total";
/// `keyward_store_errors_total{op}`: store calls that failed (unreachable, corrupt,
/// unsupported), by `KeyStore` method.
pub const STORE_ERRORS: &str = "keyward_store_errors_total";
/// `keyward_cache_entries`: keys in the verification cache.
pub const CACHE_ENTRIES: &str = "keyward_cache_entries";
/// `keyward_lockout_tracked_clients`: addresses and networks the in-memory lockout
/// tracks.
pub const LOCKOUT_TRACKED_CLIENTS: &str = "keyward_lockout_tracked_clients";

/// The codes an authentication can be refused with, each with its own counter.
const AUTH_CODES: [ErrorCode; 11] = [
    ErrorCode::MissingCredential,
    ErrorCode::InvalidKey,
    ErrorCode::KeyRevoked,
    ErrorCode::KeyExpired,
    ErrorCode::KeyDisabled,
    ErrorCode::IpNotAllowed,
    ErrorCode::InsufficientCapability,
    ErrorCode::RateLimited,
    ErrorCode::TooManyFailedAttempts,
    ErrorCode::InvalidRequest,
    ErrorCode::AuthUnavailable,
];

/// What a cache lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// A fresh entry.
    Hit,
    /// No entry: a store read and a slow hash.
    Miss,
    /// An entry due for a refresh: a store read.
    Stale,
}

/// The request path's handles, registered once.
pub(crate) struct Metrics {
    ok: Counter,
    /// One counter per [`ErrorCode`], indexed by the code (no-ops for codes an
    /// authentication never answers).
    refused: [Counter; ErrorCode::ALL.len()],
    cache_hit: Counter,
    cache_miss: Counter,
    cache_stale: Counter,
    pub(crate) lockouts: Counter,
    pub(crate) rate_limited: Counter,
    pub(crate) cache_entries: Gauge,
    pub(crate) lockout_tracked: Gauge,
}

impl Metrics {
    /// Registers every handle with the recorder installed now (the thread's local one,
    /// else the global one).
    pub(crate) fn register() -> Self {
        describe();
        let refused = std::array::from_fn(|i| {
            let code = ErrorCode::ALL[i];
            if AUTH_CODES.contains(&code) {
                metrics::counter!(AUTH_REQUESTS, "outcome" => code.as_str())
            } else {
                Counter::noop()
            }
        });
        Metrics {
            ok: metrics::counter!(AUTH_REQUESTS, "outcome" => "ok"),
            refused,
            cache_hit: metrics::counter!(CACHE_LOOKUPS, "result" => "hit"),
            cache_miss: metrics::counter!(CACHE_LOOKUPS, "result" => "miss"),
            cache_stale: metrics::counter!(CACHE_LOOKUPS, "result" => "stale"),
            lockouts: metrics::counter!(LOCKOUTS),
            rate_limited: metrics::counter!(RATE_LIMITED),
            cache_entries: metrics::gauge!(CACHE_ENTRIES),
            lockout_tracked: metrics::gauge!(LOCKOUT_TRACKED_CLIENTS),
        }
    }

    /// Counts one authentication that succeeded.
    #[inline]
    pub(crate) fn ok(&self) {
        self.ok.increment(1);
    }

    /// Counts one authentication refused with `code`.
    #[inline]
    pub(crate) fn refused(&self, code: ErrorCode) {
        // `ALL` lists the codes in declaration order (checked by a test).
        self.refused[code as usize].increment(1);
    }

    /// Counts one cache lookup.
    #[inline]
    pub(crate) fn lookup(&self, found: Lookup) {
        match found {
            Lookup::Hit => self.cache_hit.increment(1),
            Lookup::Miss => self.cache_miss.increment(1),
            Lookup::Stale => self.cache_stale.increment(1),
        }
    }
}

/// The slow-hash pool's handles.
#[derive(Clone)]
pub(crate) struct HashMetrics {
    pub(crate) seconds: Histogram,
    pub(crate) queue_depth: Gauge,
}

impl HashMetrics {
    pub(crate) fn register() -> Self {
        HashMetrics {
            seconds: metrics::histogram!(SLOW_HASH_SECONDS),
            queue_depth: metrics::gauge!(SLOW_HASH_QUEUE_DEPTH),
        }
    }

    pub(crate) fn hashed(&self, took: Duration) {
        self.seconds.record(took);
    }
}

fn describe() {
    metrics::describe_counter!(
        AUTH_REQUESTS,
        Unit::Count,
        "Authentications by outcome: ok or the error code answered"
    );
    metrics::describe_counter!(
        CACHE_LOOKUPS,
        Unit::Count,
        "Verification cache lookups: hit, miss (store read and slow hash) or stale (store read)"
    );
    metrics::describe_histogram!(
        SLOW_HASH_SECONDS,
        Unit::Seconds,
        "Duration of each slow hash (verification, mint, re-hash), without its wait"
    );
    metrics::describe_gauge!(
        SLOW_HASH_QUEUE_DEPTH,
        Unit::Count,
        "Cold verifications waiting for a slow-hash slot"
    );
    metrics::describe_counter!(
        LOCKOUTS,
        Unit::Count,
        "Client groups locked out after repeated failed attempts"
    );
    metrics::describe_counter!(
        RATE_LIMITED,
        Unit::Count,
        "Requests refused because the key's rate limit was used up"
    );
    metrics::describe_counter!(
        STORE_ERRORS,
        Unit::Count,
        "Key store calls that failed (unavailable, corrupt data, unsupported), by method"
    );
    metrics::describe_gauge!(CACHE_ENTRIES, Unit::Count, "Keys in the verification cache");
    metrics::describe_gauge!(
        LOCKOUT_TRACKED_CLIENTS,
        Unit::Count,
        "Addresses and networks the in-memory lockout tracks"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_index_their_own_counter() {
        for (i, code) in ErrorCode::ALL.into_iter().enumerate() {
            assert_eq!(code as usize, i, "{code}");
        }
    }
}
