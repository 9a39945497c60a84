//! [`GuardConfig`]: how many failures lock an address out, and for how long.

use std::time::Duration;

use crate::error::GuardConfigError;

/// Settings of a [`FailureGuard`](crate::FailureGuard), validated.
///
/// The defaults are the seed products': **10 failures within 60 s lock the address out
/// for 60 s**, and the in-memory guard tracks at most **100,000** addresses (IPv6 by
/// `/64`); when they are all busy it counts new addresses under their network, in a
/// table a tenth that size. Its tables stay under 12.4 MB at these defaults (measured
/// 8.1 MB with both full).
///
/// ```
/// use std::time::Duration;
/// use keyward_limit::{GuardConfig, GuardConfigError};
///
/// let config = GuardConfig::new(5, Duration::from_secs(300), Duration::from_secs(900))?
///     .with_max_tracked(1_000_000)?;
/// assert_eq!(config.max_failures(), 5);
/// assert_eq!(GuardConfig::new(0, Duration::from_secs(60), Duration::from_secs(60)),
///            Err(GuardConfigError::ZeroMaxFailures));
/// # Ok::<(), GuardConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GuardConfig {
    max_failures: u32,
    window: Duration,
    lockout: Duration,
    max_tracked: usize,
}

impl GuardConfig {
    /// Failures that lock an address out, by default.
    pub const DEFAULT_MAX_FAILURES: u32 = 10;
    /// The window they must fall in, by default.
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);
    /// How long the lockout lasts, by default.
    pub const DEFAULT_LOCKOUT: Duration = Duration::from_secs(60);
    /// Addresses (IPv6: `/64`s) the in-memory guard tracks at most, by default.
    pub const DEFAULT_MAX_TRACKED: usize = 100_000;

    /// `max_failures` failures within `window` lock the address out for `lockout`;
    /// `max_tracked` stays at its default.
    ///
    /// # Errors
    ///
    /// [`GuardConfigError::ZeroMaxFailures`], [`GuardConfigError::ZeroWindow`] or
    /// [`GuardConfigError::ZeroLockout`].
    pub fn new(
        max_failures: u32,
        window: Duration,
        lockout: Duration,
    ) -> Result<Self, GuardConfigError> {
        if max_failures == 0 {
            return Err(GuardConfigError::ZeroMaxFailures);
        }
        if window.is_zero() {
            return Err(GuardConfigError::ZeroWindow);
        }
        if lockout.is_zero() {
            return Err(GuardConfigError::ZeroLockout);
        }
        Ok(GuardConfig {
            max_failures,
            window,
            lockout,
            max_tracked: Self::DEFAULT_MAX_TRACKED,
        })
    }

    /// The same settings tracking at most `max_tracked` addresses.
    ///
    /// # Errors
    ///
    /// [`GuardConfigError::ZeroMaxTracked`].
    pub fn with_max_tracked(self, max_tracked: usize) -> Result<Self, GuardConfigError> {
        if max_tracked == 0 {
            return Err(GuardConfigError::ZeroMaxTracked);
        }
        Ok(GuardConfig {
            max_tracked,
            ..self
        })
    }

    /// Failures within [`window`](GuardConfig::window) that lock the address out; the
    /// request carrying the last of them is still answered normally (401).
    pub const fn max_failures(&self) -> u32 {
        self.max_failures
    }

    /// The window, opened by an address's first failure.
    pub const fn window(&self) -> Duration {
        self.window
    }

    /// How long a lockout lasts, from the failure that triggered it.
    pub const fn lockout(&self) -> Duration {
        self.lockout
    }

    /// The most addresses an in-memory guard tracks at once; it also counts up to a
    /// tenth as many networks (IPv4 `/24`, IPv6 `/48`) for new addresses when they are
    /// all busy.
    pub const fn max_tracked(&self) -> usize {
        self.max_tracked
    }
}

/// 10 failures within 60 s lock out for 60 s; 100,000 tracked addresses.
impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            max_failures: Self::DEFAULT_MAX_FAILURES,
            window: Self::DEFAULT_WINDOW,
            lockout: Self::DEFAULT_LOCKOUT,
            max_tracked: Self::DEFAULT_MAX_TRACKED,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_zero_is_a_typed_error() {
        let s = Duration::from_secs(1);
        assert_eq!(
            GuardConfig::new(0, s, s),
            Err(GuardConfigError::ZeroMaxFailures)
        );
        assert_eq!(
            GuardConfig::new(1, Duration::ZERO, s),
            Err(GuardConfigError::ZeroWindow)
        );
        assert_eq!(
            GuardConfig::new(1, s, Duration::ZERO),
            Err(GuardConfigError::ZeroLockout)
        );
        assert_eq!(
            GuardConfig::default().with_max_tracked(0),
            Err(GuardConfigError::ZeroMaxTracked)
        );
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = GuardConfig::default();
        assert_eq!(c.max_failures(), 10);
        assert_eq!(c.window(), Duration::from_secs(60));
        assert_eq!(c.lockout(), Duration::from_secs(60));
        assert_eq!(c.max_tracked(), 100_000);
        assert_eq!(
            GuardConfig::new(10, Duration::from_secs(60), Duration::from_secs(60)),
            Ok(c)
        );
    }
}
