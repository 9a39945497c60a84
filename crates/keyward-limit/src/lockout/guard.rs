//! [`FailureGuard`]: per-client-IP lockout after repeated failed authentications.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::LimitError;

/// Whether a client address may attempt API-key authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuardDecision {
    /// The address may attempt authentication.
    Open,
    /// The address is locked out: answer 429 `too_many_failed_attempts` without
    /// touching the key store, even for a valid key.
    Locked {
        /// Whole seconds (at least 1, rounded up) until the lockout ends: `Retry-After`.
        retry_after: u64,
    },
}

/// How many more failures a client address may make before it is locked out.
///
/// The request path asks for it before a slow hash: a client may have at most this
/// many cold verifications in flight, so that concurrent guesses cannot run more slow
/// hashes than the lockout allows. The rest wait for a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureBudget {
    /// The address may fail this many more times (at least 1) in its current window.
    Open {
        /// Failures left before the lockout; the one that reaches zero locks.
        failures_left: u32,
    },
    /// The address is locked out.
    Locked {
        /// Whole seconds (at least 1, rounded up) until the lockout ends.
        retry_after: u64,
    },
}

impl FailureBudget {
    /// The budget a plain decision implies when the backend cannot count: one
    /// failure at a time while open.
    pub const fn from_decision(decision: GuardDecision) -> Self {
        match decision {
            GuardDecision::Open => FailureBudget::Open { failures_left: 1 },
            GuardDecision::Locked { retry_after } => FailureBudget::Locked { retry_after },
        }
    }
}

impl GuardDecision {
    /// Whether the address is locked out.
    pub const fn is_locked(&self) -> bool {
        matches!(self, GuardDecision::Locked { .. })
    }

    /// Whole seconds until the lockout ends, when locked.
    pub const fn retry_after_secs(&self) -> Option<u64> {
        match *self {
            GuardDecision::Open => None,
            GuardDecision::Locked { retry_after } => Some(retry_after),
        }
    }
}

/// How many failures [`FailureGuard::lock`]'s default records at most: more than any
/// sensible `max_failures`.
const LOCK_ATTEMPTS: u32 = 1_000;

/// Locks a client address out after repeated failed authentications.
///
/// The request path asks [`check`](FailureGuard::check) before anything else (a locked
/// address gets 429 with no store access) and calls
/// [`record_failure`](FailureGuard::record_failure) after every 401 of the
/// authentication steps; 400, 403 and 429 are not failures.
///
/// **Semantics** (the in-memory and the Redis backend alike): an address's first failure
/// opens a window of [`GuardConfig::window`](crate::GuardConfig::window); the failure
/// that brings the count inside it to
/// [`max_failures`](crate::GuardConfig::max_failures) locks the address for
/// [`lockout`](crate::GuardConfig::lockout). That request is still answered normally
/// (401); every later `check` says [`GuardDecision::Locked`] until the lockout ends.
/// A window that closes below the limit is forgotten. Addresses are counted by
/// [`IpGroup`](crate::IpGroup): IPv4 alone, IPv6 by `/64`.
///
/// **A success does not reset the count.** There is deliberately no `record_success`:
/// an attacker who holds one valid key of their own could otherwise interleave it
/// between guesses and never be locked out. Legitimate clients rarely fail ten times a
/// minute, and the window forgets them quickly.
///
/// Backends that never wait (memory) override the `*_now` methods, which callers try
/// first to skip the boxed future, as with [`RateLimiter`](crate::RateLimiter).
///
/// ```
/// use std::net::IpAddr;
/// use keyward_clock::{ManualClock, Timestamp};
/// use keyward_limit::{FailureGuard, GuardConfig, GuardDecision, MemoryFailureGuard};
///
/// let guard = MemoryFailureGuard::with_clock(
///     GuardConfig::default(),
///     ManualClock::new(Timestamp::from_unix_seconds(1_700_000_000)),
/// );
/// let ip: IpAddr = "203.0.113.7".parse()?;
/// for _ in 0..9 {
///     assert_eq!(guard.record_failure_now(ip), Some(Ok(GuardDecision::Open)));
/// }
/// // The 10th failure is still answered 401 by the caller ...
/// assert!(guard.record_failure_now(ip).unwrap()?.is_locked());
/// // ... and from then on the address is refused.
/// assert_eq!(guard.check_now(ip), Some(Ok(GuardDecision::Locked { retry_after: 60 })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[async_trait]
pub trait FailureGuard: Send + Sync {
    /// Whether `ip` may attempt authentication now: `Locked` refuses every request,
    /// a valid key's included. A backend that counts whole networks under pressure
    /// answers here only the address's own lockout and the network's in
    /// [`budget`](FailureGuard::budget), so that a client which never failed is not
    /// refused a valid key for its neighbours' failures.
    ///
    /// # Errors
    ///
    /// [`LimitError::Unavailable`] when the backend cannot decide.
    async fn check(&self, ip: IpAddr) -> Result<GuardDecision, LimitError>;

