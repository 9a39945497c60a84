//! [`Sessions`]: the demo's server-side sessions, a bounded map from a random session id
//! (the `keyward_demo_session` cookie) to the demo user who signed in.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keyward::clock::{Clock, SystemClock, Timestamp};

use crate::directory::User;

/// The cookie that carries the session id.
pub const SESSION_COOKIE: &str = "keyward_demo_session";

/// Most sessions held at once; signing in past it ends the oldest session.
pub const MAX_SESSIONS: usize = 10_000;

/// How long a session lasts after signing in.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// The session id could not be drawn: the operating system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("no randomness for a session id: {0}")]
pub struct SessionIdError(getrandom::Error);

/// Who a session is for and when it ends.
#[derive(Debug, Clone, Copy)]
struct Entry {
    user: &'static User,
    expires_at: Timestamp,
    /// Order of creation, the key of `Table::order`.
    sequence: u64,
}

#[derive(Default)]
struct Table {
    by_id: HashMap<String, Entry>,
    /// Session ids by creation order, to end the oldest when full.
    order: BTreeMap<u64, String>,
    next_sequence: u64,
}

impl Table {
    fn remove(&mut self, id: &str) -> Option<Entry> {
        let entry = self.by_id.remove(id)?;
        self.order.remove(&entry.sequence);
        Some(entry)
    }
}

/// Sessions held in this process: lost on restart, as a demo's should be.
///
/// Ids are 32 random bytes, base64url: unguessable, so a map lookup needs no constant-time
/// comparison. Its `Debug` shows how many sessions there are, never an id.
#[derive(Clone)]
pub struct Sessions {
    table: Arc<Mutex<Table>>,
    clock: Arc<dyn Clock>,
    capacity: usize,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::new(Arc::new(SystemClock), MAX_SESSIONS)
    }
}

impl Sessions {
    /// At most `capacity` sessions (at least one), timed by `clock`.
    pub fn new(clock: Arc<dyn Clock>, capacity: usize) -> Sessions {
        Sessions {
            table: Arc::default(),
            clock,
            capacity: capacity.max(1),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a session for `user` and returns its id; when full, the oldest session
    /// ends first.
    ///
    /// # Errors
    ///
    /// When the operating system's random source fails.
    pub fn start(&self, user: &'static User) -> Result<String, SessionIdError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(SessionIdError)?;
        let id = URL_SAFE_NO_PAD.encode(bytes);
        let expires_at = self.clock.now().saturating_add(SESSION_LIFETIME);
        let mut table = self.table();
        while table.by_id.len() >= self.capacity {
            let Some((_, oldest)) = table.order.pop_first() else {
                break;
            };
            table.by_id.remove(&oldest);
        }
        let sequence = table.next_sequence;
        table.next_sequence += 1;
        table.order.insert(sequence, id.clone());
        table.by_id.insert(
            id.clone(),
            Entry {
                user,
                expires_at,
                sequence,
            },
        );
        Ok(id)
    }

    /// The user of session `id`, while it lasts (an expired session is ended here).
    pub fn user(&self, id: &str) -> Option<&'static User> {
        let now = self.clock.now();
        let mut table = self.table();
        let entry = *table.by_id.get(id)?;
        if now >= entry.expires_at {
            table.remove(id);
            return None;
        }
        Some(entry.user)
    }

    /// Ends session `id`; `false` when there was none.
    pub fn end(&self, id: &str) -> bool {
        self.table().remove(id).is_some()
    }

    /// How many sessions are held (expired ones included until they are next looked up
    /// or pushed out).
    pub fn len(&self) -> usize {
        self.table().by_id.len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The value of cookie `name` in `Cookie` header values (`a=1; b=2`), the first one
/// found. Values that are not text are skipped.
pub fn cookie<'a>(headers: impl IntoIterator<Item = &'a [u8]>, name: &str) -> Option<&'a str> {
    headers
        .into_iter()
        .filter_map(|value| std::str::from_utf8(value).ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key.trim() == name).then(|| value.trim().trim_matches('"'))
        })
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use keyward::clock::ManualClock;

    use super::*;
    use crate::directory::{ADMIN, MEMBER};

    fn sessions(capacity: usize) -> (Sessions, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(1_000_000)));
        (Sessions::new(clock.clone(), capacity), clock)
    }

    #[test]
    fn a_session_id_is_32_random_bytes_base64url() {
        let (sessions, _) = sessions(10);
        let a = sessions.start(&ADMIN).unwrap();
        let b = sessions.start(&ADMIN).unwrap();
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_eq!(sessions.user(&a), Some(&ADMIN));
        assert_eq!(sessions.user("not-a-session"), None);
    }

    #[test]
    fn ending_a_session_forgets_it() {
        let (sessions, _) = sessions(10);
        let id = sessions.start(&MEMBER).unwrap();
        assert!(sessions.end(&id));
        assert_eq!(sessions.user(&id), None);
        assert!(!sessions.end(&id));
        assert!(sessions.is_empty());
    }

    #[test]
    fn a_session_ends_after_its_lifetime() {
        let (sessions, clock) = sessions(10);
        let id = sessions.start(&MEMBER).unwrap();
        clock.advance(SESSION_LIFETIME - Duration::from_secs(1));
        assert_eq!(sessions.user(&id), Some(&MEMBER));
        clock.advance(Duration::from_secs(1));
        assert_eq!(sessions.user(&id), None);
        assert!(sessions.is_empty());
    }

    #[test]
    fn the_table_is_bounded_and_the_oldest_session_ends_first() {
        let (sessions, _) = sessions(3);
        let first = sessions.start(&ADMIN).unwrap();
        let second = sessions.start(&MEMBER).unwrap();
        assert!(sessions.end(&second));
        let rest: Vec<_> = (0..3).map(|_| sessions.start(&MEMBER).unwrap()).collect();
        assert_eq!(sessions.len(), 3);
        assert_eq!(sessions.user(&first), None, "the oldest went first");
        for id in &rest {
            assert_eq!(sessions.user(id), Some(&MEMBER));
        }
    }

    #[test]
    fn debug_never_shows_a_session_id() {
        let (sessions, _) = sessions(3);
        let id = sessions.start(&ADMIN).unwrap();
        let debug = format!("{sessions:?}");
        assert!(!debug.contains(&id), "{debug}");
        assert!(debug.contains("len: 1"), "{debug}");
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let headers: [&[u8]; 2] = [b"theme=dark", b"a=1; keyward_demo_session=abc ; b=2"];
        assert_eq!(cookie(headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(
            cookie([&b"keyward_demo_session="[..]], SESSION_COOKIE),
            None
        );
        assert_eq!(
            cookie([&b"xkeyward_demo_session=abc"[..]], SESSION_COOKIE),
            None
        );
        assert_eq!(cookie([&[0xff, b'='][..]], SESSION_COOKIE), None);
        assert_eq!(cookie(std::iter::empty(), SESSION_COOKIE), None);
    }
}
