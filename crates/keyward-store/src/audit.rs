//! The audit log: who changed which key, when and from where.
//!
//! A store appends an [`AuditEntry`] for every management action, in the same
//! transaction as the change where it can ([`crate::KeyStore::apply`]). Entries are
//! never secret: they hold key ids, never keys or hashes.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use keyward_clock::Timestamp;
use keyward_format::KeyId;

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Actor {
    /// An API key, by id (the management API).
    Key(KeyId),
    /// A signed-in user of the host application, by its id (the dashboard).
    User(String),
    /// The `keyward` command-line tool.
    Cli,
    /// The host service's own code, calling the library without naming an actor.
    Service,
    /// keyward itself, applying a policy (a honeytoken trip, a leak report).
    Automatic,
}

impl Actor {
    /// The actor's kind: `key`, `user`, `cli`, `service` or `automatic`.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Key(_) => "key",
            Actor::User(_) => "user",
            Actor::Cli => "cli",
            Actor::Service => "service",
            Actor::Automatic => "automatic",
        }
    }

    /// The key id or user id, for the kinds that have one.
    pub fn id(&self) -> Option<String> {
        match self {
            Actor::Key(id) => Some(id.to_string()),
            Actor::User(id) => Some(id.clone()),
            _ => None,
        }
    }

    /// The actor as stores keep it: a user id with each control character replaced by
    /// U+FFFD. User ids come from the host's sign-in; PostgreSQL refuses a NUL in text,
    /// so one would make the change it audits fail. Replaced rather than dropped, so the
    /// stored id still shows where something was.
    ///
    /// ```
    /// use keyward_store::Actor;
    ///
    /// let stored = Actor::User("ada\0lovelace".to_owned()).stored().into_owned();
    /// assert_eq!(stored, Actor::User("ada\u{fffd}lovelace".to_owned()));
    /// assert_eq!(*Actor::Cli.stored(), Actor::Cli);
    /// ```
    pub fn stored(&self) -> Cow<'_, Actor> {
        match self {
            Actor::User(id) if id.contains(char::is_control) => Cow::Owned(Actor::User(
                id.chars()
                    .map(|c| {
                        if c.is_control() {
                            char::REPLACEMENT_CHARACTER
                        } else {
                            c
                        }
                    })
                    .collect(),
            )),
            other => Cow::Borrowed(other),
        }
    }

    /// The actor from its stored [`kind`](Self::kind) and [`id`](Self::id); `None` for
    /// a pair no actor produces.
    pub fn from_parts(kind: &str, id: Option<&str>) -> Option<Actor> {
        match (kind, id) {
            ("key", Some(id)) => id.parse().ok().map(Actor::Key),
            ("user", Some(id)) => Some(Actor::User(id.to_owned())),
            ("cli", None) => Some(Actor::Cli),
            ("service", None) => Some(Actor::Service),
            ("automatic", None) => Some(Actor::Automatic),
            _ => None,
        }
    }
}

/// `key:<id>`, `user:<id>`, `cli`, `service` or `automatic`, as change events log it; a
/// user id's control characters are escaped, so it cannot forge a log line.
impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Key(id) => write!(f, "key:{id}"),
            Actor::User(id) => write!(f, "user:{}", id.escape_debug()),
            other => f.write_str(other.kind()),
        }
    }
}

/// What was done to the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum AuditAction {
    /// A key was minted.
    Minted,
    /// A key was rolled; the entry's `replacement` names the new key.
    Rolled,
    /// A key was revoked.
    Revoked,
    /// A key's record was deleted.
    Deleted,
    /// A key was disabled.
    Disabled,
    /// A disabled key was enabled again.
    Enabled,
    /// A key's expiry was set or cleared.
    ExpirySet,
    /// A honeytoken key was presented; the key is the honeytoken.
    Honeytoken,
    /// A key was reported leaked and revoked.
    Leaked,
}