    /// Counts one failed authentication from `ip`; answers the address's state after
    /// counting it ([`GuardDecision::Locked`] when this failure locked it out, or when it
    /// already was: a failure during a lockout does not extend it).
    ///
    /// # Errors
    ///
    /// [`LimitError::Unavailable`] when the backend cannot record.
    async fn record_failure(&self, ip: IpAddr) -> Result<GuardDecision, LimitError>;

    /// How many more failures `ip` may make before its lockout, or the lockout itself
    /// (its own, or its network's where the backend counts networks). The request
    /// path asks before a slow hash, and before counting a failure: a `Locked` budget
    /// there answers 429 instead.
    ///
    /// The default asks [`check`](FailureGuard::check) and answers one failure left
    /// while open, which serialises a client's cold verifications: safe, if slow for a
    /// gateway presenting many keys at once. The built-in guards count exactly.
    ///
    /// # Errors
    ///
    /// [`LimitError::Unavailable`] when the backend cannot decide.
    async fn budget(&self, ip: IpAddr) -> Result<FailureBudget, LimitError> {
        Ok(FailureBudget::from_decision(self.check(ip).await?))
    }

    /// [`budget`](FailureGuard::budget) without a future, for backends that never wait;
    /// the default answers from [`check_now`](FailureGuard::check_now).
    fn budget_now(&self, ip: IpAddr) -> Option<Result<FailureBudget, LimitError>> {
        self.check_now(ip)
            .map(|r| r.map(FailureBudget::from_decision))
    }

    /// Locks `ip` out at once, for the configured lockout, whatever its count: the
    /// request presented something no honest client has (a honeytoken). Answers the
    /// address's state after (`Locked`, unless the backend could not lock it).
    ///
    /// The default records failures until one answers `Locked` (at most 1,000 of
    /// them); the built-in guards lock in one step.
    ///
    /// # Errors
    ///
    /// [`LimitError::Unavailable`] when the backend cannot record.
    async fn lock(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        let mut decision = GuardDecision::Open;
        for _ in 0..LOCK_ATTEMPTS {
            decision = self.record_failure(ip).await?;
            if decision.is_locked() {
                break;
            }
        }
        Ok(decision)
    }

    /// [`check`](FailureGuard::check) without a future, for backends that never wait;
    /// `None` (the default) means "call `check`".
    fn check_now(&self, ip: IpAddr) -> Option<Result<GuardDecision, LimitError>> {
        let _ = ip;
        None
    }

    /// [`record_failure`](FailureGuard::record_failure) without a future, for backends
    /// that never wait; `None` (the default) means "call `record_failure`".
    fn record_failure_now(&self, ip: IpAddr) -> Option<Result<GuardDecision, LimitError>> {
        let _ = ip;
        None
    }
}

#[async_trait]
impl<T: FailureGuard + ?Sized> FailureGuard for Arc<T> {
    async fn check(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        (**self).check(ip).await
    }

    async fn lock(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        (**self).lock(ip).await
    }

    async fn budget(&self, ip: IpAddr) -> Result<FailureBudget, LimitError> {
        (**self).budget(ip).await
    }

    fn budget_now(&self, ip: IpAddr) -> Option<Result<FailureBudget, LimitError>> {
        (**self).budget_now(ip)
    }

    async fn record_failure(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        (**self).record_failure(ip).await
    }

    fn check_now(&self, ip: IpAddr) -> Option<Result<GuardDecision, LimitError>> {
        (**self).check_now(ip)
    }

    fn record_failure_now(&self, ip: IpAddr) -> Option<Result<GuardDecision, LimitError>> {
        (**self).record_failure_now(ip)
    }
}

#[async_trait]
impl<T: FailureGuard + ?Sized> FailureGuard for Box<T> {
    async fn check(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        (**self).check(ip).await
    }

    async fn lock(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        (**self).lock(ip).await
    }

    async fn budget(&self, ip: IpAddr) -> Result<FailureBudget, LimitError> {
        (**self).budget(ip).await
    }

    fn budget_now(&self, ip: IpAddr) -> Option<Result<FailureBudget, LimitError>> {
        (**self).budget_now(ip)
    }

    async fn record_failure(&self, ip: IpAddr) -> Result<GuardDecision, LimitError> {
        (**self).record_failure(ip).await
    }

    fn check_now(&self, ip: IpAddr) -> Option<Result<GuardDecision, LimitError>> {
        (**self).check_now(ip)
    }

    fn record_failure_now(&self, ip: IpAddr) -> Option<Result<GuardDecision, LimitError>> {
        (**self).record_failure_now(ip)
    }
}
