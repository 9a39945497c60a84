//! [`LeakCheck`]: is a reported token one of our live keys, and if so, revoke it.

use keyward::format::KeyId;
use keyward::store::{Actor, KeyState};
use keyward::{KeyService, KeySummary, Keyward, ServiceError};

/// How long to wait before asking again when the store or the slow-hash pool failed.
const STORE_RETRY_AFTER: u64 = 5;

/// What checking one reported token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// One of our keys, live until now: it is revoked, audited as `leaked`.
    Revoked(Box<KeySummary>),
    /// One of our keys, already revoked (or deleted): nothing changed.
    AlreadyRevoked(KeyId),
    /// Not one of our keys: another format, a bad checksum, an unknown id, a known id
    /// with the wrong secret, or a honeytoken (left working as a tripwire, and logged).
    /// Nothing changed.
    NotOurs,
    /// Could not be decided now: the store failed or the slow-hash queue is full.
    /// Nothing changed; ask again after `retry_after` seconds.
    Undecided {
        /// Seconds to wait, at least 1.
        retry_after: u64,
    },
}

impl Verdict {
    /// Whether the token is one of our keys (revoked now or before): GitHub's
    /// `true_positive`.
    pub fn is_ours(&self) -> bool {
        matches!(self, Verdict::Revoked(_) | Verdict::AlreadyRevoked(_))
    }
}

/// Decides whether a reported token is one of our keys and revokes it when it is.
///
/// A token counts only when it parses as a key of keyward's format (checksum
/// included) and its *secret* verifies against the stored hash
/// ([`KeyService::verify_presented`]): a forged token carrying a real key's id cannot
/// revoke that key. A key that verifies is revoked whatever its state (active,
/// disabled, expired, in a roll's grace), with [`KeyService::revoke_leaked`], audited as
/// `leaked` by the actor given to [`LeakCheck::new`] with the note given to
/// [`check`](Self::check).
///
/// A check is not a request: it counts toward no lockout or cool-down, spends no rate
/// limit and records no use of the key, so reports, however many and however wrong,
/// never stop the next one being decided, and a revoked key's `last_used_at` still
/// tells whether anyone used it.
#[derive(Clone)]
pub struct LeakCheck {
    keys: KeyService,
}

impl LeakCheck {
    /// Checks against `keyward`'s keys; revocations are audited as made by `actor`
    /// ([`Actor::Automatic`] for the alert receiver, [`Actor::Cli`] for the CLI).
    pub fn new(keyward: &Keyward, actor: Actor) -> LeakCheck {
        LeakCheck {
            keys: keyward.keys().acting(actor, None),
        }
    }

    /// Checks `token` and revokes the key it is, with `note` (where it was found) in the
    /// audit log.
    pub async fn check(&self, token: &str, note: Option<&str>) -> Verdict {
        match self.keys.verify_presented(token).await {
            Ok(None) => Verdict::NotOurs,
            Ok(Some(key)) if key.honeytoken => {
                tracing::warn!(
                    target: "keyward",
                    event = "honeytoken_reported",
                    key_id = %key.id,
                    key = %format_args!("{}…{}", key.key_prefix, key.last4),
                    found_at = note,
                    "a honeytoken was reported found: where it was planted has leaked"
                );
                Verdict::NotOurs
            }
            Ok(Some(key)) if key.state == KeyState::Revoked => Verdict::AlreadyRevoked(key.id),
            Ok(Some(key)) => self.revoke(key.id, note).await,
            Err(e) => {
                tracing::warn!(target: "keyward", error = %e, "leak check could not verify a reported key");
                Verdict::Undecided {
                    retry_after: STORE_RETRY_AFTER,
                }
            }
        }
    }

    async fn revoke(&self, id: KeyId, note: Option<&str>) -> Verdict {
        match self.keys.revoke_leaked(&id, note).await {
            Ok(summary) => {
                tracing::warn!(
                    target: "keyward",
                    event = "leaked_key_revoked",
                    key_id = %id,
                    key = %format_args!("{}…{}", summary.key_prefix, summary.last4),
                    owner = %summary.owner,
                    found_at = note,
                );
                Verdict::Revoked(Box::new(summary))
            }
            Err(ServiceError::NotFound) => Verdict::AlreadyRevoked(id),
            Err(e) => {
                tracing::error!(target: "keyward", key_id = %id, error = %e, "a leaked key could not be revoked");
                Verdict::Undecided {
                    retry_after: STORE_RETRY_AFTER,
                }
            }
        }
    }
}

impl std::fmt::Debug for LeakCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeakCheck")
            .field("actor", self.keys.actor())
            .finish_non_exhaustive()
    }
}