impl AuditAction {
    /// Every action, in declaration order.
    pub const ALL: [AuditAction; 9] = [
        AuditAction::Minted,
        AuditAction::Rolled,
        AuditAction::Revoked,
        AuditAction::Deleted,
        AuditAction::Disabled,
        AuditAction::Enabled,
        AuditAction::ExpirySet,
        AuditAction::Honeytoken,
        AuditAction::Leaked,
    ];

    /// The stored name: `minted`, `rolled`, `revoked`, `deleted`, `disabled`, `enabled`,
    /// `expiry_set`, `honeytoken`, `leaked`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Minted => "minted",
            AuditAction::Rolled => "rolled",
            AuditAction::Revoked => "revoked",
            AuditAction::Deleted => "deleted",
            AuditAction::Disabled => "disabled",
            AuditAction::Enabled => "enabled",
            AuditAction::ExpirySet => "expiry_set",
            AuditAction::Honeytoken => "honeytoken",
            AuditAction::Leaked => "leaked",
        }
    }

    /// The action stored as `name`.
    pub fn from_name(name: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AuditEntry {
    /// The store's sequence number, increasing in append order; `0` before the entry
    /// is appended (stores assign it).
    pub seq: u64,
    /// When the action happened.
    pub at: Timestamp,
    /// What was done.
    pub action: AuditAction,
    /// The key it was done to.
    pub key: KeyId,
    /// Who did it.
    pub actor: Actor,
    /// The client address the action came from, when known (the management API and the
    /// dashboard know it; the CLI does not).
    pub client_ip: Option<IpAddr>,
    /// The capabilities granted, for `minted` and `rolled` (the new key's); empty
    /// otherwise.
    pub capabilities: Vec<String>,
    /// For `rolled`, the replacement key.
    pub replacement: Option<KeyId>,
    /// A short free-form note (a leak report's URL, a user agent), stored without
    /// control characters and at most [`AuditEntry::MAX_NOTE_LEN`] bytes
    /// ([`stored_note`](Self::stored_note)).
    pub note: Option<String>,
}

impl AuditEntry {
    /// The longest note stored, in bytes; longer ones are cut at a character boundary.
    pub const MAX_NOTE_LEN: usize = 512;

    /// An entry for `action` on `key` by `actor` at `at`, with no address, capabilities,
    /// replacement or note.
    pub fn new(at: Timestamp, action: AuditAction, key: KeyId, actor: Actor) -> Self {
        AuditEntry {
            seq: 0,
            at,
            action,
            key,
            actor,
            client_ip: None,
            capabilities: Vec::new(),
            replacement: None,
            note: None,
        }
    }

    /// The note as stores keep it: without control characters, then cut to
    /// [`AuditEntry::MAX_NOTE_LEN`] bytes at a character boundary.
    ///
    /// Notes come from untrusted places (a leak report's URL, a client's user agent, a
    /// file name). PostgreSQL refuses a NUL in text, so one NUL would make the change
    /// the entry records fail with it; other control characters would reach the
    /// terminals and pages that show the log.
    ///
    /// ```
    /// use keyward_clock::Timestamp;
    /// use keyward_format::KeyId;
    /// use keyward_store::{Actor, AuditAction, AuditEntry};
    ///
    /// let key = KeyId::parse("AbCd12345678")?;
    /// let mut entry = AuditEntry::new(Timestamp::UNIX_EPOCH, AuditAction::Leaked, key, Actor::Cli);
    /// entry.note = Some("src/\0app.env\n:3:9\u{1b}[2J".to_owned());
    /// assert_eq!(entry.stored_note().as_deref(), Some("src/app.env:3:9[2J"));
    /// # Ok::<(), keyward_format::ParseError>(())
    /// ```
    pub fn stored_note(&self) -> Option<Cow<'_, str>> {
        self.note.as_deref().map(stored_note)
    }
}

