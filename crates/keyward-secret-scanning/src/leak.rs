//! [`LeakCheck`]: is a reported token one of our live keys, and if so, revoke it.

use std::net::{IpAddr, Ipv6Addr};

use keyward::format::KeyId;
use keyward::scope::Requirement;
use keyward::store::Actor;
use keyward::{AuthError, Authenticator, Credential, InvalidKeyReason, KeyService, Keyward};
use keyward::{KeySummary, ServiceError};

/// The client address reported tokens are verified as coming from: no real client has
/// it, so the failures a report adds to keyward's lockout never lock out a user.
pub const VERIFIER_ADDRESS: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

/// How long to wait before asking again when the store could not be written.
const STORE_RETRY_AFTER: u64 = 5;

/// What checking one reported token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// One of our keys, live until now: it is revoked, audited as `leaked`.
    Revoked(Box<KeySummary>),
    /// One of our keys, already revoked (or deleted): nothing changed.
    AlreadyRevoked(KeyId),
    /// Not one of our keys: another format, a bad checksum, an unknown id, or a known
    /// id with the wrong secret. Nothing changed.
    NotOurs,
    /// Could not be decided now: keyward's lockout or an id's cool-down refused the
    /// check, or the store or the slow-hash pool is unavailable. Nothing changed; ask
    /// again after `retry_after` seconds.
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
/// included) and its *secret* verifies, through the [`Authenticator`]: a forged token
/// carrying a real key's id cannot revoke that key. A key that verifies is revoked
/// whatever its state (active, disabled, expired, in a roll's grace, outside its IP
/// allowlist or rate-limited), with [`KeyService::revoke_leaked`], audited as `leaked`
/// by the actor given to [`LeakCheck::new`] with the note given to
/// [`check`](Self::check).
///
/// The check goes through keyward's request path, so it counts as a use of a live key,
/// and a wrong secret counts toward keyward's lockout of [`VERIFIER_ADDRESS`].
#[derive(Clone)]
pub struct LeakCheck {
    keyward: Keyward,
    authenticator: Authenticator,
    keys: KeyService,
}

impl LeakCheck {
    /// Checks against `keyward`'s keys; revocations are audited as made by `actor`
    /// ([`Actor::Automatic`] for the alert receiver, [`Actor::Cli`] for the CLI).
    pub fn new(keyward: &Keyward, actor: Actor) -> LeakCheck {
        LeakCheck {
            keyward: keyward.clone(),
            authenticator: keyward.authenticator(),
            keys: keyward.keys().acting(actor, None),
        }
    }

    /// Checks `token` and revokes the key it is, with `note` (where it was found) in the
    /// audit log.
    pub async fn check(&self, token: &str, note: Option<&str>) -> Verdict {
        let id = match self.keyward.format().parse(token) {
            Ok(presented) => presented.id(),
            Err(_) => return Verdict::NotOurs,
        };
        // An id never minted is answered without the slow hash or a lockout failure.
        match self.keys.get(&id).await {
            Ok(_) => {}
            Err(ServiceError::NotFound) => return Verdict::NotOurs,
            Err(e) => {
                tracing::warn!(target: "keyward", key_id = %id, error = %e, "leak check could not read the key");
                return Verdict::Undecided {
                    retry_after: STORE_RETRY_AFTER,
                };
            }
        }
        let verified = self
            .authenticator
            .authenticate(
                Credential::Key(token),
                &Requirement::none(),
                VERIFIER_ADDRESS,
            )
            .await;
        match verified {
            // The secret verified, and the key would still be usable (or become so).
            Ok(_)
            | Err(
                AuthError::KeyDisabled
                | AuthError::KeyExpired
                | AuthError::IpNotAllowed
                | AuthError::InsufficientCapability(_)
                | AuthError::RateLimited { .. },
            ) => self.revoke(id, note).await,
            Err(AuthError::KeyRevoked) => Verdict::AlreadyRevoked(id),
            Err(AuthError::InvalidKey(InvalidKeyReason::KeyCoolingDown)) => Verdict::Undecided {
                retry_after: self.keyward.config().key_lockout.lockout().as_secs().max(1),
            },
            Err(
                AuthError::TooManyFailedAttempts { retry_after }
                | AuthError::Unavailable { retry_after },
            ) => Verdict::Undecided {
                retry_after: retry_after.max(1),
            },
            Err(_) => Verdict::NotOurs,
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
