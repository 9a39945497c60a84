//! [`KeyCooldown`]: failed slow verifications of one key id are bounded, whoever sends
//! them.
//!
//! The client lockout bounds what one address can guess; an attacker rotating through
//! addresses is bounded by this instead. After `max_failures` failed slow verifications
//! of an id within `window`, uncached attempts on that id are answered `invalid_key`
//! without a slow hash until `lockout` has passed. The holder's cached traffic never
//! reaches this; only a cold start during the cool-down is refused.

use std::sync::{Mutex, PoisonError};

use dashmap::DashMap;
use keyward_clock::Timestamp;
use keyward_format::KeyId;
use keyward_limit::GuardConfig;

#[derive(Debug, Clone, Copy)]
struct Failures {
    window_start: Timestamp,
    failures: u32,
    cooling_until: Option<Timestamp>,
}

impl Failures {
    fn is_cooling(&self, now: Timestamp) -> bool {
        self.cooling_until.is_some_and(|until| now < until)
    }

    fn is_idle(&self, now: Timestamp, config: &GuardConfig) -> bool {
        !self.is_cooling(now) && self.window_start.saturating_add(config.window()) <= now
    }
}

/// Failed slow verifications per key id, at most `max_tracked` ids.
///
/// Only ids that exist in the store and failed a slow hash are tracked, so filling the
/// table takes `max_failures × max_tracked` slow hashes within one cool-down: about a
/// million at the defaults, hours of hashing for the whole machine. Should it ever be
/// full of cooling ids, a new id goes uncounted until one cools down.
pub(crate) struct KeyCooldown {
    config: GuardConfig,
    ids: DashMap<KeyId, Failures>,
    admit: Mutex<()>,
}

impl KeyCooldown {
    pub(crate) fn new(config: GuardConfig) -> Self {
        KeyCooldown {
            config,
            ids: DashMap::new(),
            admit: Mutex::new(()),
        }
    }

    /// Whether `id` is cooling down: refuse it without a slow hash.
    pub(crate) fn is_cooling(&self, id: &KeyId, now: Timestamp) -> bool {
        self.ids.get(id).is_some_and(|f| f.is_cooling(now))
    }

    /// Whether `id` failed a slow verification in its open window (or is cooling):
    /// its next verification is probably a guess.
    pub(crate) fn is_suspect(&self, id: &KeyId, now: Timestamp) -> bool {
        self.ids
            .get(id)
            .is_some_and(|f| (f.failures > 0 && !f.is_idle(now, &self.config)) || f.is_cooling(now))
    }

    /// Counts one failed slow verification of `id`.
    pub(crate) fn record_failure(&self, id: KeyId, now: Timestamp) {
        if let Some(mut failures) = self.ids.get_mut(&id) {
            self.count(&id, &mut failures, now);
            return;
        }
        let _admit = self.admit.lock().unwrap_or_else(PoisonError::into_inner);
        // Another request may have admitted it while this one waited.
        if let Some(mut failures) = self.ids.get_mut(&id) {
            self.count(&id, &mut failures, now);
            return;
        }
        if self.ids.len() >= self.config.max_tracked() {
            self.ids.retain(|_, f| !f.is_idle(now, &self.config));
            if self.ids.len() >= self.config.max_tracked() {
                tracing::warn!(target: "keyward", key_id = %id, "key cool-down table full; failure not counted");
                return;
            }
        }
        let mut failures = Failures {
            window_start: now,
            failures: 0,
            cooling_until: None,
        };
        self.count(&id, &mut failures, now);
        self.ids.insert(id, failures);
    }

    fn count(&self, id: &KeyId, f: &mut Failures, now: Timestamp) {
        if f.is_cooling(now) {
            return;
        }
        if f.cooling_until.is_some() || f.window_start.saturating_add(self.config.window()) <= now {
            *f = Failures {
                window_start: now,
                failures: 0,
                cooling_until: None,
            };
        }
        f.failures += 1;
        if f.failures >= self.config.max_failures() {
            f.cooling_until = Some(now.saturating_add(self.config.lockout()));
            tracing::warn!(
                target: "keyward",
                event = "key_cooling_down",
                key_id = %id,
                failures = f.failures,
                cooldown_seconds = self.config.lockout().as_secs(),
                "repeated failed verifications of one key id; uncached attempts refused"
            );
        }
    }

    /// Ids tracked right now.
    #[cfg(test)]
    pub(crate) fn tracked(&self) -> usize {
        self.ids.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn id(n: u8) -> KeyId {
        let s: String =
            std::iter::repeat_n(char::from(b'A' + n % 26), keyward_format::ID_LEN).collect();
        KeyId::parse(&s).unwrap()
    }

    const T0: u64 = 1_800_000_000;

    #[test]
    fn the_tenth_failure_in_a_window_cools_the_id_down_for_the_lockout() {
        let cooldown = KeyCooldown::new(GuardConfig::default());
        let now = Timestamp::from_unix_seconds(T0);
        for _ in 0..9 {
            cooldown.record_failure(id(0), now);
            assert!(!cooldown.is_cooling(&id(0), now));
        }
        cooldown.record_failure(id(0), now);
        assert!(cooldown.is_cooling(&id(0), now));
        assert!(!cooldown.is_cooling(&id(1), now), "other ids are untouched");
        let later = now.saturating_add(Duration::from_secs(59));
        assert!(cooldown.is_cooling(&id(0), later));
        let after = now.saturating_add(Duration::from_secs(60));
        assert!(!cooldown.is_cooling(&id(0), after));
        cooldown.record_failure(id(0), after);
        assert!(
            !cooldown.is_cooling(&id(0), after),
            "a fresh window after the cool-down"
        );
    }

    #[test]
    fn failures_spread_over_more_than_a_window_never_cool_down() {
        let cooldown = KeyCooldown::new(GuardConfig::default());
        let mut now = Timestamp::from_unix_seconds(T0);
        for _ in 0..30 {
            cooldown.record_failure(id(2), now);
            assert!(!cooldown.is_cooling(&id(2), now));
            now = now.saturating_add(Duration::from_secs(7));
        }
    }

    #[test]
    fn the_table_stays_within_its_cap() {
        let config = GuardConfig::default().with_max_tracked(4).unwrap();
        let cooldown = KeyCooldown::new(config);
        let now = Timestamp::from_unix_seconds(T0);
        for n in 0..20 {
            cooldown.record_failure(id(n), now);
        }
        assert!(cooldown.tracked() <= 4);
        // Once their windows close, the idle ids make room again.
        let later = now.saturating_add(Duration::from_secs(61));
        cooldown.record_failure(id(25), later);
        assert_eq!(cooldown.tracked(), 1);
    }
}
