//! Show-once slots: a new key waits here between the POST that minted it and the page
//! that shows it (POST, redirect, GET), so a reload never re-posts the form and the key
//! is never in a URL.
//!
//! A slot belongs to the session that created it, is taken on first view (later views
//! say the key was already shown), and is gone after [`SLOT_TTL`]. The table lives in
//! this process: behind a load balancer, route a session's dashboard requests to one
//! instance (sticky sessions).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keyward::clock::Timestamp;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// How long a new key waits to be shown.
pub(crate) const SLOT_TTL: Duration = Duration::from_secs(10 * 60);

/// The most slots held at once; past it the oldest goes.
pub(crate) const MAX_SLOTS: usize = 10_000;

/// A slot id: 16 random bytes, base64url.
const SLOT_ID_LEN: usize = 22;

/// What the show-once page shows.
pub(crate) struct ShownKey {
    /// The plaintext key.
    pub(crate) key: Zeroizing<String>,
    /// The new key's name.
    pub(crate) name: String,
    /// For a roll: when the replaced key stops working.
    pub(crate) old_expires_at: Option<Timestamp>,
}

struct Slot {
    session: [u8; 32],
    created_at: Timestamp,
    /// `None` once shown: kept until it expires, to say so.
    key: Option<ShownKey>,
}

/// What a slot holds for a session asking for it.
pub(crate) enum Taken {
    /// The key, now removed from the slot.
    Key(ShownKey),
    /// The key was shown before.
    AlreadyShown,
    /// No such slot for this session: unknown, expired, or another session's.
    Missing,
}

pub(crate) struct Slots {
    table: Mutex<HashMap<String, Slot>>,
    capacity: usize,
}

impl Default for Slots {
    fn default() -> Self {
        Slots::with_capacity(MAX_SLOTS)
    }
}

impl Slots {
    pub(crate) fn with_capacity(capacity: usize) -> Slots {
        Slots {
            table: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// Stores `key` for `session`; the slot's id, or `None` when the OS random
    /// generator failed.
    pub(crate) fn put(&self, session: [u8; 32], now: Timestamp, key: ShownKey) -> Option<String> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).ok()?;
        let id = URL_SAFE_NO_PAD.encode(bytes);
        let mut table = self.lock();
        if table.len() >= self.capacity {
            table.retain(|_, slot| !expired(slot, now));
        }
        while table.len() >= self.capacity {
            let oldest = table
                .iter()
                .min_by_key(|(_, slot)| slot.created_at)
                .map(|(id, _)| id.clone());
            match oldest {
                Some(oldest) => table.remove(&oldest),
                None => break,
            };
        }
        table.insert(
            id.clone(),
            Slot {
                session,
                created_at: now,
                key: Some(key),
            },
        );
        Some(id)
    }

    /// Takes the key of slot `id` for `session`. Another session's slot is
    /// [`Taken::Missing`] and stays as it was.
    pub(crate) fn take(&self, id: &str, session: [u8; 32], now: Timestamp) -> Taken {
        if id.len() != SLOT_ID_LEN {
            return Taken::Missing;
        }
        let mut table = self.lock();
        let Some(slot) = table.get_mut(id) else {
            return Taken::Missing;
        };
        if expired(slot, now) {
            table.remove(id);
            return Taken::Missing;
        }
        if !bool::from(slot.session.ct_eq(&session)) {
            return Taken::Missing;
        }
        match slot.key.take() {
            Some(key) => Taken::Key(key),
            None => Taken::AlreadyShown,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        // A panic while holding the lock leaves the table consistent (each change is one
        // map operation), so a poisoned lock is used as it is.
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn expired(slot: &Slot, now: Timestamp) -> bool {
    now.saturating_duration_since(slot.created_at) >= SLOT_TTL
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> ShownKey {
        ShownKey {
            key: Zeroizing::new(text.to_string()),
            name: "CI".to_string(),
            old_expires_at: None,
        }
    }

    fn shown(taken: Taken) -> Option<String> {
        match taken {
            Taken::Key(k) => Some(k.key.to_string()),
            _ => None,
        }
    }

    const T0: Timestamp = Timestamp::from_unix_seconds(1_800_000_000);

    #[test]
    fn a_slot_is_shown_once_to_its_session_until_it_expires() {
        let slots = Slots::default();
        let id = slots.put([1; 32], T0, key("k1")).unwrap();
        assert!(matches!(slots.take(&id, [2; 32], T0), Taken::Missing));
        assert_eq!(shown(slots.take(&id, [1; 32], T0)).as_deref(), Some("k1"));
        assert!(matches!(slots.take(&id, [1; 32], T0), Taken::AlreadyShown));

        let late = slots.put([1; 32], T0, key("k2")).unwrap();
        let after = T0.saturating_add(SLOT_TTL);
        assert!(matches!(slots.take(&late, [1; 32], after), Taken::Missing));
        assert!(matches!(slots.take("nope", [1; 32], T0), Taken::Missing));
    }

    #[test]
    fn a_full_table_drops_expired_slots_then_the_oldest() {
        let slots = Slots::with_capacity(2);
        let first = slots.put([1; 32], T0, key("a")).unwrap();
        let t1 = T0.saturating_add(Duration::from_secs(1));
        let second = slots.put([1; 32], t1, key("b")).unwrap();
        let third = slots.put([1; 32], t1, key("c")).unwrap();
        assert_eq!(slots.len(), 2);
        assert!(matches!(slots.take(&first, [1; 32], t1), Taken::Missing));
        assert_eq!(
            shown(slots.take(&second, [1; 32], t1)).as_deref(),
            Some("b")
        );
        assert_eq!(shown(slots.take(&third, [1; 32], t1)).as_deref(), Some("c"));
    }
}