/// `note` without control characters, at most [`AuditEntry::MAX_NOTE_LEN`] bytes.
fn stored_note(note: &str) -> Cow<'_, str> {
    let max = AuditEntry::MAX_NOTE_LEN;
    if !note.contains(char::is_control) {
        let mut end = note.len().min(max);
        while !note.is_char_boundary(end) {
            end -= 1;
        }
        return Cow::Borrowed(&note[..end]);
    }
    let mut kept = String::with_capacity(note.len().min(max));
    for c in note.chars().filter(|c| !c.is_control()) {
        if kept.len() + c.len_utf8() > max {
            break;
        }
        kept.push(c);
    }
    Cow::Owned(kept)
}

/// Which audit entries a listing returns: oldest first, after `after_seq`, at most
/// `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only entries about this key (as the target or as the replacement of a roll).
    pub key: Option<KeyId>,
    /// Only entries at or after this time.
    pub since: Option<Timestamp>,
    /// Only entries with a sequence number above this (the previous page's last).
    pub after_seq: Option<u64>,
    /// At most this many entries (1 ..= [`AuditQuery::MAX_LIMIT`]).
    pub limit: u32,
}

impl AuditQuery {
    /// The largest page a store must serve.
    pub const MAX_LIMIT: u32 = 1000;

    /// The first `limit` entries of the whole log.
    pub fn all(limit: u32) -> Self {
        AuditQuery {
            key: None,
            since: None,
            after_seq: None,
            limit,
        }
    }

    /// The first `limit` entries about `key`.
    pub fn key(key: KeyId, limit: u32) -> Self {
        AuditQuery {
            key: Some(key),
            ..AuditQuery::all(limit)
        }
    }

    /// Whether `entry` passes the filters (not the limit).
    pub fn matches(&self, entry: &AuditEntry) -> bool {
        self.key
            .is_none_or(|k| entry.key == k || entry.replacement == Some(k))
            && self.since.is_none_or(|since| entry.at >= since)
            && self.after_seq.is_none_or(|after| entry.seq > after)
    }

    /// Checks the limit; stores call this before querying.
    pub fn validate(&self) -> Result<(), crate::StoreError> {
        if self.limit == 0 || self.limit > Self::MAX_LIMIT {
            return Err(crate::StoreError::InvalidRequest(format!(
                "audit page limit must be between 1 and {}, got {}",
                Self::MAX_LIMIT,
                self.limit
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_records::fresh_id;

    fn noted(note: &str) -> AuditEntry {
        let mut entry = AuditEntry::new(
            Timestamp::from_unix_millis(5),
            AuditAction::Leaked,
            fresh_id(),
            Actor::Automatic,
        );
        entry.note = Some(note.to_owned());
        entry
    }

    #[test]
    fn a_stored_note_has_no_control_characters() {
        for (note, stored) in [
            ("a\0b", "ab"),
            ("line\nbreak\r\ttab", "linebreaktab"),
            ("\u{1b}[31mred\u{7f}\u{85}", "[31mred"),
            ("\0", ""),
            (
                "https://example.com/ok?q=\"é\"",
                "https://example.com/ok?q=\"é\"",
            ),
        ] {
            assert_eq!(
                noted(note).stored_note().as_deref(),
                Some(stored),
                "{note:?}"
            );
        }
        assert!(matches!(
            noted("clean").stored_note(),
            Some(Cow::Borrowed("clean"))
        ));
    }

    #[test]
    fn control_characters_are_dropped_before_the_cut() {
        let max = AuditEntry::MAX_NOTE_LEN;
        // Dropped characters take no room: the text after them is kept whole.
        let padded = format!("{}{}", "\0".repeat(max), "x".repeat(max));
        assert_eq!(
            noted(&padded).stored_note().as_deref(),
            Some(&*"x".repeat(max))
        );
        // Cut at a character boundary, with or without controls to drop.
        for note in [
            format!("a{}", "é".repeat(max)),
            format!("\0a{}", "é".repeat(max)),
        ] {
            let stored = noted(&note).stored_note().unwrap().into_owned();
            assert_eq!(stored.len(), max - 1, "{:?}", &note[..4]);
            assert!(stored.starts_with('a'));
        }
    }
}
